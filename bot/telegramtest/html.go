package telegramtest

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// htmlTags are the start tags Telegram's HTML parse mode accepts.
var htmlTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "s": true, "strike": true,
	"del": true, "u": true, "ins": true, "tg-spoiler": true, "tg-emoji": true, "span": true,
	"pre": true, "code": true, "blockquote": true,
}

// parseError is a failure of the parse mode; its text follows Telegram's
// "can't parse entities: " prefix.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

func parseErrorf(format string, args ...any) *parseError {
	return &parseError{msg: fmt.Sprintf(format, args...)}
}

type openTag struct {
	name     string
	argument string
	offset   int // UTF-16 offset in the result where the tag's content starts
	bytePos  int // byte offset in the result where the tag's content starts
}

// parseHTML turns text in Telegram's HTML parse mode into plain text and
// entities, following the rules of Telegram's own parser (TDLib's
// parse_html): the same accepted tags and attributes, the same nesting
// checks, the same error texts with byte offsets into the input.
//
// With lenient false it also rejects what Telegram silently shows as typed:
// a "&" that starts no supported entity, a named entity other than &lt; &gt;
// &amp; &quot;, and an entity without its closing ";".
func parseHTML(text string, lenient bool) (string, []MessageEntity, error) {
	var (
		out      strings.Builder
		entities []MessageEntity
		stack    []openTag
		utf16    int
	)
	at := func(i int) byte {
		if i < len(text) {
			return text[i]
		}
		return 0
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '&' {
			r, end, ok := decodeHTMLEntity(text, i)
			if ok && r >= 0xd800 && r <= 0xdfff {
				return "", nil, parseErrorf("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units")
			}
			if !lenient {
				if err := strictEntity(text, i, ok, end); err != nil {
					return "", nil, err
				}
			}
			if ok {
				out.WriteRune(r)
				utf16 += utf16Len(r)
				i = end - 1
				continue
			}
		}
		if c != '<' {
			out.WriteByte(c)
			if utf8.RuneStart(c) {
				utf16++
				if c >= 0xf0 {
					utf16++ // four-byte sequences are surrogate pairs in UTF-16
				}
			}
			continue
		}

		begin := i
		i++
		if at(i) != '/' {
			for !isHTMLSpace(at(i)) && at(i) != '>' {
				i++
			}
			if i >= len(text) {
				return "", nil, parseErrorf("Unclosed start tag at byte offset %d", begin)
			}
			name := strings.ToLower(text[begin+1 : i])
			if !htmlTags[name] {
				return "", nil, parseErrorf("Unsupported start tag \"%s\" at byte offset %d", name, begin)
			}
			var argument string
			for at(i) != '>' {
				for i < len(text) && isHTMLSpace(at(i)) {
					i++
				}
				if at(i) == '>' {
					break
				}
				attrBegin := i
				for !isHTMLSpace(at(i)) && at(i) != '=' && at(i) != '>' {
					i++
				}
				attr := text[attrBegin:i]
				if attr == "" {
					return "", nil, parseErrorf("Empty attribute name in the tag \"%s\" at byte offset %d", name, begin)
				}
				for i < len(text) && isHTMLSpace(at(i)) {
					i++
				}
				if at(i) != '=' {
					if name == "blockquote" && attr == "expandable" {
						argument = "expandable"
						continue
					}
					return "", nil, parseErrorf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", name, begin)
				}
				i++
				for i < len(text) && isHTMLSpace(at(i)) {
					i++
				}
				if i >= len(text) {
					return "", nil, parseErrorf("Unclosed start tag \"%s\" at byte offset %d", name, begin)
				}
				var value string
				if q := at(i); q != '\'' && q != '"' {
					tokenBegin := i
					for isAlnum(at(i)) || at(i) == '.' || at(i) == '-' {
						i++
					}
					value = strings.ToLower(text[tokenBegin:i])
					if !isHTMLSpace(at(i)) && at(i) != '>' {
						return "", nil, parseErrorf("Unexpected end of name token at byte offset %d", tokenBegin)
					}
				} else {
					i++
					var v strings.Builder
					for i < len(text) && at(i) != q {
						if at(i) == '&' {
							r, end, ok := decodeHTMLEntity(text, i)
							if !lenient {
								if err := strictEntity(text, i, ok, end); err != nil {
									return "", nil, err
								}
							}
							if ok {
								v.WriteRune(r)
								i = end
								continue
							}
						}
						v.WriteByte(at(i))
						i++
					}
					if at(i) == q {
						i++
					}
					value = v.String()
				}
				if i >= len(text) {
					return "", nil, parseErrorf("Unclosed start tag at byte offset %d", begin)
				}
				switch {
				case name == "a" && attr == "href":
					argument = value
				case name == "code" && attr == "class" && strings.HasPrefix(value, "language-"):
					argument = value[len("language-"):]
				case name == "span" && attr == "class" && strings.HasPrefix(value, "tg-"):
					argument = value[len("tg-"):]
				case name == "tg-emoji" && attr == "emoji-id":
					argument = value
				}
			}
			if name == "span" && argument != "spoiler" {
				return "", nil, parseErrorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
			}
			stack = append(stack, openTag{name: name, argument: argument, offset: utf16, bytePos: out.Len()})
			continue // i is at '>'
		}

		if len(stack) == 0 {
			return "", nil, parseErrorf("Unexpected end tag at byte offset %d", begin)
		}
		for !isHTMLSpace(at(i)) && at(i) != '>' {
			i++
		}
		endName := strings.ToLower(text[begin+2 : i])
		for i < len(text) && isHTMLSpace(at(i)) {
			i++
		}
		if at(i) != '>' {
			return "", nil, parseErrorf("Unclosed end tag at byte offset %d", begin)
		}
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if endName != "" && endName != top.name {
			return "", nil, parseErrorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, endName)
		}
		if utf16 <= top.offset {
			continue // empty entities vanish
		}
		e, add, err := tagEntity(top, utf16, out.String()[top.bytePos:], entities)
		if err != nil {
			return "", nil, err
		}
		if add {
			entities = append(entities, e)
		}
	}
	if len(stack) > 0 {
		return "", nil, parseErrorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	sortEntities(entities)
	return out.String(), entities, nil
}

