package parse

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mmcdole/gofeed"
)

// parseFeed reads an RSS, Atom or JSON feed from UTF-8 text.
// At most MaxEntries entries are returned; cut counts the ones left out.
func parseFeed(text, base string) (entries []Entry, cut int, err error) {
	if feedType(text) == gofeed.FeedTypeUnknown {
		return nil, 0, fmt.Errorf("parse: feed: %w", notFeedCause(text))
	}
	if ft := feedType(text); ft == gofeed.FeedTypeRSS || ft == gofeed.FeedTypeAtom {
		text, cut = cutFeed(text)
	}
	f, err := gofeed.NewParser().ParseString(text)
	if err != nil {
		return nil, 0, fmt.Errorf("parse: feed: %w", err)
	}
	pageBase := parseBase(base)
	// Relative item links are taken relative to the site the feed
	// describes (its <link>), as feed readers do, else to the feed's URL.
	itemBase := pageBase
	if l := parseBase(resolveLink(pageBase, f.Link)); l != nil {
		itemBase = l
	}

	entries = make([]Entry, 0, min(len(f.Items), MaxEntries))
	seen := make(map[string]bool, len(f.Items))
	for _, it := range f.Items {
		if it == nil {
			continue
		}
		e, ok := feedEntry(it, itemBase, pageBase)
		if !ok {
			continue
		}
		key := e.GUID
		if key == "" {
			key = "link:" + e.Link
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if len(entries) == MaxEntries {
			cut++ // when cutFeed could not read the XML
			continue
		}
		entries = append(entries, e)
	}
	switch {
	case len(f.Items) == 0:
		return nil, 0, fmt.Errorf("%w: the feed has no items", ErrNoEntries)
	case len(entries) == 0:
		return nil, 0, fmt.Errorf("%w: none of the feed's %d items has a usable link", ErrNoEntries, len(f.Items))
	}
	return entries, cut, nil
}

// feedEntry maps one feed item; ok is false when the item has no usable link.
func feedEntry(it *gofeed.Item, itemBase, pageBase *url.URL) (Entry, bool) {
	e := Entry{GUID: strings.TrimSpace(it.GUID)}
	candidates := append([]string{it.Link}, it.Links...)
	if isAbsHTTP(e.GUID) {
		// An RSS guid that is a permalink is the item's link.
		candidates = append(candidates, e.GUID)
	}
	for _, c := range candidates {
		if e.Link = resolveLink(itemBase, c); e.Link != "" {
			break
		}
		if e.Link = resolveLink(pageBase, c); e.Link != "" {
			break
		}
	}
	if e.Link == "" {
		return Entry{}, false
	}

	e.Summary = fragmentText(it.Description, 8*MaxSummaryRunes)
	if e.Summary == "" {
		e.Summary = fragmentText(it.Content, 8*MaxSummaryRunes)
	}
	e.Summary = truncate(e.Summary, MaxSummaryRunes)

	e.Title = truncate(fragmentText(it.Title, 8*MaxTitleRunes), MaxTitleRunes)
	if e.Title == "" {
		// An untitled item (allowed in RSS) is known by its opening words.
		e.Title = truncate(e.Summary, 100)
	}
	if e.Title == "" {
		e.Title = truncate(e.Link, MaxTitleRunes)
	}

	switch {
	case it.PublishedParsed != nil:
		e.Date = it.PublishedParsed.UTC()
	case it.UpdatedParsed != nil:
		e.Date = it.UpdatedParsed.UTC()
	}
	if e.Date.Before(time.Unix(0, 0)) {
		// gofeed turns some malformed dates into year 1 or similar.
		e.Date = time.Time{}
	}

	for _, c := range it.Categories {
		c = collapse(c)
		if c != "" && !slices.Contains(e.Categories, c) {
			e.Categories = append(e.Categories, c)
		}
	}
	return e, true
}

func isAbsHTTP(s string) bool {
	return parseBase(s) != nil
}

// notFeedCause explains why text is not a feed: the XML syntax error that
// stopped detection, or the root element that is not a feed's.
func notFeedCause(text string) error {
	d := xml.NewDecoder(strings.NewReader(text))
	// As lenient as gofeed, so the error named is one gofeed would hit too.
	d.Strict = false
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("no root element")
			}
			return err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return fmt.Errorf("root element <%s> is not RSS, Atom or JSON Feed", prefix(se.Name.Local, 64))
		}
	}
}

// maxFeedDepth bounds the elements cutFeed keeps open.
const maxFeedDepth = 256

// cutFeed shortens an RSS or Atom feed of more than MaxEntries items to its
// first MaxEntries, closing the elements left open, so that gofeed, which
// builds every item it reads (and then a copy), never holds more: a 10 MiB
// feed of 50,000 items took it over 100 MB. It returns the feed and how
// many items it cut; XML it cannot read is returned whole.
func cutFeed(text string) (string, int) {
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = false // as lenient as gofeed
	var (
		open  []xml.Name
		items int
		at    int64      = -1
		stack []xml.Name // what was open at the cut
	)

scan:
	for {
		start := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "item" || t.Name.Local == "entry" {
				items++
				if items == MaxEntries+1 {
					at, stack = start, slices.Clone(open)
					// The rest is only counted, without a token each.
					items += countItemTags(text[at+1:])
					break scan
				}
			}
			if len(open) == maxFeedDepth {
				return text, 0 // no feed nests so deep: leave it to gofeed's errors
			}
			open = append(open, t.Name)
		case xml.EndElement:
			if n := len(open); n > 0 {
				open = open[:n-1]
			}
		}
	}
	if at < 0 {
		return text, 0
	}
	var b strings.Builder
	b.WriteString(text[:at])
	for i := len(stack) - 1; i >= 0; i-- {
		b.WriteString("</")
		if stack[i].Space != "" {
			b.WriteString(stack[i].Space + ":")
		}
		b.WriteString(stack[i].Local + ">")
	}
	return b.String(), items - MaxEntries
}

// countItemTags counts the item and entry start tags in s, as written
// (with or without attributes or a namespace prefix).
func countItemTags(s string) int {
	n := 0
	for i := strings.IndexByte(s, '<'); i >= 0; i = strings.IndexByte(s, '<') {
		s = s[i+1:]
		end := strings.IndexFunc(s, func(r rune) bool { return r == '>' || r == '/' || unicode.IsSpace(r) })
		if end < 0 {
			break
		}
		name := s[:end]
		if j := strings.LastIndexByte(name, ':'); j >= 0 {
			name = name[j+1:]
		}
		if name == "item" || name == "entry" {
			n++
		}
	}
	return n
}
