package subscriptions

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

var testCategories = []string{"statements", "consular", "press-releases", "other"}

// allSorted is testCategories sorted, what a new subscriber gets.
var allSorted = []string{"consular", "other", "press-releases", "statements"}

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func newTestService(t *testing.T) (*Service, *fakeStore, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)}
	store := newFakeStore()
	return NewService(store, testCategories, "en", clock.now), store, clock
}

func mustSubscribe(t *testing.T, s *Service, chatID int64, lang string) Subscriber {
	t.Helper()
	sub, _, err := s.Subscribe(context.Background(), chatID, ChatPrivate, lang)
	if err != nil {
		t.Fatalf("Subscribe(%d): %v", chatID, err)
	}
	return sub
}

func TestNormalizeLanguage(t *testing.T) {
	supported := []string{"en", "ru"}
	tests := []struct {
		code, def, want string
	}{
		{"ru", "en", "ru"},
		{"ru-RU", "en", "ru"},
		{"RU", "en", "ru"},
		{" ru_ru ", "en", "ru"},
		{"en-GB", "ru", "en"},
		{"de", "en", "en"},
		{"de-RU", "en", "en"},
		{"", "ru", "ru"},
		{"-ru", "en", "en"},
		{"pt-br", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := NormalizeLanguage(tt.code, supported, tt.def); got != tt.want {
				t.Errorf("NormalizeLanguage(%q, %q): got %q, want %q", tt.code, tt.def, got, tt.want)
			}
		})
	}
}

func TestSubscriberWants(t *testing.T) {
	s := Subscriber{Categories: []string{"consular", "other", "statements"}}
	for cat, want := range map[string]bool{"consular": true, "statements": true, "other": true, "briefings": false, "": false} {
		if got := s.Wants(cat); got != want {
			t.Errorf("Wants(%q): got %v, want %v", cat, got, want)
		}
	}
}

func TestSubscribeNew(t *testing.T) {
	tests := []struct {
		name, lang, defLang, want string
	}{
		{"russian tag", "ru-RU", "en", "ru"},
		{"english", "en", "ru", "en"},
		{"unsupported falls back", "de", "ru", "ru"},
		{"empty falls back", "", "ru", "ru"},
		{"unsupported default becomes en", "de", "fr", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &testClock{t: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))}
			store := newFakeStore()
			s := NewService(store, testCategories, tt.defLang, clock.now)
			sub, created, err := s.Subscribe(context.Background(), -100123, ChatSupergroup, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			if !created {
				t.Errorf("created: got false, want true")
			}
			want := Subscriber{
				ChatID:     -100123,
				Type:       ChatSupergroup,
				Language:   tt.want,
				Categories: allSorted,
				JoinedAt:   time.Date(2024, 5, 6, 6, 8, 9, 123000000, time.UTC),
			}
			assertSubscriber(t, sub, want)
			stored, ok, _ := store.Subscriber(context.Background(), -100123)
			if !ok {
				t.Fatal("subscriber not saved")
			}
			assertSubscriber(t, stored, want)
		})
	}
}

func TestSubscribeExistingKeepsSettings(t *testing.T) {
	s, store, clock := newTestService(t)
	ctx := context.Background()
	first := mustSubscribe(t, s, 42, "ru")
	if _, err := s.SetCategories(ctx, 42, []string{"consular"}); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(time.Hour)
	saves := store.saves

	sub, created, err := s.Subscribe(ctx, 42, ChatPrivate, "en")
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Errorf("created: got true, want false")
	}
	want := Subscriber{ChatID: 42, Type: ChatPrivate, Language: "ru", Categories: []string{"consular"}, JoinedAt: first.JoinedAt}
	assertSubscriber(t, sub, want)
	if store.saves != saves {
		t.Errorf("saves: got %d, want %d (nothing changed)", store.saves, saves)
	}

	// The same chat seen as another type (a channel re-adding the bot) is refreshed.
	sub, _, err = s.Subscribe(ctx, 42, ChatChannel, "")
	if err != nil {
		t.Fatal(err)
	}
	want.Type = ChatChannel
	assertSubscriber(t, sub, want)
	stored, _, _ := s.Get(ctx, 42)
	assertSubscriber(t, stored, want)
}

