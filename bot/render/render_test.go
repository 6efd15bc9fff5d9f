package render

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bulletinbot/bulletinbot/poller"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// words returns n words of filler text, deterministic.
func words(n int) string {
	vocab := []string{"embassy", "consular", "visa", "statement", "the", "of", "on", "meeting", "Ambassador", "London"}
	out := make([]string, n)
	for i := range out {
		out[i] = vocab[(i*7+3)%len(vocab)]
	}
	return strings.Join(out, " ")
}

type alertCase struct {
	name  string
	pub   poller.Publication
	label string
	lang  string
	opts  Options
}

func alertCases() []alertCase {
	day := time.Date(2017, 10, 16, 0, 0, 0, 0, time.UTC)
	embassy := poller.Publication{
		ID:       "https://www.rusemb.org.uk/fnapr/6571",
		Source:   "https://www.rusemb.org.uk/newarh/",
		URL:      "https://www.rusemb.org.uk/fnapr/6571",
		Title:    "Embassy comment on the latest statement by the Foreign Secretary",
		Date:     day,
		Category: "comments",
		Summary:  "The Embassy has taken note of the statement.\n\nWe regret that, once again, no evidence has been presented.",
	}
	hostile := embassy
	hostile.Title = `<script>alert("x")</script> Tom & Jerry &amp; "quotes" 'single' <b>bold</b>`
	hostile.Summary = `Use &lt;b&gt; & &nbsp; &#0; &#xD800; <a href="javascript:alert(1)">click</a> </b></i>`
	hostile.URL = `https://www.rusemb.org.uk/fnapr/6571?a=1&b="x"<y>`
	long := embassy
	long.Summary = words(1700) // about 10,000 characters
	astral := embassy
	astral.Title = "🇬🇧 Visa news 𝕏 👨‍👩‍👧 — срочно"
	astral.Summary = strings.Repeat("𝕏🇷🇺 ", 2500) // 5 UTF-16 units each, 12,500 in all
	hugeTitle := embassy
	hugeTitle.Title = strings.Repeat("Заявление", 1200) // 10,800 letters, no space
	hugeTitle.Summary = words(1700)
	bare := poller.Publication{ID: "x", Source: "https://example.org/feed.xml", Title: "Only a title"}
	jsLink := embassy
	jsLink.URL = "javascript:alert(document.cookie)"
	controls := embassy
	controls.Title = "Bidi\u202eevil\u202c zero\u200bwidth\x00nul\x07bell\r\nnewline\ttab"
	controls.Summary = "line one\r\nline two\n\n\n\n\nparagraph\u2028sep" + string([]byte{0xff, 0xfe}) + " end"
	return []alertCase{
		{"embassy_en", embassy, "Comments", "en", Options{}},
		{"embassy_ru", embassy, "Комментарии", "ru", Options{}},
		{"hostile", hostile, `Press <releases> & "more"`, "en", Options{}},
		{"long_teaser", long, "Statements", "en", Options{}},
		{"long_teaser_max", long, "Statements", "en", Options{TeaserLength: 100000}},
		{"astral", astral, "Консульство", "ru", Options{TeaserLength: 100000}},
		{"huge_title", hugeTitle, "Statements", "ru", Options{TitleLength: 100000, TeaserLength: 100000}},
		{"bare", bare, "", "fr", Options{}},
		{"javascript_link", jsLink, "Comments", "en", Options{}},
		{"controls", controls, "Comments\n", "en", Options{}},
		{"no_teaser", embassy, "Comments", "en", Options{TeaserLength: -1}},
		{"small_max", long, "Statements", "en", Options{MaxLength: 120}},
		{"tiny_max", embassy, "Statements", "en", Options{MaxLength: 10}},
	}
}

