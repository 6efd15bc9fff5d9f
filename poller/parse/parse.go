// Package parse owns turning a fetched body into publication entries: it
// decodes the body's charset to UTF-8, tells feeds (RSS, Atom, JSON Feed) from
// HTML publication lists, and extracts each entry's link, title, teaser, date
// and categories. It does no I/O and keeps no state.
package parse

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Kind is how a body is read.
type Kind int

const (
	// Auto detects the kind from the body.
	Auto Kind = iota
	// Feed is an RSS, Atom or JSON feed.
	Feed
	// HTML is an HTML page listing publications as a date followed by a link.
	HTML
)

// String returns the kind's name as ParseKind accepts it.
func (k Kind) String() string {
	switch k {
	case Auto:
		return "auto"
	case Feed:
		return "feed"
	case HTML:
		return "html"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind returns the kind named s ("auto", "feed" or "html", any case);
// an empty s means Auto.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "feed":
		return Feed, nil
	case "html":
		return HTML, nil
	}
	return Auto, fmt.Errorf("parse: unknown kind %q (want auto, feed or html)", s)
}

// Entry is one publication found in a body.
type Entry struct {
	GUID       string    // feed guid/id; empty for HTML lists
	Link       string    // absolute http(s) URL
	Title      string    // plain text, whitespace collapsed, entities decoded
	Summary    string    // plain text teaser, whitespace collapsed, at most MaxSummaryRunes runes
	Date       time.Time // zero when unknown; for DD.MM.YYYY dates that day at 00:00 UTC
	Categories []string  // the feed's own categories (empty for HTML)
}

// Limits on the text kept per entry, so that one odd item cannot produce an
// oversized message downstream.
const (
	MaxSummaryRunes = 1000
	MaxTitleRunes   = 500
)

var (
	// ErrNoEntries means the body was read but holds no publications.
	ErrNoEntries = errors.New("parse: no publications found")
	// ErrNotFeed means a feed was required but the body is an HTML page,
	// typically an error or login page served with status 200.
	ErrNotFeed = errors.New("parse: expected a feed, got an HTML page")
	// ErrUnknownFormat means the body is neither a feed nor an HTML page.
	ErrUnknownFormat = errors.New("parse: body is neither a feed nor an HTML page")
	// ErrEmptyBody means there was nothing to parse.
	ErrEmptyBody = errors.New("parse: empty body")
)

// Result is what Read found in a body.
type Result struct {
	Entries []Entry
	Kind    Kind // the kind used, also alongside an error when known by then
	// Cut counts the entries left out beyond MaxEntries; a page so long
	// that reading it stopped early may hold more.
	Cut int
	// Pager holds an HTML list's links to its other pages (see PageLink).
	Pager []PageLink
}

// Parse is Read for callers that need not know whether entries were cut.
func Parse(body []byte, contentType, base string, kind Kind) ([]Entry, Kind, error) {
	r, err := Read(body, contentType, base, kind)
	return r.Entries, r.Kind, err
}

// Read decodes body to UTF-8 (charset from contentType, a BOM, the XML
// declaration or an HTML <meta>), detects its kind when kind is Auto, and
// extracts its entries, at most MaxEntries of them. base is the URL the body
// came from, after redirects; relative links are resolved against it. body
// must not change while Read runs (it is read in place, not copied); the
// entries share none of its memory.
func Read(body []byte, contentType, base string, kind Kind) (Result, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return Result{Kind: kind}, ErrEmptyBody
	}
	text := decode(body, contentType)

	switch kind {
	case Feed:
		if feedType(text) == gofeed.FeedTypeUnknown && looksLikeHTML(text, contentType) {
			return Result{Kind: Feed}, ErrNotFeed
		}
		return result(Feed)(parseFeed(text, base))
	case HTML:
		return readHTML(text, base)
	case Auto:
	default:
		return Result{Kind: kind}, fmt.Errorf("parse: unknown kind %d", int(kind))
	}

	if feedType(text) != gofeed.FeedTypeUnknown {
		return result(Feed)(parseFeed(text, base))
	}
	if looksLikeHTML(text, contentType) {
		return readHTML(text, base)
	}
	if strings.HasPrefix(strings.TrimSpace(text), "<") {
		// Markup that is not HTML is most likely a broken feed; the XML
		// error says more than "unknown format" would.
		_, _, err := parseFeed(text, base)
		return Result{Kind: Feed}, err
	}
	return Result{Kind: Auto}, fmt.Errorf("%w (starts with %q)", ErrUnknownFormat, prefix(text, 32))
}

// result packs a parser's answer for Read.
func result(k Kind) func([]Entry, int, error) (Result, error) {
	return func(entries []Entry, cut int, err error) (Result, error) {
		if err != nil {
			return Result{Kind: k}, err
		}
		return Result{Entries: entries, Kind: k, Cut: cut}, nil
	}
}

func feedType(text string) gofeed.FeedType {
	// gofeed itself looks no further than its first 4 KiB.
	return gofeed.DetectFeedType(strings.NewReader(prefix(text, 4096)))
}

// looksLikeHTML reports whether text is served or written as HTML: an HTML
// media type, an HTML doctype, or an early element that HTML knows.
func looksLikeHTML(text, contentType string) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		if mt == "text/html" || mt == "application/xhtml+xml" {
			return true
		}
	}
	z := html.NewTokenizer(strings.NewReader(prefix(text, 8192)))
	for range 256 {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.DoctypeToken:
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(string(z.Text()))), "html") {
				return true
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) != 0 {
				return true
			}
		}
	}
	return false
}

// prefix returns at most the first n bytes of s, cut on a rune boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
