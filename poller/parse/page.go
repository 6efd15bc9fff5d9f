package parse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// dateRE finds DD.MM.YYYY dates. It runs over text nodes only, never over
// markup.
var dateRE = regexp.MustCompile(`\b(\d{2})\.(\d{2})\.(\d{4})\b`)

// timeRE is a time of day that may follow the date ("16.10.2017 12:30 -").
// The entry still dates from 00:00 UTC: the zone of such a time is unknown.
var timeRE = regexp.MustCompile(`^\s*\d{1,2}:\d{2}(:\d{2})?\b`)

// A page is read as a flow of text, links and breaks (block boundaries), in
// document order; entries are then found in the flow, which keeps the
// extraction independent of the site's element nesting and class names.
type flowKind uint8

const (
	flowText flowKind = iota
	flowLink
	flowBreak
)

type flowItem struct {
	kind flowKind
	text string // raw text of a text node, or all text inside a link
	href string // absolute link target; "" when the link leads to no page
}

// candidate is a date followed by a link: one publication.
type candidate struct {
	start int // flow index where the entry begins (its date)
	link  int // flow index of the title link
	date  time.Time
	title string
	href  string
}

// parseHTML finds publications in an HTML page: a DD.MM.YYYY date that
// starts a line, followed (after nothing but separators such as " - ") by a
// link whose text is the title. The teaser is the text after the link up to
// the next such date. At most MaxEntries entries are returned; cut counts
// the ones left out.
func parseHTML(text, base string) ([]Entry, int, error) {
	entries, _, cut, err := parseFlow(flatten(text, base), base)
	return entries, cut, err
}

// readHTML is parseHTML that also returns the page's pager links.
func readHTML(text, base string) (Result, error) {
	entries, pager, cut, err := parseFlow(flatten(text, base), base)
	if err != nil {
		return Result{Kind: HTML}, err
	}
	return Result{Entries: entries, Kind: HTML, Cut: cut, Pager: pager}, nil
}

func parseFlow(flow []flowItem, base string) ([]Entry, []PageLink, int, error) {
	cands, cut := findCandidates(flow)
	if len(cands) == 0 {
		return nil, nil, 0, fmt.Errorf("%w in HTML page (no DD.MM.YYYY date followed by a link)", ErrNoEntries)
	}

	teasers := make([]string, len(cands))
	maxParas := 0
	for i := range cands[:len(cands)-1] {
		var n int
		teasers[i], n = teaser(flow[cands[i].link+1:cands[i+1].start], -1)
		maxParas = max(maxParas, n)
	}
	// Nothing marks the end of the last entry: the pager and the footer
	// follow it. It gets no more paragraphs than the other entries had.
	if len(cands) == 1 {
		maxParas = 1
	}
	last := len(cands) - 1
	teasers[last], _ = teaser(flow[cands[last].link+1:], maxParas)

	entries := make([]Entry, 0, min(len(cands), MaxEntries))
	seen := make(map[string]bool, len(cands))
	for i, c := range cands {
		if seen[c.href] {
			continue
		}
		seen[c.href] = true
		if len(entries) == MaxEntries {
			break // c only bounds the teaser before it
		}
		entries = append(entries, Entry{
			Link:    c.href,
			Title:   truncate(c.title, MaxTitleRunes),
			Summary: truncate(teasers[i], MaxSummaryRunes),
			Date:    c.date,
		})
	}
	return entries, pagerLinks(flow, base), cut, nil
}

// findCandidates finds every date that starts a line and is followed, after
// nothing but separators and breaks, by a link to a page. A date in the
// middle of prose ("last updated 01.02.2017") or followed by other text is
// not an entry; neither is a link with no date before it.
//
// Once MaxEntries distinct links are found, one more candidate is kept only
// to end the last one's teaser, and the rest are merely counted: cut is the
// number of candidates left out.
func findCandidates(flow []flowItem) (cands []candidate, cut int) {
	links := make(map[string]bool)
	add := func(c candidate) {
		switch {
		case cut == 0 && (len(links) < MaxEntries || links[c.href]):
			links[c.href] = true
			cands = append(cands, c)
		case cut == 0:
			cands = append(cands, c)
			cut++
		default:
			cut++
		}
	}
	lineStart := true // nothing but separators since the last break
	for i := 0; i < len(flow); i++ {
		it := flow[i]
		switch it.kind {
		case flowBreak:
			lineStart = true
		case flowLink:
			// Some lists put the date inside the link: <a>16.10.2017 - Title</a>.
			if c, ok := dateInLink(it, i); ok && lineStart {
				add(c)
			}
			lineStart = false
		case flowText:
			wasStart := lineStart
			if !isSeparators(it.text) {
				lineStart = false
			}
			m := dateRE.FindStringSubmatchIndex(it.text)
			if m == nil || !wasStart || !isSeparators(it.text[:m[0]]) || !isSeparators(skipTime(it.text[m[1]:])) {
				continue
			}
			date, ok := calendarDate(it.text, m)
			if !ok {
				continue
			}
			j := nextLink(flow, i+1)
			if j < 0 {
				continue
			}
			l := flow[j]
			title := collapse(l.text)
			if l.href == "" || !hasAlnum(title) {
				continue
			}
			add(candidate{start: i, link: j, date: date, title: title, href: l.href})
			i = j
			lineStart = false
		}
	}
	return cands, cut
}

