package fetch_test

import (
	"math"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

func constRand(r float64) func() float64 { return func() float64 { return r } }

func TestBackoffGrowsAndCaps(t *testing.T) {
	// Rand 1 puts the delay at the top of its range: the un-jittered value.
	b := fetch.Backoff{Base: time.Second, Max: time.Minute, Rand: constRand(1)}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i, w := range want {
		n := i + 1
		if got := b.Delay(n, 0); got != w*time.Second {
			t.Errorf("Delay(%d): got %v, want %v", n, got, w*time.Second)
		}
	}
	for _, n := range []int{63, 64, 1000, math.MaxInt} {
		if got := b.Delay(n, 0); got != time.Minute {
			t.Errorf("Delay(%d): got %v, want the cap %v", n, got, time.Minute)
		}
	}
	if got := b.Delay(0, 0); got != time.Second {
		t.Errorf("Delay(0): got %v, want %v (as the first failure)", got, time.Second)
	}
}

func TestBackoffJitter(t *testing.T) {
	tests := []struct {
		name string
		full bool
		rand float64
		want time.Duration // for failures=3, base 1s: un-jittered 4s
	}{
		{name: "equal low", rand: 0, want: 2 * time.Second},
		{name: "equal mid", rand: 0.5, want: 3 * time.Second},
		{name: "equal high", rand: 1, want: 4 * time.Second},
		{name: "full low", full: true, rand: 0, want: 0},
		{name: "full mid", full: true, rand: 0.25, want: time.Second},
		{name: "full high", full: true, rand: 1, want: 4 * time.Second},
		{name: "rand out of range clamped", rand: 7, want: 4 * time.Second},
		{name: "rand NaN clamped", rand: math.NaN(), want: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fetch.Backoff{Base: time.Second, Max: time.Hour, FullJitter: tt.full, Rand: constRand(tt.rand)}
			if got := b.Delay(3, 0); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackoffRetryAfter(t *testing.T) {
	b := fetch.Backoff{Base: time.Second, Max: time.Minute, Rand: constRand(1)}
	tests := []struct {
		name       string
		failures   int
		retryAfter time.Duration
		want       time.Duration
	}{
		{name: "smaller ignored", failures: 3, retryAfter: time.Second, want: 4 * time.Second},
		{name: "larger honoured", failures: 3, retryAfter: 10 * time.Second, want: 10 * time.Second},
		{name: "beyond Max honoured", failures: 1, retryAfter: 2 * time.Hour, want: 2 * time.Hour},
		{name: "absurd capped at 24h", failures: 1, retryAfter: 30 * 24 * time.Hour, want: 24 * time.Hour},
		{name: "saturated header capped", failures: 1, retryAfter: time.Duration(math.MaxInt64), want: 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.Delay(tt.failures, tt.retryAfter); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	custom := fetch.Backoff{Base: time.Second, Max: time.Minute, MaxRetryAfter: time.Hour, Rand: constRand(1)}
	if got := custom.Delay(1, 5*time.Hour); got != time.Hour {
		t.Errorf("custom MaxRetryAfter: got %v, want %v", got, time.Hour)
	}
}

func TestBackoffZeroValue(t *testing.T) {
	var b fetch.Backoff
	for n := 1; n <= 20; n++ {
		got := b.Delay(n, 0)
		if got < fetch.DefaultBackoffBase/2 || got > fetch.DefaultBackoffMax {
			t.Errorf("Delay(%d): got %v, want within [%v, %v]", n, got, fetch.DefaultBackoffBase/2, fetch.DefaultBackoffMax)
		}
	}
	if got := b.Delay(20, 0); got < fetch.DefaultBackoffMax/2 {
		t.Errorf("Delay(20): got %v, want at least half the cap %v", got, fetch.DefaultBackoffMax)
	}
}
