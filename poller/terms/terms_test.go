package terms

import (
	"slices"
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Паспорта и визы", []string{"паспорт", "виз"}},
		{"паспорт", []string{"паспорт"}},
		{"ПАСПОРТ, Паспортов!", []string{"паспорт"}},
		{"Visas and passports", []string{"visa", "passport"}},
		{"Ёлка ёлки елка", []string{"елк"}},
		{"The consular section is closed", []string{"consular", "section", "close"}},
		{"a и в x", nil},
		{"2017 year", []string{"2017", "year"}},
		{"(visa)|.*[a-z]+", []string{"visa"}},
		{strings.Repeat("я", 60) + " visa", []string{"visa"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := Of(tt.text, 0); !slices.Equal(got, tt.want) {
				t.Errorf("Of(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestOfBounded(t *testing.T) {
	var b strings.Builder
	for i := range 500 {
		b.WriteString("word")
		b.WriteString(strings.Repeat("x", i%40))
		b.WriteString(" ")
	}
	if got := Of(b.String(), 0); len(got) > MaxPerText {
		t.Errorf("got %d terms, want at most %d", len(got), MaxPerText)
	}
	q, cut := Query("one two three four", 2)
	if len(q) != 2 || !cut {
		t.Errorf("Query cut = %q %v, want 2 terms and cut", q, cut)
	}
}

func TestIsTerm(t *testing.T) {
	for s, want := range map[string]bool{"паспорт": true, "visa": true, "": false, "Visa": false, "a b": false, "a:b": false, strings.Repeat("z", 49): false} {
		if got := IsTerm(s); got != want {
			t.Errorf("IsTerm(%q) = %v, want %v", s, got, want)
		}
	}
	for _, w := range []string{"Паспорта", "visas", "Ёж"} {
		if term, ok := Term(w); !ok || !IsTerm(term) {
			t.Errorf("Term(%q) = %q %v: not IsTerm", w, term, ok)
		}
	}
}

func FuzzOf(f *testing.F) {
	f.Add("Паспорта и визы")
	f.Add("\u0438\u0306 visa")
	f.Fuzz(func(t *testing.T, s string) {
		for _, term := range Of(s, 0) {
			if !IsTerm(term) {
				t.Fatalf("Of(%q) gave %q, not a term", s, term)
			}
		}
	})
}
