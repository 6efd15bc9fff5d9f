package poller_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// clock is the simulated time every replica reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// countingFeed serves a one-item RSS feed and records, on the simulated
// clock, when each fetch came.
type countingFeed struct {
	*httptest.Server
	mu      sync.Mutex
	fetches []time.Time
}

func newCountingFeed(t *testing.T, c *clock) *countingFeed {
	f := &countingFeed{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.fetches = append(f.fetches, c.Now())
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>` +
			`<item><title>Statement</title><link>https://example.org/1</link></item></channel></rss>`))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *countingFeed) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.fetches...)
}

// replicaSet is several pollers on one store, each with its own jitter,
// stepped on the simulated clock: the replica due first takes its step.
type replicaSet struct {
	clock    *clock
	src      poller.Source
	replicas []*poller.Poller
	next     []time.Time
	alive    []bool
}

func newReplicaSet(t *testing.T, st *store.Redis, c *clock, src poller.Source, n int, interval time.Duration) *replicaSet {
	t.Helper()
	cat, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	rs := &replicaSet{clock: c, src: src}
	for i := range n {
		rng := rand.New(rand.NewPCG(12, uint64(i)))
		rs.replicas = append(rs.replicas, poller.New(poller.Params{
			Sources: []poller.Source{src}, Interval: interval, Store: st, Turns: st, Categorizer: cat,
			Fetcher: fetch.New(fetch.Config{Timeout: 5 * time.Second}), Now: c.Now, Jitter: rng.Float64,
		}))
		rs.next = append(rs.next, c.Now())
		rs.alive = append(rs.alive, true)
	}
	return rs
}

// runUntil steps the live replicas, in the order they are due, until the
// clock reaches end.
func (rs *replicaSet) runUntil(t *testing.T, end time.Time) {
	t.Helper()
	ctx := context.Background()
	for {
		i := -1
		for j := range rs.replicas {
			if rs.alive[j] && (i < 0 || rs.next[j].Before(rs.next[i])) {
				i = j
			}
		}
		if i < 0 || !rs.next[i].Before(end) {
			rs.clock.Set(end)
			return
		}
		rs.clock.Set(rs.next[i])
		d := rs.replicas[i].Turn(ctx, rs.src)
		if d <= 0 {
			t.Fatalf("replica %d asked to step again after %v", i, d)
		}
		rs.next[i] = rs.clock.Now().Add(d)
	}
}

// TestReplicasPollASourceOncePerInterval: three replicas on one Redis,
// over a simulated minute at a one-second interval, fetch the source 60
// times (±1) between them, never twice within one interval.
func TestReplicasPollASourceOncePerInterval(t *testing.T) {
	const interval = time.Second
	st := store.NewRedis(storetest.Redis(t))
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	feed := newCountingFeed(t, c)
	start := c.Now()
	rs := newReplicaSet(t, st, c, poller.Source{URL: feed.URL + "/feed"}, 3, interval)
	rs.runUntil(t, start.Add(time.Minute))

	fetches := feed.times()
	t.Logf("%d fetches by 3 replicas in a simulated minute at a %v interval", len(fetches), interval)
	if n := len(fetches); n < 59 || n > 61 {
		t.Fatalf("got %d fetches in a simulated minute, want 60 (±1)", n)
	}
	for i := 1; i < len(fetches); i++ {
		if gap := fetches[i].Sub(fetches[i-1]); gap < interval*9/10 {
			t.Fatalf("fetches %d and %d only %v apart, want about %v", i-1, i, gap, interval)
		}
	}
}

// TestPollTurnIsTakenOverWhenItsHolderDies: the replica that holds the
// source's turn stops (after its poll, or mid-poll with its claim held);
// another replica polls the source within two intervals.
func TestPollTurnIsTakenOverWhenItsHolderDies(t *testing.T) {
	const interval = 10 * time.Second
	for _, midPoll := range []bool{false, true} {
		name := map[bool]string{false: "after its poll", true: "mid-poll"}[midPoll]
		t.Run(name, func(t *testing.T) {
			st := store.NewRedis(storetest.Redis(t))
			c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			feed := newCountingFeed(t, c)
			rs := newReplicaSet(t, st, c, poller.Source{URL: feed.URL + "/feed"}, 3, interval)
			rs.runUntil(t, c.Now().Add(5*interval))

			// Which replica polled last? The one whose next step is the
			// latest: the others woke since and found the turn taken.
			holder := 0
			for j := range rs.next {
				if rs.next[j].After(rs.next[holder]) {
					holder = j
				}
			}
			rs.alive[holder] = false
			died := feed.times()[len(feed.times())-1]
			if midPoll {
				// It claimed the next turn and died before fetching.
				rs.clock.Set(rs.next[holder])
				died = rs.clock.Now()
				mine, _, err := st.ClaimPoll(context.Background(), rs.src.URL, died, interval)
				if err != nil || !mine {
					t.Fatalf("ClaimPoll at the due time = %v, %v; want the turn", mine, err)
				}
			}
			before := len(feed.times())
			rs.runUntil(t, died.Add(5*interval))
			after := feed.times()[before:]
			if len(after) == 0 {
				t.Fatal("no replica polled the source after its holder died")
			}
			if took := after[0].Sub(died); took > 2*interval {
				t.Fatalf("the source was next polled %v after its holder died, want within %v", took, 2*interval)
			}
		})
	}
}
