package store_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// publicationStore is what the poller and the bot's /latest need of a store.
type publicationStore interface {
	poller.Store
	Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error)
	Latest(ctx context.Context, category string, n int) ([]poller.Publication, error)
	Publication(ctx context.Context, id string) (poller.Publication, bool, error)
	SourceHealth(ctx context.Context) (map[string]poller.Health, error)
}

func openRedis(t testing.TB) *store.Redis {
	t.Helper()
	return store.NewRedis(storetest.Redis(t))
}

func publicationBackends() map[string]func(t *testing.T) publicationStore {
	return map[string]func(t *testing.T) publicationStore{
		"redis": func(t *testing.T) publicationStore { return openRedis(t) },
		"bolt":  func(t *testing.T) publicationStore { return pubOpenBolt(t, t.TempDir()) },
	}
}

var t0 = time.Date(2017, 10, 17, 10, 32, 0, 0, time.UTC)

func pub(id, cat string, day int) poller.Publication {
	return poller.Publication{
		ID: id, Source: "https://example.org/list", URL: "https://example.org/" + id,
		Title: "Title <" + id + "> & \"quotes\"", Date: time.Date(2017, 10, day, 0, 0, 0, 0, time.UTC),
		Category: cat, Summary: "teaser of " + id, SeenAt: t0,
	}
}

func ids(pubs []poller.Publication) string {
	out := make([]string, len(pubs))
	for i, p := range pubs {
		out[i] = p.ID
	}
	return strings.Join(out, ",")
}

func TestPublicationStore(t *testing.T) {
	for name, open := range publicationBackends() {
		t.Run(name, func(t *testing.T) { testPublicationStore(t, open) })
	}
}

