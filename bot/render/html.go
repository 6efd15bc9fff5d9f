package render

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLength is Telegram's limit on a message text after entity parsing, in
// UTF-16 code units.
const MaxLength = 4096

// Errors Validate returns, wrapped with where the problem is.
var (
	ErrInvalidHTML = errors.New("render: not valid Telegram HTML")
	ErrEmpty       = errors.New("render: message text is empty")
	ErrTooLong     = errors.New("render: message text is too long")
)

// allowedTags are the start tags Telegram's HTML parse mode accepts.
var allowedTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "s": true, "strike": true,
	"del": true, "u": true, "ins": true, "tg-spoiler": true, "tg-emoji": true, "span": true,
	"pre": true, "code": true, "blockquote": true,
}

// Escape makes s safe as text, or as a double-quoted attribute value, in
// Telegram HTML. Telegram knows only &lt; &gt; &amp; and &quot;, so nothing
// else is escaped. Invalid UTF-8 becomes U+FFFD: Telegram refuses it.
func Escape(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !strings.ContainsAny(s, `<>&"`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// token is one piece of Telegram HTML: a tag, a character reference, or a
// run of one rune of text.
type token struct {
	kind  tokenKind
	start int // byte offsets in the input
	end   int
	name  string // tag name, lower case
	r     rune   // the character a text rune or entity stands for
}

type tokenKind int

const (
	tokText tokenKind = iota
	tokEntity
	tokOpen
	tokClose
)

// scanner walks Telegram HTML token by token. In strict mode it reports
// anything Telegram would refuse, and, beyond Telegram, a "&" that starts no
// entity terminated by ";" (Telegram shows those as typed; we never want
// them). In lenient mode it never fails: what is not markup is text.
type scanner struct {
	s      string
	i      int
	strict bool
}

func (sc *scanner) next() (token, error) {
	s, i := sc.s, sc.i
	switch s[i] {
	case '&':
		if r, end, ok := decodeEntity(s, i); ok {
			sc.i = end
			return token{kind: tokEntity, start: i, end: end, r: r}, nil
		}
		if sc.strict {
			return token{}, fmt.Errorf("%w: \"&\" that starts no entity at byte %d", ErrInvalidHTML, i)
		}
	case '<':
		if t, err := scanTag(s, i); err == nil {
			sc.i = t.end
			return t, nil
		} else if sc.strict {
			return token{}, err
		}
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 && sc.strict {
		return token{}, fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidHTML, i)
	}
	sc.i = i + size
	return token{kind: tokText, start: i, end: i + size, r: r}, nil
}

// scanTag reads the tag starting at s[i] == '<'. Attributes are checked for
// form only; Telegram ignores those it does not know.
func scanTag(s string, i int) (token, error) {
	j := i + 1
	closing := j < len(s) && s[j] == '/'
	if closing {
		j++
	}
	nameStart := j
	for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
		j++
	}
	name := strings.ToLower(s[nameStart:j])
	if closing {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) || s[j] != '>' {
			return token{}, fmt.Errorf("%w: unclosed end tag at byte %d", ErrInvalidHTML, i)
		}
		if name != "" && !allowedTags[name] {
			return token{}, fmt.Errorf("%w: end tag of unsupported %q at byte %d", ErrInvalidHTML, name, i)
		}
		return token{kind: tokClose, start: i, end: j + 1, name: name}, nil
	}
	if j >= len(s) {
		return token{}, fmt.Errorf("%w: unclosed start tag at byte %d", ErrInvalidHTML, i)
	}
	if !allowedTags[name] {
		return token{}, fmt.Errorf("%w: unsupported start tag %q at byte %d", ErrInvalidHTML, name, i)
	}
	for {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return token{}, fmt.Errorf("%w: unclosed start tag at byte %d", ErrInvalidHTML, i)
		}
		if s[j] == '>' {
			return token{kind: tokOpen, start: i, end: j + 1, name: name}, nil
		}
		attrStart := j
		for j < len(s) && !isSpace(s[j]) && s[j] != '=' && s[j] != '>' {
			j++
		}
		attr := s[attrStart:j]
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) || s[j] != '=' {
			if name == "blockquote" && attr == "expandable" {
				continue
			}
			return token{}, fmt.Errorf("%w: attribute without value in tag at byte %d", ErrInvalidHTML, i)
		}
		j++
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return token{}, fmt.Errorf("%w: unclosed start tag at byte %d", ErrInvalidHTML, i)
		}
		if q := s[j]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[j+1:], q)
			if end < 0 {
				return token{}, fmt.Errorf("%w: unterminated attribute value at byte %d", ErrInvalidHTML, j)
			}
			value := s[j+1 : j+1+end]
			for k := 0; k < len(value); k++ {
				if value[k] == '&' {
					if _, e, ok := decodeEntity(value, k); ok {
						k = e - 1
						continue
					}
					return token{}, fmt.Errorf("%w: \"&\" that starts no entity at byte %d", ErrInvalidHTML, j+1+k)
				}
			}
			j += end + 2
			continue
		}
		tokStart := j
		for j < len(s) && (isAlnum(s[j]) || s[j] == '.' || s[j] == '-') {
			j++
		}
		if j >= len(s) || (!isSpace(s[j]) && s[j] != '>') || j == tokStart {
			return token{}, fmt.Errorf("%w: bad attribute value at byte %d", ErrInvalidHTML, tokStart)
		}
	}
}

