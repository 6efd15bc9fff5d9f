package delivery

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestFinishLingerGathersResults: with FinishLinger, results that arrive
// within it are recorded with the first, up to Workers; without, the batch
// is what had arrived.
func TestFinishLingerGathersResults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		linger time.Duration
		want   int
	}{
		{"off", 0, 1},
		{"within", 250 * time.Millisecond, 3}, // the next two, 100 and 200 ms after the first, join; the third does not
		{"capped", time.Hour, 4},              // Workers
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &sender{e: &Engine{p: Params{FinishLinger: tc.linger, Workers: 4}}, results: make(chan Result, 8)}
				done := make(chan struct{})
				go func() {
					defer close(done)
					for i := range 6 {
						time.Sleep(100 * time.Millisecond)
						s.results <- Result{Delivery: Delivery{ID: string(rune('a' + i))}}
					}
				}()
				first := <-s.results
				if got := s.linger([]Result{first}); len(got) != tc.want {
					t.Fatalf("got a batch of %d, want %d", len(got), tc.want)
				}
				<-done
			})
		})
	}
}
