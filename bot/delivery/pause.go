package delivery

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// PauseReason says why all sending is paused.
type PauseReason string

// The reasons for a pause of all sending.
const (
	// PauseFlood: Telegram answered 429; the pause lasts its retry_after.
	PauseFlood PauseReason = "flood"
	// PauseOutage: most recent sends failed the same transient way (5xx,
	// timeouts, connection errors): Telegram, or the way to it, is down.
	PauseOutage PauseReason = "outage"
	// PauseUnauthorized: Telegram refused the bot token (401).
	PauseUnauthorized PauseReason = "unauthorized"
	// PauseGoneStorm: over half of a window of sends answered that the
	// chat is gone, which real users never do at once.
	PauseGoneStorm PauseReason = "gone_storm"
)

// Pause is a stop of all sending, shared by every replica.
type Pause struct {
	Reason PauseReason
	// Since is when the episode began: lengthening a pause, or renewing
	// it after a failed probe, keeps it. Zero for a pause written by a
	// release that did not record it.
	Since time.Time
	// Until is when the timed part ends: sending resumes then or, with
	// Probe, one probe may go.
	Until time.Time
	// Probe: once Until has passed, sending resumes only after a probe of
	// Telegram succeeds.
	Probe bool
}

// ID names the episode, for resuming it and for telling staff of it once.
func (p Pause) ID() string {
	return string(p.Reason) + "|" + strconv.FormatInt(p.Since.UnixMilli(), 10)
}

// Timed reports whether the timed part is still running at now.
func (p Pause) Timed(now time.Time) bool { return p.Until.After(now) }

// ParsePauseID splits an ID into its reason and start.
func ParsePauseID(id string) (PauseReason, time.Time, bool) {
	r, ms, ok := strings.Cut(id, "|")
	if !ok {
		return "", time.Time{}, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return PauseReason(r), time.UnixMilli(n).UTC(), true
}

// PauseStore keeps the pause of all sending, shared by every replica. The
// Redis and embedded stores implement it; every method is atomic.
type PauseStore interface {
	// CurrentPause returns the pause in force at now: a timed one, or a
	// probe still owed after one. ok is false when sending may go on.
	CurrentPause(ctx context.Context, now time.Time) (p Pause, ok bool, err error)
	// PauseSending starts a pause of p.Reason until p.Until, or lengthens
	// one of the same reason, keeping its Since; a longer pause in force
	// stays as it is. With p.Probe, a probe is owed after it, for at most
	// probeOwed (then sending resumes by itself, so that a bot with
	// nothing to send does not stay paused forever).
	PauseSending(ctx context.Context, p Pause, probeOwed time.Duration, now time.Time) error
	// ClaimProbe makes holder the one replica that probes Telegram, for
	// ttl; false when another holds the claim.
	ClaimProbe(ctx context.Context, holder string, ttl time.Duration) (bool, error)
	// ResumeSending ends the pause whose ID is id, timed part and owed
	// probe at once ("" ends any). It reports whether one was ended.
	ResumeSending(ctx context.Context, id string) (bool, error)
	// ClaimPauseNotice reports whether this call is the first to claim
	// telling staff of pause id; ReleasePauseNotice gives the claim back
	// when telling failed.
	ClaimPauseNotice(ctx context.Context, id string) (bool, error)
	ReleasePauseNotice(ctx context.Context, id string) error
}