// tagEntity builds the entity a closed tag stands for and whether to add it.
// A <pre> and a <code class="language-x"> around the same text merge into
// one pre entity with a language: the last entity is then changed in place
// and nothing is added. A link Telegram can't use adds nothing either.
func tagEntity(t openTag, end int, inner string, entities []MessageEntity) (MessageEntity, bool, error) {
	e := MessageEntity{Offset: t.offset, Length: end - t.offset}
	var last *MessageEntity
	if n := len(entities); n > 0 && entities[n-1].Offset == e.Offset && entities[n-1].Length == e.Length {
		last = &entities[n-1]
	}
	switch t.name {
	case "b", "strong":
		e.Type = "bold"
	case "i", "em":
		e.Type = "italic"
	case "u", "ins":
		e.Type = "underline"
	case "s", "strike", "del":
		e.Type = "strikethrough"
	case "tg-spoiler", "span":
		e.Type = "spoiler"
	case "blockquote":
		e.Type = "blockquote"
		if t.argument == "expandable" {
			e.Type = "expandable_blockquote"
		}
	case "tg-emoji":
		id, err := strconv.ParseInt(t.argument, 10, 64)
		if err != nil || id == 0 {
			return e, false, parseErrorf("Invalid custom emoji identifier specified")
		}
		e.Type, e.CustomEmojiID = "custom_emoji", t.argument
	case "a":
		link := t.argument
		if link == "" {
			link = inner
		}
		if id, ok := linkUserID(link); ok {
			e.Type = "text_mention"
			e.User = &struct {
				ID int64 `json:"id"`
			}{ID: id}
			return e, true, nil
		}
		checked, ok := checkLink(link)
		if !ok {
			return e, false, nil
		}
		e.Type, e.URL = "text_link", checked
	case "pre":
		if last != nil && last.Type == "code" && last.Language != "" {
			last.Type = "pre"
			return e, false, nil
		}
		e.Type = "pre"
	case "code":
		if last != nil && last.Type == "pre" && t.argument != "" {
			last.Language = t.argument
			return e, false, nil
		}
		// The language is kept until an enclosing <pre> closes; a code
		// entity outside pre loses it in sortEntities.
		e.Type, e.Language = "code", t.argument
	}
	return e, true, nil
}

