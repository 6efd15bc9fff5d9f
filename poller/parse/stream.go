package parse

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Bounds of the streaming page reader. Together with the body cap they bound
// the memory a page can take, whatever its markup: no parse tree is built, so
// misnested or absurdly deep elements cost nothing, and the flow holds at
// most maxFlowItems items of at most maxItemText bytes each.
const (
	// MaxEntries is the most entries one body yields; the rest are cut
	// (and reported by Read), so that one huge page or feed cannot flood
	// the store or the subscribers.
	MaxEntries = 1000
	// maxFlowItems is ample for MaxEntries entries with their teasers and
	// the page around them (the seed page has 10 entries in 200 items).
	maxFlowItems = 100_000
	// maxItemText keeps a text node long enough for a teaser (gathered up
	// to 8×MaxSummaryRunes) and a link's text long enough for a title.
	maxItemText = 8 * MaxSummaryRunes * 4
	maxLinkText = 8 * MaxTitleRunes * 4
	// maxSkipDepth bounds the stack of open skipped elements (script,
	// svg, select…); deeper ones are skipped all the same.
	maxSkipDepth = 64
)

// flatten reads the page with x/net/html's tokenizer into a flow of text,
// links and breaks (block boundaries), in document order. Links are resolved
// against the page's first <base href> (wherever it stands, as browsers do)
// or else base.
func flatten(text, base string) []flowItem {
	r := flowReader{z: html.NewTokenizer(strings.NewReader(text)), src: text, link: -1}
	r.read()
	b := parseBase(base)
	if r.base != "" {
		if u := parseBase(resolveLink(b, r.base)); u != nil {
			b = u
		}
	}
	for i := range r.flow {
		if r.flow[i].kind == flowLink {
			r.flow[i].href = resolveLink(b, r.flow[i].href)
		}
	}
	return r.flow
}

// flowReader turns tokens into flow items. A link runs from <a href> to
// </a>, the next <a> or the edge of a table cell, as HTML's tree builder
// ends it; text and blocks inside it become its text, with blocks as spaces.
type flowReader struct {
	z       *html.Tokenizer
	src     string // what z reads
	pos     int    // offset in src of the token after the current one
	flow    []flowItem
	base    string      // the first <base href>, unresolved
	skipped []atom.Atom // open skipped elements, innermost last
	deep    int         // skipped elements opened beyond maxSkipDepth
	link    int         // index in flow of the open link, or -1
	linkBuf strings.Builder
}

