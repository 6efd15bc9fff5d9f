package staff

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/render"
)

// span is an entity reduced to what rendering needs: rune indexes into the
// text and the tags around it.
type span struct {
	start, end int // rune indexes, start < end
	kind       string
	open       string // start tag(s)
	close      string // end tag(s)
}

// kindRank puts outer kinds first among spans covering the same text, so
// that a quote holds its bold text rather than the other way round.
var kindRank = map[string]int{
	"blockquote": 0, "pre": 1, "a": 2, "b": 3, "i": 4, "u": 5, "s": 6, "tg-spoiler": 7, "code": 8,
}

// EntitiesHTML renders a Telegram message's text with its formatting
// entities as Telegram HTML: bold, italic, underline, strikethrough,
// spoiler, code, pre (with its language), text links and mentions, and
// block quotes. Every piece of text is escaped; offsets and lengths count
// UTF-16 code units, as Telegram's do. Entities the bot cannot send again
// (custom emoji) or that need none (auto-detected links, hashtags) are left
// out, and so are those that break Telegram's nesting rules (anything
// inside code, a quote in a quote, a link in a link). Entities that
// overlap without nesting are closed and reopened, so the result is always
// well-formed; its visible text is exactly the input.
func EntitiesHTML(text string, entities []bot.Entity) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	runes := []rune(text)
	// pos[i] is the UTF-16 offset of rune i; pos[len(runes)] the length.
	pos := make([]int, len(runes)+1)
	for i, r := range runes {
		pos[i+1] = pos[i] + utf16Len(r)
	}
	total := pos[len(runes)]
	// index returns the first rune at or after UTF-16 offset off, so that an
	// offset inside a surrogate pair does not split the character.
	index := func(off int) int {
		off = min(max(off, 0), total)
		return sort.SearchInts(pos, off)
	}

	var spans []span
	for _, e := range entities {
		if e.Length <= 0 || e.Offset >= total || e.Offset < 0 && e.Offset+e.Length <= 0 {
			continue
		}
		// Cut to the text without overflowing: Offset < total here, and a
		// negative Offset shortens a positive Length.
		from, length := e.Offset, e.Length
		if from < 0 {
			from, length = 0, length+from
		}
		s := span{start: index(from), end: index(from + min(length, total-from))}
		if s.start >= s.end {
			continue
		}
		if !tagsFor(&s, e) {
			continue
		}
		spans = append(spans, s)
	}
	sort.SliceStable(spans, func(i, j int) bool {
		a, b := spans[i], spans[j]
		if a.start != b.start {
			return a.start < b.start
		}
		if a.end != b.end {
			return a.end > b.end
		}
		return kindRank[a.kind] < kindRank[b.kind]
	})
	spans = nestable(spans)

	// Boundaries: every start and end, in order.
	bounds := make([]int, 0, 2*len(spans)+2)
	bounds = append(bounds, 0, len(runes))
	for _, s := range spans {
		bounds = append(bounds, s.start, s.end)
	}
	sort.Ints(bounds)

	var out strings.Builder
	out.Grow(len(text) + 16*len(spans))
	var stack []span
	next := 0 // the next span to open
	prev := 0
	for k, p := range bounds {
		if k > 0 && p == bounds[k-1] {
			continue
		}
		out.WriteString(render.Escape(string(runes[prev:p])))
		prev = p
		// Close every span ending here, and those above them, reopening
		// the latter: tags must nest even where entities overlap.
		lowest := len(stack)
		for i, s := range stack {
			if s.end <= p {
				lowest = i
				break
			}
		}
		var reopen []span
		for len(stack) > lowest {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out.WriteString(top.close)
			if top.end > p {
				reopen = append(reopen, top)
			}
		}
		for i := len(reopen) - 1; i >= 0; i-- {
			stack = append(stack, reopen[i])
			out.WriteString(reopen[i].open)
		}
		for next < len(spans) && spans[next].start == p {
			stack = append(stack, spans[next])
			out.WriteString(spans[next].open)
			next++
		}
	}
	for len(stack) > 0 {
		out.WriteString(stack[len(stack)-1].close)
		stack = stack[:len(stack)-1]
	}
	return out.String()
}

