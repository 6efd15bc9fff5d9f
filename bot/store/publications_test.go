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
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

func openRedis(t testing.TB) *store.Redis {
	t.Helper()
	return store.NewRedis(storetest.Redis(t))
}

func publicationBackends() map[string]func(t *testing.T) conformance.PollerStore {
	return map[string]func(t *testing.T) conformance.PollerStore{
		"redis": func(t *testing.T) conformance.PollerStore { return openRedis(t) },
		"bolt":  func(t *testing.T) conformance.PollerStore { return pubOpenBolt(t, t.TempDir()) },
	}
}

func TestRedisQueuesEachNewPublicationOnce(t *testing.T) {
	rdb := storetest.Redis(t)
	s := store.NewRedis(rdb)
	ctx := context.Background()
	const src = "https://example.org/list"
	conformance.MustRecord(t, s, src, []poller.Publication{conformance.Pub("a", "other", 1)}, t0)
	if n := rdb.XLen(ctx, "bb:{pub}:announce").Val(); n != 0 {
		t.Fatalf("first poll queued %d announcements, want 0", n)
	}
	conformance.MustRecord(t, s, src, []poller.Publication{conformance.Pub("b", "other", 2), conformance.Pub("a", "other", 1)}, t0.Add(time.Minute))
	conformance.MustRecord(t, s, src, []poller.Publication{conformance.Pub("b", "other", 2), conformance.Pub("a", "other", 1)}, t0.Add(2*time.Minute))
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
	page := []poller.Publication{conformance.Pub("b", "comments", 10), conformance.Pub("a", "statements", 9)}

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
	if got := conformance.IDs(conformance.MustRecord(t, s, src, page, t0.Add(time.Minute))); got != "" {
		t.Fatalf("after restart the same page announced %q, want nothing", got)
	}
	next := append([]poller.Publication{conformance.Pub("d", "briefings", 12), conformance.Pub("c", "statements", 11)}, page...)
	if got := conformance.IDs(conformance.MustRecord(t, s, src, next, t0.Add(2*time.Minute))); got != "c,d" {
		t.Fatalf("after restart announced %q, want c,d (oldest first)", got)
	}
	if got := conformance.IDs(conformance.MustRecord(t, s, src, next, t0.Add(3*time.Minute))); got != "" {
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
	conformance.MustRecord(t, s, src, []poller.Publication{conformance.Pub("b", "comments", 10), conformance.Pub("a", "statements", 9)}, t0)
	conformance.MustRecord(t, s, src, []poller.Publication{conformance.Pub("b", "comments", 10)}, t0.Add(100*24*time.Hour))
	later := t0.Add(500 * 24 * time.Hour)
	if got := conformance.IDs(conformance.MustRecord(t, s, src, []poller.Publication{conformance.Pub("c", "statements", 11)}, later)); got != "c" {
		t.Fatalf("announced %q, want c", got)
	}
	// "a" and "b" were stored 500 days ago, beyond the publication TTL.
	latest, err := s.Latest(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := conformance.IDs(latest); got != "c" {
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
		p := conformance.Pub(id, "other", 1)
		p.Date, p.SeenAt = time.Time{}, seen
		return p
	}
	batches := []struct {
		source string
		pubs   []poller.Publication
	}{
		{"https://example.org/a", []poller.Publication{conformance.Pub("a", "other", 5), conformance.Pub("x", "other", 4), dateless("n", time.Time{})}},
		{"https://example.org/b", []poller.Publication{conformance.Pub("ab", "other", 5), conformance.Pub("y", "other", 4), dateless("m", t0)}},
		{"https://example.org/c", []poller.Publication{conformance.Pub("abc", "other", 5), conformance.Pub("w", "other", 4), dateless("o", time.Time{})}},
	}
	stores := map[string]conformance.PollerStore{"redis": openRedis(t), "bolt": pubOpenBolt(t, t.TempDir())}
	got := map[string]string{}
	for name, s := range stores {
		for _, b := range batches {
			conformance.MustRecord(t, s, b.source, b.pubs, t0)
		}
		latest, err := s.Latest(ctx, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		got[name] = conformance.IDs(latest)
	}
	if got["bolt"] != got["redis"] {
		t.Fatalf("bolt latest %q, want redis's %q", got["bolt"], got["redis"])
	}
}
