package telegramtest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseHTMLValid(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		lenient  bool
		want     string
		entities []MessageEntity
	}{
		{name: "nested tags", in: "<b>bold</b> and <i>it<u>al</u>ic</i>", want: "bold and italic",
			entities: []MessageEntity{{Type: "bold", Offset: 0, Length: 4}, {Type: "italic", Offset: 9, Length: 6}, {Type: "underline", Offset: 11, Length: 2}}},
		{name: "synonyms and upper case", in: "<STRONG>a</STRONG><em>b</em><ins>c</ins><s>d</s><strike>e</strike><del>f</del>", want: "abcdef",
			entities: []MessageEntity{{Type: "bold", Offset: 0, Length: 1}, {Type: "italic", Offset: 1, Length: 1}, {Type: "underline", Offset: 2, Length: 1},
				{Type: "strikethrough", Offset: 3, Length: 1}, {Type: "strikethrough", Offset: 4, Length: 1}, {Type: "strikethrough", Offset: 5, Length: 1}}},
		{name: "link with escaped ampersand", in: `<a href="https://example.com/x?a=1&amp;b=2">link</a>`, want: "link",
			entities: []MessageEntity{{Type: "text_link", Offset: 0, Length: 4, URL: "https://example.com/x?a=1&b=2"}}},
		{name: "link with single quotes", in: `see <a href='https://example.com/'>here</a>`, want: "see here",
			entities: []MessageEntity{{Type: "text_link", Offset: 4, Length: 4, URL: "https://example.com/"}}},
		{name: "unusable link is dropped", in: `<a href="javascript:alert(1)">x</a>`, want: "x"},
		{name: "pre with code language", in: `<pre><code class="language-go">x := 1</code></pre>`, want: "x := 1",
			entities: []MessageEntity{{Type: "pre", Offset: 0, Length: 6, Language: "go"}}},
		{name: "code alone loses language", in: `<code class="language-go">x</code>`, want: "x",
			entities: []MessageEntity{{Type: "code", Offset: 0, Length: 1}}},
		{name: "spoilers", in: `<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`, want: "st",
			entities: []MessageEntity{{Type: "spoiler", Offset: 0, Length: 1}, {Type: "spoiler", Offset: 1, Length: 1}}},
		{name: "expandable blockquote", in: `<blockquote expandable>q</blockquote><blockquote>r</blockquote>`, want: "qr",
			entities: []MessageEntity{{Type: "expandable_blockquote", Offset: 0, Length: 1}, {Type: "blockquote", Offset: 1, Length: 1}}},
		{name: "custom emoji", in: `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, want: "👍",
			entities: []MessageEntity{{Type: "custom_emoji", Offset: 0, Length: 2, CustomEmojiID: "5368324170671202286"}}},
		{name: "named entities", in: "1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;q&quot;", want: `1 < 2 && 3 > 2 "q"`},
		{name: "numeric entities", in: "&#65;&#x42;&#128512;", want: "AB😀"},
		{name: "emoji offsets are UTF-16", in: "😀<b>x</b>", want: "😀x",
			entities: []MessageEntity{{Type: "bold", Offset: 2, Length: 1}}},
		{name: "anonymous end tag", in: "<b>x</>", want: "x", entities: []MessageEntity{{Type: "bold", Offset: 0, Length: 1}}},
		{name: "bare greater-than", in: "a > b", want: "a > b"},
		{name: "empty entity vanishes", in: "<b></b>x", want: "x"},
		{name: "text mention", in: `<a href="tg://user?id=42">u</a>`, want: "u",
			entities: []MessageEntity{{Type: "text_mention", Offset: 0, Length: 1, User: &struct {
				ID int64 `json:"id"`
			}{ID: 42}}}},
		{name: "lenient keeps bare ampersand", in: "fish & chips", lenient: true, want: "fish & chips"},
		{name: "lenient keeps unknown entity", in: "a&nbsp;b", lenient: true, want: "a&nbsp;b"},
		{name: "lenient decodes entity without semicolon", in: "&lt b", lenient: true, want: "< b"},
		{name: "lenient keeps zero and upper X references", in: "&#0; &#X41;", lenient: true, want: "&#0; &#X41;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, entities, err := parseHTML(tt.in, tt.lenient)
			if err != nil {
				t.Fatalf("parseHTML(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("text: got %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(entities, tt.entities) {
				t.Errorf("entities: got %+v, want %+v", entities, tt.entities)
			}
		})
	}
}

func TestParseHTMLErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		lenient bool
		want    string // whole message, or its start when prefix is set
		prefix  bool
	}{
		{name: "unknown tag", in: "hello <foo>x</foo>", want: `Unsupported start tag "foo" at byte offset 6`},
		{name: "unclosed tag", in: "<b>bold", want: `Can't find end tag corresponding to start tag "b"`},
		{name: "crossed tags", in: "<b><i>x</b></i>", want: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{name: "stray end tag", in: "x</b>", want: "Unexpected end tag at byte offset 1"},
		{name: "bare less-than", in: "a < b", want: `Unsupported start tag "" at byte offset 2`},
		{name: "less-than at the end", in: "a <b", want: "Unclosed start tag at byte offset 2"},
		{name: "unclosed end tag", in: "<b>x</b", want: "Unclosed end tag at byte offset 4"},
		{name: "span without class", in: "<span>x</span>", want: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{name: "attribute without value", in: "<a href>x</a>", want: `Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0`},
		{name: "bad name token", in: "<a href=x!>y</a>", want: "Unexpected end of name token at byte offset 8"},
		{name: "unterminated attribute", in: `<a href="x`, want: "Unclosed start tag at byte offset 0"},
		{name: "bad custom emoji", in: `<tg-emoji emoji-id="abc">x</tg-emoji>`, want: "Invalid custom emoji identifier specified"},
		{name: "surrogate reference", in: "&#xD83D;", want: "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"},
		{name: "nbsp is strict", in: "fish &nbsp;chips", want: `Unsupported HTML entity "&nbsp;" at byte offset 5`, prefix: true},
		{name: "bare ampersand is strict", in: "fish & chips", want: `Unescaped "&" at byte offset 5`, prefix: true},
		{name: "missing semicolon is strict", in: "a &lt b", want: `HTML entity "&lt" at byte offset 2 lacks its closing ";"`, prefix: true},
		{name: "upper X is strict", in: "&#X41;", want: `Unsupported HTML entity "&#X41;" at byte offset 0`, prefix: true},
		{name: "strict inside attributes", in: `<a href="https://e.com/?a=1&b=2">x</a>`, want: `Unescaped "&" at byte offset 27`, prefix: true},
		{name: "lenient still rejects tags", in: "a < b & c", lenient: true, want: `Unsupported start tag "" at byte offset 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseHTML(tt.in, tt.lenient)
			if err == nil {
				t.Fatalf("parseHTML(%q): got no error, want %q", tt.in, tt.want)
			}
			got := err.Error()
			if got != tt.want && !(tt.prefix && strings.HasPrefix(got, tt.want)) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrimFormatted(t *testing.T) {
	text, entities := trimFormatted("  \n😀 <x> \n", []MessageEntity{{Type: "bold", Offset: 0, Length: 6}, {Type: "italic", Offset: 8, Length: 2}})
	if text != "😀 <x>" {
		t.Errorf("text: got %q, want %q", text, "😀 <x>")
	}
	want := []MessageEntity{{Type: "bold", Offset: 0, Length: 3}, {Type: "italic", Offset: 5, Length: 1}}
	if !reflect.DeepEqual(entities, want) {
		t.Errorf("entities: got %+v, want %+v", entities, want)
	}
}

func TestDetectEntities(t *testing.T) {
	tests := []struct {
		in   string
		want []MessageEntity
	}{
		{"/start", []MessageEntity{{Type: "bot_command", Offset: 0, Length: 6}}},
		{"/start@bulletin_test_bot now", []MessageEntity{{Type: "bot_command", Offset: 0, Length: 24}}},
		{"😀 /help, @someone #tag https://example.com/a.", []MessageEntity{
			{Type: "bot_command", Offset: 3, Length: 5}, {Type: "mention", Offset: 10, Length: 8},
			{Type: "hashtag", Offset: 19, Length: 4}, {Type: "url", Offset: 24, Length: 21}}},
		{"a/b and /", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := detectEntities(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseHTML checks the parser never panics, that its entities lie
// inside its text, and that strict parsing accepts only what lenient parsing
// accepts, with the same result.
func FuzzParseHTML(f *testing.F) {
	for _, seed := range []string{
		"<b>bold</b> <i>it<u>al</u>ic</i>", `<a href="https://example.com/?a&amp;b">x</a>`,
		`<pre><code class="language-go">x</code></pre>`, "a < b", "&nbsp; & &#128512; &#xD83D;",
		"<blockquote expandable>q</blockquote>", `<tg-emoji emoji-id="1">👍</tg-emoji>`, "<b>x</", "<a href='",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lenText, lenEntities, lenErr := parseHTML(in, true)
		strictText, strictEntities, strictErr := parseHTML(in, false)
		if strictErr == nil {
			if lenErr != nil {
				t.Fatalf("strict accepted %q, lenient refused: %v", in, lenErr)
			}
			if strictText != lenText || !reflect.DeepEqual(strictEntities, lenEntities) {
				t.Fatalf("strict and lenient differ on %q", in)
			}
		}
		if lenErr != nil {
			return
		}
		size := utf16Count(lenText)
		for _, e := range lenEntities {
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > size {
				t.Fatalf("entity %+v outside text of %d units for %q", e, size, in)
			}
		}
	})
}
