package staff

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/render"
)

func e(typ string, offset, length int) bot.Entity {
	return bot.Entity{Type: typ, Offset: offset, Length: length}
}

func TestEntitiesHTML(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		entities []bot.Entity
		want     string
	}{
		{"plain text escaped", `a < b & "c" > d`, nil, `a &lt; b &amp; &quot;c&quot; &gt; d`},
		{"entity-like text stays text", "&lt; &amp;", nil, "&amp;lt; &amp;amp;"},
		{"bold", "Hello world", []bot.Entity{e("bold", 0, 5)}, "<b>Hello</b> world"},
		{"every simple kind", "a b c d e f",
			[]bot.Entity{e("bold", 0, 1), e("italic", 2, 1), e("underline", 4, 1), e("strikethrough", 6, 1), e("spoiler", 8, 1), e("code", 10, 1)},
			"<b>a</b> <i>b</i> <u>c</u> <s>d</s> <tg-spoiler>e</tg-spoiler> <code>f</code>"},
		{"nested", "Hello world", []bot.Entity{e("bold", 0, 11), e("italic", 6, 5)}, "<b>Hello <i>world</i></b>"},
		{"same span, outer kind first", "quote", []bot.Entity{e("bold", 0, 5), e("blockquote", 0, 5)}, "<blockquote><b>quote</b></blockquote>"},
		{"overlap closes and reopens", "Hello world", []bot.Entity{e("bold", 0, 7), e("italic", 6, 5)}, "<b>Hello <i>w</i></b><i>orld</i>"},
		{"emoji counts two UTF-16 units", "😀 bold", []bot.Entity{e("bold", 3, 4)}, "😀 <b>bold</b>"},
		{"Cyrillic", "Привет, мир", []bot.Entity{e("italic", 8, 3)}, "Привет, <i>мир</i>"},
		{"offset inside a surrogate pair moves to the next character", "😀x", []bot.Entity{e("bold", 1, 2)}, "😀<b>x</b>"},
		{"text link escaped", "see this", []bot.Entity{{Type: "text_link", Offset: 4, Length: 4, URL: `https://x.org/?a=1&b="2"`}},
			`see <a href="https://x.org/?a=1&amp;b=&quot;2&quot;">this</a>`},
		{"javascript link dropped", "click", []bot.Entity{{Type: "text_link", Offset: 0, Length: 5, URL: "javascript:alert(1)"}}, "click"},
		{"mention of a user", "Ada", []bot.Entity{{Type: "text_mention", Offset: 0, Length: 3, UserID: 42}}, `<a href="tg://user?id=42">Ada</a>`},
		{"pre with language", "x := 1", []bot.Entity{{Type: "pre", Offset: 0, Length: 6, Language: "go"}}, `<pre><code class="language-go">x := 1</code></pre>`},
		{"pre with a language unsafe in an attribute", "x", []bot.Entity{{Type: "pre", Offset: 0, Length: 1, Language: `go"><b`}}, "<pre>x</pre>"},
		{"nothing inside code", "a b c", []bot.Entity{e("code", 0, 5), e("bold", 2, 1)}, "<code>a b c</code>"},
		{"bold may hold code", "a b c", []bot.Entity{e("bold", 0, 5), e("code", 2, 1)}, "<b>a <code>b</code> c</b>"},
		{"no quote inside a quote", "abc", []bot.Entity{e("blockquote", 0, 3), e("expandable_blockquote", 1, 1)}, "<blockquote>abc</blockquote>"},
		{"expandable quote", "abc", []bot.Entity{e("expandable_blockquote", 0, 3)}, "<blockquote expandable>abc</blockquote>"},
		{"no link inside a link", "ab", []bot.Entity{{Type: "text_link", Offset: 0, Length: 2, URL: "https://a.org"}, {Type: "text_link", Offset: 1, Length: 1, URL: "https://b.org"}},
			`<a href="https://a.org">ab</a>`},
		{"auto-detected kinds need no tags", "/start @x #y https://z.org", []bot.Entity{e("bot_command", 0, 6), e("mention", 7, 2), e("hashtag", 10, 2), e("url", 13, 13)},
			"/start @x #y https://z.org"},
		{"out of range ignored or cut", "abc", []bot.Entity{e("bold", 5, 2), e("italic", 2, 100), e("underline", -5, 6), e("code", 1, 0), e("bold", -3, 2)},
			"<u>a</u>b<i>c</i>"},
		{"newlines kept", "a\nb", []bot.Entity{e("bold", 0, 3)}, "<b>a\nb</b>"},
		{"invalid UTF-8 replaced", "a\xffb", []bot.Entity{e("bold", 0, 3)}, "<b>a\uFFFDb</b>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EntitiesHTML(tt.text, tt.entities)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if err := render.Validate(got); err != nil {
				t.Errorf("not valid Telegram HTML: %v", err)
			}
		})
	}
}

