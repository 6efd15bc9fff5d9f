package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/tg"
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
	// probeOwed (then sending resumes by itself, so that a store no
	// engine runs on does not stay paused forever), and the claim of the
	// last probe is freed.
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

// pauses is one engine's view of the shared pause: what the store said
// last, refreshed by pauseLoop at least every Params.PauseCheck, and
// re-read by the dispatcher whenever it believes sending is paused, so
// that a pause lifted anywhere is seen within PauseCheck.
type pauses struct {
	mu     sync.Mutex
	cur    Pause
	paused bool
	// probeFails counts this replica's failed probes in a row, for the
	// growing wait between them.
	probeFails int
	// gen counts this replica's own pauses, each before and after it is
	// written, and writing how many are under way: a read of the store
	// that overlaps one may not undo it.
	gen     uint64
	writing int
}

func (ps *pauses) generation() uint64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.gen
}

// set records what the store said to a read begun at generation gen,
// unless this replica paused meanwhile, and reports whether sending was
// paused before.
func (ps *pauses) set(p Pause, ok bool, gen uint64) (wasPaused, applied bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	wasPaused = ps.paused
	if gen != ps.gen || ps.writing > 0 {
		return wasPaused, false
	}
	ps.cur, ps.paused = p, ok
	if !ok {
		ps.probeFails = 0
	}
	return wasPaused, true
}

// suspect marks sending as paused until the store says otherwise.
func (ps *pauses) suspect() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.paused = true
	ps.gen++
}

// claim marks sending as paused for reason, a write of it under way, and
// reports whether this call did, rather than a concurrent send that saw
// the same: of the sends that meet an outage together, one pauses and
// tells. With force it always does (a 429 lengthens what is in force).
func (ps *pauses) claim(reason PauseReason, force bool) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if !force && ps.paused && ps.cur.Reason == reason {
		return false
	}
	ps.cur, ps.paused = Pause{Reason: reason}, true
	ps.gen++
	ps.writing++
	return true
}

// written ends a write claim began.
func (ps *pauses) written() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.gen++
	ps.writing--
}

func (ps *pauses) current() (Pause, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.cur, ps.paused
}

// Paused reports the pause of all sending in force, if any, as the store
// has it.
func (e *Engine) Paused(ctx context.Context) (Pause, bool, error) {
	p, ok, err := e.p.Store.CurrentPause(ctx, e.p.Now())
	if err != nil {
		return Pause{}, false, fmt.Errorf("delivery: current pause: %w", err)
	}
	return p, ok, nil
}

// Resume lifts the pause named id for every replica ("" lifts any) and
// reports whether there was one.
func (e *Engine) Resume(ctx context.Context, id string) (bool, error) {
	ok, err := e.p.Store.ResumeSending(ctx, id)
	if err != nil {
		return false, fmt.Errorf("delivery: resume: %w", err)
	}
	if ok {
		e.refreshPause(ctx)
	}
	return ok, nil
}

// pause stops all sending for d, for every replica, and reports whether
// this call did: unless force, a pause of the same reason this replica is
// already in stays as it is, and the caller need not tell of it again.
func (e *Engine) pause(ctx context.Context, reason PauseReason, d time.Duration, probe, force bool) bool {
	if !e.pauses.claim(reason, force) {
		return false
	}
	defer e.pauses.written()
	if probe {
		// Other replicas learn that a probe is owed from their own reads,
		// up to PauseCheck later; until then the timed part stops them.
		d = max(d, e.p.PauseCheck)
	}
	now := e.p.Now()
	p := Pause{Reason: reason, Until: now.Add(d), Probe: probe}
	if err := e.p.Store.PauseSending(ctx, p, e.probeOwed(), now); err != nil {
		// Each failing send tries again; until one succeeds, the
		// deliveries go on being retried with backoff.
		e.log.Error("cannot pause sending", slog.String("reason", string(reason)), slog.Any("error", err))
	}
	return true
}

