package subscriptions

import (
	"errors"
	"testing"
	"time"
)

func TestPrefsStoredFormRoundTrips(t *testing.T) {
	for _, p := range []Prefs{
		{},
		{Quiet: true, QuietFrom: 1380, QuietTo: 420},
		{Digest: true, DigestAt: 0},
		{Zone: "Etc/GMT+3", Thread: 12345},
		{Quiet: true, QuietFrom: 0, QuietTo: 1, Digest: true, DigestAt: 1439, Zone: "Europe/Moscow", Thread: 1},
	} {
		got, err := ParsePrefs(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePrefs(%q): got %+v, %v, want %+v", p.String(), got, err, p)
		}
	}
	// A later release's setting is read past.
	if got, err := ParsePrefs("d60,x-new"); err != nil || got != (Prefs{Digest: true, DigestAt: 60}) {
		t.Errorf("unknown part: got %+v, %v", got, err)
	}
	// A zone of "Local" (the host's), once accepted, reads as the default
	// and is no longer accepted.
	if got, err := ParsePrefs("q1380-420,zLocal"); err != nil || got != (Prefs{Quiet: true, QuietFrom: 1380, QuietTo: 420}) || got.Check() != nil {
		t.Errorf("zLocal: got %+v, %v", got, err)
	}
	if err := (Prefs{Zone: "Local"}).Check(); !errors.Is(err, ErrBadPrefs) {
		t.Errorf("Check of the zone Local: got %v, want ErrBadPrefs", err)
	}
	for _, bad := range []string{",", "q1-", "qa-b", "d1440", "d-1", "tx", "q0-1440"} {
		if _, err := ParsePrefs(bad); !errors.Is(err, ErrBadPrefs) {
			t.Errorf("ParsePrefs(%q): got %v, want ErrBadPrefs", bad, err)
		}
	}
}

func FuzzParsePrefs(f *testing.F) {
	f.Add("q1380-420,d480,zEurope/London,t5")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefs(s)
		if err != nil {
			return
		}
		again, err := ParsePrefs(p.String())
		if err != nil || again != p {
			t.Fatalf("%q: round trip of %+v gave %+v, %v", s, p, again, err)
		}
	})
}

func TestPrefsQuietAndDigest(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	night := Prefs{Quiet: true, QuietFrom: 23 * 60, QuietTo: 7 * 60}
	day := Prefs{Quiet: true, QuietFrom: 9 * 60, QuietTo: 17 * 60}
	moscowNight := Prefs{Quiet: true, QuietFrom: 23 * 60, QuietTo: 7 * 60, Zone: "Europe/Moscow"}
	for _, c := range []struct {
		p    Prefs
		at   string // UTC
		want bool
	}{
		{Prefs{}, "2026-07-01T02:00:00Z", false},
		{night, "2026-07-01T21:59:00Z", false}, // 22:59 BST
		{night, "2026-07-01T22:00:00Z", true},  // 23:00 BST
		{night, "2026-07-02T05:59:00Z", true},  // 06:59 BST
		{night, "2026-07-02T06:00:00Z", false}, // 07:00 BST
		{night, "2026-01-02T06:30:00Z", true},  // 06:30 GMT
		{day, "2026-01-02T12:00:00Z", true},
		{day, "2026-01-02T17:00:00Z", false},
		{moscowNight, "2026-01-02T21:00:00Z", true}, // 00:00 MSK, 21:00 London
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := c.p.InQuiet(at, london); got != c.want {
			t.Errorf("%+v.InQuiet(%s): got %v, want %v", c.p, c.at, got, c.want)
		}
	}
	d := Prefs{Digest: true, DigestAt: 8 * 60}
	for _, c := range []struct{ after, want string }{
		{"2026-07-01T06:59:00Z", "2026-07-01T07:00:00Z"}, // 08:00 BST
		{"2026-07-01T07:00:00Z", "2026-07-02T07:00:00Z"},
		{"2026-03-28T09:00:00Z", "2026-03-29T07:00:00Z"}, // the clocks go forward overnight
	} {
		after, _ := time.Parse(time.RFC3339, c.after)
		want, _ := time.Parse(time.RFC3339, c.want)
		if got := d.NextDigest(after, london); !got.Equal(want) {
			t.Errorf("NextDigest(%s): got %v, want %v", c.after, got.UTC(), want)
		}
	}
	if err := (Prefs{Quiet: true, QuietFrom: 60, QuietTo: 60}).Check(); !errors.Is(err, ErrBadPrefs) {
		t.Errorf("empty quiet hours: got %v, want ErrBadPrefs", err)
	}
}
