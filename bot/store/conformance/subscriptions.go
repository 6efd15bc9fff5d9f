package conformance

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Joined is when the tests' subscribers joined.
var Joined = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// NewSubscriber is a private chat's subscriber in lang to cats, joined at
// Joined.
func NewSubscriber(id int64, lang string, cats ...string) subscriptions.Subscriber {
	return subscriptions.Subscriber{ChatID: id, Type: subscriptions.ChatPrivate, Language: lang, Categories: cats, JoinedAt: Joined}
}

// RunSubscriptions runs the contract of subscriptions.Store and its
// TombstoneStore. noTrace, when not nil, checks below the interface that a
// removed chat left nothing behind but its join and leave events.
func RunSubscriptions[S subscriptions.Store](t *testing.T, open Open[S], noTrace func(t *testing.T, st subscriptions.Store, chatID int64)) {
	t.Helper()
	opened := func(t *testing.T) subscriptions.Store { return open(t, (&Clock{}).Now) }
	t.Run("Subscribers", func(t *testing.T) { testSubscriptionStore(t, opened, noTrace) })
	t.Run("Tombstones", func(t *testing.T) { testTombstones(t, opened) })
	t.Run("JoinedOnTheStoreClock", func(t *testing.T) {
		c := &Clock{}
		testJoinedOnTheStoreClock(t, open(t, c.Now), c)
	})
}

