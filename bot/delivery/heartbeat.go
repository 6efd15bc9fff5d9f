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
}

// heartbeat keeps this replica's heartbeat and takes over the work of dead
// replicas until ctx ends. The first beat and takeover are at once, so that
// a replica restarted after a crash resumes its predecessor's work as soon
// as that one's heartbeat lapses.
func (e *Engine) heartbeat(ctx context.Context) {
	l := e.p.Liveness
	t := time.NewTimer(0)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// The next beat is timed from this one's start: a slow store
		// must not stretch the interval towards the TTL.
		t.Reset(e.p.HeartbeatEvery)
		err := l.Heartbeat(ctx, e.p.ReplicaID, e.p.HeartbeatTTL)
		if err == nil {
			var to Takeover
			if to, err = l.TakeOver(ctx); err == nil && (to.Deliveries > 0 || to.Publications > 0 || len(to.Replicas) > 0) {
				e.log.Warn("took over the work of replicas that stopped beating", slog.Any("replicas", to.Replicas),
					slog.Int("deliveries", to.Deliveries), slog.Int("publications", to.Publications))
			}
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			e.log.Error("heartbeat failed; other replicas take this one's work over if it keeps failing", slog.Any("error", err))
		case err == nil && failing:
			failing = false
			e.log.Info("heartbeat works again")
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
