package staff

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// CounterStore keeps the daily counters every replica adds to.
type CounterStore interface {
	// AddStaffCounters adds deltas to the counters of day (YYYY-MM-DD).
	AddStaffCounters(ctx context.Context, day string, deltas map[string]int64) error
	// StaffCounters returns the counters of day.
	StaffCounters(ctx context.Context, day string) (map[string]int64, error)
}

// Names of the daily counters.
const (
	counterSent  = "sent"
	counterFlood = "flood" // 429 answers
)

// DefaultFlushEvery is how often Counters writes to the store.
const DefaultFlushEvery = time.Second

// CountersParams configure Counters. Zero fields get defaults.
type CountersParams struct {
	FlushEvery time.Duration  // default DefaultFlushEvery
	Location   *time.Location // whose days are counted; default UTC
	Logger     *slog.Logger
	Now        func() time.Time
}

// Counters is a delivery.Observer that counts messages sent and 429s for
// /stats, shared by every replica: it adds up in memory and writes the
// sums to the store about once a second, so that a pipeline of thousands
// of sends a second pays one store call a second. Tee it with the metrics
// observer; Run must run for the counts to reach the store.
type Counters struct {
	store CounterStore
	p     CountersParams
	sent  atomic.Int64
	flood atomic.Int64
}

var _ delivery.Observer = (*Counters)(nil)

// NewCounters returns Counters writing to store.
func NewCounters(store CounterStore, p CountersParams) *Counters {
	setDefault(&p.FlushEvery, DefaultFlushEvery)
	if p.Location == nil {
		p.Location = time.UTC
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &Counters{store: store, p: p}
}

// SendDone implements delivery.Observer: a "sent" result counts.
func (c *Counters) SendDone(result string, _ time.Duration) {
	if result == "sent" {
		c.sent.Add(1)
	}
}

// Paused implements delivery.Observer: each 429 counts.
func (c *Counters) Paused(time.Duration) { c.flood.Add(1) }

// Retried implements delivery.Observer.
func (c *Counters) Retried() {}

// DeadLettered implements delivery.Observer; dead letters are counted by
// the delivery store itself.
func (c *Counters) DeadLettered() {}

// Run writes the counts every FlushEvery until ctx ends, then once more,
// and returns nil.
func (c *Counters) Run(ctx context.Context) error {
	t := time.NewTicker(c.p.FlushEvery)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.Flush(fctx); err != nil {
				c.p.Logger.Warn("counts lost at shutdown", slog.Any("error", err))
			}
			return nil
		case <-t.C:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				failures++
				if failures == 1 || failures%60 == 0 {
					c.p.Logger.Warn("cannot write staff counters; keeping them for the next try", slog.Any("error", err), slog.Int("failures", failures))
				}
			} else {
				failures = 0
			}
		}
	}
}

// Flush writes the counts gathered since the last flush to today's
// counters. On failure they are kept for the next flush.
func (c *Counters) Flush(ctx context.Context) error {
	sent, flood := c.sent.Swap(0), c.flood.Swap(0)
	if sent == 0 && flood == 0 {
		return nil
	}
	deltas := map[string]int64{}
	if sent != 0 {
		deltas[counterSent] = sent
	}
	if flood != 0 {
		deltas[counterFlood] = flood
	}
	if err := c.store.AddStaffCounters(ctx, day(c.p.Now(), c.p.Location), deltas); err != nil {
		c.sent.Add(sent)
		c.flood.Add(flood)
		return err
	}
	return nil
}

// day names t's day in loc, as the counters are keyed.
func day(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// Tee returns an observer that tells each of observers, for wiring
// Counters beside the metrics.
func Tee(observers ...delivery.Observer) delivery.Observer { return tee(observers) }

type tee []delivery.Observer

func (t tee) SendDone(result string, latency time.Duration) {
	for _, o := range t {
		o.SendDone(result, latency)
	}
}

func (t tee) Paused(d time.Duration) {
	for _, o := range t {
		o.Paused(d)
	}
}

func (t tee) Retried() {
	for _, o := range t {
		o.Retried()
	}
}

func (t tee) DeadLettered() {
	for _, o := range t {
		o.DeadLettered()
	}
}
