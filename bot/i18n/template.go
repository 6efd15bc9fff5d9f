package i18n

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/feature/plural"
)

// A text is parsed once into segments: literal text, a {name} placeholder,
// or a plural choice written as in ICU MessageFormat:
//
//	{count, plural, one {# subscriber} other {# subscribers}}
//
// where the value of count picks the form by the language's CLDR plural
// rules (golang.org/x/text/feature/plural), or an exact form such as
// =1 {the latest publication} when one matches, and # stands for the count,
// formatted for the language. A form may hold placeholders. Anything else
// in braces is literal text, so a stray "{" in a text shows as written.
type segment struct {
	lit   string
	name  string                    // placeholder, or the plural's count
	forms map[plural.Form][]segment // non-nil for a plural choice
	exact map[int64][]segment       // a plural's "=N" forms, chosen before CLDR's
	hash  bool                      // "#" inside a plural form
}

// formNames are the CLDR plural categories as written in texts.
var formNames = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

func formName(f plural.Form) string {
	for n, v := range formNames {
		if v == f {
			return n
		}
	}
	return "other"
}

// parse splits text into segments. It fails only on a plural choice that
// is begun ("{name, plural,") but not well formed.
func parse(text string) ([]segment, error) {
	p := parser{src: text}
	segs, err := p.segments(false)
	if err != nil {
		return nil, err
	}
	return segs, nil
}

type parser struct {
	src string
	pos int
}

// segments reads up to the end of the text, or, in a plural form, up to
// the "}" that closes the form (left unread).
func (p *parser) segments(inForm bool) ([]segment, error) {
	var out []segment
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, segment{lit: lit.String()})
			lit.Reset()
		}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '}' && inForm:
			flush()
			return out, nil
		case c == '#' && inForm:
			flush()
			out = append(out, segment{hash: true})
			p.pos++
		case c == '{':
			if name, n, ok := placeholderAt(p.src[p.pos:]); ok {
				flush()
				out = append(out, segment{name: name})
				p.pos += n
				continue
			}
			if name, n, ok := pluralStartAt(p.src[p.pos:]); ok {
				flush()
				p.pos += n
				seg, err := p.plural(name)
				if err != nil {
					return nil, err
				}
				out = append(out, seg)
				continue
			}
			lit.WriteByte(c)
			p.pos++
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
	if inForm {
		return nil, errors.New("a plural form is not closed with }")
	}
	flush()
	return out, nil
}

// plural reads the forms of a choice, after "{name, plural,", up to and
// including its closing "}".
func (p *parser) plural(name string) (segment, error) {
	seg := segment{name: name, forms: map[plural.Form][]segment{}}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return seg, fmt.Errorf("the plural of {%s} is not closed with }", name)
		}
		if p.src[p.pos] == '}' {
			p.pos++
			break
		}
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] >= 'a' && p.src[p.pos] <= 'z' || p.src[p.pos] == '=' || p.src[p.pos] >= '0' && p.src[p.pos] <= '9') {
			p.pos++
		}
		word := p.src[start:p.pos]
		form, ok := formNames[word]
		exact, err := strconv.ParseInt(strings.TrimPrefix(word, "="), 10, 64)
		isExact := strings.HasPrefix(word, "=") && err == nil
		_, dupExact := seg.exact[exact]
		_, dupForm := seg.forms[form]
		switch {
		case !ok && !isExact:
			return seg, fmt.Errorf("the plural of {%s}: %q is not a plural form (zero, one, two, few, many, other, or =N)", name, cutWord(p.src[start:]))
		case isExact && dupExact, !isExact && dupForm:
			return seg, fmt.Errorf("the plural of {%s} has the form %s twice", name, word)
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '{' {
			return seg, fmt.Errorf("the plural of {%s}: the form %s needs its text in braces", name, word)
		}
		p.pos++
		body, err := p.segments(true)
		if err != nil {
			return seg, fmt.Errorf("the plural of {%s}, form %s: %w", name, word, err)
		}
		p.pos++ // the form's "}"
		if isExact {
			if seg.exact == nil {
				seg.exact = map[int64][]segment{}
			}
			seg.exact[exact] = body
			continue
		}
		seg.forms[form] = body
	}
	if _, ok := seg.forms[plural.Other]; !ok {
		return seg, fmt.Errorf("the plural of {%s} has no form other", name)
	}
	return seg, nil
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func cutWord(s string) string {
	if i := strings.IndexAny(s, " {}"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 20 {
		s = s[:20]
	}
	return s
}

// placeholderAt reads "{name}" at the start of s.
func placeholderAt(s string) (name string, n int, ok bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 || !validName(s[1:end]) {
		return "", 0, false
	}
	return s[1:end], end + 1, true
}

// pluralStartAt reads "{name, plural," at the start of s.
func pluralStartAt(s string) (name string, n int, ok bool) {
	comma := strings.IndexByte(s, ',')
	if comma < 0 || !validName(strings.TrimSpace(s[1:comma])) {
		return "", 0, false
	}
	rest := s[comma+1:]
	trimmed := strings.TrimLeft(rest, " ")
	if !strings.HasPrefix(trimmed, "plural") {
		return "", 0, false
	}
	after := strings.TrimLeft(trimmed[len("plural"):], " ")
	if !strings.HasPrefix(after, ",") {
		return "", 0, false
	}
	return strings.TrimSpace(s[1:comma]), len(s) - len(after) + 1, true
}

// names appends the distinct placeholder names of segs, in order.
func names(segs []segment, out []string) []string {
	add := func(n string) {
		for _, o := range out {
			if o == n {
				return
			}
		}
		out = append(out, n)
	}
	for _, s := range segs {
		if s.name != "" {
			add(s.name)
		}
		for _, f := range sortedForms(s.forms) {
			for _, n := range names(s.forms[f], nil) {
				add(n)
			}
		}
		for _, body := range s.exact {
			for _, n := range names(body, nil) {
				add(n)
			}
		}
	}
	return out
}

// plurals calls fn for every plural choice in segs.
func plurals(segs []segment, fn func(segment)) {
	for _, s := range segs {
		if s.forms == nil {
			continue
		}
		fn(s)
		for _, f := range sortedForms(s.forms) {
			plurals(s.forms[f], fn)
		}
	}
}

func sortedForms(m map[plural.Form][]segment) []plural.Form {
	var out []plural.Form
	for _, f := range []plural.Form{plural.Zero, plural.One, plural.Two, plural.Few, plural.Many, plural.Other} {
		if _, ok := m[f]; ok {
			out = append(out, f)
		}
	}
	return out
}