// dateInLink reads a link whose own text starts with the date.
func dateInLink(it flowItem, i int) (candidate, bool) {
	if it.href == "" {
		return candidate{}, false
	}
	m := dateRE.FindStringSubmatchIndex(it.text)
	if m == nil || !isSeparators(it.text[:m[0]]) {
		return candidate{}, false
	}
	date, ok := calendarDate(it.text, m)
	title := collapse(strings.TrimLeftFunc(skipTime(it.text[m[1]:]), isSeparator))
	if !ok || !hasAlnum(title) {
		return candidate{}, false
	}
	return candidate{start: i, link: i, date: date, title: title, href: it.href}, true
}

// nextLink returns the index of the first link at or after i when only
// breaks and separator text come before it, else -1.
func nextLink(flow []flowItem, i int) int {
	for ; i < len(flow); i++ {
		switch flow[i].kind {
		case flowLink:
			return i
		case flowText:
			if !isSeparators(flow[i].text) {
				return -1
			}
		}
	}
	return -1
}

// calendarDate turns the DD.MM.YYYY match m in s into that day at 00:00 UTC,
// rejecting days that do not exist (31.02.2017) and implausible years.
func calendarDate(s string, m []int) (time.Time, bool) {
	d, _ := strconv.Atoi(s[m[2]:m[3]])
	mo, _ := strconv.Atoi(s[m[4]:m[5]])
	y, _ := strconv.Atoi(s[m[6]:m[7]])
	if y < 1900 || mo < 1 || mo > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != mo {
		return time.Time{}, false
	}
	return t, true
}

// skipTime drops a time of day from the start of s.
func skipTime(s string) string {
	if m := timeRE.FindStringIndex(s); m != nil {
		return s[m[1]:]
	}
	return s
}

// isSeparator reports whether r may stand between a date and its title.
func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("-–—|:·•/,", r)
}

func isSeparators(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !isSeparator(r) }) < 0
}

// teaser joins the paragraphs of flow (the text after an entry's title
// link) into one teaser. Link-only lines such as "Read more" or a pager are
// navigation: they are skipped, or end the teaser when maxParas >= 0 (the
// last entry, after which navigation and the footer follow); maxParas also
// bounds how many paragraphs are taken. It returns the teaser and the
// number of paragraphs in it.
func teaser(flow []flowItem, maxParas int) (string, int) {
	var (
		out   strings.Builder
		para  strings.Builder
		plain strings.Builder // the paragraph's text outside links
		link  bool
		n     int
	)
	// flush ends a paragraph; it reports false when the teaser is complete.
	flush := func() bool {
		text := collapse(para.String())
		nav := link && letterWords(plain.String()) < 3
		para.Reset()
		plain.Reset()
		link = false
		switch {
		case text == "":
			return true
		case nav:
			return maxParas < 0
		case maxParas >= 0 && n >= maxParas:
			return false
		}
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(text)
		n++
		// Stop gathering well past the cap; truncate trims it later.
		return out.Len() < 8*MaxSummaryRunes
	}
	for _, it := range flow {
		switch it.kind {
		case flowBreak:
			if !flush() {
				return out.String(), n
			}
		case flowText:
			para.WriteString(it.text)
			plain.WriteString(it.text)
		case flowLink:
			para.WriteString(it.text)
			link = true
		}
	}
	flush()
	return out.String(), n
}

// letterWords counts the words of s that hold a letter.
func letterWords(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			n++
		}
	}
	return n
}
