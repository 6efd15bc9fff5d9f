package poller

import (
	"context"
	"log/slog"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// Turns shares the polling of each source between the replicas on one
// store, so that a source is fetched once per interval however many run:
// each source has a next-due time in the store, and the replica that claims
// a due source polls it and sets its next due time. A claim holds the
// source for one interval, so when its holder dies mid-poll, another replica
// takes over within two intervals. Times are the replicas' own clocks: a
// skew between them of a small part of the interval changes nothing.
type Turns interface {
	// ClaimPoll claims source's turn if it is due at now, holding it until
	// now+hold; otherwise it returns when the source is next due. Of
	// concurrent claims of a due source exactly one succeeds.
	ClaimPoll(ctx context.Context, source string, now time.Time, hold time.Duration) (mine bool, due time.Time, err error)
	// SchedulePoll makes source due next at next.
	SchedulePoll(ctx context.Context, source string, now, next time.Time) error
}

// healthReader gives the polling health that other replicas stored, so that
// the replica taking a source's turn carries its history on (failure count,
// last new item) instead of starting it afresh. *store.Redis and
// *store.Bolt provide it.
type healthReader interface {
	SourceHealth(ctx context.Context) (map[string]Health, error)
}

// turn polls src if it is this replica's turn and returns how long to wait
// before looking again.
func (p *Poller) turn(ctx context.Context, src Source) time.Duration {
	if p.p.Turns == nil {
		_, err := p.Poll(ctx, src)
		return p.nextDelay(src.URL, err)
	}
	now := p.p.Now()
	mine, due, err := p.p.Turns.ClaimPoll(ctx, src.URL, now, p.p.Interval)
	if err != nil {
		if ctx.Err() == nil {
			p.p.Logger.Warn("claim a poll turn failed", slog.String("source", redact.URL(src.URL)), slog.Any("error", err))
		}
		// The store is unreachable, so a poll could not be recorded
		// either: look again soon.
		return p.spread(min(p.p.Interval, p.p.Backoff.Base))
	}
	if !mine {
		// Wake just after it is due; the spread keeps the replicas from
		// all asking at the same instant.
		return max(due.Sub(now), 0) + p.spread(p.p.Interval/50)
	}
	p.adoptHealth(ctx, src.URL)
	_, err = p.Poll(ctx, src)
	delay := p.nextDelay(src.URL, err)
	end := p.p.Now()
	if err := p.p.Turns.SchedulePoll(ctx, src.URL, end, end.Add(delay)); err != nil && ctx.Err() == nil {
		// The claim's hold still keeps the others off for one interval.
		p.p.Logger.Warn("schedule the next poll failed", slog.String("source", redact.URL(src.URL)), slog.Any("error", err))
	}
	return delay
}

// spread returns d scaled by a factor in [0.5, 1).
func (p *Poller) spread(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + 0.5*p.p.Jitter()))
}

// adoptHealth takes the stored health of source when another replica
// polled it after this one did.
func (p *Poller) adoptHealth(ctx context.Context, source string) {
	hr, ok := p.p.Store.(healthReader)
	if !ok {
		return
	}
	all, err := hr.SourceHealth(ctx)
	if err != nil {
		return // this replica's own view still serves
	}
	stored, ok := all[source]
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if stored.LastAttempt.After(p.health[source].LastAttempt) {
		p.health[source] = stored
	}
}