func TestToggle(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	mustSubscribe(t, s, 7, "en")

	steps := []struct {
		cat  string
		want []string
	}{
		{"other", []string{"consular", "press-releases", "statements"}},
		{"consular", []string{"press-releases", "statements"}},
		{"other", []string{"other", "press-releases", "statements"}},
		{"consular", allSorted},
	}
	for _, st := range steps {
		sub, err := s.Toggle(ctx, 7, st.cat)
		if err != nil {
			t.Fatalf("Toggle(%q): %v", st.cat, err)
		}
		if !slices.Equal(sub.Categories, st.want) {
			t.Fatalf("Toggle(%q): got %v, want %v", st.cat, sub.Categories, st.want)
		}
		got, _, _ := s.Get(ctx, 7)
		if !slices.Equal(got.Categories, st.want) {
			t.Fatalf("after Toggle(%q) stored: got %v, want %v", st.cat, got.Categories, st.want)
		}
	}
}

func TestErrors(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	mustSubscribe(t, s, 1, "en")
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"toggle unknown category", func() error { _, err := s.Toggle(ctx, 1, "weather"); return err }, ErrUnknownCategory},
		{"toggle not subscribed", func() error { _, err := s.Toggle(ctx, 2, "other"); return err }, ErrNotSubscribed},
		{"set unknown category", func() error { _, err := s.SetCategories(ctx, 1, []string{"other", "weather"}); return err }, ErrUnknownCategory},
		{"set categories not subscribed", func() error { _, err := s.SetCategories(ctx, 2, nil); return err }, ErrNotSubscribed},
		{"set unsupported language", func() error { _, err := s.SetLanguage(ctx, 1, "de"); return err }, ErrUnknownLanguage},
		{"set language not subscribed", func() error { _, err := s.SetLanguage(ctx, 2, "ru"); return err }, ErrNotSubscribed},
		{"page of unknown category", func() error { _, _, err := s.Page(ctx, Filter{Category: "weather"}, "", 10); return err }, ErrUnknownCategory},
		{"page of several, one unknown", func() error {
			_, _, err := s.Page(ctx, Filter{Categories: []string{"consular", "weather"}}, "", 10)
			return err
		}, ErrUnknownCategory},
		{"count of unknown category", func() error {
			_, err := s.Count(ctx, Filter{Category: "other", Categories: []string{"weather"}})
			return err
		}, ErrUnknownCategory},
		{"page of unsupported language", func() error { _, _, err := s.Page(ctx, Filter{Language: "de"}, "", 10); return err }, ErrUnknownLanguage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	// A failed change leaves the subscriber as it was.
	sub, _, _ := s.Get(ctx, 1)
	if !slices.Equal(sub.Categories, allSorted) || sub.Language != "en" {
		t.Errorf("after failed changes: got %v %q, want %v %q", sub.Categories, sub.Language, allSorted, "en")
	}
}

func TestStoreErrorsAreWrapped(t *testing.T) {
	s, store, _ := newTestService(t)
	ctx := context.Background()
	mustSubscribe(t, s, 1, "en")
	boom := errors.New("boom")
	store.err = boom
	calls := map[string]func() error{
		"subscribe":   func() error { _, _, err := s.Subscribe(ctx, 1, ChatPrivate, "en"); return err },
		"unsubscribe": func() error { _, err := s.Unsubscribe(ctx, 1); return err },
		"get":         func() error { _, _, err := s.Get(ctx, 1); return err },
		"toggle":      func() error { _, err := s.Toggle(ctx, 1, "other"); return err },
		"migrate":     func() error { return s.Migrate(ctx, 1, 2) },
		"page":        func() error { _, _, err := s.Page(ctx, Filter{}, "", 10); return err },
		"counts":      func() error { _, err := s.Counts(ctx, time.Time{}); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, boom) {
				t.Errorf("got %v, want %v", err, boom)
			}
		})
	}
}

