package delivery

import (
	"testing"
	"time"
)

func TestHoldsConfirmASecondAnswerAfterTheHold(t *testing.T) {
	h := holds{since: map[int64]time.Time{}}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const hold = holdConfirms / 2
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, false},        // first answer: held
		{hold / 2, false}, // too soon to confirm, first kept
		{hold, true},      // a hold after the first: removed
		{hold + time.Second, false},
		{2*hold + holdConfirms + 2*time.Second, false}, // the earlier answer is too old to confirm this one
		{3*hold + holdConfirms + 2*time.Second, true},
	}
	for _, s := range steps {
		if got := h.confirm(7, t0.Add(s.at), hold); got != s.want {
			t.Fatalf("at %v: got %v, want %v", s.at, got, s.want)
		}
	}
}

func TestHoldsForgetStaleChats(t *testing.T) {
	h := holds{since: map[int64]time.Time{}}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for c := range int64(holdsPrune) {
		h.confirm(c, t0, time.Second)
	}
	h.confirm(-1, t0.Add(2*holdConfirms), time.Second)
	if len(h.since) != 1 {
		t.Fatalf("got %d chats held, want only the fresh one", len(h.since))
	}
}

func TestHoldsClearedByAStorm(t *testing.T) {
	h := holds{since: map[int64]time.Time{}}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	h.confirm(7, t0, time.Second)
	h.clear()
	if h.confirm(7, t0.Add(2*time.Second), time.Second) {
		t.Fatal("an answer from before a storm confirmed one after it, want it forgotten")
	}
}
