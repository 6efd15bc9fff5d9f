package parse

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// Contacts are the consular phone number and e-mail address the header of
// the embassy's pages shows. Either may be "" when a page lacks it.
type Contacts struct {
	Phone string
	Email string
}

// Bounds of ReadContacts: the header is at the top of a page, and a value
// longer than these is not a phone number or an address.
const (
	contactsScan     = 64 << 10
	maxContactLen    = 80
	contactLabelNear = 6 // text nodes after the label searched for the number
)

// phoneRE is an international phone number as the site writes it:
// "+44 (0) 203 668 7474". It runs over text nodes only.
var phoneRE = regexp.MustCompile(`\+\d[\d ()\-\x{a0}]{6,24}\d`)

// emailRE is a plain e-mail address, of a mailto: link.
var emailRE = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$`)

// contactLabels start the text that the consular phone number follows.
var contactLabels = []string{"consular queries", "consular enquiries", "консульские вопросы", "справки по консульским"}

// ReadContacts finds the consular contacts in an HTML page's first 64 KiB:
// the phone is the first number within a few text nodes after a "Consular
// queries" label, the e-mail the first mailto: link's address.
func ReadContacts(body []byte, contentType string) Contacts {
	text := decode(body[:min(len(body), contactsScan)], contentType)
	z := html.NewTokenizer(strings.NewReader(text))
	var c Contacts
	after := -1 // text nodes since the label; -1 before it
	for c.Phone == "" || c.Email == "" {
		switch z.Next() {
		case html.ErrorToken:
			return c
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if c.Email != "" || string(name) != "a" || !hasAttr {
				continue
			}
			for {
				k, v, more := z.TagAttr()
				if string(k) == "href" {
					if addr, ok := strings.CutPrefix(strings.TrimSpace(string(v)), "mailto:"); ok {
						addr, _, _ = strings.Cut(addr, "?")
						if len(addr) <= maxContactLen && emailRE.MatchString(addr) {
							c.Email = addr
						}
					}
				}
				if !more {
					break
				}
			}
		case html.TextToken:
			if c.Phone != "" {
				continue
			}
			t := strings.ToLower(html.UnescapeString(string(z.Text())))
			if after < 0 {
				for _, l := range contactLabels {
					if i := strings.Index(t, l); i >= 0 {
						after, t = 0, t[i+len(l):]
						break
					}
				}
				if after < 0 {
					continue
				}
			}
			if m := phoneRE.FindString(t); m != "" && len(m) <= maxContactLen {
				c.Phone = strings.Join(strings.Fields(strings.ReplaceAll(m, "\u00a0", " ")), " ")
				continue
			}
			if strings.TrimSpace(t) != "" {
				after++
			}
			if after > contactLabelNear {
				after = -1
			}
		}
	}
	return c
}
