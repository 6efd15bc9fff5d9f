package i18n

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestForms(t *testing.T) {
	for _, tt := range []struct {
		lang string
		want []string
	}{{"en", []string{"one", "other"}}, {"ru", []string{"one", "few", "many", "other"}}} {
		if got := Forms(tt.lang); !slices.Equal(got, tt.want) {
			t.Errorf("Forms(%s): got %v, want %v", tt.lang, got, tt.want)
		}
	}
}

func TestPluralFill(t *testing.T) {
	ru := "{n, plural, one {# подписчик} few {# подписчика} many {# подписчиков} other {# подписчика}} в «{x}»"
	segs, err := check("ru", ru)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		n    any
		want string
	}{
		{1, "1 подписчик в «a&amp;b»"}, {int64(3), "3 подписчика в «a&amp;b»"}, {5, "5 подписчиков в «a&amp;b»"},
		{11, "11 подписчиков в «a&amp;b»"}, {21, "21 подписчик в «a&amp;b»"}, {1234, "1\u00a0234 подписчика в «a&amp;b»"},
		{"1\u00a0234", "1\u00a0234 подписчика в «a&amp;b»"}, {"21", "21 подписчик в «a&amp;b»"}, // counts as text pick their form too
		{"many", "many подписчика в «a&amp;b»"}, // not a number: the form other
	} {
		if got := fillSegments("ru", segs, []any{"n", tt.n, "x", "a&b"}, true); got != tt.want {
			t.Errorf("n=%v: got %q, want %q", tt.n, got, tt.want)
		}
	}
	exact, err := check("ru", "{n, plural, =1 {один {x}} one {#} few {#} many {#} other {#}}")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{1: "один y", 21: "21", 0: "0"} {
		if got := fillSegments("ru", exact, []any{"n", n, "x", "y"}, true); got != want {
			t.Errorf("=1, n=%d: got %q, want %q", n, got, want)
		}
	}
	if got, want := fillSegments("ru", segs, []any{"x", "y"}, true), "{n} подписчика в «y»"; got != want {
		t.Errorf("no count: got %q, want %q", got, want)
	}
	if got, want := Placeholders(ru), []string{"n", "x"}; !slices.Equal(got, want) {
		t.Errorf("Placeholders: got %v, want %v", got, want)
	}
}

func TestPluralErrors(t *testing.T) {
	for _, tt := range []struct{ lang, text, want string }{
		{"ru", "{n, plural, one {#} other {#}}", "lacks the form few, many (ru needs one, few, many, other)"},
		{"en", "{n, plural, one {#}}", "has no form other"},
		{"en", "{n, plural, one {#} other {#}", "not closed"},
		{"en", "{n, plural, one {#} other {# x", "not closed"},
		{"en", "{n, plural, single {#} other {#}}", `"single" is not a plural form`},
		{"en", "{n, plural, one # other {#}}", "needs its text in braces"},
		{"en", "{n, plural, one {a} one {b} other {#}}", "form one twice"},
		{"en", "{n, plural, =1 {a} =1 {b} one {#} other {#}}", "form =1 twice"},
		{"en", "{n, plural, =x {a} one {#} other {#}}", `"=x" is not a plural form`},
	} {
		if _, err := check(tt.lang, tt.text); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("check(%q): got %v, want an error saying %q", tt.text, err, tt.want)
		}
	}
	// Braces that are not a placeholder or a plural are text.
	for _, text := range []string{"{", "a } b", "{Not a name}", "{x, select, a {b}}"} {
		segs, err := check("en", text)
		if err != nil {
			t.Errorf("check(%q): %v, want literal text", text, err)
			continue
		}
		if got := fillSegments("en", segs, nil, true); got != text {
			t.Errorf("fill(%q): got %q, want it unchanged", text, got)
		}
	}
}

func TestPluralOverride(t *testing.T) {
	// The override writes a plural where the built-in text has a count.
	c, err := New("", map[string]map[string]string{"ru": {
		"restore_done": "{count, plural, one {Вернул # чат} few {Вернул # чата} many {Вернул # чатов} other {Вернул # чата}} ({since})",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.T("ru", RestoreDone, "count", 22, "since", "x"), "Вернул 22 чата (x)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = New("", map[string]map[string]string{"ru": {"restore_done": "{count, plural, one {# чат} other {# чатов}}"}})
	if !errors.Is(err, ErrInvalidText) || !strings.Contains(err.Error(), "texts.ru.restore_done: the plural of {count} lacks the form few, many") {
		t.Errorf("got %v, want the missing forms named", err)
	}
	_, err = New("", map[string]map[string]string{"en": {"restore_done": "{chats, plural, one {# chat} other {# chats}}"}})
	if !errors.Is(err, ErrInvalidText) || !strings.Contains(err.Error(), "unknown placeholder {chats}") {
		t.Errorf("got %v, want the unknown count named", err)
	}
}
