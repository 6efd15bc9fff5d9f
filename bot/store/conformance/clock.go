package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// The tests below move the store's clock (Clock.Advance) instead of
// sleeping: what they check is kept on the store's clock by both stores.
// Expiries Redis keeps as key TTLs (drafts, leases, update marks, the
// pause of all sending, burst notices) run on Redis's clock, which every
// replica shares; the embedded store's are tested by moving its clock in
// bot/store's own tests.

var deliveryClockTests = []clockTest[DeliveryStore]{
	{"RetryDueOnTheStoreClock", testRetryDueOnTheStoreClock},
}

// testRetryDueOnTheStoreClock: a retry put back for an hour is leased
// once the store's clock passes the hour, and not before.
func testRetryDueOnTheStoreClock(t *testing.T, s DeliveryStore, c *Clock) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1)
	ds := Lease(t, s, "c1", 10, 0)
	if _, _, err := s.Begin(ctx, "c1", ds, delivery.Gaps{}, c.Now()); err != nil {
		t.Fatal(err)
	}
	now := c.Now()
	retry := delivery.Result{Delivery: ds[0], Outcome: delivery.Requeued, Retry: true, At: now.Add(time.Hour),
		Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: 1, Attempt: 1}}
	if err := s.Finish(ctx, []delivery.Result{retry}, now); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	c.Advance(59 * time.Minute)
	if got := Lease(t, s, "c1", 10, 0); len(got) != 0 {
		t.Fatalf("a minute before the retry is due: got %+v, want nothing", got)
	}
	c.Advance(2 * time.Minute)
	got := Lease(t, s, "c1", 10, 0)
	if len(got) != 1 || got[0].ChatID != 1 || got[0].Attempt != 1 {
		t.Fatalf("after the retry is due: got %+v, want chat 1's second attempt", got)
	}
}

// testJoinedOnTheStoreClock: a subscriber saved without JoinedAt joins at
// the store's clock, and counts as joined within a week of it only.
func testJoinedOnTheStoreClock(t *testing.T, s subscriptions.Store, c *Clock) {
	ctx := context.Background()
	c.Advance(40 * 24 * time.Hour)
	joined := c.Now()
	if _, err := s.SaveSubscriber(ctx, subscriptions.Subscriber{ChatID: 5, Type: subscriptions.ChatPrivate, Language: "en", Categories: []string{"consular"}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Subscriber(ctx, 5)
	if err != nil || !ok || got.JoinedAt.Sub(joined).Abs() > time.Second {
		t.Fatalf("Subscriber: got %+v %v %v, want joined at the store's clock %v", got, ok, err, joined)
	}
	if n, err := s.SubscriberCounts(ctx, c.Now().Add(-7*24*time.Hour)); err != nil || n.Total != 1 || n.Joined != 1 {
		t.Fatalf("counts on the day: got %+v, %v; want 1 in all, 1 joined this week", n, err)
	}
	c.Advance(8 * 24 * time.Hour)
	if n, err := s.SubscriberCounts(ctx, c.Now().Add(-7*24*time.Hour)); err != nil || n.Total != 1 || n.Joined != 0 {
		t.Fatalf("counts 8 days on: got %+v, %v; want 1 in all, none joined this week", n, err)
	}
}