func testPublicationStore(t *testing.T, open func(t *testing.T) publicationStore) {
	ctx := context.Background()
	const src = "https://example.org/list"
	page := []poller.Publication{pub("c", "statements", 11), pub("b", "comments", 10), pub("a", "statements", 9)}

	t.Run("first poll is silent but fills latest", func(t *testing.T) {
		s := open(t)
		fresh, err := s.Record(ctx, src, page, poller.Validators{ETag: `"v1"`}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(fresh) != 0 {
			t.Fatalf("first poll announced %s, want nothing", ids(fresh))
		}
		latest, err := s.Latest(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(latest), "c,b,a"; got != want {
			t.Fatalf("latest %s, want %s", got, want)
		}
		if latest[0] != page[0] {
			t.Fatalf("stored %+v, want %+v", latest[0], page[0])
		}
		cat, err := s.Latest(ctx, "statements", 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(cat), "c,a"; got != want {
			t.Fatalf("latest statements %s, want %s", got, want)
		}
		v, err := s.Validators(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		if v.ETag != `"v1"` {
			t.Fatalf("etag %q, want %q", v.ETag, `"v1"`)
		}
	})

	t.Run("new item announced once; reorder and return are not new", func(t *testing.T) {
		s := open(t)
		mustRecord(t, s, src, page, t0)
		next := append([]poller.Publication{pub("d", "briefings", 12)}, page...)
		if got := ids(mustRecord(t, s, src, next, t0.Add(time.Minute))); got != "d" {
			t.Fatalf("announced %q, want d", got)
		}
		if got := ids(mustRecord(t, s, src, next, t0.Add(2*time.Minute))); got != "" {
			t.Fatalf("same page again announced %q, want nothing", got)
		}
		reordered := []poller.Publication{next[3], next[1], next[0], next[2]}
		if got := ids(mustRecord(t, s, src, reordered, t0.Add(3*time.Minute))); got != "" {
			t.Fatalf("reordered page announced %q, want nothing", got)
		}
		if got := ids(mustRecord(t, s, src, next[:1], t0.Add(4*time.Minute))); got != "" {
			t.Fatalf("shrunk page announced %q, want nothing", got)
		}
		if got := ids(mustRecord(t, s, src, next, t0.Add(5*time.Minute))); got != "" {
			t.Fatalf("items coming back announced %q, want nothing", got)
		}
	})

	t.Run("duplicate ids within one response count once", func(t *testing.T) {
		s := open(t)
		mustRecord(t, s, src, page, t0)
		dup := []poller.Publication{pub("e", "other", 13), pub("e", "other", 13), pub("c", "statements", 11)}
		if got := ids(mustRecord(t, s, src, dup, t0.Add(time.Minute))); got != "e" {
			t.Fatalf("announced %q, want e", got)
		}
	})

	t.Run("an item shown by a second source is not announced again", func(t *testing.T) {
		s := open(t)
		mustRecord(t, s, src, page, t0)
		mustRecord(t, s, "https://example.org/other", []poller.Publication{pub("z", "other", 1)}, t0)
		fresh := pub("f", "statements", 14)
		if got := ids(mustRecord(t, s, src, []poller.Publication{fresh}, t0.Add(time.Minute))); got != "f" {
			t.Fatalf("announced %q, want f", got)
		}
		if got := ids(mustRecord(t, s, "https://example.org/other", []poller.Publication{fresh}, t0.Add(2*time.Minute))); got != "" {
			t.Fatalf("second source announced %q again", got)
		}
	})

	t.Run("seen ids are pruned by age, not while still listed", func(t *testing.T) {
		s := open(t)
		mustRecord(t, s, src, page, t0)
		keep := page[:1]
		later := t0.Add(200 * 24 * time.Hour)
		mustRecord(t, s, src, keep, later)
		// "b" and "a" left the page 400 days ago: forgotten, so they count as new.
		// "c" was listed 200 days ago: remembered.
		muchLater := later.Add(200 * 24 * time.Hour)
		if got := ids(mustRecord(t, s, src, page, muchLater)); got != "a,b" {
			t.Fatalf("after pruning announced %q, want a,b (oldest first)", got)
		}
	})

	t.Run("concurrent records announce each item exactly once", func(t *testing.T) {
		s := open(t)
		mustRecord(t, s, src, page, t0)
		batch := append([]poller.Publication{pub("g", "other", 15), pub("h", "other", 16)}, page...)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for i := range 16 {
			wg.Go(func() {
				fresh, err := s.Record(ctx, src, batch, poller.Validators{}, t0.Add(time.Duration(i)*time.Second))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, p := range fresh {
					counts[p.ID]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts["g"] != 1 || counts["h"] != 1 || len(counts) != 2 {
			t.Fatalf("announcements %v, want g and h once each", counts)
		}
	})

	t.Run("latest is capped", func(t *testing.T) {
		s := open(t)
		var many []poller.Publication
		for i := range 250 {
			p := pub(fmt.Sprintf("id%03d", i), "other", 1)
			p.Date = p.Date.Add(time.Duration(i) * time.Hour)
			many = append(many, p)
		}
		mustRecord(t, s, src, many, t0)
		all, err := s.Latest(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 200 || all[0].ID != "id249" {
			t.Fatalf("latest holds %d items starting %s, want 200 starting id249", len(all), all[0].ID)
		}
		cat, err := s.Latest(ctx, "other", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(cat) != 100 {
			t.Fatalf("latest of category holds %d, want 100", len(cat))
		}
		if _, ok, err := s.Publication(ctx, "id249"); err != nil || !ok {
			t.Fatalf("Publication(id249) = %v, %v, want found", ok, err)
		}
	})

	t.Run("health", func(t *testing.T) {
		s := open(t)
		h := poller.Health{LastSuccess: t0, LastAttempt: t0.Add(time.Minute), LastError: "fetch: status 503", ConsecutiveFailures: 2}
		if err := s.SaveHealth(ctx, src, h); err != nil {
			t.Fatal(err)
		}
		all, err := s.SourceHealth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := all[src]
		if !got.LastSuccess.Equal(h.LastSuccess) || got.ConsecutiveFailures != 2 || got.LastError != h.LastError {
			t.Fatalf("health %+v, want %+v", got, h)
		}
		if got.Version != 1 {
			t.Fatalf("version after one save: got %d, want 1", got.Version)
		}
		// Every save counts, whatever the caller puts in Version.
		h.ConsecutiveFailures, h.Version = 3, 100
		if err := s.SaveHealth(ctx, src, h); err != nil {
			t.Fatal(err)
		}
		if all, err = s.SourceHealth(ctx); err != nil {
			t.Fatal(err)
		}
		if got := all[src]; got.Version != 2 || got.ConsecutiveFailures != 3 {
			t.Fatalf("after a second save: got version %d, %d failures, want 2, 3", got.Version, got.ConsecutiveFailures)
		}
	})
}

func mustRecord(t *testing.T, s publicationStore, src string, pubs []poller.Publication, now time.Time) []poller.Publication {
	t.Helper()
	fresh, err := s.Record(context.Background(), src, pubs, poller.Validators{}, now)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return fresh
}

func TestRedisQueuesEachNewPublicationOnce(t *testing.T) {
	rdb := storetest.Redis(t)
	s := store.NewRedis(rdb)
	ctx := context.Background()
	const src = "https://example.org/list"
	mustRecord(t, s, src, []poller.Publication{pub("a", "other", 1)}, t0)
	if n := rdb.XLen(ctx, "bb:{pub}:announce").Val(); n != 0 {
		t.Fatalf("first poll queued %d announcements, want 0", n)
	}
	mustRecord(t, s, src, []poller.Publication{pub("b", "other", 2), pub("a", "other", 1)}, t0.Add(time.Minute))
	mustRecord(t, s, src, []poller.Publication{pub("b", "other", 2), pub("a", "other", 1)}, t0.Add(2*time.Minute))
	msgs := rdb.XRange(ctx, "bb:{pub}:announce", "-", "+").Val()
	if len(msgs) != 1 || msgs[0].Values["id"] != "b" || msgs[0].Values["source"] != src {
		t.Fatalf("queue %+v, want one entry for b from %s", msgs, src)
	}
}

// TestConcurrentPollersRecordOnce runs several pollers, as several bulletinbot
// processes would, against one Redis and one changing feed.
func TestConcurrentPollersRecordOnce(t *testing.T) {
	s := openRedis(t)
	var items atomic.Int32
	items.Store(3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://example.org/</link>`)
		for i := items.Load(); i >= 1; i-- {
			fmt.Fprintf(&b, `<item><title>Statement number %d</title><link>https://example.org/item/%d</link><pubDate>Mon, 02 Oct 2017 10:00:00 GMT</pubDate></item>`, i, i)
		}
		b.WriteString(`</channel></rss>`)
		_, _ = w.Write([]byte(b.String()))
	}))
	defer srv.Close()

	cat, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	src := poller.Source{URL: srv.URL + "/feed"}
	pollers := make([]*poller.Poller, 6)
	for i := range pollers {
		pollers[i] = poller.New(poller.Params{
			Sources: []poller.Source{src}, Interval: time.Hour, Store: s,
			Fetcher: fetch.New(fetch.Config{}), Categorizer: cat,
		})
	}
	pollAll := func() map[string]int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		for _, p := range pollers {
			wg.Go(func() {
				fresh, err := p.Poll(context.Background(), src)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, f := range fresh {
					got[f.URL]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		return got
	}
	if got := pollAll(); len(got) != 0 {
		t.Fatalf("first polls announced %v, want nothing", got)
	}
	items.Store(5)
	got := pollAll()
	want := map[string]int{"https://example.org/item/4": 1, "https://example.org/item/5": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("announced %v, want %v", got, want)
	}
	latest, err := s.Latest(context.Background(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 5 || latest[0].Category != "statements" {
		t.Fatalf("latest %d items, first %+v; want 5, a statement first", len(latest), latest[0])
	}
}

func pubOpenBolt(t testing.TB, dir string) *store.Bolt {
	t.Helper()
	b, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// pubBoltBucket returns the entries of one bucket of a closed store file.
func pubBoltBucket(t *testing.T, path, bucket string) map[string]string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBoltPublicationsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	const src = "https://example.org/list"
	dir := t.TempDir()
	page := []poller.Publication{pub("b", "comments", 10), pub("a", "statements", 9)}

	first := pubOpenBolt(t, dir)
	if _, err := first.Record(ctx, src, page, poller.Validators{ETag: `"v1"`, LastModified: "Tue, 17 Oct 2017 10:00:00 GMT"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	s := pubOpenBolt(t, dir)
	v, err := s.Validators(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if want := (poller.Validators{ETag: `"v1"`, LastModified: "Tue, 17 Oct 2017 10:00:00 GMT"}); v != want {
		t.Fatalf("validators after restart %+v, want %+v", v, want)
	}
	if got := ids(mustRecord(t, s, src, page, t0.Add(time.Minute))); got != "" {
		t.Fatalf("after restart the same page announced %q, want nothing", got)
	}
	next := append([]poller.Publication{pub("d", "briefings", 12), pub("c", "statements", 11)}, page...)
	if got := ids(mustRecord(t, s, src, next, t0.Add(2*time.Minute))); got != "c,d" {
		t.Fatalf("after restart announced %q, want c,d (oldest first)", got)
	}
	if got := ids(mustRecord(t, s, src, next, t0.Add(3*time.Minute))); got != "" {
		t.Fatalf("same page again announced %q, want nothing", got)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	queue := pubBoltBucket(t, path, "announce")
	want := map[string]string{
		"\x00\x00\x00\x00\x00\x00\x00\x01": `{"id":"c","source":"` + src + `"}`,
		"\x00\x00\x00\x00\x00\x00\x00\x02": `{"id":"d","source":"` + src + `"}`,
	}
	if fmt.Sprint(queue) != fmt.Sprint(want) {
		t.Fatalf("announce bucket %q, want %q", queue, want)
	}
}

func TestBoltPublicationsPruneEveryIndexInStep(t *testing.T) {
	ctx := context.Background()
	const src = "https://example.org/list"
	dir := t.TempDir()
	s := pubOpenBolt(t, dir)
	mustRecord(t, s, src, []poller.Publication{pub("b", "comments", 10), pub("a", "statements", 9)}, t0)
	mustRecord(t, s, src, []poller.Publication{pub("b", "comments", 10)}, t0.Add(100*24*time.Hour))
	later := t0.Add(500 * 24 * time.Hour)
	if got := ids(mustRecord(t, s, src, []poller.Publication{pub("c", "statements", 11)}, later)); got != "c" {
		t.Fatalf("announced %q, want c", got)
	}
	// "a" and "b" were stored 500 days ago, beyond the publication TTL.
	latest, err := s.Latest(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(latest); got != "c" {
		t.Fatalf("latest %q, want c", got)
	}
	if _, ok, err := s.Publication(ctx, "a"); err != nil || ok {
		t.Fatalf("Publication(a) = %v, %v, want pruned", ok, err)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		bucket string
		want   int
	}{
		// "b" was last seen 400 days ago, "a" 500: both forgotten.
		{"seen", 1}, {"seen_by_time", 1}, {"publications", 1}, {"publications_by_time", 1},
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			if got := len(pubBoltBucket(t, path, tc.bucket)); got != tc.want {
				t.Fatalf("%s holds %d entries, want %d", tc.bucket, got, tc.want)
			}
		})
	}
}

// TestBoltLatestOrderMatchesRedis records the same batches in both stores
// and compares the order of latest, ties and dateless items included.
func TestBoltLatestOrderMatchesRedis(t *testing.T) {
	ctx := context.Background()
	dateless := func(id string, seen time.Time) poller.Publication {
		p := pub(id, "other", 1)
		p.Date, p.SeenAt = time.Time{}, seen
		return p
	}
	batches := []struct {
		source string
		pubs   []poller.Publication
	}{
		{"https://example.org/a", []poller.Publication{pub("a", "other", 5), pub("x", "other", 4), dateless("n", time.Time{})}},
		{"https://example.org/b", []poller.Publication{pub("ab", "other", 5), pub("y", "other", 4), dateless("m", t0)}},
		{"https://example.org/c", []poller.Publication{pub("abc", "other", 5), pub("w", "other", 4), dateless("o", time.Time{})}},
	}
	stores := map[string]publicationStore{"redis": openRedis(t), "bolt": pubOpenBolt(t, t.TempDir())}
	got := map[string]string{}
	for name, s := range stores {
		for _, b := range batches {
			mustRecord(t, s, b.source, b.pubs, t0)
		}
		latest, err := s.Latest(ctx, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		got[name] = ids(latest)
	}
	if got["bolt"] != got["redis"] {
		t.Fatalf("bolt latest %q, want redis's %q", got["bolt"], got["redis"])
	}
}
