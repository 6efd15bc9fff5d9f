package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

// blockedReads counts the connections of rdb's database blocked in
// XREADGROUP.
func blockedReads(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	list, err := rdb.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	db := "db=" + strconv.Itoa(rdb.Options().DB)
	n := 0
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if containsAll(f, db, "cmd=xreadgroup") && strings.Contains(fieldValue(f, "flags="), "b") {
			n++
		}
	}
	return n
}

func containsAll(fields []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, f := range fields {
			found = found || f == w
		}
		if !found {
			return false
		}
	}
	return true
}

func fieldValue(fields []string, prefix string) string {
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, prefix); ok {
			return v
		}
	}
	return ""
}

// waitBlocked waits until n reads of rdb's database are blocked in Redis.
func waitBlocked(t *testing.T, rdb *redis.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for blockedReads(t, rdb) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d reads blocked in Redis after 10s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A blocking read of the delivery queue or of the poller's announcements
// ends when its context does, not when its block runs out: go-redis does
// not interrupt a command under way, so the store unblocks it in Redis. The
// read is seen blocked in Redis first; it blocks for an hour, and the test
// fails long before that if the cancel does not end it.
func TestRedisBlockingReadsEndWithTheirContext(t *testing.T) {
	t.Parallel()
	rdb := storetest.Redis(t)
	s := store.NewRedis(rdb)
	for _, tc := range []struct {
		name string
		read func(ctx context.Context) (int, error)
	}{
		{"Lease", func(ctx context.Context) (int, error) {
			ds, err := s.Lease(ctx, "c1", 10, time.Hour, 0)
			return len(ds), err
		}},
		{"NextPublications", func(ctx context.Context) (int, error) {
			evs, err := s.NextPublications(ctx, "c1", 10, time.Hour, 0)
			return len(evs), err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for round := range 3 { // the connection is reused, and unblocked each time
				ctx, cancel := context.WithCancel(context.Background())
				type result struct {
					n   int
					err error
				}
				done := make(chan result, 1)
				go func() {
					n, err := tc.read(ctx)
					done <- result{n, err}
				}()
				waitBlocked(t, rdb, 1)
				cancel()
				select {
				case r := <-done:
					if r.n != 0 {
						t.Fatalf("round %d: got %d entries from an empty stream", round, r.n)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("round %d: the read blocked for an hour still runs 30s after its context ended", round)
				}
				if n := blockedReads(t, rdb); n != 0 {
					t.Fatalf("round %d: %d reads still blocked in Redis", round, n)
				}
			}
		})
	}
	// A read whose context has ended does not block at all.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Lease(ctx, "c1", 10, time.Hour, 0); err == nil {
		t.Fatal("Lease with an ended context: got no error")
	}
}

// On a server that refuses CLIENT (an ACL without it, a managed service
// that renamed it), a blocking read still works, and still ends soon after
// its context does: it blocks in short steps instead.
func TestRedisBlockingReadsWithoutClientCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := storetest.Redis(t)
	user := "bb-noclient-" + strconv.Itoa(rdb.Options().DB)
	if err := rdb.Do(ctx, "ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all", "-client").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Do(context.Background(), "ACL", "DELUSER", user) })
	o := *rdb.Options()
	o.Username, o.Password = user, "pw"
	limited := redis.NewClient(&o)
	t.Cleanup(func() { limited.Close() })
	if err := limited.ClientID(ctx).Err(); err == nil {
		t.Fatal("CLIENT ID allowed to a user without CLIENT")
	}
	s := store.NewRedis(limited)
	a := conformance.AddAnnouncement(t, s, "b-1")
	conformance.Queue(t, s, a, 1)
	if ds, err := s.Lease(ctx, "c1", 10, time.Hour, 0); err != nil || len(ds) != 1 {
		t.Fatalf("Lease: got %+v, %v; want chat 1", ds, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := s.Lease(cctx, "c1", 10, time.Hour, 0)
		done <- err
	}()
	waitBlocked(t, rdb, 1)
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the read blocked for an hour still runs 30s after its context ended")
	}
}
