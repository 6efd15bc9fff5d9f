package delivery

import (
	"context"
	"log/slog"
	"time"
)

// Defaults of Params' heartbeat.
const (
	DefaultHeartbeatEvery = 2 * time.Second
	DefaultHeartbeatTTL   = 10 * time.Second
)

// Liveness is the store's record of which replicas are alive, so that the
// work of one that died is taken over as soon as its heartbeat lapses rather
// than after ClaimIdle. *store.Redis implements it; the embedded store,
// which one process opens at a time, needs none: opening it hands back
// whatever the previous process held.
type Liveness interface {
	// Heartbeat records that replica is alive for ttl, on the store's
	// clock so that replicas' clocks need not agree.
	Heartbeat(ctx context.Context, replica string, ttl time.Duration) error
	// TakeOver puts back in the queue the work held by replicas whose
	// heartbeat has lapsed, leased deliveries and publications, for any
	// replica to take; each entry is put back once however many replicas
	// call it at once.
	TakeOver(ctx context.Context) (Takeover, error)
	// Depart ends replica's heartbeat at a clean stop, once it holds
	// nothing more, so that anything left is taken over at once.
	Depart(ctx context.Context, replica string) error
}

// Takeover is what one TakeOver put back.
type Takeover struct {
	Replicas     []string // replicas found dead whose work is all put back
	Deliveries   int
	Publications int
	// Quiet is how long no heartbeat can lapse (the first live one's
	// deadline): there is nothing to take over before then. Zero: look
	// again at the next tick.
	Quiet time.Duration
}

// takeOverEvery is how often a replica looks for dead ones: the delay it
// adds to a lapsed heartbeat's TTL before the work is put back.
const takeOverEvery = time.Second

// heartbeat keeps this replica's heartbeat and takes over the work of dead
// replicas until ctx ends. The first beat and look are at once, so that a
// replica restarted after a crash resumes its predecessor's work as soon as
// that one's heartbeat lapses.
//
// A replica that could not beat (the store unreachable) takes nothing over
// until it has beaten again for a whole TTL: the other replicas could not
// beat either, and each needs that long to show it is alive, or after an
// outage longer than the TTL every replica would take the others' work,
// in-flight sends included, and send it twice.
func (e *Engine) heartbeat(ctx context.Context) {
	l := e.p.Liveness
	tick := min(e.p.HeartbeatEvery, takeOverEvery)
	t := time.NewTimer(0)
	defer t.Stop()
	var lastBeat, trustFrom, nextLook time.Time
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Timed from this round's start: a slow store must not stretch
		// the interval towards the TTL.
		t.Reset(tick)
		now := time.Now()
		if lastBeat.IsZero() || now.Sub(lastBeat) >= e.p.HeartbeatEvery-tick/2 {
			if err := l.Heartbeat(ctx, e.p.ReplicaID, e.p.HeartbeatTTL); err != nil {
				if ctx.Err() == nil && !failing {
					e.log.Error("heartbeat failed; other replicas take this one's work over if it keeps failing", slog.Any("error", err))
				}
				failing = true
				continue
			}
			if failing {
				failing, trustFrom = false, now.Add(e.p.HeartbeatTTL)
				e.log.Info("heartbeat works again; taking over dead replicas' work resumes after one TTL", slog.Duration("ttl", e.p.HeartbeatTTL))
			}
			lastBeat = now
		}
		if now.Before(trustFrom) || now.Before(nextLook) {
			continue
		}
		to, err := l.TakeOver(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("take over dead replicas' work", slog.Any("error", err))
			}
			continue
		}
		// No heartbeat can lapse before then: an idle replica need not
		// ask every tick (a replica that joins beats a whole TTL ahead).
		nextLook = now.Add(min(to.Quiet, e.p.HeartbeatTTL))
		switch {
		case to.Deliveries > 0 || to.Publications > 0:
			e.log.Warn("took over the work of replicas that stopped beating", slog.Any("replicas", to.Replicas),
				slog.Int("deliveries", to.Deliveries), slog.Int("publications", to.Publications))
		case len(to.Replicas) > 0:
			// A replica that stopped cleanly, or died holding nothing: no
			// work was at risk, so nothing to warn of.
			e.log.Info("replicas that stopped beating held no work", slog.Any("replicas", to.Replicas))
		}
	}
}

// depart ends the heartbeat after a clean stop.
func (e *Engine) depart(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := e.p.Liveness.Depart(ctx, e.p.ReplicaID); err != nil {
		e.log.Warn("end heartbeat", slog.Any("error", err))
	}
}
