package fetch

import (
	"math/rand/v2"
	"time"
)

// Backoff defaults applied to zero fields.
const (
	DefaultBackoffBase   = 30 * time.Second
	DefaultBackoffMax    = time.Hour
	DefaultMaxRetryAfter = 24 * time.Hour
)

// Backoff spaces out the retries of a failing source: capped exponential
// growth with jitter, so many sources failing together (one host down) do
// not retry in lockstep. The zero value uses the defaults and equal jitter.
type Backoff struct {
	Base time.Duration // first delay; default 30s
	Max  time.Duration // cap on the exponential part; default 1h
	// FullJitter draws the delay from [0, d) instead of [d/2, d). Full
	// jitter spreads load best; equal jitter (the default) keeps a floor so
	// a broken source is never hammered.
	FullJitter bool
	// MaxRetryAfter caps a server's Retry-After so a bogus header cannot
	// silence a source for weeks; default 24h.
	MaxRetryAfter time.Duration
	// Rand returns a number in [0, 1); default math/rand/v2.Float64.
	Rand func() float64
}

// Delay is the wait before the next attempt after failures consecutive
// failures (n >= 1; smaller counts as 1). A retryAfter the server asked for
// wins when it is longer, up to MaxRetryAfter; it may exceed Max.
func (b Backoff) Delay(failures int, retryAfter time.Duration) time.Duration {
	base, ceil, raCap := b.Base, b.Max, b.MaxRetryAfter
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if ceil <= 0 {
		ceil = DefaultBackoffMax
	}
	ceil = max(ceil, base)
	if raCap <= 0 {
		raCap = DefaultMaxRetryAfter
	}
	failures = max(failures, 1)

	d := ceil
	// base<<n stays below ceil, so it cannot overflow.
	if n := failures - 1; n < 63 && base <= ceil>>n {
		d = base << n
	}

	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	r := rnd()
	if !(r >= 0) { // also catches NaN
		r = 0
	}
	r = min(r, 1)
	if b.FullJitter {
		d = time.Duration(float64(d) * r)
	} else {
		half := d / 2
		d = half + time.Duration(float64(d-half)*r)
	}

	if ra := min(retryAfter, raCap); ra > d {
		d = ra
	}
	return d
}
