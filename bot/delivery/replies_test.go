package delivery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

type replyStore interface {
	delivery.ReplyStore
	delivery.Store
}

func forEachReplyStore(t *testing.T, test func(t *testing.T, s replyStore)) {
	t.Run("redis", func(t *testing.T) { test(t, store.NewRedis(storetest.Redis(t))) })
	t.Run("bolt", func(t *testing.T) {
		b, err := store.OpenBolt(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		test(t, b)
	})
}

func newReplies(t *testing.T, p delivery.RepliesParams) *delivery.Replies {
	t.Helper()
	r, err := delivery.NewReplies(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRepliesComeBeforeFanouts: while replies wait for tokens, a sender
// taking tokens as the engine does (its burst, as fast as it is let) gets
// almost none; fair sharing would give it half.
func TestRepliesComeBeforeFanouts(t *testing.T) {
	forEachReplyStore(t, func(t *testing.T, s replyStore) {
		const rate, replies = 20, 30
		r := newReplies(t, delivery.RepliesParams{Store: s, Rate: rate, Gaps: &delivery.Gaps{}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		type grant struct{ before, after time.Time }
		var (
			mu   sync.Mutex
			bulk []grant
		)
		var fanout sync.WaitGroup
		fanout.Go(func() {
			for ctx.Err() == nil {
				before := time.Now()
				n, wait, err := s.AllowSends(ctx, rate, delivery.RateBurst(rate), 1)
				if err != nil {
					return
				}
				if n == 0 {
					time.Sleep(wait) // as the engine waits
					continue
				}
				mu.Lock()
				bulk = append(bulk, grant{before, time.Now()})
				mu.Unlock()
			}
		})
		time.Sleep(200 * time.Millisecond) // the fan-out is under way: its tokens are spent as they accrue

		start := time.Now()
		var wg sync.WaitGroup
		for i := range replies {
			wg.Go(func() {
				if err := r.Take(ctx, int64(1000+i), false); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		end := time.Now()
		cancel()
		fanout.Wait()

		// Grants certainly made while replies were waiting.
		during := 0
		for _, g := range bulk {
			if !g.before.Before(start) && g.after.Before(end) {
				during++
			}
		}
		t.Logf("%d replies took %v; the fan-out got %d tokens meanwhile", replies, end.Sub(start).Round(time.Millisecond), during)
		if during*4 >= replies {
			t.Fatalf("the fan-out got %d tokens while %d replies waited, want under a quarter of theirs", during, replies)
		}
	})
}

// TestRepliesKeepChatLimits: a chat gets one message a gap, a private
// chat's and a group's; time is measured from before the first call, so
// that the gap is the least the wait can be.
func TestRepliesKeepChatLimits(t *testing.T) {
	forEachReplyStore(t, func(t *testing.T, s replyStore) {
		ctx := context.Background()
		gaps := delivery.Gaps{Private: 200 * time.Millisecond, Group: 400 * time.Millisecond}
		r := newReplies(t, delivery.RepliesParams{Store: s, Rate: 1000, Gaps: &gaps})
		for chat, gap := range map[int64]time.Duration{21: gaps.Private, -1001: gaps.Group} {
			start := time.Now()
			for range 2 {
				if err := r.Take(ctx, chat, false); err != nil {
					t.Fatal(err)
				}
			}
			// The store keeps reservations in whole milliseconds.
			if took := time.Since(start); took < gap-time.Millisecond {
				t.Errorf("chat %d: second message let go %v after the first, want at least %v", chat, took, gap)
			}
		}
	})
}

// TestRepliesWaitOutShortPauses: a 429 pause in force holds replies back;
// one longer than MaxWait makes them give up at once.
func TestRepliesWaitOutShortPauses(t *testing.T) {
	forEachReplyStore(t, func(t *testing.T, s replyStore) {
		ctx := context.Background()
		r := newReplies(t, delivery.RepliesParams{Store: s, Rate: 1000, MaxWait: time.Second, Gaps: &delivery.Gaps{}})
		start := time.Now()
		if err := r.Paused(ctx, 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := r.Take(ctx, 31, false); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 290*time.Millisecond {
			t.Errorf("reply went %v after a 300ms pause began, want after it", took)
		}
		if err := r.Paused(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := r.Take(ctx, 31, false); !errors.Is(err, delivery.ErrPaused) {
			t.Fatalf("Take during a minute's pause: got %v, want ErrPaused", err)
		}
		// Staff's chats are served through the pause, still paced.
		if err := r.Take(ctx, 32, true); err != nil {
			t.Fatalf("Take through the pause: got %v, want the message let go", err)
		}
	})
}