func (r *flowReader) read() {
	for len(r.flow) < maxFlowItems {
		tt := r.z.Next()
		start := r.pos
		r.pos += len(r.z.Raw())
		switch tt {
		case html.ErrorToken:
			r.endLink()
			return
		case html.TextToken:
			r.text(start)
		case html.StartTagToken, html.SelfClosingTagToken:
			r.start(tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			r.end()
		}
	}
	r.endLink()
}

func (r *flowReader) skipping() bool { return len(r.skipped) > 0 || r.deep > 0 }

// text takes the text token that starts at src[start:].
func (r *flowReader) text(start int) {
	if r.skipping() {
		return
	}
	if r.link >= 0 {
		b := r.z.Text()
		if room := maxLinkText - r.linkBuf.Len(); room > 0 {
			r.linkBuf.WriteString(prefix(string(b[:min(len(b), room+utf8Max)]), room))
		}
		return
	}
	raw := r.src[start:r.pos]
	if isSpaces(raw) {
		// Indentation between blocks: nothing to read, and most of the
		// flow on a typical page.
		if n := len(r.flow); n == 0 || r.flow[n-1].kind == flowBreak {
			return
		}
	}
	var s string
	if strings.ContainsAny(raw, "&\x00\r") {
		b := r.z.Text()
		s = string(b[:min(len(b), maxItemText+utf8Max)])
	} else {
		s = raw // the text as written: share it rather than copy it
	}
	r.flow = append(r.flow, flowItem{kind: flowText, text: prefix(s, maxItemText)})
}

func isSpaces(s string) bool {
	return strings.TrimLeft(s, " \t\n\r\f") == ""
}

// utf8Max lets prefix find a rune boundary within a slice cut from a longer
// text.
const utf8Max = 4

func (r *flowReader) start(selfClosing bool) {
	a := r.tag()
	var href string
	var isLink bool
	if a == atom.A || (a == atom.Base && r.base == "") {
		for {
			k, v, more := r.z.TagAttr()
			if string(k) == "href" {
				href, isLink = string(v), true
				break
			}
			if !more {
				break
			}
		}
	}
	switch {
	case a == atom.Base:
		if isLink && r.base == "" && !r.skippingBeyondHead() {
			r.base = href
		}
		return
	case a == atom.Body:
		// <head> is often left open: the body ends it.
		r.close(atom.Head)
	}
	if r.skipping() {
		if isSkipped(a) && !selfClosing && !isVoid(a) {
			r.push(a)
		}
		return
	}
	if isSkipped(a) {
		if !selfClosing && !isVoid(a) {
			r.endLink()
			r.push(a)
		}
		return
	}
	if isTablePart(a) {
		r.endLink()
	}
	if a == atom.A {
		r.endLink()
		if isLink {
			r.flow = append(r.flow, flowItem{kind: flowLink, href: href})
			r.link = len(r.flow) - 1
		}
		return
	}
	if isBlock(a) {
		r.brk()
	}
}

// tag returns the current tag's element, read from the raw token: the
// tokenizer's TagName copies every name, which on a page of millions of
// tags is most of what reading it allocates.
func (r *flowReader) tag() atom.Atom {
	raw := r.z.Raw()
	i := 1 // past '<'
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	var name [16]byte // longer names are no element that matters here
	n := 0
	for ; i < len(raw); i++ {
		c := raw[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '/' || c == '>' {
			break
		}
		if n == len(name) {
			return 0
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		name[n] = c
		n++
	}
	return atom.Lookup(name[:n])
}

// skippingBeyondHead reports whether an element other than <head> is being
// skipped: a <base> inside <head> counts, one inside <svg> or <template>
// does not.
func (r *flowReader) skippingBeyondHead() bool {
	for _, s := range r.skipped {
		if s != atom.Head {
			return true
		}
	}
	return r.deep > 0
}

func (r *flowReader) end() {
	a := r.tag()
	if r.skipping() {
		if isSkipped(a) {
			r.close(a)
		}
		return
	}
	if a == atom.A || isTablePart(a) {
		r.endLink()
	}
	if isBlock(a) {
		r.brk()
	}
}

// isTablePart reports whether element a starts or ends a table's part,
// which ends an open link as HTML's tree builder ends formatting elements at
// a cell's edge.
func isTablePart(a atom.Atom) bool {
	switch a {
	case atom.Table, atom.Caption, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr, atom.Td, atom.Th:
		return true
	}
	return false
}

// brk marks a block boundary: inside a link a space, else a break.
func (r *flowReader) brk() {
	if r.link >= 0 {
		if r.linkBuf.Len() < maxLinkText {
			r.linkBuf.WriteByte(' ')
		}
		return
	}
	n := len(r.flow)
	if n > 0 && r.flow[n-1].kind == flowText && isSpaces(r.flow[n-1].text) {
		n--
		r.flow = r.flow[:n]
	}
	if n > 0 && r.flow[n-1].kind != flowBreak {
		r.flow = append(r.flow, flowItem{kind: flowBreak})
	}
}

func (r *flowReader) endLink() {
	if r.link < 0 {
		return
	}
	r.flow[r.link].text = r.linkBuf.String()
	r.linkBuf.Reset()
	r.link = -1
}

func (r *flowReader) push(a atom.Atom) {
	if len(r.skipped) == maxSkipDepth {
		r.deep++
		return
	}
	r.skipped = append(r.skipped, a)
}

// close ends the innermost open skipped element a and those inside it, as an
// end tag ends misnested elements.
func (r *flowReader) close(a atom.Atom) {
	if r.deep > 0 {
		r.deep--
		return
	}
	for i := len(r.skipped) - 1; i >= 0; i-- {
		if r.skipped[i] == a {
			r.skipped = r.skipped[:i]
			return
		}
	}
}

// isVoid reports whether element a never has content, so that it opens
// nothing to skip.
func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}