// tagsFor fills in the tags of an entity's span; false for entities that
// are not rendered.
func tagsFor(s *span, e bot.Entity) bool {
	simple := map[string]string{
		"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s", "spoiler": "tg-spoiler", "code": "code",
	}
	if tag, ok := simple[e.Type]; ok {
		s.kind, s.open, s.close = tag, "<"+tag+">", "</"+tag+">"
		return true
	}
	switch e.Type {
	case "pre":
		s.kind, s.open, s.close = "pre", "<pre>", "</pre>"
		if lang := e.Language; lang != "" && len(lang) <= 32 && strings.IndexFunc(lang, notLanguageChar) < 0 {
			s.open, s.close = `<pre><code class="language-`+lang+`">`, "</code></pre>"
		}
	case "blockquote":
		s.kind, s.open, s.close = "blockquote", "<blockquote>", "</blockquote>"
	case "expandable_blockquote":
		s.kind, s.open, s.close = "blockquote", "<blockquote expandable>", "</blockquote>"
	case "text_link":
		if !linkable(e.URL) {
			return false
		}
		s.kind, s.open, s.close = "a", `<a href="`+render.Escape(e.URL)+`">`, "</a>"
	case "text_mention":
		if e.UserID <= 0 {
			return false
		}
		s.kind, s.open, s.close = "a", `<a href="tg://user?id=`+strconv.FormatInt(e.UserID, 10)+`">`, "</a>"
	default:
		return false
	}
	return true
}

// nestable drops the spans Telegram refuses inside others: anything inside
// code or pre, a quote inside a quote, a link inside a link. spans are
// sorted by start, longer first.
func nestable(spans []span) []span {
	out := spans[:0]
	var kept []span
	for _, s := range spans {
		ok := true
		for _, c := range kept {
			if c.end <= s.start {
				continue // ended before s
			}
			if c.kind == "code" || c.kind == "pre" || c.kind == s.kind && (s.kind == "blockquote" || s.kind == "a") {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, s)
			out = append(out, s)
		}
	}
	return out
}

// linkable admits the link schemes Telegram opens from a text link.
func linkable(u string) bool {
	if u == "" || len(u) > 2048 || strings.IndexFunc(u, unicode.IsSpace) >= 0 || !utf8.ValidString(u) {
		return false
	}
	l := strings.ToLower(u)
	for _, scheme := range []string{"https://", "http://", "tg://", "mailto:"} {
		if strings.HasPrefix(l, scheme) && len(l) > len(scheme) {
			return true
		}
	}
	return false
}

func notLanguageChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '+' || r == '#' || r == '.')
}

func utf16Len(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// fragment cuts a message's text from byte index from to the end, with
// the entities that fall in it moved to the new offsets and cut where they
// cross the start. Surrounding white space is trimmed, as Telegram trims
// a message.
func fragment(text string, entities []bot.Entity, from int) (string, []bot.Entity) {
	from = min(max(from, 0), len(text))
	rest := strings.TrimRightFunc(text[from:], unicode.IsSpace)
	trimmed := strings.TrimLeftFunc(rest, unicode.IsSpace)
	from += len(rest) - len(trimmed)
	shift := 0
	for _, r := range strings.ToValidUTF8(text[:from], "\uFFFD") {
		shift += utf16Len(r)
	}
	var out []bot.Entity
	for _, e := range entities {
		start, end := e.Offset-shift, e.Offset+e.Length-shift
		if e.Length <= 0 || end <= 0 {
			continue
		}
		e.Offset, e.Length = max(start, 0), end-max(start, 0)
		out = append(out, e)
	}
	return trimmed, out
}

// argsStart is the byte index of a command's arguments in its message:
// after the command word and the space that follows it.
func argsStart(text string) int {
	i := strings.IndexFunc(text, unicode.IsSpace)
	if i < 0 {
		return len(text)
	}
	return i
}
