package wait

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleep(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want bool
		took time.Duration
	}{
		{"full wait", context.Background(), time.Hour, true, time.Hour},
		{"zero live", context.Background(), 0, true, 0},
		{"negative live", context.Background(), -time.Second, true, 0},
		{"zero cancelled", cancelled, 0, false, 0},
		{"cancelled before", cancelled, time.Hour, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bubble's fake clock makes an hour pass at once and
			// measures exactly how long Sleep waited.
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				if got := Sleep(tt.ctx, tt.d); got != tt.want {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				if got := time.Since(start); got != tt.took {
					t.Errorf("waited %v, want %v", got, tt.took)
				}
			})
		})
	}
}

func TestSleepReturnsWhenCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		done := make(chan bool)
		go func() { done <- Sleep(ctx, time.Hour) }()
		synctest.Wait() // Sleep is blocked on its timer and ctx
		select {
		case got := <-done:
			t.Fatalf("Sleep returned %v before the cancel", got)
		default:
		}
		cancel()
		if got := <-done; got {
			t.Errorf("got %v, want false", got)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("waited %v, want 0", got)
		}
	})
}

func TestSpread(t *testing.T) {
	tests := []struct {
		d    time.Duration
		r    float64
		want time.Duration
	}{
		{10 * time.Second, 0, 8 * time.Second},
		{10 * time.Second, 0.5, 10 * time.Second},
		{10 * time.Second, 0.25, 9 * time.Second},
		{10 * time.Second, 0.75, 11 * time.Second},
		// 1.2d by float rounding, never more.
		{10 * time.Second, math.Nextafter(1, 0), 12 * time.Second},
		{0, 0.5, 0},
		{-time.Second, 0.5, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := spread(tt.d, tt.r); got != tt.want {
				t.Errorf("spread(%v, %v): got %v, want %v", tt.d, tt.r, got, tt.want)
			}
		})
	}
}

func TestJitterStaysInSpread(t *testing.T) {
	const d = time.Second
	for range 1000 {
		if got := Jitter(d); got < d*8/10 || got > d*12/10 {
			t.Fatalf("got %v, want in [%v, %v]", got, d*8/10, d*12/10)
		}
	}
}

func TestCapped(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name          string
		base, ceiling time.Duration
		attempt       int
		want          time.Duration
	}{
		{"first", 100 * ms, 5 * time.Second, 1, 100 * ms},
		{"zero attempt", 100 * ms, 5 * time.Second, 0, 100 * ms},
		{"negative attempt", 100 * ms, 5 * time.Second, -3, 100 * ms},
		{"second", 100 * ms, 5 * time.Second, 2, 200 * ms},
		{"sixth", 100 * ms, 5 * time.Second, 6, 3200 * ms},
		{"seventh capped", 100 * ms, 5 * time.Second, 7, 5 * time.Second},
		{"doubling lands on ceiling", time.Second, 4 * time.Second, 3, 4 * time.Second},
		{"base above ceiling", time.Minute, time.Second, 1, time.Second},
		{"base above ceiling later", time.Minute, time.Second, 5, time.Second},
		{"zero base", 0, time.Second, 50, 0},
		{"huge attempt", time.Nanosecond, math.MaxInt64, math.MaxInt, math.MaxInt64},
		{"huge attempt small ceiling", time.Second, time.Minute, math.MaxInt, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Capped(tt.base, tt.ceiling, tt.attempt); got != tt.want {
				t.Errorf("Capped(%v, %v, %d): got %v, want %v", tt.base, tt.ceiling, tt.attempt, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	const ms = time.Millisecond
	middle := func() float64 { return 0.5 } // no jitter: factor 1
	tests := []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{
			name: "delivery loops",
			b:    Backoff{Base: 100 * ms, Max: 5 * time.Second, Rand: middle},
			want: []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5 * time.Second, 5 * time.Second},
		},
		{
			name: "intake",
			b:    Backoff{Base: time.Second, Max: 30 * time.Second, Rand: middle},
			want: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second},
		},
		{
			name: "base above max is kept",
			b:    Backoff{Base: 45 * time.Second, Max: 30 * time.Second, Rand: middle},
			want: []time.Duration{45 * time.Second, 45 * time.Second, 45 * time.Second},
		},
		{
			name: "jitter low end",
			b:    Backoff{Base: time.Second, Max: 4 * time.Second, Rand: func() float64 { return 0 }},
			want: []time.Duration{800 * ms, 1600 * ms, 3200 * ms, 3200 * ms},
		},
		{
			name: "zero",
			b:    Backoff{Rand: middle},
			want: []time.Duration{0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			for i, want := range tt.want {
				if got := b.Next(); got != want {
					t.Errorf("Next() #%d: got %v, want %v", i+1, got, want)
				}
				if got := b.Failures(); got != i+1 {
					t.Errorf("Failures() after #%d: got %d, want %d", i+1, got, i+1)
				}
			}
			b.Reset()
			if got := b.Failures(); got != 0 {
				t.Errorf("Failures() after Reset: got %d, want 0", got)
			}
			if got, want := b.Next(), tt.want[0]; got != want {
				t.Errorf("Next() after Reset: got %v, want %v", got, want)
			}
		})
	}
}

func TestBackoffDefaultRandStaysInSpread(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Second}
	for range 1000 {
		if got := b.Next(); got < 800*time.Millisecond || got > 1200*time.Millisecond {
			t.Fatalf("got %v, want in [800ms, 1.2s]", got)
		}
	}
}
