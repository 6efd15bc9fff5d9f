package poller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// memStore is a hand-written Store for the poller's own logic; the real
// stores run the same diff under the conformance suite in bot/store.
type memStore struct {
	mu         sync.Mutex
	seen       map[string]bool
	inited     map[string]bool
	validators map[string]Validators
	health     map[string]Health
	records    int
	recorded   int // publications passed to RecordPoll
	failRecord error
}

func newMemStore() *memStore {
	return &memStore{seen: map[string]bool{}, inited: map[string]bool{}, validators: map[string]Validators{}, health: map[string]Health{}}
}

func (m *memStore) Validators(_ context.Context, source string) (Validators, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.validators[source], nil
}

func (m *memStore) RecordPoll(_ context.Context, r Recording) (Recorded, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failRecord != nil {
		return Recorded{}, m.failRecord
	}
	m.records++
	m.recorded += len(r.Pubs)
	if r.Archive {
		for _, p := range r.Pubs {
			m.seen[p.ID] = true
		}
		return Recorded{}, nil
	}
	var fresh []Publication
	for _, p := range r.Pubs {
		if !m.seen[p.ID] && !m.seen[p.LegacyID] && m.inited[r.Source] {
			fresh = append(fresh, p)
		}
		m.seen[p.ID] = true
	}
	m.inited[r.Source] = true
	m.validators[r.Source] = r.Validators
	if r.BurstLimit > 0 && len(fresh) > r.BurstLimit {
		b := Burst{ID: "b1", Source: r.Source, Count: len(fresh), At: r.Now}
		for _, p := range fresh[:min(len(fresh), r.BurstNewest)] {
			b.Newest = append(b.Newest, p.ID)
		}
		return Recorded{Burst: &b}, nil
	}
	return Recorded{Queued: fresh}, nil
}

func (m *memStore) SaveHealth(_ context.Context, source string, h Health) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.health[source] = h
	return nil
}

// feedServer serves an RSS feed of n items with an ETag, answering 304 to a
// matching If-None-Match, and records what each request sent.
type feedServer struct {
	*httptest.Server
	items           atomic.Int32
	status          atomic.Int32 // non-zero: answer with this status
	requests        atomic.Int32
	notModified     atomic.Int32
	lastIfNoneMatch atomic.Value
}

func newFeedServer(t *testing.T, items int) *feedServer {
	fs := &feedServer{}
	fs.items.Store(int32(items))
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		fs.lastIfNoneMatch.Store(r.Header.Get("If-None-Match"))
		if s := fs.status.Load(); s != 0 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(int(s))
			return
		}
		etag := fmt.Sprintf(`"items-%d"`, fs.items.Load())
		if r.Header.Get("If-None-Match") == etag {
			fs.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://example.org/</link>`)
		for i := fs.items.Load(); i >= 1; i-- {
			fmt.Fprintf(&b, `<item><title>Press release on item %d &lt; 5 &amp; co</title><link>https://example.org/item/%d</link></item>`, i, i)
		}
		b.WriteString(`</channel></rss>`)
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(fs.Close)
	return fs
}

func newTestPoller(t *testing.T, store Store, sources ...Source) *Poller {
	t.Helper()
	cat, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	return New(Params{
		Sources: sources, Interval: time.Hour, Store: store, Categorizer: cat,
		Fetcher: fetch.New(fetch.Config{Timeout: 5 * time.Second}),
		Jitter:  func() float64 { return 0.5 },
	})
}

