package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/terms"
)

// searchStore is what /search and the backfill need of a store.
type searchStore interface {
	poller.Store
	poller.ArchiveStore
	Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error)
	Search(ctx context.Context, query []string, offset, n int) ([]poller.Publication, int, error)
	UpgradeSearchIndex(ctx context.Context) error
}

func searchBackends() map[string]func(t *testing.T) searchStore {
	return map[string]func(t *testing.T) searchStore{
		"redis": func(t *testing.T) searchStore { return openRedis(t) },
		"bolt":  func(t *testing.T) searchStore { return pubOpenBolt(t, t.TempDir()) },
	}
}

func titled(id, title, summary string, day int) poller.Publication {
	p := conformance.Pub(id, "consular", day)
	p.Title, p.Summary = title, summary
	return p
}

func TestSearch(t *testing.T) {
	for name, open := range searchBackends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			const src = "https://example.org/list"
			conformance.MustRecord(t, s, src, []poller.Publication{
				titled("a", "Выдача паспортов приостановлена", "Консульский отдел", 10),
				titled("b", "Visa applications", "Passports and visas", 11),
				titled("c", "Briefing", "Nothing about travel documents", 12),
			}, t0)
			// An older page, recorded by the backfill: silent, but found.
			archived, err := s.RecordPoll(ctx, poller.Recording{Source: src, Now: t0.Add(time.Minute), Archive: true,
				Pubs: []poller.Publication{titled("old", "Новые правила оформления паспорта", "", 1)}})
			if err != nil || len(archived.Queued) != 0 || archived.Burst != nil {
				t.Fatalf("archive recording = %+v, %v; want nothing queued", archived, err)
			}
			search := func(q string, offset, n int) (string, int) {
				t.Helper()
				query, _ := terms.Query(q, 8)
				got, total, err := s.Search(ctx, query, offset, n)
				if err != nil {
					t.Fatal(err)
				}
				return conformance.IDs(got), total
			}
			if got, total := search("паспорт", 0, 10); got != "a,old" || total != 2 {
				t.Errorf(`search "паспорт" = %q (%d), want "a,old" (newest first)`, got, total)
			}
			if got, _ := search("passport visa", 0, 10); got != "b" {
				t.Errorf(`search "passport visa" = %q, want "b"`, got)
			}
			// Best match first: "консульский паспорт" matches a twice, old once.
			if got, _ := search("консульского паспорта", 0, 10); got != "a,old" {
				t.Errorf("ranked = %q, want a (two terms) before old (one)", got)
			}
			if got, total := search("паспорт", 1, 1); got != "old" || total != 2 {
				t.Errorf("second page = %q (%d), want old (2)", got, total)
			}
			if got, total := search("паспорт", 5, 1); got != "" || total != 2 {
				t.Errorf("page past the end = %q (%d), want none (2)", got, total)
			}
			// A forged query: not terms, nothing found, no error.
			if got, _, err := s.Search(ctx, []string{"*", "A B", ""}, 0, 5); err != nil || len(got) != 0 {
				t.Errorf("forged query = %v, %v; want nothing", got, err)
			}
			// The archived publication was left pending for no poll: the
			// next poll of the first page queues nothing.
			if queued := conformance.MustRecord(t, s, src, []poller.Publication{titled("a", "Выдача паспортов приостановлена", "Консульский отдел", 10)}, t0.Add(2*time.Minute)); len(queued) != 0 {
				t.Errorf("the poll after an archive page queued %q, want nothing", conformance.IDs(queued))
			}
		})
	}
}

func TestBackfillProgressIsKept(t *testing.T) {
	for name, open := range searchBackends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			const src = "https://example.org/list"
			if b, err := s.Backfill(ctx, src); err != nil || b != (poller.Backfill{}) {
				t.Fatalf("Backfill before any = %+v, %v; want zero", b, err)
			}
			want := poller.Backfill{Next: src + "?start=10", Page: 2}
			if err := s.SaveBackfill(ctx, src, want); err != nil {
				t.Fatal(err)
			}
			// A poll of the source keeps it.
			conformance.MustRecord(t, s, src, []poller.Publication{conformance.Pub("x", "other", 3)}, t0)
			if got, err := s.Backfill(ctx, src); err != nil || got != want {
				t.Errorf("Backfill = %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// TestSearchIndexUpgrade: publications stored by the release before the
// search index are found after the upgrade, which runs once.
func TestSearchIndexUpgrade(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		ctx := context.Background()
		r := openRedis(t)
		conformance.MustRecord(t, r, "https://example.org/list", []poller.Publication{titled("a", "Паспорта", "", 3)}, t0)
		// What the previous release left: no term keys, no version.
		rdb := r.Client()
		keys, err := rdb.Keys(ctx, "bb:{pub}:term*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Fatal(err)
		}
		checkUpgrade(t, r)
	})
	t.Run("bolt", func(t *testing.T) {
		dir := t.TempDir()
		b := pubOpenBolt(t, dir)
		conformance.MustRecord(t, b, "https://example.org/list", []poller.Publication{titled("a", "Паспорта", "", 3)}, t0)
		if err := b.DropSearchIndexForTest(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		checkUpgrade(t, pubOpenBolt(t, dir)) // the upgrade runs on open
	})
}

func checkUpgrade(t *testing.T, s searchStore) {
	t.Helper()
	ctx := context.Background()
	for range 2 {
		if err := s.UpgradeSearchIndex(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, total, err := s.Search(ctx, []string{"паспорт"}, 0, 5)
	if err != nil || conformance.IDs(got) != "a" || total != 1 {
		t.Errorf("after the upgrade: %q (%d), %v; want a", conformance.IDs(got), total, err)
	}
}
