package category

import (
	"strings"
	"unicode"
)

// Normalize folds the ways one title gets typed differently so that rules
// written once match them all: it lower-cases (Unicode), turns curly quotes
// and apostrophes (’ ‘ ʼ ´ ` ‛ “ ” „ ‟ « ») into straight ones, dashes and
// hyphen look-alikes (– — ‑ ‐ ‒ ― −) into '-', drops invisible soft hyphens,
// zero-width spaces and byte order marks, collapses every run of white space
// (NBSP included) into one space and trims both ends. Invalid UTF-8 bytes
// become U+FFFD. Normalize is idempotent.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending: written only if more text follows
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		switch r {
		case '\u00ad', '\u200b', '\u2060', '\ufeff':
			// Invisible; HTML titles carry them (&shy;) in the middle of words.
			continue
		case '’', '‘', 'ʼ', '´', '`', '‛':
			r = '\''
		case '“', '”', '„', '‟', '«', '»':
			r = '"'
		case '–', '—', '‑', '‐', '‒', '―', '−':
			r = '-'
		default:
			r = unicode.ToLower(r)
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
