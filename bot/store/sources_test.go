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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

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
	conformance.Record(t, s, poller.Recording{Source: src, Pubs: conformance.Numbered("a", 1000, t0), Now: t0})
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
	old := conformance.Numbered("a", 200, t0)
	conformance.Record(t, s, poller.Recording{Source: src, Pubs: old, Now: t0})

	page := append(conformance.Numbered("n", 3, t0.Add(time.Hour)), old...)
	page = append(page, conformance.Numbered("z", 1, t0.Add(-1000*time.Hour))...) // in the third chunk
	hook.runs.Store(0)
	hook.fail = 2 // the second chunk
	if _, err := s.RecordPoll(context.Background(), poller.Recording{Source: src, Pubs: page, Now: t0.Add(time.Minute)}); err == nil {
		t.Fatal("the recording with a failing chunk succeeded")
	}
	hook.fail = 0
	done := conformance.Record(t, s, poller.Recording{Source: src, Pubs: page, Now: t0.Add(2 * time.Minute)})
	if got := conformance.IDs(done.Queued); got != "z0,n2,n1,n0" {
		t.Fatalf("after the failure queued %q, want z0 and n2,n1,n0 (left pending), oldest first", got)
	}
}

// oldLayout writes what the release before per-source identity stored for a
// source that had been polled: its seen ids (bare, with www and the scheme
// as the page wrote them) and its state.
type oldLayout func(t *testing.T, source string, seen []string, at time.Time) conformance.PollerStore

func oldRedis(t *testing.T, source string, seen []string, at time.Time) conformance.PollerStore {
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

func oldBolt(t *testing.T, source string, seen []string, at time.Time) conformance.PollerStore {
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
			if got := conformance.Taken(t, s); got != "" {
				t.Fatalf("after the upgrade queued %q, want nothing", got)
			}

			body = []byte(strings.Replace(string(page), `<div class="glav">`,
				`<div class="glav"><p>29.11.2026 - <a href="/fnapr/9999">Consular Section closed on Friday</a></p>`, 1))
			fresh, err := p.Poll(ctx, src)
			if err != nil || len(fresh) != 1 || fresh[0].URL != srv.URL+"/fnapr/9999" {
				t.Fatalf("a new item after the upgrade: got %+v, %v; want it announced", fresh, err)
			}
			if got, want := conformance.Taken(t, s), "https://"+strings.TrimPrefix(srv.URL, "http://")+"/fnapr/9999"; got != want {
				t.Fatalf("queued %q, want %q", got, want)
			}
		})
	}
}
