package staff

import (
	"testing"
	"time"
)

// TestStampNamesTheZone: staff times are in the configured zone, named.
func TestStampNamesTheZone(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	for _, tt := range []struct {
		zone string
		at   time.Time
		want string
	}{
		{"Europe/London", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), "02.12.2026 09:00 GMT"},
		{"Europe/London", time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC), "02.07.2026 10:00 BST"},
		{"Asia/Dubai", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), "02.12.2026 13:00 +04 (Asia/Dubai)"},
	} {
		s := &Staff{p: Params{Location: load(tt.zone)}}
		if got := s.stamp(tt.at); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.zone, got, tt.want)
		}
	}
}