func TestPollConditionalAndDiff(t *testing.T) {
	ctx := context.Background()
	fs := newFeedServer(t, 2)
	store := newMemStore()
	src := Source{URL: fs.URL + "/feed"}
	p := newTestPoller(t, store, src)

	fresh, err := p.Poll(ctx, src)
	if err != nil || len(fresh) != 0 {
		t.Fatalf("first poll = %v, %v; want silent", fresh, err)
	}
	if _, err := p.Poll(ctx, src); err != nil {
		t.Fatal(err)
	}
	if got := fs.lastIfNoneMatch.Load(); got != `"items-2"` {
		t.Fatalf("second poll sent If-None-Match %v, want the stored etag", got)
	}
	if fs.notModified.Load() != 1 || store.records != 1 {
		t.Fatalf("304s %d, records %d; want 1 and 1 (a 304 records nothing)", fs.notModified.Load(), store.records)
	}

	fs.items.Store(3)
	fresh, err = p.Poll(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != 1 || fresh[0].URL != "https://example.org/item/3" {
		t.Fatalf("fresh %+v, want item 3", fresh)
	}
	if got := fresh[0].Title; got != "Press release on item 3 < 5 & co" {
		t.Fatalf("title %q, want the decoded text", got)
	}
	if fresh[0].Category != "press-releases" {
		t.Fatalf("category %q, want press-releases", fresh[0].Category)
	}
	if h := p.Health(src.URL); h.ConsecutiveFailures != 0 || h.LastSuccess.IsZero() || h.LastNewItem.IsZero() {
		t.Fatalf("health %+v, want a success with a new item", h)
	}
}

func TestPollFailuresBackOffAndKeepState(t *testing.T) {
	ctx := context.Background()
	fs := newFeedServer(t, 2)
	store := newMemStore()
	src := Source{URL: fs.URL + "/feed"}
	p := newTestPoller(t, store, src)
	if _, err := p.Poll(ctx, src); err != nil {
		t.Fatal(err)
	}

	fs.status.Store(http.StatusServiceUnavailable)
	for i := 1; i <= 3; i++ {
		_, err := p.Poll(ctx, src)
		var se *fetch.StatusError
		if !errors.As(err, &se) || se.Code != 503 {
			t.Fatalf("poll %d: got %v, want a 503 StatusError", i, err)
		}
		if got := p.Health(src.URL).ConsecutiveFailures; got != i {
			t.Fatalf("failures %d, want %d", got, i)
		}
		if d := p.nextDelay(src.URL, err); d < 120*time.Second {
			t.Fatalf("delay %v after a Retry-After of 120s, want at least 120s", d)
		}
	}
	if store.health[src.URL].ConsecutiveFailures != 3 || store.health[src.URL].LastError == "" {
		t.Fatalf("stored health %+v, want 3 failures with the error", store.health[src.URL])
	}

	fs.status.Store(0)
	fs.items.Store(3)
	fresh, err := p.Poll(ctx, src)
	if err != nil || len(fresh) != 1 {
		t.Fatalf("after recovery: %v, %v; want item 3 announced", fresh, err)
	}
	if got := p.Health(src.URL).ConsecutiveFailures; got != 0 {
		t.Fatalf("failures %d after recovery, want 0", got)
	}
}

func TestStoreFailureIsAnErrorAndLosesNothing(t *testing.T) {
	ctx := context.Background()
	fs := newFeedServer(t, 2)
	store := newMemStore()
	src := Source{URL: fs.URL + "/feed"}
	p := newTestPoller(t, store, src)
	if _, err := p.Poll(ctx, src); err != nil {
		t.Fatal(err)
	}
	fs.items.Store(3)
	store.failRecord = errors.New("redis: connection refused")
	if _, err := p.Poll(ctx, src); err == nil {
		t.Fatal("poll with a failing store succeeded")
	}
	store.failRecord = nil
	// The validators were not replaced, so the next poll fetches in full
	// and the item is still announced.
	fresh, err := p.Poll(ctx, src)
	if err != nil || len(fresh) != 1 {
		t.Fatalf("after the store came back: %v, %v; want item 3", fresh, err)
	}
}

func TestRunPollsEverySourceAndStops(t *testing.T) {
	good := newFeedServer(t, 1)
	bad := newFeedServer(t, 1)
	bad.status.Store(http.StatusInternalServerError)
	store := newMemStore()
	polled := make(chan string, 16)
	sources := []Source{{URL: bad.URL + "/feed"}, {URL: good.URL + "/feed"}}
	p := newTestPoller(t, store, sources...)
	p.p.Observer = observerFunc(func(source, result string) { polled <- source + " " + result })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	seen := map[string]bool{}
	for len(seen) < 2 {
		seen[<-polled] = true
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	want := map[string]bool{bad.URL + "/feed error": true, good.URL + "/feed unchanged": true}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("polls %v, want %v", seen, want)
	}
}

type observerFunc func(source, result string)

func (f observerFunc) ObservePoll(source, result string, _ int, _ time.Duration) { f(source, result) }

// TestUnchangedPageSkipsTheDiff serves the same entries with a new ETag each
// time: the poll passes no publications to the store (only the validators),
// until a day after the last full diff, which refreshes what was seen.
func TestUnchangedPageSkipsTheDiff(t *testing.T) {
	ctx := context.Background()
	etag := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		etag++
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, etag))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<p>01.12.2026 - <a href="/a">A</a></p><p>30.11.2026 - <a href="/b">B</a></p>`))
	}))
	defer srv.Close()
	store := newMemStore()
	src := Source{URL: srv.URL + "/list"}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := newTestPoller(t, store, src)
	p.p.Now = func() time.Time { return now }

	steps := []struct {
		after time.Duration
		want  int // publications passed to the store
	}{
		{0, 2},              // first poll
		{time.Minute, 0},    // same entries, new ETag
		{23 * time.Hour, 0}, // still within a day of the full diff
		{2 * time.Hour, 2},  // a day on: a full diff refreshes them
		{time.Minute, 0},    // and the day starts again
	}
	for i, st := range steps {
		now = now.Add(st.after)
		before := store.recorded
		if _, err := p.Poll(ctx, src); err != nil {
			t.Fatal(err)
		}
		if got := store.recorded - before; got != st.want {
			t.Fatalf("step %d: %d publications passed to the store, want %d", i, got, st.want)
		}
		if v := store.validators[src.URL]; v.ETag != fmt.Sprintf(`"%d"`, etag) || v.Digest == "" {
			t.Fatalf("step %d: stored validators %+v, want the latest ETag and a digest", i, v)
		}
	}
}

// TestBurstIsHeldNotAnnounced checks the poller's side of the burst guard:
// the limit reaches the store, a held burst is reported, nothing announced.
func TestBurstIsHeldNotAnnounced(t *testing.T) {
	ctx := context.Background()
	fs := newFeedServer(t, 2)
	store := newMemStore()
	src := Source{URL: fs.URL + "/feed"}
	var bursts []Burst
	var results []string
	p := newTestPoller(t, store, src)
	p.p.OnBurst = func(b Burst) { bursts = append(bursts, b) }
	p.p.Observer = observerFunc(func(_, result string) { results = append(results, result) })
	if _, err := p.Poll(ctx, src); err != nil {
		t.Fatal(err)
	}
	fs.items.Store(2 + DefaultBurstLimit + 1)
	fresh, err := p.Poll(ctx, src)
	if err != nil || len(fresh) != 0 {
		t.Fatalf("a burst of %d: got %d announced, %v; want none", DefaultBurstLimit+1, len(fresh), err)
	}
	if len(bursts) != 1 || bursts[0].Count != DefaultBurstLimit+1 || len(bursts[0].Newest) != BurstNewest {
		t.Fatalf("bursts: got %+v, want one of %d with its %d newest", bursts, DefaultBurstLimit+1, BurstNewest)
	}
	if results[len(results)-1] != "burst" {
		t.Fatalf("observed %q, want burst", results)
	}
	if h := p.Health(src.URL); h.LastNewItem.IsZero() {
		t.Fatalf("health after a burst %+v, want a last new item: the source is not silent", h)
	}
	fs.items.Store(2 + DefaultBurstLimit + 1 + DefaultBurstLimit)
	if fresh, err := p.Poll(ctx, src); err != nil || len(fresh) != DefaultBurstLimit {
		t.Fatalf("%d new: got %d announced, %v; want all", DefaultBurstLimit, len(fresh), err)
	}
}