func TestFragment(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		entities []bot.Entity
		wantText string
		want     []bot.Entity
	}{
		{"after the command", "/broadcast  Hello world ", []bot.Entity{e("bot_command", 0, 10), e("bold", 12, 5)},
			"Hello world", []bot.Entity{e("bold", 0, 5)}},
		{"emoji before", "/broadcast@bb_bot 😀 hi", []bot.Entity{e("bot_command", 0, 17), e("italic", 21, 2)},
			"😀 hi", []bot.Entity{e("italic", 3, 2)}},
		{"entity crossing the start is cut", "/broadcast hello", []bot.Entity{e("bold", 5, 8)},
			"hello", []bot.Entity{e("bold", 0, 2)}},
		{"multi-line", "/broadcast\nline 1\nline 2", []bot.Entity{e("bold", 11, 6)},
			"line 1\nline 2", []bot.Entity{e("bold", 0, 6)}},
		{"nothing after", "/broadcast", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, entities := fragment(tt.text, tt.entities, argsStart(tt.text))
			if text != tt.wantText {
				t.Errorf("text: got %q, want %q", text, tt.wantText)
			}
			if !slices.Equal(entities, tt.want) {
				t.Errorf("entities: got %+v, want %+v", entities, tt.want)
			}
		})
	}
}

var entityKinds = []string{"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link",
	"text_mention", "blockquote", "expandable_blockquote", "url", "custom_emoji", "nonsense"}

// FuzzEntitiesHTML checks that whatever Telegram sends (or a forged update
// holds), the result is valid Telegram HTML whose visible text is exactly
// the input's.
func FuzzEntitiesHTML(f *testing.F) {
	f.Add("Hello world", []byte{0, 0, 5, 1, 6, 5})
	f.Add("Привет 😀 <b>&amp;", []byte{0, 0, 20, 6, 3, 4, 7, 2, 2, 9, 0, 30})
	f.Add("a\nb\nc", []byte{9, 0, 5, 10, 2, 3, 5, 1, 1})
	f.Add("", []byte{0, 0, 1})
	f.Add("x\xffy", []byte{2, 1, 1, 3, 0, 3})
	f.Fuzz(func(t *testing.T, text string, spec []byte) {
		var entities []bot.Entity
		for i := 0; i+2 < len(spec); i += 3 {
			en := bot.Entity{
				Type:   entityKinds[int(spec[i])%len(entityKinds)],
				Offset: int(int8(spec[i+1])),
				Length: int(spec[i+2]) - 16,
			}
			switch en.Type {
			case "text_link":
				en.URL = []string{"https://x.org/?a=1&b=<2>", "javascript:x", "tg://resolve?domain=a\"b"}[int(spec[i])%3]
			case "text_mention":
				en.UserID = int64(spec[i+1])
			case "pre":
				en.Language = []string{"", "go", "c++", `x"y`}[int(spec[i+2])%4]
			}
			entities = append(entities, en)
		}
		html := EntitiesHTML(text, entities)
		if err := render.Validate(html); err != nil && !errors.Is(err, render.ErrEmpty) && !errors.Is(err, render.ErrTooLong) {
			t.Fatalf("invalid HTML %q for %q %+v: %v", html, text, entities, err)
		}
		if got, want := render.PlainText(html), strings.ToValidUTF8(text, "\uFFFD"); got != want {
			t.Fatalf("visible text: got %q, want %q (html %q)", got, want, html)
		}
	})
}
