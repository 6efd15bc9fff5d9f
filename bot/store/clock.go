package store

import "time"

// Option configures a store when it is opened.
type Option func(*options)

type options struct {
	clock func() time.Time
}

// WithClock makes the store read the time from now instead of time.Now:
// every timestamp it writes (joins, pauses, expiries, retention cut-offs,
// day counters) and every expiry it checks comes from it, so tests move the
// clock instead of sleeping. Two things stay on other clocks on purpose:
// waiting (the block of Lease and NextPublications) is real time, since a
// caller waits on a timer, not on a timestamp; and Redis heartbeats use
// Redis's own TIME, so replicas with skewed clocks agree on who is alive
// (see redis_liveness.go).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.clock = now }
}

func applyOptions(opts []Option) options {
	o := options{clock: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	return o
}

// now is the store's clock: time.Now unless WithClock replaced it.
func (r *Redis) now() time.Time { return r.clock() }

// now is the store's clock: time.Now unless WithClock replaced it.
func (b *Bolt) now() time.Time { return b.clock() }
