package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// A Lease that blocks for new deliveries returns a retry when it comes due,
// not when its block runs out: nothing announces a retry's due time, so
// the wait must not outlast it. The block is an hour; the retry is due in
// 200 ms.
func testDeliveryLeaseWakesForDueRetry(t *testing.T, s DeliveryStore) {
	{
		ctx := context.Background()
		a := AddAnnouncement(t, s, "b-1")
		Queue(t, s, a, 1)
		held := Lease(t, s, "c1", 1, 0)
		next := held[0]
		next.ID, next.Attempt = "", 1
		if err := s.Finish(ctx, []delivery.Result{{Delivery: held[0], Outcome: delivery.Requeued, Next: next,
			At: time.Now().Add(200 * time.Millisecond), Retry: true}}, time.Now()); err != nil {
			t.Fatal(err)
		}
		got := make(chan []delivery.Delivery, 1)
		go func() {
			ds, err := s.Lease(ctx, "c1", 10, time.Hour, 0)
			if err != nil {
				t.Error(err)
			}
			got <- ds
		}()
		select {
		case ds := <-got:
			if len(ds) != 1 || ds[0].ChatID != 1 || ds[0].Attempt != 1 {
				t.Fatalf("got %+v, want the retry of chat 1", ds)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a Lease blocking for an hour still waits 30s after the retry came due")
		}
	}
}

// Backlog counts deliveries queued or leased, not those put aside for a
// retry, and not those finished.
func testDeliveryBacklog(t *testing.T, s DeliveryStore) {
	{
		ctx := context.Background()
		backlog := func(want int64) {
			t.Helper()
			if n, err := s.Backlog(ctx); err != nil || n != want {
				t.Fatalf("Backlog: got %d, %v; want %d", n, err, want)
			}
		}
		backlog(0)
		a := AddAnnouncement(t, s, "b-1")
		Queue(t, s, a, 1, 2, 3)
		backlog(3)
		held := Lease(t, s, "c1", 2, 0)
		backlog(3)
		next := held[1]
		next.ID, next.Attempt = "", 1
		if err := s.Finish(ctx, []delivery.Result{
			{Delivery: held[0], Outcome: delivery.Sent, MessageID: 7},
			{Delivery: held[1], Outcome: delivery.Requeued, Next: next, At: time.Now().Add(time.Hour), Retry: true},
		}, time.Now()); err != nil {
			t.Fatal(err)
		}
		backlog(1)
	}
}
