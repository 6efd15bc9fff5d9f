package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
)

func testUpdateOffsetNeverGoesBack(t *testing.T, s bot.Store) {
	ctx := context.Background()
	steps := []struct {
		save int64
		want int64
	}{{0, 0}, {10, 10}, {11, 11}, {5, 11}, {11, 11}, {1 << 40, 1 << 40}}
	for _, st := range steps {
		if st.save != 0 {
			if err := s.SaveOffset(ctx, st.save); err != nil {
				t.Fatalf("SaveOffset(%d): %v", st.save, err)
			}
		}
		got, err := s.Offset(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != st.want {
			t.Fatalf("after SaveOffset(%d): got %v, want %v", st.save, got, st.want)
		}
	}
}

func testUpdateLeaseHasOneHolder(t *testing.T, s bot.Store) {
	ctx := context.Background()
	const ttl = time.Minute
	check := func(what string, got bool, err error, want bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
	ok, err := s.AcquireLease(ctx, "poll", "a", ttl)
	check("a acquires a free lease", ok, err, true)
	ok, err = s.AcquireLease(ctx, "poll", "b", ttl)
	check("b acquires a's lease", ok, err, false)
	ok, err = s.AcquireLease(ctx, "poll", "a", ttl)
	check("a acquires its own lease again", ok, err, true)
	ok, err = s.AcquireLease(ctx, "other", "b", ttl)
	check("b acquires another lease", ok, err, true)
	ok, err = s.RenewLease(ctx, "poll", "a", ttl)
	check("a renews", ok, err, true)
	ok, err = s.RenewLease(ctx, "poll", "b", ttl)
	check("b renews a's lease", ok, err, false)
	if err := s.ReleaseLease(ctx, "poll", "b"); err != nil {
		t.Fatal(err)
	}
	ok, err = s.AcquireLease(ctx, "poll", "b", ttl)
	check("b acquires after releasing what it did not hold", ok, err, false)
	if err := s.ReleaseLease(ctx, "poll", "a"); err != nil {
		t.Fatal(err)
	}
	ok, err = s.RenewLease(ctx, "poll", "a", ttl)
	check("a renews a released lease", ok, err, false)
	ok, err = s.AcquireLease(ctx, "poll", "b", ttl)
	check("b acquires the released lease", ok, err, true)
}

func testUpdateLeaseExpires(t *testing.T, s bot.Store) {
	ctx := context.Background()
	// The lease runs from some moment inside AcquireLease, which may
	// spend longer than the ttl writing to disk: the clock starts before
	// the call, so that the ttl is measured from no later than its start.
	start := time.Now()
	if ok, err := s.AcquireLease(ctx, "poll", "a", 20*time.Millisecond); err != nil || !ok {
		t.Fatalf("a acquires: got %v, %v, want true", ok, err)
	}
	for {
		ok, err := s.AcquireLease(ctx, "poll", "b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the lease never expired")
		}
		time.Sleep(5 * time.Millisecond) // waiting for the expiry under test
	}
	if time.Since(start) < 10*time.Millisecond {
		t.Fatalf("b took the lease after %v, before a's ttl ran out", time.Since(start))
	}
	if ok, err := s.RenewLease(ctx, "poll", "a", time.Minute); err != nil || ok {
		t.Fatalf("a renews an expired lease now b's: got %v, %v, want false", ok, err)
	}
}

func testUpdateLeaseConcurrentAcquire(t *testing.T, s bot.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 16 {
		wg.Go(func() {
			ok, err := s.AcquireLease(ctx, "poll", fmt.Sprint("r", i), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("got %d holders, want 1", winners)
	}
}

func testUpdateMarkedOnce(t *testing.T, s bot.Store) {
	ctx := context.Background()
	mark := func(id int64, want bool) {
		t.Helper()
		got, err := s.MarkUpdate(ctx, id, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("MarkUpdate(%d): got %v, want %v", id, got, want)
		}
	}
	mark(100, true)
	mark(100, false)
	mark(101, true)
	if err := s.ForgetUpdate(ctx, 100); err != nil {
		t.Fatal(err)
	}
	mark(100, true)
	mark(100, false)
	mark(101, false)

	// Concurrent deliveries of one update: exactly one is first.
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for range 16 {
		wg.Go(func() {
			ok, err := s.MarkUpdate(ctx, 555, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firsts != 1 {
		t.Fatalf("concurrent MarkUpdate: %d firsts, want 1", firsts)
	}
}

func testUpdateMarkExpires(t *testing.T, s bot.Store) {
	ctx := context.Background()
	if ok, err := s.MarkUpdate(ctx, 7, 20*time.Millisecond); err != nil || !ok {
		t.Fatalf("first mark: got %v, %v, want true", ok, err)
	}
	start := time.Now()
	for {
		ok, err := s.MarkUpdate(ctx, 7, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the mark never expired")
		}
		time.Sleep(5 * time.Millisecond) // waiting for the expiry under test
	}
	// Expired marks of older updates are pruned as new ones arrive, and
	// pruning never forgets a live mark.
	for id := int64(1000); id < 1010; id++ {
		if ok, err := s.MarkUpdate(ctx, id, time.Hour); err != nil || !ok {
			t.Fatalf("MarkUpdate(%d): got %v, %v, want true", id, ok, err)
		}
	}
	if ok, err := s.MarkUpdate(ctx, 7, time.Hour); err != nil || ok {
		t.Fatalf("live mark after pruning: got %v, %v, want false", ok, err)
	}
}

func testUpdateStoreHonoursContext(t *testing.T, s bot.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Offset(ctx); err == nil {
		t.Error("Offset on a cancelled context: got nil error")
	}
	if err := s.SaveOffset(ctx, 1); err == nil {
		t.Error("SaveOffset on a cancelled context: got nil error")
	}
	if _, err := s.AcquireLease(ctx, "p", "a", time.Second); err == nil {
		t.Error("AcquireLease on a cancelled context: got nil error")
	}
}
