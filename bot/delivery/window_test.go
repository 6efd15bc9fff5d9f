package delivery

import (
	"testing"
	"time"
)

func TestWindowCountsTheLastTenSeconds(t *testing.T) {
	var w window
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		w.add(t0.Add(time.Duration(i)*time.Millisecond), classOK)
	}
	if total, same := w.add(t0.Add(5*time.Second), classGone); total != 11 || same != 1 {
		t.Fatalf("got %d sends, %d gone; want 11 and 1", total, same)
	}
	// Eleven seconds on, the first ten have left the window.
	if total, same := w.add(t0.Add(11*time.Second), classGone); total != 2 || same != 2 {
		t.Fatalf("got %d sends, %d gone; want 2 and 2", total, same)
	}
	w.reset()
	if total, _ := w.add(t0.Add(12*time.Second), classOK); total != 1 {
		t.Fatalf("after reset: got %d sends, want 1", total)
	}
}

func TestWindowKeepsItsLatestSends(t *testing.T) {
	var w window
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for range windowCap {
		w.add(t0, classGone)
	}
	var total, same int
	for range windowCap / 2 {
		total, same = w.add(t0, classOK)
	}
	if total != windowCap || same != windowCap/2 {
		t.Fatalf("got %d sends, %d ok; want %d and %d", total, same, windowCap, windowCap/2)
	}
}

func TestMostly(t *testing.T) {
	tests := []struct {
		total, same, least int
		want               bool
	}{
		{20, 11, 20, true},
		{20, 10, 20, false}, // half is not over half
		{19, 19, 20, false}, // too few to tell
		{5, 3, 5, true},
		{4, 4, 5, false},
	}
	for _, tt := range tests {
		if got := mostly(tt.total, tt.same, tt.least); got != tt.want {
			t.Errorf("mostly(%d, %d, %d) = %v, want %v", tt.total, tt.same, tt.least, got, tt.want)
		}
	}
}