// sortEntities orders entities as Telegram does (by offset, longer first)
// and drops the language of code entities that did not end up inside pre.
func sortEntities(es []MessageEntity) {
	for i := range es {
		if es[i].Type == "code" {
			es[i].Language = ""
		}
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Offset != es[j].Offset {
			return es[i].Offset < es[j].Offset
		}
		return es[i].Length > es[j].Length
	})
}

// decodeHTMLEntity decodes the character reference at text[pos] == '&' as
// Telegram does: &lt; &gt; &amp; &quot;, decimal &#NNN; and hexadecimal
// &#xHH;, the ";" optional. It returns the rune, the index after the
// reference, and whether it was one.
func decodeHTMLEntity(text string, pos int) (rune, int, bool) {
	at := func(i int) byte {
		if i < len(text) {
			return text[i]
		}
		return 0
	}
	end := pos + 1
	var res uint64
	if at(pos+1) == '#' {
		end++
		if at(pos+2) == 'x' {
			end++
			for isHexDigit(at(end)) {
				if res < 1<<32 {
					res = res*16 + uint64(hexValue(at(end)))
				}
				end++
			}
		} else {
			for at(end) >= '0' && at(end) <= '9' {
				if res < 1<<32 {
					res = res*10 + uint64(at(end)-'0')
				}
				end++
			}
		}
		if res == 0 || res >= 0x10ffff || end-pos >= 10 {
			return 0, 0, false
		}
	} else {
		for isAlpha(at(end)) {
			end++
		}
		switch text[pos+1 : end] {
		case "lt":
			res = '<'
		case "gt":
			res = '>'
		case "amp":
			res = '&'
		case "quot":
			res = '"'
		default:
			return 0, 0, false
		}
	}
	if at(end) == ';' {
		end++
	}
	return rune(res), end, true
}

// strictEntity is the fake's own check, beyond Telegram's: the "&" at pos
// must start a supported entity closed by ";".
func strictEntity(text string, pos int, decoded bool, end int) error {
	if decoded && text[end-1] == ';' {
		return nil
	}
	// Show the would-be entity when it looks like one, else the bare "&".
	j := pos + 1
	for j < len(text) && j-pos < 32 && (isAlnum(text[j]) || text[j] == '#') {
		j++
	}
	if j < len(text) && text[j] == ';' && j > pos+1 {
		return parseErrorf("Unsupported HTML entity \"%s\" at byte offset %d; only &lt; &gt; &amp; &quot; and numeric entities are supported (telegramtest is strict here, Telegram would show it as typed)", text[pos:j+1], pos)
	}
	if decoded {
		return parseErrorf("HTML entity \"%s\" at byte offset %d lacks its closing \";\" (telegramtest is strict here)", text[pos:end], pos)
	}
	return parseErrorf("Unescaped \"&\" at byte offset %d; write it as &amp; (telegramtest is strict here, Telegram would show it as typed)", pos)
}

// linkUserID recognises tg://user?id=N links, which become text mentions.
func linkUserID(link string) (int64, bool) {
	u, err := url.Parse(link)
	if err != nil || !strings.EqualFold(u.Scheme, "tg") || !strings.EqualFold(u.Host, "user") {
		return 0, false
	}
	id, err := strconv.ParseInt(u.Query().Get("id"), 10, 64)
	return id, err == nil && id > 0
}

// checkLink approximates Telegram's link check: http, https, tg and ton links
// and bare host names are kept (a bare host gets "http://"), the rest drops.
func checkLink(link string) (string, bool) {
	link = strings.TrimSpace(link)
	if link == "" {
		return "", false
	}
	if !strings.Contains(link, "://") && !strings.HasPrefix(strings.ToLower(link), "tg:") {
		link = "http://" + link
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" || !strings.Contains(u.Hostname(), ".") && u.Hostname() != "localhost" {
			return "", false
		}
		if u.Path == "" && u.RawQuery == "" && u.Fragment == "" {
			link += "/"
		}
		return link, true
	case "tg", "ton":
		return link, true
	}
	return "", false
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 || c == '\v' || c == '\f'
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }
func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexValue(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
