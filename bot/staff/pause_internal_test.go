package staff

import (
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

func TestWorthTelling(t *testing.T) {
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    delivery.Pause
		want bool
	}{
		{"a 429 of a few seconds", delivery.Pause{Reason: delivery.PauseFlood, Since: now, Until: now.Add(5 * time.Second)}, false},
		{"a 429 of a day", delivery.Pause{Reason: delivery.PauseFlood, Since: now, Until: now.Add(24 * time.Hour)}, true},
		{"a 429 of the previous release, short", delivery.Pause{Reason: delivery.PauseFlood, Until: now.Add(time.Second)}, false},
		{"an outage just begun", delivery.Pause{Reason: delivery.PauseOutage, Since: now.Add(-10 * time.Second), Until: now.Add(5 * time.Second), Probe: true}, false},
		{"an outage of two minutes", delivery.Pause{Reason: delivery.PauseOutage, Since: now.Add(-2 * time.Minute), Until: now.Add(time.Minute), Probe: true}, true},
		{"a refused token, at once", delivery.Pause{Reason: delivery.PauseUnauthorized, Since: now, Until: now.Add(5 * time.Second), Probe: true}, true},
		{"a gone storm, at once", delivery.Pause{Reason: delivery.PauseGoneStorm, Since: now, Until: now.Add(time.Second)}, true},
	}
	for _, tt := range tests {
		if got := worthTelling(tt.p, now); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
