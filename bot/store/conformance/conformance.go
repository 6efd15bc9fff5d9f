// Package conformance is the behaviour contract of bulletinbot's stores,
// written once against the interfaces their users declare (bot.Store,
// poller.Store, delivery.Store, delivery.Intake, staff.Store, …) and run
// against every implementation: one call per consumer runs its whole
// contract, e.g.
//
//	conformance.RunDelivery(t, func(t *testing.T, now func() time.Time) *store.Redis {
//		return store.NewRedis(storetest.Redis(t), store.WithClock(now))
//	})
//
// A suite opens a fresh, empty store for every test and hands it a Clock
// (see Clock), which tests of expiry, retention and pruning move forward
// instead of sleeping. Expiry that Redis itself keeps (a key's TTL) follows
// Redis's clock; the tests of it wait for it, with a margin.
package conformance

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/staff"
	"github.com/bulletinbot/bulletinbot/poller"
)

// Open makes a fresh, empty store for test t that reads the time from now
// (store.WithClock). It closes what it opens when t ends.
type Open[S any] func(t *testing.T, now func() time.Time) S

// Clock is the time a suite gives its store: the wall clock moved forward
// by whatever the test advanced. Following the wall clock keeps a store's
// own timestamps in step with the expiries Redis keeps on its own clock.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the wall clock plus every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// DeliveryStore is what the delivery engine needs of a store: the
// engine's state, the pacing of replies, the poller's queue it reads and
// the poller's side that fills it.
type DeliveryStore interface {
	delivery.Store
	delivery.ReplyStore
	delivery.Intake
	poller.Store
}

// StaffStore is what the staff tools need, with the delivery engine's part
// they drive.
type StaffStore interface {
	staff.Store
	DeliveryStore
}

// PollerStore is what the poller and the readers of its records need: the
// bot's /latest, the staff's burst notices and source health, and the
// queue of new publications the delivery engine reads.
type PollerStore interface {
	poller.Store
	delivery.Intake
	bot.PublicationReader
	staff.BurstStore
	// SourceHealth is staff.Store's view of every source.
	SourceHealth(ctx context.Context) (map[string]poller.Health, error)
}

// RunPoller runs the contract of poller.Store with what reads its records.
func RunPoller[S PollerStore](t *testing.T, open Open[S]) {
	t.Helper()
	t.Run("Publications", func(t *testing.T) {
		testPublicationStore(t, func(t *testing.T) PollerStore { return open(t, (&Clock{}).Now) })
	})
	runTests(t, func(t *testing.T, now func() time.Time) PollerStore { return open(t, now) }, pollerTests, nil)
}

// RunDelivery runs the contract of delivery.Store, delivery.ReplyStore and
// delivery.Intake.
func RunDelivery[S DeliveryStore](t *testing.T, open Open[S]) {
	t.Helper()
	runTests(t, func(t *testing.T, now func() time.Time) DeliveryStore { return open(t, now) }, deliveryTests, deliveryClockTests)
}

// RunStaff runs the contract of staff.Store.
func RunStaff[S StaffStore](t *testing.T, open Open[S]) {
	t.Helper()
	runTests(t, func(t *testing.T, now func() time.Time) StaffStore { return open(t, now) }, staffTests, nil)
}

// RunBot runs the contract of bot.Store: update offsets, leases and
// webhook update marks.
func RunBot[S bot.Store](t *testing.T, open Open[S]) {
	t.Helper()
	runTests(t, func(t *testing.T, now func() time.Time) bot.Store { return open(t, now) }, botTests, nil)
}

// runTests runs each test on a fresh store with a clock of its own.
func runTests[T any](t *testing.T, open func(*testing.T, func() time.Time) T, tests []storeTest[T], clockTests []clockTest[T]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t, (&Clock{}).Now)) })
	}
	for _, tc := range clockTests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{}
			tc.run(t, open(t, c.Now), c)
		})
	}
}

// t0 is a fixed moment the tests' records carry.
var t0 = time.Date(2017, 10, 17, 10, 32, 0, 0, time.UTC)

// recordPubs is one poll of source through poller.Store.RecordPoll,
// returning what it queued for announcement.
func recordPubs(ctx context.Context, s poller.Store, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error) {
	done, err := s.RecordPoll(ctx, poller.Recording{Source: source, Pubs: pubs, Validators: v, Now: now})
	return done.Queued, err
}
