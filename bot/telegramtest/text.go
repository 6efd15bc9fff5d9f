package telegramtest

import (
	"strings"
	"unicode/utf8"
)

// maxTextLength is Telegram's limit on a message text after entity parsing,
// counted in UTF-16 code units.
const maxTextLength = 4096

// utf16Len is how many UTF-16 code units r takes.
func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// utf16Count is the length of s in UTF-16 code units, the unit of entity
// offsets and of Telegram's length limits.
func utf16Count(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Len(r)
	}
	return n
}

// trimFormatted strips leading and trailing whitespace as Telegram does
// before sending, moving and clipping the entities to match.
func trimFormatted(text string, entities []MessageEntity) (string, []MessageEntity) {
	right := strings.TrimRight(text, " \t\r\n\v\f")
	trimmed := strings.TrimLeft(right, " \t\r\n\v\f")
	lead := utf16Count(right[:len(right)-len(trimmed)])
	size := utf16Count(trimmed)
	var out []MessageEntity
	for _, e := range entities {
		start, end := e.Offset-lead, e.Offset+e.Length-lead
		start, end = max(start, 0), min(end, size)
		if end <= start {
			continue
		}
		e.Offset, e.Length = start, end-start
		out = append(out, e)
	}
	return trimmed, out
}

// detectEntities finds what Telegram marks up by itself in a user's text:
// bot commands (with an optional @botname), @mentions, #hashtags and links.
func detectEntities(text string) []MessageEntity {
	var es []MessageEntity
	offset := 0 // UTF-16 offset of text[i]
	prev := rune(' ')
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		boundary := isWordBoundary(prev)
		if boundary {
			if n, kind := tokenAt(text[i:], r); n > 0 {
				es = append(es, MessageEntity{Type: kind, Offset: offset, Length: utf16Count(text[i : i+n])})
				offset += utf16Count(text[i : i+n])
				prev, _ = utf8.DecodeLastRuneInString(text[i : i+n])
				i += n
				continue
			}
		}
		offset += utf16Len(r)
		prev = r
		i += size
	}
	return es
}

// tokenAt reports the length and type of an auto-detected entity starting s.
func tokenAt(s string, first rune) (int, string) {
	switch first {
	case '/':
		n := 1 + spanOf(s[1:], isCommandByte)
		if n == 1 || n > 1+64 {
			return 0, ""
		}
		if n < len(s) && s[n] == '@' {
			if m := spanOf(s[n+1:], isCommandByte); m > 0 {
				n += 1 + m
			}
		}
		if n < len(s) && !isEntityEnd(s[n]) {
			return 0, ""
		}
		return n, "bot_command"
	case '@':
		n := 1 + spanOf(s[1:], isCommandByte)
		if n-1 < 4 || n-1 > 32 {
			return 0, ""
		}
		return n, "mention"
	case '#':
		n := 1 + spanOf(s[1:], isCommandByte)
		if n == 1 {
			return 0, ""
		}
		return n, "hashtag"
	case 'h', 'H':
		lower := strings.ToLower(s)
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			return 0, ""
		}
		n := strings.IndexAny(s, " \t\r\n")
		if n < 0 {
			n = len(s)
		}
		n = len(strings.TrimRight(s[:n], ".,;:!?)'\""))
		if n <= len("https://") {
			return 0, ""
		}
		return n, "url"
	}
	return 0, ""
}

func spanOf(s string, ok func(byte) bool) int {
	n := 0
	for n < len(s) && ok(s[n]) {
		n++
	}
	return n
}

func isCommandByte(c byte) bool { return isAlnum(c) || c == '_' }

func isEntityEnd(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ',' || c == '.' || c == '!' || c == '?'
}

func isWordBoundary(r rune) bool {
	return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '(' || r == ','
}
