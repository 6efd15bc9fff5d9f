// Package wait holds the waits that bot's loops share: a sleep that ends
// with its context, jitter, and capped exponential backoff. It sits under
// bot/internal so that bot, bot/delivery and bot/staff pace their retries
// alike and nothing outside bot depends on it.
package wait

import (
	"context"
	"math/rand/v2"
	"time"
)

// Sleep waits d or until ctx ends, and reports whether ctx is still live.
// A d of zero or less does not wait.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Jitter spreads d uniformly over [0.8d, 1.2d) so that replicas and
// retries do not move in step; float rounding can make the top 1.2d
// itself. A d of zero or less is returned as it is.
//
// Why ±20% for every wait: it is what the delivery engine already used
// for the retry times it writes into the queue, the waits users feel, so
// sending keeps its timing; it is wide enough to pull apart replicas that
// started together within a few rounds, and narrow enough that no pause
// comes much sooner than asked. The intake's ±25% had no reason of its own.
func Jitter(d time.Duration) time.Duration { return spread(d, rand.Float64()) }

// spread is Jitter with its random number r in [0, 1) given.
func spread(d time.Duration, r float64) time.Duration {
	if d <= 0 {
		return d
	}
	return time.Duration(float64(d) * (0.8 + 0.4*r))
}

// Capped returns the pause before attempt (counted from 1) of a capped
// exponential schedule: base, 2·base, 4·base... but never more than
// ceiling. An attempt below 1 counts as the first.
func Capped(base, ceiling time.Duration, attempt int) time.Duration {
	if attempt <= 1 || base <= 0 || base >= ceiling {
		return min(base, ceiling)
	}
	// Stopping once doubling would reach ceiling keeps a long run of
	// failures from looping per attempt or overflowing.
	d := base
	for range attempt - 1 {
		if d >= ceiling-d {
			return ceiling
		}
		d *= 2
	}
	return d
}

// Backoff paces a loop that keeps failing. Next counts a failure and
// returns Base, 2·Base, 4·Base... up to Max, each jittered as Jitter does;
// Reset starts over after a success. A Max below Base means Base every
// time, so a configured base is never cut down. The zero Backoff never
// waits.
type Backoff struct {
	Base, Max time.Duration
	// Rand returns a number in [0, 1) to jitter with; nil means
	// math/rand/v2's. Tests set it to make Next deterministic.
	Rand func() float64

	n int
}

// Next counts a failure and returns the pause before the next attempt.
func (b *Backoff) Next() time.Duration {
	b.n++
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return spread(Capped(b.Base, max(b.Max, b.Base), b.n), r())
}

// Failures reports how many failures Next has counted since the last Reset.
func (b *Backoff) Failures() int { return b.n }

// Reset starts the schedule over at Base.
func (b *Backoff) Reset() { b.n = 0 }