// decodeEntity decodes the character reference at s[i] == '&': &lt; &gt;
// &amp; &quot; and numeric ones, each closed by ";" (Telegram lets the ";"
// go, we do not). It returns the character and the index after it.
func decodeEntity(s string, i int) (rune, int, bool) {
	semi := strings.IndexByte(s[i:min(len(s), i+12)], ';')
	if semi < 2 {
		return 0, 0, false
	}
	body := s[i+1 : i+semi]
	end := i + semi + 1
	switch body {
	case "lt":
		return '<', end, true
	case "gt":
		return '>', end, true
	case "amp":
		return '&', end, true
	case "quot":
		return '"', end, true
	}
	if body[0] != '#' || len(body) < 2 {
		return 0, 0, false
	}
	digits, base := body[1:], uint64(10)
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	if digits == "" {
		return 0, 0, false
	}
	var v uint64
	for k := 0; k < len(digits); k++ {
		d, ok := digitValue(digits[k], base)
		if !ok {
			return 0, 0, false
		}
		v = v*base + d
	}
	if v == 0 || v >= 0x10ffff || v >= 0xd800 && v <= 0xdfff {
		return 0, 0, false
	}
	return rune(v), end, true
}

func digitValue(c byte, base uint64) (uint64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0'), true
	case base == 16 && c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10, true
	case base == 16 && c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// parse returns the text Telegram shows for html. Strict mode fails on
// anything Telegram would refuse; lenient mode drops what looks like markup
// and keeps the rest as text.
func parse(html string, strict bool) (string, error) {
	var out strings.Builder
	out.Grow(len(html))
	var stack []string
	sc := scanner{s: html, strict: strict}
	for sc.i < len(html) {
		t, err := sc.next()
		if err != nil {
			return "", err
		}
		switch t.kind {
		case tokText, tokEntity:
			out.WriteRune(t.r)
		case tokOpen:
			stack = append(stack, t.name)
		case tokClose:
			if len(stack) == 0 || (t.name != "" && stack[len(stack)-1] != t.name) {
				if strict {
					return "", fmt.Errorf("%w: unmatched end tag at byte %d", ErrInvalidHTML, t.start)
				}
				out.WriteString(html[t.start:t.end])
				continue
			}
			stack = stack[:len(stack)-1]
		}
	}
	if strict && len(stack) > 0 {
		return "", fmt.Errorf("%w: <%s> is never closed", ErrInvalidHTML, stack[len(stack)-1])
	}
	return out.String(), nil
}

// Validate reports whether Telegram accepts html as a message text in HTML
// parse mode: well-formed, only supported tags and entities, not empty after
// Telegram trims it, and at most MaxLength UTF-16 code units.
func Validate(html string) error {
	text, err := parse(html, true)
	if err != nil {
		return err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return ErrEmpty
	}
	if n := utf16Len(text); n > MaxLength {
		return fmt.Errorf("%w: %d UTF-16 code units, at most %d", ErrTooLong, n, MaxLength)
	}
	return nil
}

// PlainText returns the text Telegram would show for html, without markup:
// the fallback when Telegram cannot parse a message. It never fails: what
// does not parse as markup stays as typed.
func PlainText(html string) string {
	text, _ := parse(html, false)
	return text
}

// Length returns the length Telegram counts for html: UTF-16 code units of
// its text after entity parsing.
func Length(html string) int {
	return utf16Len(PlainText(html))
}

// Truncate shortens valid Telegram HTML so that its text is at most max
// UTF-16 code units, cutting on a word boundary where one is near, never
// inside a tag or an entity, ending with "…" and closing the tags left open.
// html that fits is returned unchanged; html that does not parse is cut as
// plain text and escaped.
func Truncate(html string, max int) string {
	if max <= 0 {
		return ""
	}
	if Length(html) <= max {
		return html
	}
	if _, err := parse(html, true); err != nil {
		return Escape(trimWords(PlainText(html), max))
	}
	type cut struct {
		at     int // byte offset in html
		length int // text length before it
	}
	var (
		n    int
		best cut // last word boundary that leaves room for "…"
		hard cut // last rune boundary that leaves room for "…"
	)
	budget := max - 1 // room for the ellipsis
	sc := scanner{s: html, strict: true}
	for sc.i < len(html) {
		t, _ := sc.next()
		if t.kind == tokOpen || t.kind == tokClose {
			continue
		}
		w := utf16RuneLen(t.r)
		if n+w > budget {
			break
		}
		if isWordBreak(t.r) {
			best = cut{at: t.start, length: n}
		}
		n += w
		hard = cut{at: t.end, length: n}
	}
	c := hard
	if best.at > 0 && best.length >= hard.length*2/3 {
		c = best
	}
	head := strings.TrimRightFunc(html[:c.at], isTrimmable)
	// Recompute the open tags at the cut: the tags passed on the way there.
	var open []string
	sc = scanner{s: head, strict: true}
	for sc.i < len(head) {
		t, err := sc.next()
		if err != nil {
			// A trailing space trim cannot split a token, so this is
			// unreachable; fall back to plain text rather than emit junk.
			return Escape(trimWords(PlainText(html), max))
		}
		switch t.kind {
		case tokOpen:
			open = append(open, t.name)
		case tokClose:
			open = open[:len(open)-1]
		}
	}
	var b strings.Builder
	b.Grow(len(head) + 8*len(open) + 3)
	b.WriteString(head)
	b.WriteString("…")
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</")
		b.WriteString(open[i])
		b.WriteString(">")
	}
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