// probeOwed is how long an owed probe stays owed when nobody probes: long
// past any wait between probes, so that only a store with no engine
// running lets it lapse.
func (e *Engine) probeOwed() time.Duration { return 10 * e.p.ProbeMax }

// refreshPause reads the pause from the store into e.pauses; when sending
// has resumed, the window of sends before it says nothing any more.
func (e *Engine) refreshPause(ctx context.Context) (Pause, bool) {
	now := e.p.Now()
	gen := e.pauses.generation()
	p, ok, err := e.p.Store.CurrentPause(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("cannot read the pause of sending", slog.Any("error", err))
		}
		return e.pauses.current()
	}
	was, applied := e.pauses.set(p, ok, gen)
	if !applied {
		return e.pauses.current()
	}
	if was && !ok {
		e.window.reset()
	}
	if ok && p.Reason == PauseGoneStorm {
		// Another replica's storm: answers given here during it confirm
		// no removal either.
		e.holding.clear()
	}
	return p, ok
}

// pausedFor returns how long to wait before sending is worth trying: zero
// when it is not paused, else at most PauseCheck, so that a lift is seen
// within it.
func (e *Engine) pausedFor(ctx context.Context) time.Duration {
	if _, ok := e.pauses.current(); !ok {
		return 0
	}
	p, ok := e.refreshPause(ctx)
	if !ok {
		return 0
	}
	if left := p.Until.Sub(e.p.Now()); left > 0 {
		return min(left, e.p.PauseCheck)
	}
	return e.p.PauseCheck // a probe is owed: pauseLoop makes it
}

// pauseLoop reads the pause every PauseCheck and, when a probe is owed,
// makes it if no other replica does.
func (e *Engine) pauseLoop(ctx context.Context) {
	for ctx.Err() == nil {
		p, ok := e.refreshPause(ctx)
		if ok && p.Probe && !p.Timed(e.p.Now()) {
			won, err := e.p.Store.ClaimProbe(ctx, e.p.ReplicaID, e.p.SendTimeout+e.p.PauseCheck)
			if err != nil && ctx.Err() == nil {
				e.log.Warn("cannot claim the probe of Telegram", slog.Any("error", err))
			}
			if won {
				e.probe(ctx, p)
				continue
			}
		}
		wait.Sleep(ctx, e.p.PauseCheck)
	}
}

// probe asks Telegram who the bot is: getMe costs no subscriber a message,
// needs no delivery at hand, and fails as every other call does while the
// token is refused or Telegram is down. Success lifts the pause for
// every replica; failure renews it for a longer wait.
func (e *Engine) probe(ctx context.Context, p Pause) {
	callCtx, cancel := context.WithTimeout(ctx, e.p.SendTimeout)
	_, err := e.p.Telegram.Call(callCtx, "getMe", nil)
	cancel()
	if ctx.Err() != nil {
		return
	}
	kind := tg.Classify(err)
	reason := PauseOutage
	switch kind {
	case tg.KindTransient, tg.KindRetryAfter:
	case tg.KindUnauthorized:
		reason = PauseUnauthorized
	default: // Telegram answers: whatever it said, it is there
		if _, err := e.p.Store.ResumeSending(ctx, p.ID()); err != nil {
			e.log.Error("cannot resume sending after a successful probe", slog.Any("error", err))
			return
		}
		lasted := time.Duration(0)
		if !p.Since.IsZero() {
			lasted = e.p.Now().Sub(p.Since).Round(time.Second)
		}
		e.log.Info("Telegram answers again: sending resumed", slog.String("reason", string(p.Reason)), slog.Duration("paused_for", lasted))
		e.refreshPause(ctx)
		return
	}
	e.pauses.mu.Lock()
	e.pauses.probeFails++
	n := e.pauses.probeFails
	e.pauses.mu.Unlock()
	d := wait.Jitter(wait.Capped(e.p.ProbeEvery, e.p.ProbeMax, n+1))
	e.log.Warn("probe of Telegram failed: sending stays paused", slog.String("reason", string(reason)), slog.Duration("next_probe", d), slog.Any("error", err))
	e.pause(ctx, reason, d, true, true)
}
