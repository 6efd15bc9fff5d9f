package parse

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// collapse returns s with runs of whitespace and control characters turned
// into single spaces and the ends trimmed.
func collapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate shortens s to at most max runes, ending with "…". It cuts on a
// word boundary unless that would drop more than half of what is kept.
func truncate(s string, max int) string {
	if max < 2 || utf8.RuneCountInString(s) <= max {
		return s
	}
	cut, n := 0, 0
	for i := range s {
		if n == max-1 {
			cut = i
			break
		}
		n++
	}
	head := s[:cut]
	if r, _ := utf8.DecodeRuneInString(s[cut:]); !unicode.IsSpace(r) {
		if i := strings.LastIndexFunc(head, unicode.IsSpace); i > len(head)/2 {
			head = head[:i]
		}
	}
	head = strings.TrimRightFunc(head, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—", r)
	})
	return head + "…"
}

// hasAlnum reports whether s holds a letter or a digit: a title made of
// nothing but punctuation ("»»»") names no publication.
func hasAlnum(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// isSkipped reports whether the text of element a is never shown as prose.
func isSkipped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Title,
		atom.Iframe, atom.Object, atom.Svg, atom.Math, atom.Select, atom.Textarea,
		atom.Noembed, atom.Noframes:
		return true
	}
	return false
}

// isBlock reports whether element a separates text visually, so that text on
// either side of it must not run together.
func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br, atom.Caption,
		atom.Center, atom.Dd, atom.Details, atom.Div, atom.Dl, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Header, atom.Hr, atom.Li, atom.Main, atom.Nav,
		atom.Ol, atom.P, atom.Pre, atom.Section, atom.Summary, atom.Table, atom.Tbody,
		atom.Td, atom.Tfoot, atom.Th, atom.Thead, atom.Tr, atom.Ul, atom.Body, atom.Html:
		return true
	}
	return false
}

// fragmentText turns a feed field that may hold HTML into plain text. A field
// with no HTML element in it is taken as text that merely contains "<" and
// "&" (a title like `Q&A <draft>`), so only its entities are decoded; with
// HTML elements, tags are dropped and the text of script/style is skipped.
// At most limit bytes of text are gathered.
func fragmentText(s string, limit int) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(prefix(s, limit))
	}
	if !hasHTMLElement(s) {
		return collapse(html.UnescapeString(prefix(s, limit)))
	}
	var b strings.Builder
	skip := 0
	z := html.NewTokenizer(strings.NewReader(s))
	for b.Len() < limit {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return collapse(prefix(b.String(), limit))
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if isSkipped(a) {
				switch {
				case tt == html.StartTagToken:
					skip++
				case tt == html.EndTagToken && skip > 0:
					skip--
				}
			}
			if isBlock(a) {
				b.WriteByte(' ')
			}
		}
	}
	return collapse(prefix(b.String(), limit))
}

// hasHTMLElement reports whether s holds a start or end tag of an element
// HTML defines.
func hasHTMLElement(s string) bool {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) != 0 {
				return true
			}
		}
	}
}

// resolveLink returns href made absolute against base, or "" when it is not
// a link to a page: empty, a bare fragment, javascript:, mailto: and other
// non-http(s) schemes. base may be nil when the page's own URL is unknown.
func resolveLink(base *url.URL, href string) string {
	href = strings.TrimSpace(href)
	href = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1 // browsers drop these inside URLs
		}
		return r
	}, href)
	if href == "" || strings.HasPrefix(href, "#") {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// parseBase parses a page or feed URL to resolve links against; nil when it
// is not an absolute http(s) URL.
func parseBase(s string) *url.URL {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}
