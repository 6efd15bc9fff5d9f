package store

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

func TestSubscriptionStoreRedis(t *testing.T) {
	testSubscriptionStore(t, func(t *testing.T) subscriptions.Store {
		return NewRedis(storetest.Redis(t))
	})
}

func TestSubscriptionStoreBolt(t *testing.T) {
	testSubscriptionStore(t, func(t *testing.T) subscriptions.Store {
		return subOpenBolt(t)
	})
}

func subOpenBolt(t *testing.T) *Bolt {
	t.Helper()
	b, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Durability is not under test; an fsync per commit would make the
	// thousands of writes below take seconds.
	b.db.NoSync = true
	t.Cleanup(func() { _ = b.Close() })
	return b
}

var subT0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func subNew(id int64, lang string, cats ...string) subscriptions.Subscriber {
	return subscriptions.Subscriber{ChatID: id, Type: subscriptions.ChatPrivate, Language: lang, Categories: cats, JoinedAt: subT0}
}

// testSubscriptionStore is the conformance suite every subscriptions.Store
// implementation passes.
func testSubscriptionStore(t *testing.T, open func(t *testing.T) subscriptions.Store) {
	ctx := context.Background()

	t.Run("alert settings", func(t *testing.T) {
		st := open(t)
		in := subNew(-1001, "ru", "consular")
		in.Type = subscriptions.ChatSupergroup
		in.Prefs = subscriptions.Prefs{Quiet: true, QuietFrom: 23 * 60, QuietTo: 7 * 60,
			Digest: true, DigestAt: 8 * 60, Zone: "Asia/Yekaterinburg", Thread: 77}
		if _, err := st.SaveSubscriber(ctx, in); err != nil {
			t.Fatal(err)
		}
		subAssertGet(t, st, in)
		page := subWalk(t, st, subscriptions.Filter{Category: "consular"}, 10, nil)
		if len(page) != 1 || !subEqual(page[0], in) {
			t.Errorf("page: got %+v, want %+v", page, in)
		}
		if _, err := st.MigrateSubscriber(ctx, in.ChatID, -1002); err != nil {
			t.Fatal(err)
		}
		moved := in
		moved.ChatID = -1002
		subAssertGet(t, st, moved)
		// Back to the defaults: nothing of the settings is left.
		moved.Prefs = subscriptions.Prefs{}
		if _, err := st.SaveSubscriber(ctx, moved); err != nil {
			t.Fatal(err)
		}
		subAssertGet(t, st, moved)
		bad := moved
		bad.Prefs = subscriptions.Prefs{Zone: "Not/AZone"}
		if _, err := st.SaveSubscriber(ctx, bad); err == nil {
			t.Error("save with an unknown zone: got nil error, want one")
		}
		subAssertGet(t, st, moved)
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
		subAssertGet(t, st, want)

		upd := subscriptions.Subscriber{ChatID: in.ChatID, Type: subscriptions.ChatChannel, Language: "en", Categories: nil, JoinedAt: subT0}
		created, err = st.SaveSubscriber(ctx, upd)
		if err != nil || created {
			t.Fatalf("second save: got created %v, %v, want false", created, err)
		}
		want.Type, want.Language, want.Categories = subscriptions.ChatChannel, "en", nil
		subAssertGet(t, st, want) // JoinedAt stays the first one

		for _, bad := range []subscriptions.Subscriber{
			subNew(5, "en", "a,b"),
			subNew(5, "en", ""),
			subNew(5, "en", "with space"),
			subNew(5, ""),
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
		subSave(t, st, subNew(1, "en", "a", "b"))
		subSave(t, st, subNew(2, "ru", "b", "c"))
		subSave(t, st, subNew(3, "en", "c"))
		subAssertIndexes(t, st)
		subSave(t, st, subNew(1, "ru", "c"))
		subSave(t, st, subNew(2, "ru"))
		subSave(t, st, subNew(3, "en", "a", "b", "c"))
		subAssertIndexes(t, st)
		got := subIDs(subWalk(t, st, subscriptions.Filter{Category: "c"}, 10, nil))
		if want := []int64{1, 3}; !slices.Equal(got, want) {
			t.Errorf("category c: got %v, want %v", got, want)
		}
		if got := subIDs(subWalk(t, st, subscriptions.Filter{Category: "b"}, 10, nil)); !slices.Equal(got, []int64{3}) {
			t.Errorf("category b: got %v, want [3]", got)
		}
	})

	t.Run("delete removes every piece", func(t *testing.T) {
		st := open(t)
		const gone = 777000111
		subSave(t, st, subNew(gone, "ru", "consular", "statements"))
		subSave(t, st, subNew(12, "en", "consular"))
		for i, want := range []bool{true, false} {
			ok, err := st.DeleteSubscriber(ctx, gone, subT0.Add(time.Hour))
			if err != nil || ok != want {
				t.Fatalf("delete #%d: got %v, %v, want %v", i+1, ok, err, want)
			}
		}
		if _, ok, _ := st.Subscriber(ctx, gone); ok {
			t.Error("Subscriber after delete: got found, want not")
		}
		for _, f := range []subscriptions.Filter{{}, {Category: "consular"}, {Category: "statements"}, {Language: "ru"}} {
			if got := subIDs(subWalk(t, st, f, 10, nil)); slices.Contains(got, gone) {
				t.Errorf("page %+v after delete: got %v, want no %d", f, got, gone)
			}
		}
		subAssertIndexes(t, st)
		subAssertNoTrace(t, st, gone)
	})

	t.Run("migrate", func(t *testing.T) {
		st := open(t)
		old := subscriptions.Subscriber{ChatID: -5, Type: subscriptions.ChatGroup, Language: "ru", Categories: []string{"x", "y"}, JoinedAt: subT0}
		subSave(t, st, old)
		subSave(t, st, subNew(-6, "en", "z"))
		taken := subscriptions.Subscriber{ChatID: -1006, Type: subscriptions.ChatSupergroup, Language: "ru", Categories: []string{"x"}, JoinedAt: subT0.Add(time.Hour)}
		subSave(t, st, taken)

		ok, err := st.MigrateSubscriber(ctx, -5, -1005)
		if err != nil || !ok {
			t.Fatalf("migrate: got %v, %v, want true", ok, err)
		}
		moved := old
		moved.ChatID = -1005
		subAssertGet(t, st, moved)
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
		subAssertGet(t, st, taken)
		if _, ok, _ := st.Subscriber(ctx, -6); ok {
			t.Error("old id still stored after migrating onto an existing chat")
		}
		if ok, err := st.MigrateSubscriber(ctx, -1006, -1006); err != nil || !ok {
			t.Errorf("migrate onto itself: got %v, %v, want true", ok, err)
		}
		subAssertGet(t, st, taken)
		subAssertIndexes(t, st)
		subAssertNoTrace(t, st, -5)
		subAssertNoTrace(t, st, -6)
		c, err := st.SubscriberCounts(ctx, subT0)
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
			subSave(t, st, subNew(id, "en", cats...))
		}
		pages := 0
		got := subIDs(subWalk(t, st, subscriptions.Filter{}, 100, func(page []subscriptions.Subscriber) {
			pages++
			if len(page) > 100 {
				t.Errorf("page %d: got %d subscribers, want at most 100", pages, len(page))
			}
		}))
		if pages != 25 {
			t.Errorf("pages: got %d, want 25", pages)
		}
		subAssertSameOrdered(t, got, slices.Sorted(maps.Keys(want)))
		slices.Sort(wantConsular)
		subAssertSameOrdered(t, subIDs(subWalk(t, st, subscriptions.Filter{Category: "consular"}, 100, nil)), wantConsular)
	})

	t.Run("paging stable under concurrent changes", func(t *testing.T) {
		st := open(t)
		rng := rand.New(rand.NewPCG(3, 4))
		var ids []int64
		for i := range 300 {
			id := int64(i-150) * 1000
			ids = append(ids, id)
			subSave(t, st, subNew(id, "en", "a"))
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
			got = append(got, subIDs(page)...)
			if next == "" {
				break
			}
			cursor = next
			// Between pages: remove some chats (visited or not), add some on
			// both sides of the cursor, and move one out of the index and back.
			for range 3 {
				id := ids[rng.IntN(len(ids))]
				delete(throughout, id)
				if _, err := st.DeleteSubscriber(ctx, id, subT0); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				id := ids[rng.IntN(len(ids))] + added
				added++
				subSave(t, st, subNew(id, "en", "a"))
			}
			id := ids[rng.IntN(len(ids))]
			delete(throughout, id)
			subSave(t, st, subNew(id, "en", "b"))
			subSave(t, st, subNew(id, "en", "a"))
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
			subSave(t, st, subNew(i-30, lang, cats...))
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
					subAssertSameOrdered(t, subIDs(subWalk(t, st, tt.f, limit, nil)), want)
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
			subSave(t, st, subNew(i*1000-100_000, lang(i), has(i)...))
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
					got := subWalk(t, st, tt.f, limit, func(page []subscriptions.Subscriber) {
						for _, s := range page {
							if !tt.f.Matches(s) {
								t.Errorf("limit %d: got %+v, which the filter does not select", limit, s)
							}
						}
					})
					subAssertSameOrdered(t, subIDs(got), want)
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
			s := subNew(id, lang, cats...)
			s.JoinedAt = at
			subSave(t, st, s)
		}
		join(1, subT0, "en", "a", "b")
		join(2, subT0.Add(day), "ru", "a")
		join(3, subT0.Add(2*day), "ru")
		if _, err := st.DeleteSubscriber(ctx, 2, subT0.Add(3*day)); err != nil {
			t.Fatal(err)
		}
		join(2, subT0.Add(4*day), "en", "b")
		if _, err := st.DeleteSubscriber(ctx, 3, subT0.Add(5*day)); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			since        time.Time
			joined, left int
		}{
			{subT0.Add(-day), 4, 2},
			{subT0.Add(time.Hour), 3, 2},
			{subT0.Add(3 * day), 1, 2},
			{subT0.Add(5*day + time.Millisecond), 0, 0},
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
		c, _ := st.SubscriberCounts(ctx, subT0)
		if c.Total != 2 || !maps.Equal(c.ByCategory, map[string]int{"a": 1, "b": 2}) || !maps.Equal(c.ByLanguage, map[string]int{"en": 2}) {
			t.Errorf("got %+v, want total 2, a 1, b 2, en 2", c)
		}

		// Events older than the retention go on the next write.
		join(4, subT0.Add(41*day), "en")
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
						_, err = st.DeleteSubscriber(ctx, id, subT0)
					case 1:
						_, err = st.MigrateSubscriber(ctx, id, id-1000)
					default: // subscribe, or toggle one category
						s, ok, lerr := st.Subscriber(ctx, id)
						if lerr != nil {
							err = lerr
							break
						}
						if !ok {
							s = subNew(id, []string{"en", "ru"}[rng.IntN(2)], slices.Clone(cats)...)
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
		if n := len(subWalk(t, st, subscriptions.Filter{}, 100, nil)); n == 0 {
			t.Fatal("no subscribers left to check")
		}
		subAssertIndexes(t, st)
	})
}

// subAssertIndexes checks every index and count against the subscriber
// records themselves.
func subAssertIndexes(t *testing.T, st subscriptions.Store) {
	t.Helper()
	all := subWalk(t, st, subscriptions.Filter{}, 50, nil)
	byCat := map[string][]int64{}
	byLang := map[string][]int64{}
	for _, s := range all {
		for _, c := range s.Categories {
			byCat[c] = append(byCat[c], s.ChatID)
		}
		byLang[s.Language] = append(byLang[s.Language], s.ChatID)
		got, ok, err := st.Subscriber(context.Background(), s.ChatID)
		if err != nil || !ok || !subEqual(got, s) {
			t.Errorf("Subscriber(%d): got %+v, %v, %v, want %+v as paged", s.ChatID, got, ok, err, s)
		}
	}
	for c, want := range byCat {
		subAssertSameOrdered(t, subIDs(subWalk(t, st, subscriptions.Filter{Category: c}, 7, nil)), want)
	}
	for l, want := range byLang {
		subAssertSameOrdered(t, subIDs(subWalk(t, st, subscriptions.Filter{Language: l}, 7, nil)), want)
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

// subAssertNoTrace checks, below the interface, that nothing but join and
// leave events still names the chat.
func subAssertNoTrace(t *testing.T, st subscriptions.Store, chatID int64) {
	t.Helper()
	ctx := context.Background()
	switch st := st.(type) {
	case *Redis:
		id := strconv.FormatInt(chatID, 10)
		mentions := func(s string) bool {
			for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' }) {
				if part == id {
					return true
				}
			}
			return false
		}
		iter := st.rdb.Scan(ctx, 0, "*", 100).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			if mentions(key) {
				t.Errorf("key %s remains", key)
			}
			var members []string
			var err error
			switch st.rdb.Type(ctx, key).Val() {
			case "zset":
				if key == subscriberEventsKey() {
					continue
				}
				members, err = st.rdb.ZRange(ctx, key, 0, -1).Result()
			case "set":
				members, err = st.rdb.SMembers(ctx, key).Result()
			case "hash":
				var h map[string]string
				h, err = st.rdb.HGetAll(ctx, key).Result()
				members = slices.Collect(maps.Values(h))
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range members {
				if mentions(m) {
					t.Errorf("%s still holds %q", key, m)
				}
			}
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
	case *Bolt:
		enc := subKey(chatID)
		err := st.db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				if string(name) == boltSubEvents {
					return nil
				}
				return b.ForEach(func(k, _ []byte) error {
					if bytes.HasSuffix(k, enc) {
						t.Errorf("bucket %s still holds key %q", name, k)
					}
					return nil
				})
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("no trace check for %T", st)
	}
}

func subSave(t *testing.T, st subscriptions.Store, s subscriptions.Subscriber) {
	t.Helper()
	if _, err := st.SaveSubscriber(context.Background(), s); err != nil {
		t.Fatalf("save %d: %v", s.ChatID, err)
	}
}

func subAssertGet(t *testing.T, st subscriptions.Store, want subscriptions.Subscriber) {
	t.Helper()
	got, ok, err := st.Subscriber(context.Background(), want.ChatID)
	if err != nil || !ok {
		t.Fatalf("Subscriber(%d): got %v, %v, want found", want.ChatID, ok, err)
	}
	if !subEqual(got, want) {
		t.Errorf("Subscriber(%d): got %+v, want %+v", want.ChatID, got, want)
	}
}

func subEqual(a, b subscriptions.Subscriber) bool {
	return a.ChatID == b.ChatID && a.Type == b.Type && a.Language == b.Language &&
		slices.Equal(a.Categories, b.Categories) && a.JoinedAt.Equal(b.JoinedAt) &&
		a.JoinedAt.Location() == time.UTC && a.Prefs == b.Prefs
}

// subWalk pages through a store to the end, calling each (if set) with
// every page.
func subWalk(t testing.TB, st subscriptions.Store, f subscriptions.Filter, limit int, each func([]subscriptions.Subscriber)) []subscriptions.Subscriber {
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

func subIDs(subs []subscriptions.Subscriber) []int64 {
	ids := make([]int64, len(subs))
	for i, s := range subs {
		ids[i] = s.ChatID
	}
	return ids
}

func subAssertSameOrdered(t *testing.T, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got %d ids %v, want %d ids %v", len(got), subHead(got), len(want), subHead(want))
	}
}

func subHead(ids []int64) []int64 {
	if len(ids) > 12 {
		return ids[:12]
	}
	return ids
}

func BenchmarkRedisSubscribersPage(b *testing.B) {
	ctx := context.Background()
	r := NewRedis(storetest.Redis(b))
	const n = 10000
	jobs := make(chan int64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range jobs {
				if _, err := r.SaveSubscriber(ctx, subNew(id, "en", "consular", "other")); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range int64(n) {
		jobs <- i*7919 - n*4000
	}
	close(jobs)
	wg.Wait()
	b.ResetTimer()
	for b.Loop() {
		seen := 0
		cursor := ""
		for {
			page, next, err := r.SubscribersPage(ctx, subscriptions.Filter{Category: "consular"}, cursor, 500)
			if err != nil {
				b.Fatal(err)
			}
			seen += len(page)
			if next == "" {
				break
			}
			cursor = next
		}
		if seen != n {
			b.Fatalf("got %d subscribers, want %d", seen, n)
		}
	}
	b.ReportMetric(float64(n/500), "pages/op")
}
