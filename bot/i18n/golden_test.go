package i18n

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCounts cover every CLDR form of English and Russian: 1, 21 and 101
// (one), 2 and 22 (few), 5, 11 and 25 (many).
var goldenCounts = []int{1, 2, 5, 11, 21, 22, 25, 101}

// TestPluralsGolden renders every text that holds a plural with each of
// goldenCounts in both languages; testdata/plurals.golden is read by a
// person once and then guards against a form going astray. Regenerate with
// go test ./bot/i18n -run TestPluralsGolden -update.
func TestPluralsGolden(t *testing.T) {
	c, err := New("", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range Keys() {
		for _, lang := range Languages() {
			segs := c.texts[lang][k]
			var counts []string
			plurals(segs, func(s segment) { counts = append(counts, s.name) })
			if len(counts) == 0 {
				continue
			}
			fmt.Fprintf(&b, "== %s %s\n", k, lang)
			for _, n := range goldenCounts {
				kv := []any{}
				for _, name := range Placeholders(c.rawText(lang, k)) {
					kv = append(kv, name, "{"+name+"}")
				}
				for _, name := range counts {
					kv = append(kv, name, n)
				}
				fmt.Fprintf(&b, "%d: %q\n", n, c.T(lang, k, kv...))
			}
		}
	}
	got := b.String()
	path := filepath.Join("testdata", "plurals.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("plural forms differ from %s (run with -update if the change is meant):\n%s", path, firstDiff(got, string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return ""
}

// TestPluralsRead checks a few forms by hand, so that the golden file's
// first version is not trusted blindly.
func TestPluralsRead(t *testing.T) {
	c, err := New("", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		lang string
		key  Key
		n    int
		want string
	}{
		{"en", BroadcastControl, 1, "— 1 subscriber."},
		{"en", BroadcastControl, 101, "— 101 subscribers."},
		{"ru", BroadcastControl, 43, "— 43 подписчика."},
		{"ru", BroadcastControl, 25, "— 25 подписчиков."},
		{"ru", BroadcastControl, 21, "— 21 подписчик."},
		{"ru", RecallConfirm, 23, "Удалить все 23 доставленные копии"},
		{"ru", RecallConfirm, 11, "Удалить все 11 доставленных копий"},
		{"ru", LatestHeader, 3, "Последние 3 публикации"},
		{"ru", LatestHeader, 5, "Последние 5 публикаций"},
		{"ru", AlertFailing, 3, "Последние 3 опроса не удались"},
		{"en", AlertFailing, 1, "The last poll failed"},
		{"ru", EtaMinutes, 2, "осталось около 2 минут"},
	} {
		if got := c.T(tt.lang, tt.key, "count", tt.n, "failures", tt.n, "minutes", tt.n); !strings.Contains(got, tt.want) {
			t.Errorf("%s %s %d: got %q, want it to hold %q", tt.lang, tt.key, tt.n, got, tt.want)
		}
	}
	if got, want := c.Text("ru", CategoryOff, "category", "Брифинги"), "▫️ Брифинги: выключены"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
