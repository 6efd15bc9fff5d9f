package delivery

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeLiveness records when each call came, on the bubble's clock, and
// fails heartbeats while down.
type fakeLiveness struct {
	mu       sync.Mutex
	start    time.Time
	down     bool
	beats    []time.Duration
	takeOver []time.Duration
	departed []string
}

func (f *fakeLiveness) Heartbeat(context.Context, string, time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("store down")
	}
	f.beats = append(f.beats, time.Since(f.start))
	return nil
}

func (f *fakeLiveness) TakeOver(context.Context) (Takeover, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.takeOver = append(f.takeOver, time.Since(f.start))
	return Takeover{}, nil
}

func (f *fakeLiveness) Depart(_ context.Context, replica string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.departed = append(f.departed, replica)
	return nil
}

func (f *fakeLiveness) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakeLiveness) calls() (beats, takeOvers []time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.beats...), append([]time.Duration(nil), f.takeOver...)
}

// TestHeartbeatPaceAndTrustAfterOutage drives the heartbeat on a fake
// clock: a beat every 2 s and a look for dead replicas every second from
// the start; after the store was unreachable, beats resume at once but no
// work is taken over for one TTL, the time every other replica needs to
// beat again.
func TestHeartbeatPaceAndTrustAfterOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeLiveness{start: time.Now()}
		e := &Engine{p: Params{Liveness: f, ReplicaID: "r1", HeartbeatEvery: 2 * time.Second, HeartbeatTTL: 10 * time.Second}}
		e.log = slog.New(slog.DiscardHandler)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.heartbeat(ctx)
		}()

		time.Sleep(4500 * time.Millisecond)
		synctest.Wait()
		beats, looks := f.calls()
		if want := []time.Duration{0, 2 * time.Second, 4 * time.Second}; !slices.Equal(beats, want) {
			t.Fatalf("beats: got %v, want %v", beats, want)
		}
		if want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}; !slices.Equal(looks, want) {
			t.Fatalf("takeovers: got %v, want every second from the start %v", looks, want)
		}

		f.setDown(true) // from 4.5 s: the beat at 6 s fails, and those after
		time.Sleep(4 * time.Second)
		f.setDown(false) // at 8.5 s: the next beat, at 9 s, works
		time.Sleep(12 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		beats, looks = f.calls()
		if want := []time.Duration{0, 2 * time.Second, 4 * time.Second, 9 * time.Second, 11 * time.Second, 13 * time.Second, 15 * time.Second, 17 * time.Second, 19 * time.Second}; !slices.Equal(beats, want) {
			t.Fatalf("beats around the outage: got %v, want %v", beats, want)
		}
		var after []time.Duration
		for _, l := range looks {
			if l > 4*time.Second {
				after = append(after, l)
			}
		}
		// Down from 6 s to 9 s: the looks at 5 s (before the failed beat)
		// then none until 9 s + the 10 s TTL.
		if want := []time.Duration{5 * time.Second, 19 * time.Second, 20 * time.Second}; !slices.Equal(after, want) {
			t.Fatalf("takeovers after 4 s: got %v, want %v", after, want)
		}
	})
}
