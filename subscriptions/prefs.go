package subscriptions

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Prefs are a chat's alert settings beyond its categories. The zero value
// is the default: alerts as they come, no quiet hours, London time, the
// chat's main thread. Times of day are minutes after local midnight.
type Prefs struct {
	// Quiet, when set, makes every alert that is not urgent silent from
	// QuietFrom until QuietTo (which may be the next day).
	Quiet              bool
	QuietFrom, QuietTo int
	// Digest, when set, replaces the chat's publication alerts by one
	// message a day at DigestAt listing the day's publications.
	Digest   bool
	DigestAt int
	// Zone is the IANA zone of the times above; "" is the bot's default
	// (Europe/London).
	Zone string
	// Thread is the forum topic alerts go to (message_thread_id); 0 is the
	// chat itself.
	Thread int64
}

// localZone is the name time.LoadLocation gives the host's own zone.
const localZone = "Local"

// minutesPerDay bounds a time of day.
const minutesPerDay = 24 * 60

// ErrBadPrefs is matched by every error about a Prefs value.
var ErrBadPrefs = errors.New("subscriptions: bad alert settings")

// Check reports what is wrong with p, if anything. The zone must be known
// to the time package, and not be "Local": that is each host's own zone,
// so the chat's hours would move with the machine (and differ between
// replicas).
func (p Prefs) Check() error {
	for _, m := range []int{p.QuietFrom, p.QuietTo, p.DigestAt} {
		if m < 0 || m >= minutesPerDay {
			return fmt.Errorf("%w: time of day %d is not within a day", ErrBadPrefs, m)
		}
	}
	if p.Quiet && p.QuietFrom == p.QuietTo {
		return fmt.Errorf("%w: quiet hours start and end at the same time", ErrBadPrefs)
	}
	if p.Thread < 0 {
		return fmt.Errorf("%w: thread %d", ErrBadPrefs, p.Thread)
	}
	if p.Zone != "" {
		if strings.ContainsAny(p.Zone, ", \x00") || len(p.Zone) > 64 || p.Zone == localZone {
			return fmt.Errorf("%w: zone %q", ErrBadPrefs, p.Zone)
		}
		if _, err := time.LoadLocation(p.Zone); err != nil {
			return fmt.Errorf("%w: zone %q: %w", ErrBadPrefs, p.Zone, err)
		}
	}
	return nil
}

// Location returns the chat's zone, def when it has none or it cannot be
// loaded.
func (p Prefs) Location(def *time.Location) *time.Location {
	if p.Zone != "" {
		if loc, err := time.LoadLocation(p.Zone); err == nil {
			return loc
		}
	}
	return def
}

// InQuiet reports whether t falls in the chat's quiet hours.
func (p Prefs) InQuiet(t time.Time, def *time.Location) bool {
	if !p.Quiet || p.QuietFrom == p.QuietTo {
		return false
	}
	lt := t.In(p.Location(def))
	m := lt.Hour()*60 + lt.Minute()
	if p.QuietFrom < p.QuietTo {
		return m >= p.QuietFrom && m < p.QuietTo
	}
	return m >= p.QuietFrom || m < p.QuietTo // across midnight
}

// NextDigest returns the first digest time strictly after t, in the chat's
// zone; a local time skipped by a clock change goes at the time.Date
// normalisation of it (an hour later).
func (p Prefs) NextDigest(t time.Time, def *time.Location) time.Time {
	loc := p.Location(def)
	lt := t.In(loc)
	for d := 0; d < 3; d++ {
		c := time.Date(lt.Year(), lt.Month(), lt.Day()+d, p.DigestAt/60, p.DigestAt%60, 0, 0, loc)
		if c.After(t) {
			return c
		}
	}
	return t.Add(24 * time.Hour) // not reached: a day always has the time
}

// String packs p into the stored form both stores keep: comma-separated
// "q<from>-<to>", "d<at>", "z<zone>", "t<thread>", each only when set; the
// default is "". Neither spaces nor commas can occur inside a part.
func (p Prefs) String() string {
	var parts []string
	if p.Quiet {
		parts = append(parts, "q"+strconv.Itoa(p.QuietFrom)+"-"+strconv.Itoa(p.QuietTo))
	}
	if p.Digest {
		parts = append(parts, "d"+strconv.Itoa(p.DigestAt))
	}
	if p.Zone != "" {
		parts = append(parts, "z"+p.Zone)
	}
	if p.Thread != 0 {
		parts = append(parts, "t"+strconv.FormatInt(p.Thread, 10))
	}
	return strings.Join(parts, ",")
}

// ParsePrefs reads String's form. A part it does not know is skipped, so
// that a later release may add settings an earlier one reads past.
func ParsePrefs(s string) (Prefs, error) {
	var p Prefs
	if s == "" {
		return p, nil
	}
	bad := func() (Prefs, error) { return Prefs{}, fmt.Errorf("%w: stored form %q", ErrBadPrefs, s) }
	for part := range strings.SplitSeq(s, ",") {
		if part == "" {
			return bad()
		}
		v := part[1:]
		switch part[0] {
		case 'q':
			from, to, ok := strings.Cut(v, "-")
			f, err1 := strconv.Atoi(from)
			t, err2 := strconv.Atoi(to)
			if !ok || err1 != nil || err2 != nil {
				return bad()
			}
			p.Quiet, p.QuietFrom, p.QuietTo = true, f, t
		case 'd':
			at, err := strconv.Atoi(v)
			if err != nil {
				return bad()
			}
			p.Digest, p.DigestAt = true, at
		case 'z':
			// "Local", which Check accepted at first, reads as the
			// default zone, so that such a chat can still be saved.
			if v != localZone {
				p.Zone = v
			}
		case 't':
			th, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return bad()
			}
			p.Thread = th
		}
	}
	if p.QuietFrom < 0 || p.QuietFrom >= minutesPerDay || p.QuietTo < 0 || p.QuietTo >= minutesPerDay ||
		p.DigestAt < 0 || p.DigestAt >= minutesPerDay {
		return bad()
	}
	return p, nil
}

// ParseClock reads "HH:MM" (or "H:MM") as minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a time of day HH:MM", ErrBadPrefs, s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// FormatClock writes minutes after midnight as "HH:MM".
func FormatClock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
