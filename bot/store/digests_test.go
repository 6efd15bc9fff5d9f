package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

func TestDigestScheduleRedis(t *testing.T) {
	testDigestSchedule(t, NewRedis(storetest.Redis(t)))
}

func TestDigestScheduleBolt(t *testing.T) { testDigestSchedule(t, subOpenBolt(t)) }

func testDigestSchedule(t *testing.T, st bot.DigestStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for id, due := range map[int64]time.Time{-100: t0, 7: t0.Add(-time.Hour), 8: t0.Add(time.Minute), 9: t0} {
		if err := st.ScheduleDigest(ctx, id, due); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ScheduleDigest(ctx, 9, time.Time{}); err != nil { // turned off
		t.Fatal(err)
	}
	claim := func(now time.Time, n int) []bot.DueDigest {
		t.Helper()
		got, err := st.ClaimDigests(ctx, now, 5*time.Minute, n)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := claim(t0, 1)
	if want := []bot.DueDigest{{ChatID: 7, Due: t0.Add(-time.Hour)}}; !slices.Equal(got, want) {
		t.Fatalf("first claim: got %v, want %v", got, want)
	}
	got = claim(t0, 10)
	if want := []bot.DueDigest{{ChatID: -100, Due: t0}}; !slices.Equal(got, want) {
		t.Fatalf("second claim: got %v, want %v (7 is leased, 8 not due, 9 dropped)", got, want)
	}
	if got := claim(t0.Add(4*time.Minute), 10); len(got) != 1 || got[0].ChatID != 8 {
		t.Fatalf("claim at +4m: got %v, want 8 alone", got)
	}
	// A lease that ends unrescheduled (the replica died) is claimed again.
	got = claim(t0.Add(6*time.Minute), 10)
	if want := []bot.DueDigest{{ChatID: -100, Due: t0.Add(5 * time.Minute)}, {ChatID: 7, Due: t0.Add(5 * time.Minute)}}; !slices.Equal(got, want) {
		t.Fatalf("claim after the lease: got %v, want %v", got, want)
	}
}
