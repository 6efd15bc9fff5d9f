package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// sourceStore is what the poller and the staff's burst notice need of a
// store, with the announcement queue to see what was queued.
type sourceStore interface {
	poller.Store
	delivery.Intake
	Bursts(ctx context.Context) ([]poller.Burst, error)
	ClaimBurstNotice(ctx context.Context, id string, quiet time.Duration) (bool, error)
	ReleaseBurst(ctx context.Context, id string) (poller.Burst, bool, bool, error)
}

func forEachSourceBackend(t *testing.T, test func(t *testing.T, s sourceStore)) {
	t.Run("redis", func(t *testing.T) { test(t, openRedis(t)) })
	t.Run("bolt", func(t *testing.T) { test(t, pubOpenBolt(t, t.TempDir())) })
}

// taken reads and acknowledges what is queued for announcement, in order.
func taken(t *testing.T, s sourceStore) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for {
		evs, err := s.NextPublications(ctx, "test", 100, -1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return strings.Join(out, ",")
		}
		for _, ev := range evs {
			out = append(out, ev.PublicationID)
			if err := s.AckPublications(ctx, ev.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// numbered returns publications prefix0.. prefix(n-1), newest first.
func numbered(prefix string, n int, newest time.Time) []poller.Publication {
	out := make([]poller.Publication, n)
	for i := range out {
		id := prefix + strconv.Itoa(i)
		out[i] = poller.Publication{ID: id, Source: "https://example.org/list", URL: "https://example.org/" + id,
			Title: id, Date: newest.Add(-time.Duration(i) * time.Hour), Category: "statements", SeenAt: t0}
	}
	return out
}

func record(t *testing.T, s poller.Store, r poller.Recording) poller.Recorded {
	t.Helper()
	done, err := s.RecordPoll(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func TestBurstGuard(t *testing.T) { forEachSourceBackend(t, testBurstGuard) }

func testBurstGuard(t *testing.T, s sourceStore) {
	ctx := context.Background()
	const src = "https://example.org/list"
	poll := func(pubs []poller.Publication, at time.Time) poller.Recorded {
		return record(t, s, poller.Recording{Source: src, Pubs: pubs, Now: at, BurstLimit: 20, BurstNewest: 5})
	}
	old := numbered("old", 30, t0)
	if done := poll(old, t0); len(done.Queued) != 0 || done.Burst != nil {
		t.Fatalf("first poll: got %d queued, burst %v; want it silent", len(done.Queued), done.Burst)
	}

	// A redesign: 25 new links at once.
	page := append(numbered("new", 25, t0.Add(48*time.Hour)), old...)
	done := poll(page, t0.Add(time.Minute))
	if len(done.Queued) != 0 || done.Burst == nil {
		t.Fatalf("burst: got %d queued, burst %v; want none queued and a burst", len(done.Queued), done.Burst)
	}
	b := *done.Burst
	if b.Count != 25 || b.Source != src || strings.Join(b.Newest, ",") != "new0,new1,new2,new3,new4" || b.ID == "" {
		t.Fatalf("burst: got %+v, want 25 of %s, newest new0..new4", b, src)
	}
	if got := taken(t, s); got != "" {
		t.Fatalf("burst queued %q, want nothing", got)
	}
	if done := poll(page, t0.Add(2*time.Minute)); len(done.Queued) != 0 || done.Burst != nil {
		t.Fatalf("the page again: got %d queued, burst %v; want nothing: the burst was recorded as seen", len(done.Queued), done.Burst)
	}

	// Staff are told once, whichever replica asks first.
	listed, err := s.Bursts(ctx)
	if err != nil || len(listed) != 1 || listed[0].ID != b.ID || listed[0].Count != 25 || !listed[0].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Bursts: got %+v, %v; want the one burst", listed, err)
	}
	for i, want := range []bool{true, false} {
		if won, err := s.ClaimBurstNotice(ctx, b.ID, time.Hour); err != nil || won != want {
			t.Fatalf("claim %d: got %v, %v; want %v", i, won, err, want)
		}
	}
	if listed, err := s.Bursts(ctx); err != nil || len(listed) != 0 {
		t.Fatalf("Bursts after the notice: got %+v, %v; want none", listed, err)
	}

	// The button announces the newest five, once.
	got, ok, released, err := s.ReleaseBurst(ctx, b.ID)
	if err != nil || !ok || !released || !got.Released || got.Count != 25 {
		t.Fatalf("release: got %+v ok=%v released=%v %v; want released now", got, ok, released, err)
	}
	if q := taken(t, s); q != "new4,new3,new2,new1,new0" {
		t.Fatalf("release queued %q, want new4..new0 (oldest first)", q)
	}
	if _, ok, released, err := s.ReleaseBurst(ctx, b.ID); err != nil || !ok || released {
		t.Fatalf("second release: got ok=%v released=%v %v; want found, not released again", ok, released, err)
	}
	if q := taken(t, s); q != "" {
		t.Fatalf("second release queued %q, want nothing", q)
	}
	if _, ok, _, err := s.ReleaseBurst(ctx, "no-such-burst"); err != nil || ok {
		t.Fatalf("release of an unknown burst: got ok=%v %v, want not found", ok, err)
	}

	// At the limit nothing is held.
	page = append(numbered("more", 20, t0.Add(96*time.Hour)), page...)
	if done := poll(page, t0.Add(3*time.Minute)); len(done.Queued) != 20 || done.Burst != nil {
		t.Fatalf("20 new: got %d queued, burst %v; want all 20 queued", len(done.Queued), done.Burst)
	}
	if q := taken(t, s); !strings.HasPrefix(q, "more19,more18,") || strings.Count(q, ",") != 19 {
		t.Fatalf("20 new queued %q, want more19..more0 (oldest first)", q)
	}
}

func TestBurstNoticeQuietPerSource(t *testing.T) {
	forEachSourceBackend(t, testBurstNoticeQuietPerSource)
}

// testBurstNoticeQuietPerSource: a feed that changes every id on every poll
// holds a burst each poll; staff are told of the first only, while another
// source's burst is still told, and the source's next burst once the quiet
// time is over.
func testBurstNoticeQuietPerSource(t *testing.T, s sourceStore) {
	ctx := context.Background()
	burst := func(src, prefix string, at time.Time) poller.Burst {
		t.Helper()
		pubs := numbered(prefix, 25, at)
		for i := range pubs {
			pubs[i].Source = src
		}
		done := record(t, s, poller.Recording{Source: src, Pubs: pubs, Now: at, BurstLimit: 20, BurstNewest: 5})
		if done.Burst == nil {
			t.Fatalf("%s %s: no burst held", src, prefix)
		}
		return *done.Burst
	}
	claim := func(b poller.Burst, quiet time.Duration) bool {
		t.Helper()
		won, err := s.ClaimBurstNotice(ctx, b.ID, quiet)
		if err != nil {
			t.Fatal(err)
		}
		return won
	}
	const a, other = "https://broken.example/feed", "https://example.org/list"
	for _, src := range []string{a, other} {
		if done := record(t, s, poller.Recording{Source: src, Pubs: numbered(src, 3, t0), Now: t0, BurstLimit: 20}); done.Burst != nil {
			t.Fatalf("first poll of %s held a burst", src)
		}
	}
	if !claim(burst(a, "p1-", t0.Add(time.Minute)), time.Hour) {
		t.Fatal("the first burst of a source: not to be told")
	}
	second := burst(a, "p2-", t0.Add(2*time.Minute))
	if claim(second, time.Hour) {
		t.Fatal("the next burst of the same source within the quiet hour: to be told again")
	}
	if listed, err := s.Bursts(ctx); err != nil || len(listed) != 0 {
		t.Fatalf("Bursts after a quieted one: got %+v, %v; want none left to tell", listed, err)
	}
	if !claim(burst(other, "o1-", t0.Add(3*time.Minute)), time.Hour) {
		t.Fatal("another source's burst: not to be told while the first source is quiet")
	}

	// A quiet time that is over lets the source's next burst be told; the
	// sleep is far longer than the millisecond it waits out.
	const src = "https://flaky.example/feed"
	record(t, s, poller.Recording{Source: src, Pubs: numbered("f", 3, t0), Now: t0, BurstLimit: 20})
	if !claim(burst(src, "q1-", t0.Add(time.Minute)), time.Millisecond) {
		t.Fatal("first burst of the flaky source: not to be told")
	}
	time.Sleep(20 * time.Millisecond)
	if !claim(burst(src, "q2-", t0.Add(2*time.Minute)), time.Hour) {
		t.Fatal("a burst after the quiet time: not to be told")
	}
}

func TestRecordPollInChunks(t *testing.T) { forEachSourceBackend(t, testRecordPollInChunks) }

func testRecordPollInChunks(t *testing.T, s sourceStore) {
	const src = "https://example.org/list"
	first := numbered("a", 1000, t0)
	if done := record(t, s, poller.Recording{Source: src, Pubs: first, Now: t0}); len(done.Queued) != 0 {
		t.Fatalf("first poll queued %d, want none", len(done.Queued))
	}
	// New items on both sides of chunk boundaries, one of them twice.
	next := numbered("b", 3, t0.Add(time.Hour))
	next = append(next, first[:150]...)
	next = append(next, numbered("c", 1, t0.Add(-2000*time.Hour))...)
	next = append(next, first[150:]...)
	next = append(next, next[0])
	done := record(t, s, poller.Recording{Source: src, Pubs: next, Now: t0.Add(time.Minute)})
	if got := ids(done.Queued); got != "c0,b2,b1,b0" {
		t.Fatalf("queued %q, want c0,b2,b1,b0 (oldest first)", got)
	}
	if got := taken(t, s); got != "c0,b2,b1,b0" {
		t.Fatalf("announcement queue %q, want c0,b2,b1,b0 (oldest first)", got)
	}
}

// scriptHook watches the Lua scripts a Redis client runs: the most keys one
// touched, how many ran, and the longest; fail makes the nth fail.
type scriptHook struct {
	maxKeys, runs atomic.Int64
	longest       atomic.Int64 // ns
	fail          int64
}

func (h *scriptHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *scriptHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *scriptHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := cmd.Name()
		if name != "evalsha" && name != "eval" {
			return next(ctx, cmd)
		}
		n := h.runs.Add(1)
		if n == h.fail {
			return errors.New("injected failure")
		}
		if keys, ok := cmd.Args()[2].(int); ok && int64(keys) > h.maxKeys.Load() {
			h.maxKeys.Store(int64(keys))
		}
		start := time.Now()
		err := next(ctx, cmd)
		if d := time.Since(start).Nanoseconds(); d > h.longest.Load() {
			h.longest.Store(d)
		}
		return err
	}
}

func hookedRedis(t *testing.T) (*store.Redis, *scriptHook) {
	rdb := storetest.Redis(t)
	hook := &scriptHook{}
	rdb.AddHook(hook)
	return store.NewRedis(rdb), hook
}

// TestRedisRecordScriptsStayBounded records the most a poll can yield (a
// page cut at parse.MaxEntries) and asserts no script touched more than a
// few hundred keys; the review's 456k-entry page made one script of 900k
// keys block Redis for 6 s.
func TestRedisRecordScriptsStayBounded(t *testing.T) {
	s, hook := hookedRedis(t)
	const src = "https://example.org/list"
	record(t, s, poller.Recording{Source: src, Pubs: numbered("a", 1000, t0), Now: t0})
	if got := hook.maxKeys.Load(); got > 300 || got < 100 {
		t.Fatalf("the biggest script touched %d keys, want 100 to 300", got)
	}
	if got := hook.runs.Load(); got < 11 {
		t.Fatalf("%d scripts recorded 1,000 publications, want at least 11 (chunks of at most 100, then the finish)", got)
	}
	t.Logf("1,000 publications: %d scripts of at most %d keys, the longest %v", hook.runs.Load(), hook.maxKeys.Load(), time.Duration(hook.longest.Load()))
}

// TestRedisRecordingResumesAfterAFailure fails a recording after its first
// chunk: the publications that chunk recorded as seen are not lost but
// queued by the next recording.
func TestRedisRecordingResumesAfterAFailure(t *testing.T) {
	s, hook := hookedRedis(t)
	const src = "https://example.org/list"
	old := numbered("a", 200, t0)
	record(t, s, poller.Recording{Source: src, Pubs: old, Now: t0})

	page := append(numbered("n", 3, t0.Add(time.Hour)), old...)
	page = append(page, numbered("z", 1, t0.Add(-1000*time.Hour))...) // in the third chunk
	hook.runs.Store(0)
	hook.fail = 2 // the second chunk
	if _, err := s.RecordPoll(context.Background(), poller.Recording{Source: src, Pubs: page, Now: t0.Add(time.Minute)}); err == nil {
		t.Fatal("the recording with a failing chunk succeeded")
	}
	hook.fail = 0
	done := record(t, s, poller.Recording{Source: src, Pubs: page, Now: t0.Add(2 * time.Minute)})
	if got := ids(done.Queued); got != "z0,n2,n1,n0" {
		t.Fatalf("after the failure queued %q, want z0 and n2,n1,n0 (left pending), oldest first", got)
	}
}

// oldLayout writes what the release before per-source identity stored for a
// source that had been polled: its seen ids (bare, with www and the scheme
// as the page wrote them) and its state.
type oldLayout func(t *testing.T, source string, seen []string, at time.Time) sourceStore

func oldRedis(t *testing.T, source string, seen []string, at time.Time) sourceStore {
	rdb := storetest.Redis(t)
	ctx := context.Background()
	sum := sha256.Sum256([]byte(source))
	state := "bb:{pub}:source:" + hex.EncodeToString(sum[:8])
	for _, id := range seen {
		if err := rdb.ZAdd(ctx, "bb:{pub}:seen", redis.Z{Score: float64(at.UnixMilli()), Member: id}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.HSet(ctx, state, "initialized", "1", "etag", "", "last_modified", "").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.SAdd(ctx, "bb:{pub}:sources", source).Err(); err != nil {
		t.Fatal(err)
	}
	return store.NewRedis(rdb)
}

func oldBolt(t *testing.T, source string, seen []string, at time.Time) sourceStore {
	dir := t.TempDir()
	db, err := bolt.Open(dir+"/bulletinbot.db", 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// subKey: unix ms, big-endian with the sign bit flipped.
	ms := uint64(at.UnixMilli()) ^ (1 << 63)
	key := []byte{byte(ms >> 56), byte(ms >> 48), byte(ms >> 40), byte(ms >> 32), byte(ms >> 24), byte(ms >> 16), byte(ms >> 8), byte(ms)}
	err = db.Update(func(tx *bolt.Tx) error {
		seenB, err := tx.CreateBucketIfNotExists([]byte("seen"))
		if err != nil {
			return err
		}
		byTime, err := tx.CreateBucketIfNotExists([]byte("seen_by_time"))
		if err != nil {
			return err
		}
		for _, id := range seen {
			if err := seenB.Put([]byte(id), key); err != nil {
				return err
			}
			if err := byTime.Put(append(append([]byte{}, key...), id...), []byte{}); err != nil {
				return err
			}
		}
		sources, err := tx.CreateBucketIfNotExists([]byte("pub_sources"))
		if err != nil {
			return err
		}
		return sources.Put([]byte(source), []byte(`{"initialized":true}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return pubOpenBolt(t, dir)
}

// TestUpgradeKeepsSeenIDs polls the embassy's page, already seen by the
// previous release, after the upgrade: nothing is announced again, on either
// store, and a new item still is.
func TestUpgradeKeepsSeenIDs(t *testing.T) {
	page, err := os.ReadFile("../../poller/parse/testdata/embassy-newarh.html")
	if err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]oldLayout{"redis": oldRedis, "bolt": oldBolt} {
		t.Run(name, func(t *testing.T) {
			body := page
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			src := poller.Source{URL: srv.URL + "/newarh/"}
			// The ids the previous release gave the page's ten items: their
			// links as written, relative ones on the server's host.
			seen := []string{"https://www.rusemb.org.uk/fnapr/6566"}
			for _, n := range []int{6571, 6570, 6569, 6568, 6567, 6565, 6564, 6563, 6562} {
				seen = append(seen, fmt.Sprintf("%s/fnapr/%d", srv.URL, n))
			}
			s := open(t, src.URL, seen, t0)

			cat, err := category.New(category.Default())
			if err != nil {
				t.Fatal(err)
			}
			var bursts []poller.Burst
			p := poller.New(poller.Params{Sources: []poller.Source{src}, Interval: time.Hour, Store: s,
				Fetcher: fetch.New(fetch.Config{}), Categorizer: cat, Now: func() time.Time { return t0.Add(time.Hour) },
				OnBurst: func(b poller.Burst) { bursts = append(bursts, b) }})
			ctx := context.Background()
			for i := range 2 {
				fresh, err := p.Poll(ctx, src)
				if err != nil || len(fresh) != 0 || len(bursts) != 0 {
					t.Fatalf("poll %d after the upgrade: got %d new, %d bursts, %v; want nothing", i, len(fresh), len(bursts), err)
				}
			}
			if got := taken(t, s); got != "" {
				t.Fatalf("after the upgrade queued %q, want nothing", got)
			}

			body = []byte(strings.Replace(string(page), `<div class="glav">`,
				`<div class="glav"><p>29.11.2026 - <a href="/fnapr/9999">Consular Section closed on Friday</a></p>`, 1))
			fresh, err := p.Poll(ctx, src)
			if err != nil || len(fresh) != 1 || fresh[0].URL != srv.URL+"/fnapr/9999" {
				t.Fatalf("a new item after the upgrade: got %+v, %v; want it announced", fresh, err)
			}
			if got, want := taken(t, s), "https://"+strings.TrimPrefix(srv.URL, "http://")+"/fnapr/9999"; got != want {
				t.Fatalf("queued %q, want %q", got, want)
			}
		})
	}
}

// TestSourcesKeepTheirOwnIDs polls feeds through the real poller: a GUID
// that is not a URL belongs to its feed, while one link listed by two
// sources of its own site, over either scheme, is one publication.
func TestSourcesKeepTheirOwnIDs(t *testing.T) {
	forEachSourceBackend(t, func(t *testing.T, s sourceStore) {
		feeds := map[string]string{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title>%s</channel></rss>`, r.URL.Path, feeds[r.URL.Path])
		}))
		defer srv.Close()
		item := func(guid, link, title string) string {
			return fmt.Sprintf(`<item><guid isPermaLink="false">%s</guid><link>%s</link><title>%s</title></item>`, guid, link, title)
		}
		link := func(l, title string) string {
			return fmt.Sprintf(`<item><link>%s</link><title>%s</title></item>`, l, title)
		}
		a, b := poller.Source{URL: srv.URL + "/a"}, poller.Source{URL: srv.URL + "/b"}
		feeds["/a"] = item("1", "https://a.example.org/1", "A one")
		feeds["/b"] = item("1", "https://b.example.org/1", "B one")

		cat, err := category.New(category.Default())
		if err != nil {
			t.Fatal(err)
		}
		p := poller.New(poller.Params{Sources: []poller.Source{a, b}, Interval: time.Hour, Store: s,
			Fetcher: fetch.New(fetch.Config{}), Categorizer: cat})
		ctx := context.Background()
		poll := func(src poller.Source) string {
			t.Helper()
			fresh, err := p.Poll(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]string, len(fresh))
			for i, f := range fresh {
				out[i] = f.Title
			}
			return strings.Join(out, ",")
		}
		for _, src := range []poller.Source{a, b} {
			if got := poll(src); got != "" {
				t.Fatalf("first poll of %s announced %q, want nothing", src.URL, got)
			}
		}

		// B publishes GUID 42 first; A's own 42 must still be announced.
		feeds["/b"] = item("42", "https://b.example.org/42", "B forty-two") + feeds["/b"]
		if got := poll(b); got != "B forty-two" {
			t.Fatalf("B: announced %q, want B forty-two", got)
		}
		feeds["/a"] = item("42", "https://a.example.org/42", "A forty-two") + feeds["/a"]
		if got := poll(a); got != "A forty-two" {
			t.Fatalf("A after B's GUID 42: announced %q, want A forty-two", got)
		}

		// One page of the sources' own site listed by both, over https and
		// over http with a trailing slash (www. is left out of ids the same
		// way; TestPublicationID covers it).
		host := strings.TrimPrefix(srv.URL, "http://")
		feeds["/a"] = link("https://"+host+"/fnapr/7000", "Shared") + feeds["/a"]
		feeds["/b"] = link("http://"+host+"/fnapr/7000/", "Shared") + feeds["/b"]
		if got := poll(a); got != "Shared" {
			t.Fatalf("A: announced %q, want Shared", got)
		}
		if got := poll(b); got != "" {
			t.Fatalf("B listing the same page over http announced %q, want nothing", got)
		}

		if got := taken(t, s); strings.Count(got, ",") != 2 {
			t.Fatalf("queued %q, want three publications", got)
		}
	})
}