// testSubscriptionStore is the conformance suite every subscriptions.Store
// implementation passes.
func testSubscriptionStore(t *testing.T, open func(t *testing.T) subscriptions.Store, noTrace func(t *testing.T, st subscriptions.Store, chatID int64)) {
	ctx := context.Background()

	t.Run("alert settings", func(t *testing.T) {
		st := open(t)
		in := NewSubscriber(-1001, "ru", "consular")
		in.Type = subscriptions.ChatSupergroup
		in.Prefs = subscriptions.Prefs{Quiet: true, QuietFrom: 23 * 60, QuietTo: 7 * 60,
			Digest: true, DigestAt: 8 * 60, Zone: "Asia/Yekaterinburg", Thread: 77}
		if _, err := st.SaveSubscriber(ctx, in); err != nil {
			t.Fatal(err)
		}
		AssertSubscriber(t, st, in)
		page := Walk(t, st, subscriptions.Filter{Category: "consular"}, 10, nil)
		if len(page) != 1 || !SubscriberEqual(page[0], in) {
			t.Errorf("page: got %+v, want %+v", page, in)
		}
		if _, err := st.MigrateSubscriber(ctx, in.ChatID, -1002); err != nil {
			t.Fatal(err)
		}
		moved := in
		moved.ChatID = -1002
		AssertSubscriber(t, st, moved)
		// Back to the defaults: nothing of the settings is left.
		moved.Prefs = subscriptions.Prefs{}
		if _, err := st.SaveSubscriber(ctx, moved); err != nil {
			t.Fatal(err)
		}
		AssertSubscriber(t, st, moved)
		bad := moved
		bad.Prefs = subscriptions.Prefs{Zone: "Not/AZone"}
		if _, err := st.SaveSubscriber(ctx, bad); err == nil {
			t.Error("save with an unknown zone: got nil error, want one")
		}
		AssertSubscriber(t, st, moved)
	})

	t.Run("create update get", func(t *testing.T) {
		st := open(t)
		in := subscriptions.Subscriber{
			ChatID: -1001234567890, Type: subscriptions.ChatSupergroup, Language: "ru",
			Categories: []string{"statements", "consular", "statements"},
			JoinedAt:   time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.FixedZone("MSK", 3*3600)),
		}
		if _, ok, err := st.Subscriber(ctx, in.ChatID); err != nil || ok {
			t.Fatalf("Subscriber before save: got %v, %v, want not found", ok, err)
		}
		created, err := st.SaveSubscriber(ctx, in)
		if err != nil || !created {
			t.Fatalf("first save: got created %v, %v, want true", created, err)
		}
		want := in
		want.Categories = []string{"consular", "statements"}
		want.JoinedAt = time.Date(2024, 1, 2, 0, 4, 5, 678000000, time.UTC)
		AssertSubscriber(t, st, want)

		upd := subscriptions.Subscriber{ChatID: in.ChatID, Type: subscriptions.ChatChannel, Language: "en", Categories: nil, JoinedAt: Joined}
		created, err = st.SaveSubscriber(ctx, upd)
		if err != nil || created {
			t.Fatalf("second save: got created %v, %v, want false", created, err)
		}
		want.Type, want.Language, want.Categories = subscriptions.ChatChannel, "en", nil
		AssertSubscriber(t, st, want) // JoinedAt stays the first one

		for _, bad := range []subscriptions.Subscriber{
			NewSubscriber(5, "en", "a,b"),
			NewSubscriber(5, "en", ""),
			NewSubscriber(5, "en", "with space"),
			NewSubscriber(5, ""),
		} {
			if _, err := st.SaveSubscriber(ctx, bad); err == nil {
				t.Errorf("save %+v: got nil error, want one", bad)
			}
		}
		if _, ok, _ := st.Subscriber(ctx, 5); ok {
			t.Error("a rejected subscriber was saved")
		}
	})

	t.Run("indexes follow changes", func(t *testing.T) {
		st := open(t)
		SaveSubscriber(t, st, NewSubscriber(1, "en", "a", "b"))
		SaveSubscriber(t, st, NewSubscriber(2, "ru", "b", "c"))
		SaveSubscriber(t, st, NewSubscriber(3, "en", "c"))
		AssertIndexes(t, st)
		SaveSubscriber(t, st, NewSubscriber(1, "ru", "c"))
		SaveSubscriber(t, st, NewSubscriber(2, "ru"))
		SaveSubscriber(t, st, NewSubscriber(3, "en", "a", "b", "c"))
		AssertIndexes(t, st)
		got := ChatIDs(Walk(t, st, subscriptions.Filter{Category: "c"}, 10, nil))
		if want := []int64{1, 3}; !slices.Equal(got, want) {
			t.Errorf("category c: got %v, want %v", got, want)
		}
		if got := ChatIDs(Walk(t, st, subscriptions.Filter{Category: "b"}, 10, nil)); !slices.Equal(got, []int64{3}) {
			t.Errorf("category b: got %v, want [3]", got)
		}
	})

	t.Run("delete removes every piece", func(t *testing.T) {
		st := open(t)
		const gone = 777000111
		SaveSubscriber(t, st, NewSubscriber(gone, "ru", "consular", "statements"))
		SaveSubscriber(t, st, NewSubscriber(12, "en", "consular"))
		for i, want := range []bool{true, false} {
			ok, err := st.DeleteSubscriber(ctx, gone, Joined.Add(time.Hour))
			if err != nil || ok != want {
				t.Fatalf("delete #%d: got %v, %v, want %v", i+1, ok, err, want)
			}
		}
		if _, ok, _ := st.Subscriber(ctx, gone); ok {
			t.Error("Subscriber after delete: got found, want not")
		}
		for _, f := range []subscriptions.Filter{{}, {Category: "consular"}, {Category: "statements"}, {Language: "ru"}} {
			if got := ChatIDs(Walk(t, st, f, 10, nil)); slices.Contains(got, gone) {
				t.Errorf("page %+v after delete: got %v, want no %d", f, got, gone)
			}
		}
		AssertIndexes(t, st)
		if noTrace != nil {
			noTrace(t, st, gone)
		}
	})

	t.Run("migrate", func(t *testing.T) {
		st := open(t)
		old := subscriptions.Subscriber{ChatID: -5, Type: subscriptions.ChatGroup, Language: "ru", Categories: []string{"x", "y"}, JoinedAt: Joined}
		SaveSubscriber(t, st, old)
		SaveSubscriber(t, st, NewSubscriber(-6, "en", "z"))
		taken := subscriptions.Subscriber{ChatID: -1006, Type: subscriptions.ChatSupergroup, Language: "ru", Categories: []string{"x"}, JoinedAt: Joined.Add(time.Hour)}
		SaveSubscriber(t, st, taken)

		ok, err := st.MigrateSubscriber(ctx, -5, -1005)
		if err != nil || !ok {
			t.Fatalf("migrate: got %v, %v, want true", ok, err)
		}
		moved := old
		moved.ChatID = -1005
		AssertSubscriber(t, st, moved)
		if _, ok, _ := st.Subscriber(ctx, -5); ok {
			t.Error("old id still stored")
		}
		if ok, err := st.MigrateSubscriber(ctx, -5, -1005); err != nil || ok {
			t.Errorf("migrate again: got %v, %v, want false", ok, err)
		}

		// Onto a chat that is already subscribed: that one wins.
		if ok, err := st.MigrateSubscriber(ctx, -6, -1006); err != nil || !ok {
			t.Fatalf("migrate onto existing: got %v, %v, want true", ok, err)
		}
		AssertSubscriber(t, st, taken)
		if _, ok, _ := st.Subscriber(ctx, -6); ok {
			t.Error("old id still stored after migrating onto an existing chat")
		}
		if ok, err := st.MigrateSubscriber(ctx, -1006, -1006); err != nil || !ok {
			t.Errorf("migrate onto itself: got %v, %v, want true", ok, err)
		}
		AssertSubscriber(t, st, taken)
		AssertIndexes(t, st)
		if noTrace != nil {
			noTrace(t, st, -5)
		}
		if noTrace != nil {
			noTrace(t, st, -6)
		}
		c, err := st.SubscriberCounts(ctx, Joined)
		if err != nil {
			t.Fatal(err)
		}
		if c.Total != 2 || c.Joined != 3 || c.Left != 0 {
			t.Errorf("counts: got total %d joined %d left %d, want 2 3 0", c.Total, c.Joined, c.Left)
		}
	})

	t.Run("paging visits each once in order", func(t *testing.T) {
		st := open(t)
		rng := rand.New(rand.NewPCG(1, 2))
		want := make(map[int64]bool)
		var wantConsular []int64
		for len(want) < 2500 {
			var id int64
			switch rng.IntN(3) {
			case 0: // supergroups and channels
				id = -1000000000000 - rng.Int64N(1<<40)
			case 1: // groups
				id = -rng.Int64N(1 << 32)
			default: // users
				id = 1 + rng.Int64N(1<<40)
			}
			if want[id] {
				continue
			}
			want[id] = true
			cats := []string{"other"}
			if rng.IntN(4) == 0 {
				cats = append(cats, "consular")
				wantConsular = append(wantConsular, id)
			}
			SaveSubscriber(t, st, NewSubscriber(id, "en", cats...))
		}
		pages := 0
		got := ChatIDs(Walk(t, st, subscriptions.Filter{}, 100, func(page []subscriptions.Subscriber) {
			pages++
			if len(page) > 100 {
				t.Errorf("page %d: got %d subscribers, want at most 100", pages, len(page))
			}
		}))
		if pages != 25 {
			t.Errorf("pages: got %d, want 25", pages)
		}
		AssertSameOrdered(t, got, slices.Sorted(maps.Keys(want)))
		slices.Sort(wantConsular)
		AssertSameOrdered(t, ChatIDs(Walk(t, st, subscriptions.Filter{Category: "consular"}, 100, nil)), wantConsular)
	})

	t.Run("paging stable under concurrent changes", func(t *testing.T) {
		st := open(t)
		rng := rand.New(rand.NewPCG(3, 4))
		var ids []int64
		for i := range 300 {
			id := int64(i-150) * 1000
			ids = append(ids, id)
			SaveSubscriber(t, st, NewSubscriber(id, "en", "a"))
		}
		throughout := make(map[int64]bool)
		for _, id := range ids {
			throughout[id] = true
		}
		added := int64(1)
		var got []int64
		cursor := ""
		for range 1000 {
			page, next, err := st.SubscribersPage(ctx, subscriptions.Filter{Category: "a"}, cursor, 23)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ChatIDs(page)...)
			if next == "" {
				break
			}
			cursor = next
			// Between pages: remove some chats (visited or not), add some on
			// both sides of the cursor, and move one out of the index and back.
			for range 3 {
				id := ids[rng.IntN(len(ids))]
				delete(throughout, id)
				if _, err := st.DeleteSubscriber(ctx, id, Joined); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				id := ids[rng.IntN(len(ids))] + added
				added++
				SaveSubscriber(t, st, NewSubscriber(id, "en", "a"))
			}
			id := ids[rng.IntN(len(ids))]
			delete(throughout, id)
			SaveSubscriber(t, st, NewSubscriber(id, "en", "b"))
			SaveSubscriber(t, st, NewSubscriber(id, "en", "a"))
		}
		seen := make(map[int64]int)
		for i, id := range got {
			seen[id]++
			if i > 0 && id <= got[i-1] {
				t.Fatalf("order: %d after %d", id, got[i-1])
			}
		}
		for id := range throughout {
			if seen[id] != 1 {
				t.Errorf("chat %d, subscribed throughout: visited %d times, want 1", id, seen[id])
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		st := open(t)
		for i := range int64(60) {
			lang := []string{"en", "ru"}[i%2]
			var cats []string
			if i%3 == 0 {
				cats = append(cats, "consular")
			}
			if i%5 == 0 {
				cats = append(cats, "statements")
			}
			SaveSubscriber(t, st, NewSubscriber(i-30, lang, cats...))
		}
		tests := []struct {
			f    subscriptions.Filter
			want func(i int64) bool
		}{
			{subscriptions.Filter{}, func(int64) bool { return true }},
			{subscriptions.Filter{Language: "ru"}, func(i int64) bool { return i%2 == 1 }},
			{subscriptions.Filter{Category: "consular"}, func(i int64) bool { return i%3 == 0 }},
			{subscriptions.Filter{Category: "statements", Language: "en"}, func(i int64) bool { return i%5 == 0 && i%2 == 0 }},
			{subscriptions.Filter{Category: "consular", Language: "ru"}, func(i int64) bool { return i%3 == 0 && i%2 == 1 }},
			{subscriptions.Filter{Category: "nobody"}, func(int64) bool { return false }},
			{subscriptions.Filter{Language: "de"}, func(int64) bool { return false }},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s_%s", tt.f.Category, tt.f.Language), func(t *testing.T) {
				var want []int64
				for i := range int64(60) {
					if tt.want(i) {
						want = append(want, i-30)
					}
				}
				for _, limit := range []int{1, 4, 100} {
					AssertSameOrdered(t, ChatIDs(Walk(t, st, tt.f, limit, nil)), want)
				}
			})
		}
	})

	t.Run("union of categories", func(t *testing.T) {
		st := open(t)
		// Three overlapping categories and one that nobody in them has.
		has := func(i int64) []string {
			var cats []string
			if i%2 == 0 {
				cats = append(cats, "a")
			}
			if i%3 == 0 {
				cats = append(cats, "b")
			}
			if i%5 == 0 {
				cats = append(cats, "c")
			}
			if i%7 == 1 {
				cats = append(cats, "d")
			}
			return cats
		}
		lang := func(i int64) string { return []string{"en", "ru"}[(i/4)%2] }
		for i := range int64(200) {
			SaveSubscriber(t, st, NewSubscriber(i*1000-100_000, lang(i), has(i)...))
		}
		svc := subscriptions.NewService(st, []string{"a", "b", "c", "d", "e"}, "en", nil)
		tests := []struct {
			name string
			f    subscriptions.Filter
			want func(i int64) bool
		}{
			{"three", subscriptions.Filter{Categories: []string{"c", "a", "b"}},
				func(i int64) bool { return i%2 == 0 || i%3 == 0 || i%5 == 0 }},
			{"three in ru", subscriptions.Filter{Categories: []string{"a", "b", "c"}, Language: "ru"},
				func(i int64) bool { return (i%2 == 0 || i%3 == 0 || i%5 == 0) && lang(i) == "ru" }},
			{"Category and Categories", subscriptions.Filter{Category: "d", Categories: []string{"b", "d"}},
				func(i int64) bool { return i%3 == 0 || i%7 == 1 }},
			{"with an empty one", subscriptions.Filter{Categories: []string{"e", "c"}, Language: "en"},
				func(i int64) bool { return i%5 == 0 && lang(i) == "en" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var want []int64
				for i := range int64(200) {
					if tt.want(i) {
						want = append(want, i*1000-100_000)
					}
				}
				for _, limit := range []int{1, 3, 7, 50, 1000} {
					got := Walk(t, st, tt.f, limit, func(page []subscriptions.Subscriber) {
						for _, s := range page {
							if !tt.f.Matches(s) {
								t.Errorf("limit %d: got %+v, which the filter does not select", limit, s)
							}
						}
					})
					AssertSameOrdered(t, ChatIDs(got), want)
				}
				n, err := svc.Count(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				if n != len(want) {
					t.Errorf("count: got %d, want %d", n, len(want))
				}
			})
		}
	})

	t.Run("bad page arguments", func(t *testing.T) {
		st := open(t)
		if _, _, err := st.SubscribersPage(ctx, subscriptions.Filter{}, "x", 10); err == nil {
			t.Error("bad cursor: got nil error, want one")
		}
		if _, _, err := st.SubscribersPage(ctx, subscriptions.Filter{}, "", 0); err == nil {
			t.Error("limit 0: got nil error, want one")
		}
		page, next, err := st.SubscribersPage(ctx, subscriptions.Filter{}, "", 10)
		if err != nil || len(page) != 0 || next != "" {
			t.Errorf("empty store: got %v, %q, %v, want nothing", page, next, err)
		}
	})

	t.Run("counts", func(t *testing.T) {
		st := open(t)
		day := 24 * time.Hour
		join := func(id int64, at time.Time, lang string, cats ...string) {
			t.Helper()
			s := NewSubscriber(id, lang, cats...)
			s.JoinedAt = at
			SaveSubscriber(t, st, s)
		}
		join(1, Joined, "en", "a", "b")
		join(2, Joined.Add(day), "ru", "a")
		join(3, Joined.Add(2*day), "ru")
		if _, err := st.DeleteSubscriber(ctx, 2, Joined.Add(3*day)); err != nil {
			t.Fatal(err)
		}
		join(2, Joined.Add(4*day), "en", "b")
		if _, err := st.DeleteSubscriber(ctx, 3, Joined.Add(5*day)); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			since        time.Time
			joined, left int
		}{
			{Joined.Add(-day), 4, 2},
			{Joined.Add(time.Hour), 3, 2},
			{Joined.Add(3 * day), 1, 2},
			{Joined.Add(5*day + time.Millisecond), 0, 0},
		}
		for _, tt := range tests {
			c, err := st.SubscriberCounts(ctx, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if c.Joined != tt.joined || c.Left != tt.left {
				t.Errorf("since %v: got joined %d left %d, want %d %d", tt.since, c.Joined, c.Left, tt.joined, tt.left)
			}
		}
		c, _ := st.SubscriberCounts(ctx, Joined)
		if c.Total != 2 || !maps.Equal(c.ByCategory, map[string]int{"a": 1, "b": 2}) || !maps.Equal(c.ByLanguage, map[string]int{"en": 2}) {
			t.Errorf("got %+v, want total 2, a 1, b 2, en 2", c)
		}

		// Events older than the retention go on the next write.
		join(4, Joined.Add(41*day), "en")
		c, _ = st.SubscriberCounts(ctx, time.Time{})
		if c.Joined != 1 || c.Left != 0 {
			t.Errorf("after 41 days: got joined %d left %d, want 1 0", c.Joined, c.Left)
		}
	})

	t.Run("concurrent changes keep indexes consistent", func(t *testing.T) {
		st := open(t)
		cats := []string{"a", "b", "c", "d"}
		var wg sync.WaitGroup
		for g := range 50 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 99))
				for range 10 {
					id := int64(rng.IntN(40) - 20)
					var err error
					switch rng.IntN(10) {
					case 0:
						_, err = st.DeleteSubscriber(ctx, id, Joined)
					case 1:
						_, err = st.MigrateSubscriber(ctx, id, id-1000)
					default: // subscribe, or toggle one category
						s, ok, lerr := st.Subscriber(ctx, id)
						if lerr != nil {
							err = lerr
							break
						}
						if !ok {
							s = NewSubscriber(id, []string{"en", "ru"}[rng.IntN(2)], slices.Clone(cats)...)
						}
						c := cats[rng.IntN(len(cats))]
						if i, found := slices.BinarySearch(s.Categories, c); found {
							s.Categories = slices.Delete(s.Categories, i, i+1)
						} else {
							s.Categories = slices.Insert(s.Categories, i, c)
						}
						_, err = st.SaveSubscriber(ctx, s)
					}
					if err != nil {
						t.Errorf("goroutine %d: %v", g, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if n := len(Walk(t, st, subscriptions.Filter{}, 100, nil)); n == 0 {
			t.Fatal("no subscribers left to check")
		}
		AssertIndexes(t, st)
	})
}

// AssertIndexes checks every index and count against the subscriber
// records themselves.
func AssertIndexes(t *testing.T, st subscriptions.Store) {
	t.Helper()
	all := Walk(t, st, subscriptions.Filter{}, 50, nil)
	byCat := map[string][]int64{}
	byLang := map[string][]int64{}
	for _, s := range all {
		for _, c := range s.Categories {
			byCat[c] = append(byCat[c], s.ChatID)
		}
		byLang[s.Language] = append(byLang[s.Language], s.ChatID)
		got, ok, err := st.Subscriber(context.Background(), s.ChatID)
		if err != nil || !ok || !SubscriberEqual(got, s) {
			t.Errorf("Subscriber(%d): got %+v, %v, %v, want %+v as paged", s.ChatID, got, ok, err, s)
		}
	}
	for c, want := range byCat {
		AssertSameOrdered(t, ChatIDs(Walk(t, st, subscriptions.Filter{Category: c}, 7, nil)), want)
	}
	for l, want := range byLang {
		AssertSameOrdered(t, ChatIDs(Walk(t, st, subscriptions.Filter{Language: l}, 7, nil)), want)
	}
	counts, err := st.SubscriberCounts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantCats, wantLangs := map[string]int{}, map[string]int{}
	for c, ids := range byCat {
		wantCats[c] = len(ids)
	}
	for l, ids := range byLang {
		wantLangs[l] = len(ids)
	}
	if counts.Total != len(all) || !maps.Equal(counts.ByCategory, wantCats) || !maps.Equal(counts.ByLanguage, wantLangs) {
		t.Errorf("counts: got total %d %v %v, want %d %v %v", counts.Total, counts.ByCategory, counts.ByLanguage, len(all), wantCats, wantLangs)
	}
}

// SaveSubscriber saves s, failing t on an error.
func SaveSubscriber(t *testing.T, st subscriptions.Store, s subscriptions.Subscriber) {
	t.Helper()
	if _, err := st.SaveSubscriber(context.Background(), s); err != nil {
		t.Fatalf("save %d: %v", s.ChatID, err)
	}
}

// AssertSubscriber fails t unless the store holds want as it is.
func AssertSubscriber(t *testing.T, st subscriptions.Store, want subscriptions.Subscriber) {
	t.Helper()
	got, ok, err := st.Subscriber(context.Background(), want.ChatID)
	if err != nil || !ok {
		t.Fatalf("Subscriber(%d): got %v, %v, want found", want.ChatID, ok, err)
	}
	if !SubscriberEqual(got, want) {
		t.Errorf("Subscriber(%d): got %+v, want %+v", want.ChatID, got, want)
	}
}

// SubscriberEqual reports whether a and b are the same subscriber, joined
// at the same moment in UTC.
func SubscriberEqual(a, b subscriptions.Subscriber) bool {
	return a.ChatID == b.ChatID && a.Type == b.Type && a.Language == b.Language &&
		slices.Equal(a.Categories, b.Categories) && a.JoinedAt.Equal(b.JoinedAt) &&
		a.JoinedAt.Location() == time.UTC && a.Prefs == b.Prefs
}

// Walk pages through a store to the end, calling each (if set) with
// every page.
func Walk(t testing.TB, st subscriptions.Store, f subscriptions.Filter, limit int, each func([]subscriptions.Subscriber)) []subscriptions.Subscriber {
	t.Helper()
	var all []subscriptions.Subscriber
	cursor := ""
	for range 100000 {
		page, next, err := st.SubscribersPage(context.Background(), f, cursor, limit)
		if err != nil {
			t.Fatalf("page %+v after %q: %v", f, cursor, err)
		}
		if len(page) > limit {
			t.Fatalf("page %+v: got %d subscribers, want at most %d", f, len(page), limit)
		}
		if each != nil {
			each(page)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		if next == cursor {
			t.Fatalf("page %+v: cursor %q does not advance", f, cursor)
		}
		cursor = next
	}
	t.Fatalf("page %+v: walk does not end", f)
	return nil
}

// ChatIDs lists the chat ids of subs.
func ChatIDs(subs []subscriptions.Subscriber) []int64 {
	ids := make([]int64, len(subs))
	for i, s := range subs {
		ids[i] = s.ChatID
	}
	return ids
}

// AssertSameOrdered fails t unless got and want hold the same ids in order.
func AssertSameOrdered(t *testing.T, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got %d ids %v, want %d ids %v", len(got), head(got), len(want), head(want))
	}
}

func head(ids []int64) []int64 {
	if len(ids) > 12 {
		return ids[:12]
	}
	return ids
}

// testTombstones is the conformance suite of subscriptions.TombstoneStore.
// A tombstone is kept TombstoneTTL on the store's clock and restores
// nothing past TombstoneTTL after its removal on the caller's.
func testTombstones(t *testing.T, open func(t *testing.T) subscriptions.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("remove keeps a tombstone; restore undoes it", func(t *testing.T) {
		st := open(t)
		in := subscriptions.Subscriber{ChatID: -100123, Type: subscriptions.ChatSupergroup, Language: "ru", Categories: []string{"consular", "statements"}, JoinedAt: Joined}
		if _, err := st.SaveSubscriber(ctx, in); err != nil {
			t.Fatal(err)
		}
		removedAt := now.Add(-time.Hour)
		if ok, err := st.RemoveSubscriber(ctx, in.ChatID, "Forbidden: bot was kicked from the supergroup chat", removedAt); err != nil || !ok {
			t.Fatalf("RemoveSubscriber: got %v, %v; want true", ok, err)
		}
		if _, ok, _ := st.Subscriber(ctx, in.ChatID); ok {
			t.Fatal("after removal: still subscribed")
		}
		if page, _, err := st.SubscribersPage(ctx, subscriptions.Filter{Category: "consular"}, "", 10); err != nil || len(page) != 0 {
			t.Fatalf("category index after removal: got %v, %v; want empty", page, err)
		}
		c, err := st.SubscriberCounts(ctx, now.Add(-24*time.Hour))
		if err != nil || c.Total != 0 || c.Left != 1 {
			t.Fatalf("counts after removal: got %+v, %v; want none left, one leave", c, err)
		}
		ts, err := st.Tombstones(ctx, now.Add(-2*time.Hour), 10)
		if err != nil || len(ts) != 1 {
			t.Fatalf("Tombstones: got %+v, %v; want one", ts, err)
		}
		got := ts[0]
		if got.Subscriber.ChatID != in.ChatID || got.Subscriber.Type != in.Type || got.Subscriber.Language != "ru" ||
			!slices.Equal(got.Subscriber.Categories, in.Categories) || !got.RemovedAt.Equal(removedAt) || got.Reason != "Forbidden: bot was kicked from the supergroup chat" {
			t.Fatalf("tombstone: got %+v, want %+v removed at %v with Telegram's answer", got, in, removedAt)
		}
		if ts, _ := st.Tombstones(ctx, now.Add(-time.Minute), 10); len(ts) != 0 {
			t.Fatalf("Tombstones since after the removal: got %+v, want none", ts)
		}

		s, ok, err := st.RestoreSubscriber(ctx, in.ChatID, now)
		if err != nil || !ok || s.Language != "ru" || !slices.Equal(s.Categories, in.Categories) {
			t.Fatalf("RestoreSubscriber: got %+v %v %v, want the subscriber as it was", s, ok, err)
		}
		back, ok, err := st.Subscriber(ctx, in.ChatID)
		if err != nil || !ok || back.Type != in.Type || !slices.Equal(back.Categories, in.Categories) {
			t.Fatalf("after restore: got %+v %v %v, want subscribed as before", back, ok, err)
		}
		if page, _, _ := st.SubscribersPage(ctx, subscriptions.Filter{Category: "statements"}, "", 10); len(page) != 1 {
			t.Fatalf("category index after restore: got %v, want the chat", page)
		}
		if ts, _ := st.Tombstones(ctx, time.Time{}, 10); len(ts) != 0 {
			t.Fatalf("after restore: got tombstones %+v, want none", ts)
		}
		if _, ok, err := st.RestoreSubscriber(ctx, in.ChatID, now); err != nil || ok {
			t.Fatalf("a second restore: got %v, %v; want nothing to do", ok, err)
		}
	})

	t.Run("a chat subscribed meanwhile keeps its new settings", func(t *testing.T) {
		st := open(t)
		if _, err := st.SaveSubscriber(ctx, NewSubscriber(7, "en", "consular")); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RemoveSubscriber(ctx, 7, "Forbidden: bot was blocked by the user", now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SaveSubscriber(ctx, NewSubscriber(7, "ru", "statements")); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := st.RestoreSubscriber(ctx, 7, now); err != nil || ok {
			t.Fatalf("RestoreSubscriber of a subscribed chat: got %v, %v; want false", ok, err)
		}
		if s, _, _ := st.Subscriber(ctx, 7); s.Language != "ru" || !slices.Equal(s.Categories, []string{"statements"}) {
			t.Fatalf("got %+v, want the new settings kept", s)
		}
		if ts, _ := st.Tombstones(ctx, time.Time{}, 10); len(ts) != 0 {
			t.Fatalf("got tombstones %+v, want the stale one dropped", ts)
		}
	})

	t.Run("removing a chat not subscribed keeps nothing", func(t *testing.T) {
		st := open(t)
		if ok, err := st.RemoveSubscriber(ctx, 8, "Forbidden: bot was blocked by the user", now); err != nil || ok {
			t.Fatalf("got %v, %v; want false", ok, err)
		}
		if ts, _ := st.Tombstones(ctx, time.Time{}, 10); len(ts) != 0 {
			t.Fatalf("got tombstones %+v, want none", ts)
		}
	})

	t.Run("listed oldest first, n at most", func(t *testing.T) {
		st := open(t)
		for i := range int64(5) {
			if _, err := st.SaveSubscriber(ctx, NewSubscriber(100+i, "en", "consular")); err != nil {
				t.Fatal(err)
			}
			// Removed newest first by chat id: the list must follow time.
			if _, err := st.RemoveSubscriber(ctx, 100+i, "gone", now.Add(-time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := st.Tombstones(ctx, now.Add(-3*time.Minute), 2)
		if err != nil || len(ts) != 2 || ts[0].Subscriber.ChatID != 103 || ts[1].Subscriber.ChatID != 102 {
			t.Fatalf("got %+v, %v; want chats 103 then 102", ts, err)
		}
	})

	t.Run("expired tombstones are not listed or restored", func(t *testing.T) {
		st := open(t)
		if _, err := st.SaveSubscriber(ctx, NewSubscriber(9, "en", "consular")); err != nil {
			t.Fatal(err)
		}
		old := now.Add(-subscriptions.TombstoneTTL - time.Hour)
		if _, err := st.RemoveSubscriber(ctx, 9, "gone", old); err != nil {
			t.Fatal(err)
		}
		if ts, _ := st.Tombstones(ctx, now.Add(-subscriptions.TombstoneTTL), 10); len(ts) != 0 {
			t.Fatalf("got %+v, want a tombstone older than its lifetime unlisted", ts)
		}
		if _, ok, err := st.RestoreSubscriber(ctx, 9, now); err != nil || ok {
			t.Fatalf("restore of an expired tombstone: got %v, %v; want false", ok, err)
		}
	})
}
