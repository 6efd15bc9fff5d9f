package render

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// utf16RuneLen is how many UTF-16 code units r takes: Telegram counts
// lengths and offsets in those.
func utf16RuneLen(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16RuneLen(r)
	}
	return n
}

// isWordBreak reports whether a cut may be made before r.
func isWordBreak(r rune) bool { return unicode.IsSpace(r) }

// isTrimmable is what a cut text should not end with before its "…". It
// excludes ";" which ends HTML entities.
func isTrimmable(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(",:-–—", r)
}

// trimWords shortens plain text s to at most max UTF-16 code units, ending
// with "…". It cuts on a word boundary unless that would lose more than a
// third of what fits, and never inside a surrogate pair.
func trimWords(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf16Len(s) <= max {
		return s
	}
	budget := max - 1
	n, hard, best, bestLen := 0, 0, 0, 0
	for i, r := range s {
		w := utf16RuneLen(r)
		if n+w > budget {
			break
		}
		if isWordBreak(r) {
			best, bestLen = i, n
		}
		n += w
		hard = i + utf8.RuneLen(r)
	}
	cut := hard
	if best > 0 && bestLen >= n*2/3 {
		cut = best
	}
	return strings.TrimRightFunc(s[:cut], isTrimmable) + "…"
}

// clean prepares outside text for a message: valid UTF-8, no control or
// invisible formatting characters, runs of spaces collapsed. With
// paragraphs, line breaks survive (at most one blank line in a row);
// without, all whitespace becomes single spaces.
func clean(s string, paragraphs bool) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	spaces, newlines := 0, 0
	flush := func() {
		switch {
		case b.Len() == 0:
		case newlines >= 2:
			b.WriteString("\n\n")
		case newlines == 1:
			b.WriteByte('\n')
		case spaces > 0:
			b.WriteByte(' ')
		}
		spaces, newlines = 0, 0
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\u2028' || r == '\u2029':
			if paragraphs {
				newlines++
			} else {
				spaces++
			}
		case r == '\r':
			// \r\n counts once, through its \n; a lone \r is a space.
			spaces++
		case unicode.IsSpace(r):
			spaces++
		case unicode.IsControl(r):
			// Other control characters separate words at most.
			spaces++
		case r == '\u200b', r == '\ufeff', r == '\u00ad', unicode.Is(unicode.Bidi_Control, r):
			// Invisible: dropped, so a title cannot reorder the text
			// around it or hide from a reader.
		default:
			flush()
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Line cleans outside text for one line of a message as alerts do: valid
// UTF-8, no control, invisible or bidi formatting characters (which could
// reorder the text around them), whitespace collapsed to single spaces.
// The result is plain text: escape it for HTML.
func Line(s string) string { return clean(s, false) }