func TestAlertGolden(t *testing.T) {
	for _, c := range alertCases() {
		t.Run(c.name, func(t *testing.T) {
			got := Alert(c.pub, c.label, c.lang, c.opts)
			checkTelegramHTML(t, got, c.opts.withDefaults().MaxLength)
			path := filepath.Join("testdata", "alert", c.name+".html")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("Alert differs from %s (run with -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

func TestAlertContents(t *testing.T) {
	cases := alertCases()
	byName := map[string]alertCase{}
	for _, c := range cases {
		byName[c.name] = c
	}
	tests := []struct {
		name    string
		has     []string
		hasNot  []string
		maxText int
	}{
		{name: "embassy_en", has: []string{"<i>Comments</i> · 16 October 2017\n", `<b><a href="https://www.rusemb.org.uk/fnapr/6571">Embassy comment`, "Source: rusemb.org.uk", "\n\nWe regret"}},
		{name: "embassy_ru", has: []string{"16 октября 2017", "Источник: rusemb.org.uk"}},
		{name: "hostile", has: []string{"&lt;script&gt;", "Tom &amp; Jerry &amp;amp;", "&quot;quotes&quot;", `href="https://www.rusemb.org.uk/fnapr/6571?a=1&amp;b=&quot;x&quot;&lt;y&gt;"`, "Press &lt;releases&gt; &amp; &quot;more&quot;"}, hasNot: []string{"<script", "javascript:alert(1)\""}},
		{name: "long_teaser", maxText: 800},
		{name: "javascript_link", has: []string{"<b>Embassy comment"}, hasNot: []string{"<a ", "javascript"}},
		{name: "controls", hasNot: []string{"\u202e", "\u200b", "\x00", "\x07", "\r", "\t"}, has: []string{"line one\nline two\n\nparagraph\nsep"}},
		{name: "no_teaser", hasNot: []string{"We regret"}},
		{name: "bare", has: []string{"<b>Only a title</b>", "Source: example.org"}, hasNot: []string{"<i>", "<a "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := byName[tt.name]
			got := Alert(c.pub, c.label, c.lang, c.opts)
			for _, s := range tt.has {
				if !strings.Contains(got, s) {
					t.Errorf("got %q, want it to contain %q", got, s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("got %q, want it not to contain %q", got, s)
				}
			}
			if tt.maxText > 0 && Length(got) > tt.maxText {
				t.Errorf("got length %d, want at most %d", Length(got), tt.maxText)
			}
		})
	}
}

func TestAlertFillsTheLimitWhenAsked(t *testing.T) {
	for _, name := range []string{"long_teaser_max", "astral", "huge_title"} {
		t.Run(name, func(t *testing.T) {
			var c alertCase
			for _, x := range alertCases() {
				if x.name == name {
					c = x
				}
			}
			got := Alert(c.pub, c.label, c.lang, c.opts)
			if n := Length(got); n > MaxLength || n < MaxLength-80 {
				t.Errorf("got length %d, want close to and at most %d", n, MaxLength)
			}
			if !strings.Contains(PlainText(got), "…") {
				t.Errorf("got %q, want a cut marked with …", PlainText(got)[:200])
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`<a href="x">&amp;</a>`, "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;"},
		{"it's", "it's"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if got := PlainText(Escape(tt.in)); got != strings.ToValidUTF8(tt.in, "\ufffd") {
			t.Errorf("PlainText(Escape(%q)): got %q, want the input back", tt.in, got)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		html string
		want error
	}{
		{"<b>bold</b> &amp; <i>it</i>", nil},
		{`<a href="https://x.org/?a=1&amp;b=2">link</a>`, nil},
		{"<pre><code class=\"language-go\">x</code></pre>", nil},
		{"<blockquote expandable>q</blockquote>", nil},
		{"<span class=\"tg-spoiler\">s</span> <tg-spoiler>t</tg-spoiler>", nil},
		{"&#128512; &#x1F600;", nil},
		{"x</>", ErrInvalidHTML},
		{"<b>x</i>", ErrInvalidHTML},
		{"<b>never closed", ErrInvalidHTML},
		{"<script>x</script>", ErrInvalidHTML},
		{"a & b", ErrInvalidHTML},
		{"&nbsp;", ErrInvalidHTML},
		{"&amp", ErrInvalidHTML},
		{"&#xD800;", ErrInvalidHTML},
		{`<a href="x&y">l</a>`, ErrInvalidHTML},
		{"<b", ErrInvalidHTML},
		{"bad \xff", ErrInvalidHTML},
		{"  <b> </b>\n", ErrEmpty},
		{strings.Repeat("x", MaxLength), nil},
		{strings.Repeat("x", MaxLength+1), ErrTooLong},
		{strings.Repeat("𝕏", MaxLength/2), nil},
		{strings.Repeat("𝕏", MaxLength/2) + "x", ErrTooLong},
		{strings.Repeat("&amp;", MaxLength), nil},
	}
	for _, tt := range tests {
		name := tt.html
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			err := Validate(tt.html)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPlainTextAndLength(t *testing.T) {
	tests := []struct {
		html, text string
		length     int
	}{
		{"<b>a</b> &lt;&amp;&gt;&quot;", `a <&>"`, 6},
		{"<a href=\"https://x.org\">𝕏</a>", "𝕏", 2},
		{"broken <b unclosed & x", "broken <b unclosed & x", 22},
		{"<script>x</script>", "<script>x</script>", 18},
		{"&#x1F600;", "😀", 2},
	}
	for _, tt := range tests {
		if got := PlainText(tt.html); got != tt.text {
			t.Errorf("PlainText(%q): got %q, want %q", tt.html, got, tt.text)
		}
		if got := Length(tt.html); got != tt.length {
			t.Errorf("Length(%q): got %d, want %d", tt.html, got, tt.length)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, html string
		max        int
		want       string
	}{
		{"fits", "<b>short</b>", 10, "<b>short</b>"},
		{"word boundary", "<b>hello wonderful world</b>", 17, "<b>hello wonderful…</b>"},
		{"closes nested tags", "<i>one <b>two three four</b></i> five", 14, "<i>one <b>two three…</b></i>"},
		{"never splits an entity", "aa &amp;&amp;&amp;&amp;&amp;&amp;", 8, "aa &amp;&amp;&amp;&amp;…"},
		{"counts entities as one", "&lt;&lt;&lt;&lt;&lt;&lt;", 4, "&lt;&lt;&lt;…"},
		{"never splits a surrogate pair", "𝕏𝕏𝕏𝕏", 4, "𝕏…"},
		{"hard cut when no space is near", "<a href=\"https://x.org\">abcdefghij</a>", 5, "<a href=\"https://x.org\">abcd…</a>"},
		{"invalid input is cut as plain text", "a & <b>bbbbbbbbbbbb", 8, "a &amp; bbb…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.html, tt.max)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if Length(got) > tt.max {
				t.Errorf("got length %d, want at most %d", Length(got), tt.max)
			}
		})
	}
}

func TestTrimWords(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"one two three", 9, "one two…"},
		{"one, two three", 8, "one…"},
		{"abcdefghij", 5, "abcd…"},
		{"𝕏𝕏𝕏", 4, "𝕏…"},
		{"anything", 0, ""},
	}
	for _, tt := range tests {
		if got := trimWords(tt.in, tt.max); got != tt.want {
			t.Errorf("trimWords(%q, %d): got %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// checkTelegramHTML is the tests' own check of Telegram HTML, written apart
// from the package's parser so that a bug there cannot hide here: every "<"
// starts a supported tag, tags nest, every "&" starts one of the entities
// Telegram knows, the text is valid UTF-8, not empty, and at most max UTF-16
// code units.
func checkTelegramHTML(t *testing.T, html string, max int) {
	t.Helper()
	if !utf8.ValidString(html) {
		t.Fatalf("got invalid UTF-8 in %q", html)
	}
	var stack []string
	var text strings.Builder
	rest := html
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "</"):
			end := strings.IndexByte(rest, '>')
			if end < 0 || len(stack) == 0 || rest[2:end] != stack[len(stack)-1] {
				t.Fatalf("got a stray end tag at %q in %q", rest[:min(len(rest), 20)], html)
			}
			stack = stack[:len(stack)-1]
			rest = rest[end+1:]
		case rest[0] == '<':
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				t.Fatalf("got an unclosed tag in %q", html)
			}
			tag := rest[1:end]
			name, attrs, _ := strings.Cut(tag, " ")
			switch name {
			case "b", "i":
				if attrs != "" {
					t.Fatalf("got attributes in <%s>", tag)
				}
			case "a":
				if !strings.HasPrefix(attrs, `href="`) || !strings.HasSuffix(attrs, `"`) || strings.Count(attrs, `"`) != 2 || strings.ContainsAny(attrs, "<>") {
					t.Fatalf("got a malformed link tag <%s>", tag)
				}
				checkEntities(t, attrs[6:len(attrs)-1], html)
			default:
				t.Fatalf("got an unexpected tag <%s> in %q", tag, html)
			}
			stack = append(stack, name)
			rest = rest[end+1:]
		case rest[0] == '>':
			t.Fatalf("got an unescaped > in %q", html)
		default:
			end := strings.IndexByte(rest, '<')
			if end < 0 {
				end = len(rest)
			}
			checkEntities(t, rest[:end], html)
			r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&amp;", "&")
			text.WriteString(r.Replace(rest[:end]))
			rest = rest[end:]
		}
	}
	if len(stack) > 0 {
		t.Fatalf("got unclosed tags %v in %q", stack, html)
	}
	plain := strings.TrimSpace(text.String())
	if plain == "" {
		t.Fatalf("got an empty text from %q", html)
	}
	if n := len(utf16.Encode([]rune(text.String()))); n > max {
		t.Fatalf("got %d UTF-16 code units, want at most %d", n, max)
	}
}

func checkEntities(t *testing.T, s, html string) {
	t.Helper()
	for i := strings.IndexByte(s, '&'); i >= 0; i = strings.IndexByte(s, '&') {
		s = s[i:]
		ok := false
		for _, e := range []string{"&lt;", "&gt;", "&amp;", "&quot;"} {
			if strings.HasPrefix(s, e) {
				ok = true
				s = s[len(e):]
				break
			}
		}
		if !ok {
			t.Fatalf("got an unescaped & at %q in %q", s[:min(len(s), 12)], html)
		}
	}
	if strings.ContainsAny(s, "<>") {
		t.Fatalf("got an unescaped < or > in %q", html)
	}
}

func FuzzAlert(f *testing.F) {
	for _, c := range alertCases() {
		f.Add(c.pub.Title, c.pub.Summary, c.pub.URL, c.label, c.lang, c.opts.MaxLength, c.opts.TeaserLength)
	}
	f.Add("&#x1F600;", "\xed\xa0\x80 lone surrogate", "http://x.org/\"", "<>", "ru", 1, 1)
	f.Fuzz(func(t *testing.T, title, summary, link, label, lang string, maxLen, teaser int) {
		p := poller.Publication{Title: title, Summary: summary, URL: link, Source: link, Date: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}
		opts := Options{MaxLength: maxLen, TeaserLength: teaser}
		got := Alert(p, label, lang, opts)
		checkTelegramHTML(t, got, opts.withDefaults().MaxLength)
		if err := Validate(got); err != nil && !errors.Is(err, ErrTooLong) {
			t.Fatalf("Validate(%q): got %v, want nil", got, err)
		}
	})
}

func FuzzTruncate(f *testing.F) {
	f.Add("<b>hello wonderful world</b>", 7)
	f.Add("<i>one <b>two three four</b></i> five", 14)
	f.Add("&lt;&lt;&lt; 𝕏𝕏 <a href=\"https://x.org/?a&amp;b\">link text</a>", 9)
	f.Add("<pre><code class=\"language-go\">x := 1</code></pre>", 3)
	f.Fuzz(func(t *testing.T, html string, max int) {
		if max <= 0 || max > 10000 {
			return
		}
		_, err := parse(html, true)
		valid := err == nil
		got := Truncate(html, max)
		if n := Length(got); n > max {
			t.Fatalf("Truncate(%q, %d) = %q: got length %d, want at most %d", html, max, got, n, max)
		}
		if valid {
			if _, err := parse(got, true); err != nil {
				t.Fatalf("Truncate(%q, %d) = %q: got invalid HTML: %v", html, max, got, err)
			}
		}
	})
}