func TestSetCategoriesAndLanguage(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	mustSubscribe(t, s, 5, "en")

	sub, err := s.SetCategories(ctx, 5, []string{"statements", "consular", "statements"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"consular", "statements"}; !slices.Equal(sub.Categories, want) {
		t.Errorf("categories: got %v, want %v", sub.Categories, want)
	}
	sub, err = s.SetCategories(ctx, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Categories) != 0 {
		t.Errorf("categories: got %v, want none", sub.Categories)
	}
	sub, err = s.SetLanguage(ctx, 5, "ru-RU")
	if err != nil {
		t.Fatal(err)
	}
	got, ok, _ := s.Get(ctx, 5)
	if !ok || got.Language != "ru" || sub.Language != "ru" {
		t.Errorf("language: got %q (stored %q), want %q", sub.Language, got.Language, "ru")
	}
}

func TestUnknownCategoriesDroppedOnRead(t *testing.T) {
	clock := &testClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := newFakeStore()
	ctx := context.Background()
	// Saved under an older configuration that had "weather", and a language
	// the bot no longer speaks.
	old := NewService(store, append([]string{"weather"}, testCategories...), "en", clock.now)
	if _, _, err := old.Subscribe(ctx, 9, ChatPrivate, "en"); err != nil {
		t.Fatal(err)
	}
	store.subs[10] = Subscriber{ChatID: 10, Language: "xx", Categories: []string{"weather"}}

	s := NewService(store, testCategories, "ru", clock.now)
	sub, ok, err := s.Get(ctx, 9)
	if err != nil || !ok {
		t.Fatalf("Get: %v %v", ok, err)
	}
	if !slices.Equal(sub.Categories, allSorted) {
		t.Errorf("Get categories: got %v, want %v", sub.Categories, allSorted)
	}
	page, _, err := s.Page(ctx, Filter{}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || !slices.Equal(page[0].Categories, allSorted) || len(page[1].Categories) != 0 || page[1].Language != "ru" {
		t.Errorf("Page: got %+v, want the stale category and language gone", page)
	}
	counts, err := s.Counts(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := counts.ByCategory["weather"]; ok {
		t.Errorf("Counts.ByCategory: got %v, want no weather", counts.ByCategory)
	}
	// A change saves the cleaned list.
	if _, err := s.Toggle(ctx, 9, "other"); err != nil {
		t.Fatal(err)
	}
	if stored := store.subs[9].Categories; slices.Contains(stored, "weather") || slices.Contains(stored, "other") {
		t.Errorf("stored after Toggle: got %v, want neither weather nor other", stored)
	}
}

func TestUnsubscribe(t *testing.T) {
	s, store, clock := newTestService(t)
	ctx := context.Background()
	mustSubscribe(t, s, 3, "en")
	for i, want := range []bool{true, false} {
		got, err := s.Unsubscribe(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Unsubscribe #%d: got %v, want %v", i+1, got, want)
		}
	}
	if _, ok, _ := s.Get(ctx, 3); ok {
		t.Error("Get after Unsubscribe: got subscribed, want not")
	}
	if len(store.leaves) != 1 || !store.leaves[0].Equal(clock.t) {
		t.Errorf("leave events: got %v, want one at %v", store.leaves, clock.t)
	}
}

func TestMigrate(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	mustSubscribe(t, s, -5, "ru")
	if _, err := s.Toggle(ctx, -5, "other"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, -5, -1005); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ctx, -5); ok {
		t.Error("old id still subscribed")
	}
	sub, ok, _ := s.Get(ctx, -1005)
	if !ok || sub.Language != "ru" || sub.Wants("other") {
		t.Errorf("new id: got %+v (subscribed %v), want ru without other", sub, ok)
	}
	for _, ids := range [][2]int64{{-1005, -1005}, {-6, -1006}} {
		if err := s.Migrate(ctx, ids[0], ids[1]); err != nil {
			t.Errorf("Migrate(%d, %d): got %v, want nil", ids[0], ids[1], err)
		}
	}
	if _, ok, _ := s.Get(ctx, -1005); !ok {
		t.Error("Migrate to itself removed the subscriber")
	}
}

func TestPage(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	for id := int64(1); id <= 250; id++ {
		lang := "en"
		if id%3 == 0 {
			lang = "ru"
		}
		mustSubscribe(t, s, id, lang)
	}

	walk := func(f Filter, limit int) []int64 {
		t.Helper()
		var ids []int64
		cursor := ""
		for range 1000 {
			page, next, err := s.Page(ctx, f, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			if limit <= 0 && len(page) > DefaultPageSize {
				t.Fatalf("page size: got %d, want at most %d", len(page), DefaultPageSize)
			}
			for _, sub := range page {
				ids = append(ids, sub.ChatID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
		t.Fatal("walk does not end")
		return nil
	}
	if got := walk(Filter{}, 0); len(got) != 250 {
		t.Errorf("default pages: got %d subscribers, want 250", len(got))
	}
	ru := walk(Filter{Language: "RU-ru"}, 7)
	if len(ru) != 83 {
		t.Errorf("language filter: got %d subscribers, want 83", len(ru))
	}
	for _, id := range ru {
		if id%3 != 0 {
			t.Fatalf("language filter returned %d, which is en", id)
		}
	}
}

// TestPageOfSeveralCategories walks and counts the union of categories,
// each subscriber once, with the language on top.
func TestPageOfSeveralCategories(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	set := func(id int64, lang string, cats ...string) {
		t.Helper()
		mustSubscribe(t, s, id, lang)
		if _, err := s.SetCategories(ctx, id, cats); err != nil {
			t.Fatal(err)
		}
	}
	set(1, "en", "consular", "statements")
	set(2, "ru", "consular")
	set(3, "en", "statements", "other")
	set(4, "en", "other")
	set(5, "en")
	set(6, "ru", "statements")
	for _, tc := range []struct {
		name string
		f    Filter
		want []int64
	}{
		{"two categories", Filter{Categories: []string{"statements", "consular"}}, []int64{1, 2, 3, 6}},
		{"Category joins Categories", Filter{Category: "other", Categories: []string{"consular"}}, []int64{1, 2, 3, 4}},
		{"one in Categories", Filter{Categories: []string{"other"}}, []int64{3, 4}},
		{"with a language", Filter{Categories: []string{"statements", "consular"}, Language: "ru"}, []int64{2, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			cursor := ""
			for range 100 {
				page, next, err := s.Page(ctx, tc.f, cursor, 1)
				if err != nil {
					t.Fatal(err)
				}
				for _, sub := range page {
					got = append(got, sub.ChatID)
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("page: got %v, want %v", got, tc.want)
			}
			n, err := s.Count(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.want) {
				t.Errorf("count: got %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestCounts(t *testing.T) {
	s, _, clock := newTestService(t)
	ctx := context.Background()
	start := clock.t
	mustSubscribe(t, s, 1, "ru")
	mustSubscribe(t, s, 2, "en")
	clock.t = start.Add(time.Hour)
	mustSubscribe(t, s, 3, "en")
	if _, err := s.Unsubscribe(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetCategories(ctx, 1, []string{"consular"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counts(ctx, start.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{
		Total:      2,
		ByCategory: map[string]int{"consular": 2, "other": 1, "press-releases": 1, "statements": 1},
		ByLanguage: map[string]int{"en": 1, "ru": 1},
		Joined:     1,
		Left:       1,
	}
	if got.Total != want.Total || got.Joined != want.Joined || got.Left != want.Left ||
		!maps.Equal(got.ByCategory, want.ByCategory) || !maps.Equal(got.ByLanguage, want.ByLanguage) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	empty := NewService(newFakeStore(), testCategories, "en", clock.now)
	got, err = empty.Counts(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := got.ByCategory["consular"]; !ok || n != 0 {
		t.Errorf("empty ByCategory[consular]: got %d (present %v), want 0 present", n, ok)
	}
	if n, ok := got.ByLanguage["ru"]; !ok || n != 0 {
		t.Errorf("empty ByLanguage[ru]: got %d (present %v), want 0 present", n, ok)
	}
}

func assertSubscriber(t *testing.T, got, want Subscriber) {
	t.Helper()
	if got.ChatID != want.ChatID || got.Type != want.Type || got.Language != want.Language ||
		!slices.Equal(got.Categories, want.Categories) || !got.JoinedAt.Equal(want.JoinedAt) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
