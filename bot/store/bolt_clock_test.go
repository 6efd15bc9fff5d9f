package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/poller"
)

// TestBoltExpiresOnItsClock moves the embedded store's clock past each
// expiry it keeps itself (on Redis they are key TTLs, on Redis's clock):
// nothing sleeps.
func TestBoltExpiresOnItsClock(t *testing.T) {
	ctx := context.Background()
	c := &conformance.Clock{}
	s := boltAt(t, c.Now)

	if err := s.SaveDraft(ctx, "d1", []byte("draft"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAwaiting(ctx, 7, []byte("next"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AcquireLease(ctx, "intake", "a", time.Hour); err != nil || !ok {
		t.Fatalf("AcquireLease: got %v, %v; want true", ok, err)
	}
	if first, err := s.MarkUpdate(ctx, 1, time.Hour); err != nil || !first {
		t.Fatalf("MarkUpdate: got %v, %v; want true", first, err)
	}
	if err := s.PauseSends(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}

	c.Advance(59 * time.Minute)
	if _, ok, err := s.Draft(ctx, "d1"); err != nil || !ok {
		t.Fatalf("Draft before its expiry: got %v, %v; want it", ok, err)
	}
	if ok, err := s.AcquireLease(ctx, "intake", "b", time.Hour); err != nil || ok {
		t.Fatalf("AcquireLease by another before the expiry: got %v, %v; want false", ok, err)
	}
	if first, err := s.MarkUpdate(ctx, 1, time.Hour); err != nil || first {
		t.Fatalf("MarkUpdate again before the expiry: got %v, %v; want false", first, err)
	}
	if d, err := s.SendPause(ctx); err != nil || d <= 0 || d > time.Minute {
		t.Fatalf("SendPause a minute before its end: got %v, %v; want at most a minute", d, err)
	}

	c.Advance(2 * time.Minute)
	if _, ok, err := s.Draft(ctx, "d1"); err != nil || ok {
		t.Fatalf("Draft after its expiry: got %v, %v; want none", ok, err)
	}
	if _, ok, err := s.TakeAwaiting(ctx, 7); err != nil || ok {
		t.Fatalf("TakeAwaiting after its expiry: got %v, %v; want none", ok, err)
	}
	if ok, err := s.AcquireLease(ctx, "intake", "b", time.Hour); err != nil || !ok {
		t.Fatalf("AcquireLease by another after the expiry: got %v, %v; want true", ok, err)
	}
	if first, err := s.MarkUpdate(ctx, 1, time.Hour); err != nil || !first {
		t.Fatalf("MarkUpdate after the mark expired: got %v, %v; want true", first, err)
	}
	if d, err := s.SendPause(ctx); err != nil || d != 0 {
		t.Fatalf("SendPause after its end: got %v, %v; want none", d, err)
	}
}

// TestBoltRetentionOnItsClock: an announcement is kept 30 days and a day's
// staff counters 8 days on the embedded store's clock (Redis expires both
// as keys).
func TestBoltRetentionOnItsClock(t *testing.T) {
	ctx := context.Background()
	c := &conformance.Clock{}
	s := boltAt(t, c.Now)
	conformance.AddAnnouncement(t, s, "b-1")
	day := c.Now().UTC().Format(time.DateOnly)
	if err := s.AddStaffCounters(ctx, day, map[string]int64{"sent": 3}); err != nil {
		t.Fatal(err)
	}

	c.Advance(29 * 24 * time.Hour)
	if _, err := s.Announcement(ctx, "b-1"); err != nil {
		t.Fatalf("Announcement after 29 days: %v, want it kept", err)
	}
	// Counters are dropped only when a later day's are written.
	if got, err := s.StaffCounters(ctx, day); err != nil || got["sent"] != 3 {
		t.Fatalf("counters before any later write: got %v, %v; want sent 3", got, err)
	}
	if err := s.AddStaffCounters(ctx, c.Now().UTC().Format(time.DateOnly), map[string]int64{"sent": 1}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.StaffCounters(ctx, day); err != nil || len(got) != 0 {
		t.Fatalf("counters of a day 29 days back after a later write: got %v, %v; want them dropped", got, err)
	}

	c.Advance(2 * 24 * time.Hour)
	if _, err := s.Announcement(ctx, "b-1"); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("Announcement after 31 days: got %v, want ErrNotFound", err)
	}
}

// TestBoltBurstsExpireOnItsClock: a held burst is kept 7 days on the
// embedded store's clock, then neither listed nor released.
func TestBoltBurstsExpireOnItsClock(t *testing.T) {
	ctx := context.Background()
	c := &conformance.Clock{}
	s := boltAt(t, c.Now)
	const src = "https://example.org/burst"
	conformance.Record(t, s, poller.Recording{Source: src, Pubs: conformance.Numbered("old", 3, t0), Now: t0, BurstLimit: 20})
	pubs := append(conformance.Numbered("new", 25, t0.Add(time.Hour)), conformance.Numbered("old", 3, t0)...)
	done := conformance.Record(t, s, poller.Recording{Source: src, Pubs: pubs, Now: t0.Add(time.Hour), BurstLimit: 20, BurstNewest: 5})
	if done.Burst == nil {
		t.Fatal("25 new items at once: no burst held")
	}
	c.Advance(6 * 24 * time.Hour)
	if bs, err := s.Bursts(ctx); err != nil || len(bs) != 1 {
		t.Fatalf("Bursts after 6 days: got %+v, %v; want the one held", bs, err)
	}
	c.Advance(2 * 24 * time.Hour)
	if bs, err := s.Bursts(ctx); err != nil || len(bs) != 0 {
		t.Fatalf("Bursts after 8 days: got %+v, %v; want none", bs, err)
	}
	if _, ok, released, err := s.ReleaseBurst(ctx, done.Burst.ID); err != nil || ok || released {
		t.Fatalf("ReleaseBurst after 8 days: got ok %v, released %v, %v; want an expired burst left alone", ok, released, err)
	}
}
