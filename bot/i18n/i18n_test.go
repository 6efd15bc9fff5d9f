package i18n

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEveryKeyInEveryLanguage(t *testing.T) {
	texts := map[string]map[Key]string{"en": english(), "ru": russian()}
	for _, lang := range Languages() {
		if _, ok := texts[lang]; !ok {
			t.Fatalf("language %s has no texts", lang)
		}
	}
	for lang, m := range texts {
		if got, want := len(m), len(english()); got != want {
			t.Errorf("%s has %d texts, want %d", lang, got, want)
		}
		for k := range m {
			if _, ok := english()[k]; !ok {
				t.Errorf("%s has key %s that English lacks", lang, k)
			}
		}
	}
	for _, k := range Keys() {
		t.Run(string(k), func(t *testing.T) {
			en := texts["en"][k]
			for lang, m := range texts {
				text, ok := m[k]
				if !ok || strings.TrimSpace(text) == "" {
					t.Fatalf("%s: missing or empty", lang)
				}
				if got, want := sorted(Placeholders(text)), sorted(Placeholders(en)); !slices.Equal(got, want) {
					t.Errorf("%s placeholders: got %v, want %v (as in English)", lang, got, want)
				}
				if err := checkHTML(text); err != "" {
					t.Errorf("%s: %s in %q", lang, err, text)
				}
				if strings.HasPrefix(string(k), "cmd_") && utf8.RuneCountInString(text) > 256 {
					t.Errorf("%s: command description longer than Telegram's 256 characters", lang)
				}
			}
		})
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

// checkHTML reports tags outside the few the catalog uses, unbalanced tags
// and stray ampersands: what Telegram's HTML parser would refuse.
func checkHTML(text string) string {
	tag := regexp.MustCompile(`<(/?)([a-z]+)[^>]*>`)
	var stack []string
	for _, m := range tag.FindAllStringSubmatch(text, -1) {
		name := m[2]
		if !slices.Contains([]string{"b", "i", "a", "code"}, name) {
			return "tag <" + name + ">"
		}
		if m[1] == "" {
			stack = append(stack, name)
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1] != name {
			return "unbalanced </" + name + ">"
		}
		stack = stack[:len(stack)-1]
	}
	if len(stack) > 0 {
		return "unclosed <" + stack[0] + ">"
	}
	rest := tag.ReplaceAllString(text, "")
	if strings.ContainsAny(rest, "<>") {
		return "stray < or >"
	}
	if strings.Contains(regexp.MustCompile(`&(lt|gt|amp|quot);`).ReplaceAllString(rest, ""), "&") {
		return "stray &"
	}
	return ""
}

func TestFillEscapes(t *testing.T) {
	c, err := New("", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kv   []any
		want string
	}{
		{"string escaped", []any{"date", "1 <May>", "category", "A & B", "url", `https://x/?a=1&b="2"`, "title", "<script>"},
			"1 &lt;May&gt; · A &amp; B\n<a href=\"https://x/?a=1&amp;b=&#34;2&#34;\">&lt;script&gt;</a>"},
		{"html kept", []any{"date", HTML("<b>1</b>"), "category", "c", "url", "u", "title", 7},
			"<b>1</b> · c\n<a href=\"u\">7</a>"},
		{"missing value stays", []any{"date", "d"}, "d · {category}\n<a href=\"{url}\">{title}</a>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.T("en", LatestItem, tt.kv...); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := c.Text("en", CategoryOn, "category", "A & B"), "✅ A & B: on"; got != want {
		t.Errorf("Text: got %q, want %q", got, want)
	}
}

func TestLanguageFallback(t *testing.T) {
	c, err := New("ru", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ lang, want string }{{"ru", "ru"}, {"en", "en"}, {"de", "ru"}, {"", "ru"}} {
		if got := c.Language(tt.lang); got != tt.want {
			t.Errorf("Language(%q): got %v, want %v", tt.lang, got, tt.want)
		}
	}
	if got, want := c.T("de", LanguageName), "Русский"; got != want {
		t.Errorf("T(de): got %v, want %v", got, want)
	}
	all := c.All(CmdHelp)
	if len(all) != 2 || all["en"] == all["ru"] {
		t.Errorf("All: got %v, want distinct en and ru", all)
	}
}

func TestOverrides(t *testing.T) {
	tests := []struct {
		name      string
		def       string
		overrides map[string]map[string]string
		wantErr   []string
	}{
		{"ok", "en", map[string]map[string]string{"en": {"text_hint": "Commands only, please."}, "ru": {"welcome_group": "Привет, {chat}!"}}, nil},
		{"unknown language", "", map[string]map[string]string{"de": {"text_hint": "x"}}, []string{"texts.de: unknown language"}},
		{"unknown key", "", map[string]map[string]string{"en": {"nope": "x"}}, []string{"texts.en.nope: unknown text"}},
		{"unknown placeholder", "", map[string]map[string]string{"en": {"welcome_group": "Hi {name}"}}, []string{"unknown placeholder {name}", "{chat}"}},
		{"empty", "", map[string]map[string]string{"en": {"error": "  "}}, []string{"texts.en.error: empty"}},
		{"bad default", "fr", nil, []string{`default language "fr"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.def, tt.overrides)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if got, want := c.T("en", TextHint), "Commands only, please."; got != want {
					t.Errorf("override: got %q, want %q", got, want)
				}
				if got, want := c.T("ru", WelcomeGroup, "chat", "A&B"), "Привет, A&amp;B!"; got != want {
					t.Errorf("override: got %q, want %q", got, want)
				}
				if got, want := c.T("ru", TextHint), russian()[TextHint]; got != want {
					t.Errorf("untouched text: got %q, want %q", got, want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidText) {
				t.Fatalf("got %v, want ErrInvalidText", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDate(t *testing.T) {
	d := time.Date(2017, time.October, 17, 12, 32, 0, 0, time.UTC)
	for _, tt := range []struct{ lang, want string }{{"en", "17 October 2017"}, {"ru", "17 октября 2017"}} {
		if got := Date(tt.lang, d); got != tt.want {
			t.Errorf("Date(%s): got %v, want %v", tt.lang, got, tt.want)
		}
	}
}

func FuzzT(f *testing.F) {
	f.Add("{date} <b>{x}</b>", "a<b", "{date}")
	f.Add("{", "&", "}")
	f.Add("{{date}}", "x", "")
	f.Add("{n, plural, one {# <b>{x}</b>} other {#}}", "<", "")
	f.Fuzz(func(t *testing.T, text, v1, v2 string) {
		segs, err := parse(text)
		if err != nil {
			return
		}
		out := fillSegments("ru", segs, []any{"date", v1, "x", v2, "n", 21}, true)
		// Every value is escaped: the output holds no raw "<" that the
		// template did not.
		if strings.Count(out, "<") > strings.Count(text, "<") {
			t.Fatalf("fill(%q) = %q: a value's < was not escaped", text, out)
		}
	})
}

// TestCallbackAnswersArePlain checks the texts the bot also gives as
// callback answers, which Telegram shows as typed, in at most 200
// characters.
func TestCallbackAnswersArePlain(t *testing.T) {
	keys := []Key{ButtonStale, ButtonNeedsStart, SlowDown, NotAllowed, Error, CategoriesAllOn, CategoriesAllOff,
		LanguageChosen, GroupAdminsOnly, GroupAdminCheckFailed, ChannelAdminsOnly, NotYourChat, AnswerNotYourDraft,
		AnswerResumed, AnswerPauseOver,
		ButtonBurstAnnounce, AnswerBurstReleased, AnswerBurstDone, AnswerBurstGone,
		ButtonMute, ButtonUndo, AnswerMuted, AnswerUndone, AnswerNotMuted, ButtonConsularMap, ConsularNoMap,
		VersionCount, ButtonAddVersion, ButtonTest, ButtonNobody, AnswerTestSent, AnswerNobody,
		ButtonCorrect, ButtonCorrectLang, AnswerCorrecting, AnswerCorrectOld,
		ButtonSendAt, ButtonToday, ButtonTomorrow, ButtonTypeTime, ButtonUnschedule, AnswerScheduled, AnswerScheduleGone, AnswerScheduleCancel}
	for lang, texts := range map[string]map[Key]string{"en": english(), "ru": russian()} {
		for _, k := range keys {
			t.Run(lang+"/"+string(k), func(t *testing.T) {
				text := texts[k]
				if strings.ContainsAny(text, "<>&") {
					t.Errorf("got %q, want plain text without markup", text)
				}
				if got := utf8.RuneCountInString(text); got > 200 {
					t.Errorf("got %d characters, want at most 200", got)
				}
			})
		}
	}
}
