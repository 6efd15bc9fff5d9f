package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

// TestRedisChatKeyOfPreviousRelease: a chat reserved by the previous
// release (value "1", the end only in its expiry) still holds deliveries
// and replies back until it expires.
func TestRedisChatKeyOfPreviousRelease(t *testing.T) {
	rdb := storetest.Redis(t)
	s := store.NewRedis(rdb)
	ctx := context.Background()
	if err := rdb.Set(ctx, "bb:{dlv}:chat:51", "1", 800*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	w, err := s.ReserveChat(ctx, 51, time.Second, 1, time.Now())
	if err != nil || w < 500*time.Millisecond || w > 800*time.Millisecond {
		t.Fatalf("reply behind an old reservation: got wait %v, %v; want its remaining time", w, err)
	}
	conformance.Queue(t, s, conformance.AddAnnouncement(t, s, "old-chat"), 51)
	ds := conformance.Lease(t, s, "c1", 10, 0)
	ready, _, err := s.Begin(ctx, "c1", ds, conformance.Gaps, time.Now())
	if err != nil || len(ready) != 0 {
		t.Fatalf("Begin behind an old reservation: got %d ready, %v; want it put aside", len(ready), err)
	}
	if ds, err := s.Lease(ctx, "c1", 10, -1, 0); err != nil || len(ds) != 0 {
		t.Fatalf("Lease right after: got %d, %v; want nothing due before the reservation ends", len(ds), err)
	}
}
