package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
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
