// Package render owns how bulletinbot's messages look in Telegram: the
// alert for a new publication, escaping of every dynamic text for Telegram's
// HTML parse mode, and lengths and trimming measured as Telegram measures
// them (UTF-16 code units of the text after entity parsing).
package render

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/poller"
)

// Defaults of Options.
const (
	DefaultTeaserLength = 600
	DefaultTitleLength  = 512
)

// minTeaser is the shortest teaser worth showing; below it the teaser is
// left out rather than cut to a stub.
const minTeaser = 40

// Options shape an alert. The zero value gives the defaults.
type Options struct {
	// MaxLength caps the alert's text, in UTF-16 code units after entity
	// parsing; zero or more than MaxLength means MaxLength.
	MaxLength int
	// TeaserLength caps the teaser (DefaultTeaserLength when zero); a
	// negative value leaves the teaser out.
	TeaserLength int
	// TitleLength caps the title (DefaultTitleLength when zero).
	TitleLength int
}

func (o Options) withDefaults() Options {
	if o.MaxLength <= 0 || o.MaxLength > MaxLength {
		o.MaxLength = MaxLength
	}
	if o.TeaserLength == 0 {
		o.TeaserLength = DefaultTeaserLength
	}
	if o.TitleLength <= 0 {
		o.TitleLength = DefaultTitleLength
	}
	return o
}

// Alert renders the message announcing p to a chat speaking lang:
//
//	<i>Category label</i> · 16 October 2017
//	<b><a href="https://…">Title</a></b>
//
//	Teaser, cut on a word boundary…
//
//	Source: rusemb.org.uk
//
// Every dynamic text is cleaned and escaped; the title links to p.URL only
// when that is an http(s) URL. The text fits opts.MaxLength: the teaser
// gives way first, then the title.
func Alert(p poller.Publication, label, lang string, opts Options) string {
	opts = opts.withDefaults()
	site := siteName(p)
	link := linkURL(p.URL)

	head := clean(label, false)
	date := formatDate(p.Date, lang)
	sep := ""
	if head != "" && date != "" {
		sep = " · "
	}
	title := clean(p.Title, false)
	if title == "" {
		title = site
	}
	if title == "" {
		title = "…"
	}
	title = trimWords(title, opts.TitleLength)
	source := ""
	if site != "" {
		source = sourceWord(lang) + ": " + site
	}
	teaser := ""
	if opts.TeaserLength > 0 {
		teaser = clean(p.Summary, true)
		if teaser == title || strings.TrimSuffix(teaser, ".") == strings.TrimSuffix(title, ".") {
			teaser = ""
		}
	}

	// Fit the pieces: everything but the teaser and the title is short,
	// so they are the ones cut.
	headLen := utf16Len(head) + utf16Len(sep) + utf16Len(date)
	fixed := 0
	if headLen > 0 {
		fixed += headLen + 1 // "\n"
	}
	if source != "" {
		fixed += 2 + utf16Len(source) // "\n\n"
	}
	if fixed+1 > opts.MaxLength {
		// Too small to hold the frame: the title alone.
		head, sep, date, source, teaser, fixed = "", "", "", "", "", 0
	}
	title = trimWords(title, opts.MaxLength-fixed)
	room := opts.MaxLength - fixed - utf16Len(title) - 2 // "\n\n" before the teaser
	teaser = trimWords(teaser, min(room, opts.TeaserLength))
	if utf16Len(teaser) < min(minTeaser, utf16Len(clean(p.Summary, true))) {
		teaser = ""
	}

	var b strings.Builder
	b.Grow(len(head) + len(date) + len(title) + len(teaser) + len(source) + len(link) + 64)
	if head != "" {
		b.WriteString("<i>")
		b.WriteString(Escape(head))
		b.WriteString("</i>")
	}
	b.WriteString(sep)
	b.WriteString(date)
	if headLen > 0 && fixed > 0 {
		b.WriteByte('\n')
	}
	b.WriteString("<b>")
	if link != "" {
		b.WriteString(`<a href="`)
		b.WriteString(Escape(link))
		b.WriteString(`">`)
		b.WriteString(Escape(title))
		b.WriteString("</a>")
	} else {
		b.WriteString(Escape(title))
	}
	b.WriteString("</b>")
	if teaser != "" {
		b.WriteString("\n\n")
		b.WriteString(Escape(teaser))
	}
	if source != "" {
		b.WriteString("\n\n")
		b.WriteString(Escape(source))
	}
	return b.String()
}

// linkURL returns raw when it is an absolute http(s) URL Telegram will turn
// into a link, else "".
func linkURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	if h := u.Hostname(); !strings.Contains(h, ".") && h != "localhost" {
		return ""
	}
	return raw
}

// siteName names where a publication comes from: the host of its link, or
// of its source, without "www.".
func siteName(p poller.Publication) string {
	for _, raw := range []string{p.URL, p.Source} {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Hostname() == "" {
			continue
		}
		return clean(strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."), false)
	}
	return ""
}

var monthsRU = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня",
	"июля", "августа", "сентября", "октября", "ноября", "декабря"}

// formatDate writes a publication day in lang's usual way; "" for no date.
// Publication dates are days, so no time zone applies.
func formatDate(d time.Time, lang string) string {
	if d.IsZero() {
		return ""
	}
	switch baseLang(lang) {
	case "ru":
		return strconv.Itoa(d.Day()) + " " + monthsRU[d.Month()-1] + " " + strconv.Itoa(d.Year())
	case "en":
		return d.Format("2 January 2006")
	default:
		return d.Format("2006-01-02")
	}
}

func sourceWord(lang string) string {
	if baseLang(lang) == "ru" {
		return "Источник"
	}
	return "Source"
}

func baseLang(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	return base
}
