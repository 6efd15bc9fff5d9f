package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// The embedded store keeps the pause in boltDlvMeta (metaPause and the
// keys after it), so that a pause, and the probe it owes, survive a
// restart as they do on Redis; the probe's claim lives only in memory: the
// one process that opens the file is the only one that could hold it.

// boltProbe is the claim of the probe in flight.
type boltProbe struct {
	mu     sync.Mutex
	holder string
	until  time.Time
}

// CurrentPause implements delivery.PauseStore.
func (b *Bolt) CurrentPause(ctx context.Context, now time.Time) (delivery.Pause, bool, error) {
	var (
		p  delivery.Pause
		ok bool
	)
	err := b.staffView(ctx, boltDlvMeta, func(meta *bolt.Bucket) error {
		p, ok = readPause(meta, now.UnixMilli())
		return nil
	})
	if err != nil {
		return delivery.Pause{}, false, fmt.Errorf("store: current pause: %w", err)
	}
	return p, ok, nil
}

// readPause is the pause in force at now (ms), as CurrentPause returns it.
func readPause(meta *bolt.Bucket, now int64) (delivery.Pause, bool) {
	if meta == nil {
		return delivery.Pause{}, false
	}
	probe := string(meta.Get(metaProbe))
	if until, _ := metaInt(meta, metaProbeUntil); until <= now {
		probe = ""
	}
	var p delivery.Pause
	if until, ok := metaInt(meta, metaPause); ok && until > now {
		id := string(meta.Get(metaPauseID))
		p.Reason, p.Since = decodePause(id)
		p.Until = time.UnixMilli(until)
		p.Probe = probe != "" && probe == id
		return p, true
	}
	if probe == "" {
		return delivery.Pause{}, false
	}
	p.Reason, p.Since = decodePause(probe)
	p.Until, p.Probe = time.UnixMilli(now), true
	return p, true
}

// lengthenPause starts or lengthens the timed pause, as pauseSendingScript
// does on Redis. A pause or owed probe over by now is an episode past:
// a new one starts.
func lengthenPause(meta *bolt.Bucket, p delivery.Pause, now int64) error {
	id := ""
	if until, ok := metaInt(meta, metaPause); ok && until > now {
		id = sameReason(meta.Get(metaPauseID), p.Reason)
	}
	if until, ok := metaInt(meta, metaProbeUntil); id == "" && ok && until > now {
		id = sameReason(meta.Get(metaProbe), p.Reason)
	}
	if id == "" {
		id = delivery.Pause{Reason: p.Reason, Since: time.UnixMilli(now)}.ID()
	}
	until := p.Until.UnixMilli()
	if cur, ok := metaInt(meta, metaPause); ok && cur >= until {
		return nil
	}
	if err := putMetaInt(meta, metaPause, until); err != nil {
		return err
	}
	return meta.Put(metaPauseID, []byte(id))
}

// sameReason returns id when it is a pause id of reason, else "".
func sameReason(id []byte, reason delivery.PauseReason) string {
	if r, _, ok := delivery.ParsePauseID(string(id)); ok && r == reason {
		return string(id)
	}
	return ""
}

// PauseSending implements delivery.PauseStore.
func (b *Bolt) PauseSending(ctx context.Context, p delivery.Pause, probeOwed time.Duration, now time.Time) error {
	ms := now.UnixMilli()
	if p.Until.UnixMilli() <= ms && !p.Probe {
		return nil
	}
	err := b.staffUpdate(ctx, boltDlvMeta, func(meta *bolt.Bucket) error {
		if err := lengthenPause(meta, p, ms); err != nil {
			return err
		}
		if !p.Probe {
			return nil
		}
		// The id the timed pause has now, unless a longer one of another
		// reason kept its own: then the probe starts an episode of its own.
		id := sameReason(meta.Get(metaPauseID), p.Reason)
		if id == "" {
			id = delivery.Pause{Reason: p.Reason, Since: now}.ID()
		}
		if err := meta.Put(metaProbe, []byte(id)); err != nil {
			return err
		}
		return putMetaInt(meta, metaProbeUntil, max(p.Until.UnixMilli(), ms+probeOwed.Milliseconds()))
	})
	if err != nil {
		return fmt.Errorf("store: pause sending: %w", err)
	}
	if p.Probe {
		// Owing a probe frees the claim of the last one.
		b.probe.mu.Lock()
		b.probe.holder = ""
		b.probe.mu.Unlock()
	}
	return nil
}

// ClaimProbe implements delivery.PauseStore.
func (b *Bolt) ClaimProbe(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: claim probe: %w", err)
	}
	b.probe.mu.Lock()
	defer b.probe.mu.Unlock()
	now := b.now()
	if b.probe.holder != "" && b.probe.until.After(now) {
		return false, nil
	}
	b.probe.holder, b.probe.until = holder, now.Add(ttl)
	return true, nil
}

// ResumeSending implements delivery.PauseStore.
func (b *Bolt) ResumeSending(ctx context.Context, id string) (bool, error) {
	ended := false
	err := b.staffUpdate(ctx, boltDlvMeta, func(meta *bolt.Bucket) error {
		pause := ""
		if _, ok := metaInt(meta, metaPause); ok {
			r, since := decodePause(string(meta.Get(metaPauseID)))
			pause = delivery.Pause{Reason: r, Since: since}.ID()
		}
		probe := string(meta.Get(metaProbe))
		ended = pause != "" || probe != ""
		if id != "" && id != pause && id != probe {
			ended = false
			return nil
		}
		for _, k := range [][]byte{metaPause, metaPauseID, metaProbe, metaProbeUntil} {
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: resume sending: %w", err)
	}
	b.probe.mu.Lock()
	b.probe.holder = ""
	b.probe.mu.Unlock()
	return ended, nil
}

// ClaimPauseNotice implements delivery.PauseStore.
func (b *Bolt) ClaimPauseNotice(ctx context.Context, id string) (bool, error) {
	claimed := false
	err := b.staffUpdate(ctx, boltDlvMeta, func(meta *bolt.Bucket) error {
		claimed = string(meta.Get(metaNotice)) != id
		if !claimed {
			return nil
		}
		return meta.Put(metaNotice, []byte(id))
	})
	if err != nil {
		return false, fmt.Errorf("store: claim pause notice: %w", err)
	}
	return claimed, nil
}

// ReleasePauseNotice implements delivery.PauseStore.
func (b *Bolt) ReleasePauseNotice(ctx context.Context, id string) error {
	err := b.staffUpdate(ctx, boltDlvMeta, func(meta *bolt.Bucket) error {
		if string(meta.Get(metaNotice)) != id {
			return nil
		}
		return meta.Delete(metaNotice)
	})
	if err != nil {
		return fmt.Errorf("store: release pause notice: %w", err)
	}
	return nil
}
