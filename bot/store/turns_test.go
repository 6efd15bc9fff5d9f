package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

// TestRedisPollTurns: of concurrent claims of a due source exactly one
// wins; the others learn when it is due; a scheduled turn holds until its
// time; a claim whose holder never schedules lapses after its hold.
func TestRedisPollTurns(t *testing.T) {
	ctx := context.Background()
	r := NewRedis(storetest.Redis(t))
	const src, hold = "https://example.org/feed", 10 * time.Second
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			mine, due, err := r.ClaimPoll(ctx, src, now, hold)
			if err != nil {
				t.Errorf("ClaimPoll: %v", err)
				return
			}
			if mine {
				won.Add(1)
			} else if !due.Equal(now.Add(hold)) {
				t.Errorf("a lost claim says due %v, want %v", due, now.Add(hold))
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d concurrent claims won, want 1", won.Load())
	}
	if mine, _, _ := r.ClaimPoll(ctx, src, now.Add(hold-time.Millisecond), hold); mine {
		t.Fatal("claimed before the hold lapsed")
	}
	if mine, _, _ := r.ClaimPoll(ctx, src, now.Add(hold), hold); !mine {
		t.Fatal("not claimed once the hold lapsed")
	}
	next := now.Add(hold + time.Minute)
	if err := r.SchedulePoll(ctx, src, now.Add(hold), next); err != nil {
		t.Fatal(err)
	}
	if mine, due, _ := r.ClaimPoll(ctx, src, next.Add(-time.Second), hold); mine || !due.Equal(next) {
		t.Fatalf("claim before the scheduled time = %v, due %v; want refused, due %v", mine, due, next)
	}
	if mine, _, _ := r.ClaimPoll(ctx, "https://example.org/other", now, hold); !mine {
		t.Fatal("another source's turn is held by this one's")
	}
}

// TestBoltPollTurnsAreAlwaysMine: the embedded store has one process.
func TestBoltPollTurnsAreAlwaysMine(t *testing.T) {
	b, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	now := time.Now()
	for range 3 {
		if mine, _, err := b.ClaimPoll(ctx, "s", now, time.Minute); err != nil || !mine {
			t.Fatalf("ClaimPoll = %v, %v; want the turn every time", mine, err)
		}
		if err := b.SchedulePoll(ctx, "s", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}
