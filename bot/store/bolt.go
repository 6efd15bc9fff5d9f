package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the embedded store: one bbolt file under DATA_DIR, for a single
// process. bbolt serialises writers, which gives every multi-key change the
// atomicity that Lua scripts give on Redis.
//
// The file keeps only what must survive a crash: subscribers, seen ids,
// the queue, sent records, offsets, the pause, audit, dead letters and
// tombstones, written when they change. What only coordinates the work of
// the one process that can open the file lives in memory: the send
// limiter and chat reservations (pace), the probe's claim, named leases,
// which deliveries are leased to whom and since when (work), and the
// signal that wakes a blocked Lease or NextPublications. An idle bot
// writes nothing; a restart hands back whatever was leased, since a lease
// in memory dies with its process.
type Bolt struct {
	db      *bolt.DB
	probe   boltProbe
	pace    boltPacing
	leases  boltLeases
	work    boltWork
	changed boltSignal
	anns    boltAnnCache
	clock   func() time.Time
}

// ErrLocked means another process holds the embedded store.
var ErrLocked = errors.New("store: the embedded store is in use by another bulletinbot process (one process per DATA_DIR; use REDIS_URL for replicas)")

// OpenBolt opens (creating if needed) the store in dir/bulletinbot.db. A
// second process on the same dir fails fast with ErrLocked.
func OpenBolt(dir string, opts ...Option) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create DATA_DIR %s: %w", dir, err)
	}
	path := filepath.Join(dir, "bulletinbot.db")
	// NoFreelistSync: a commit does not write the free-page list, one page
	// fewer per result recorded; opening rebuilds it by a scan. Durability
	// is unchanged (the data and meta pages are synced as before), and
	// files keep opening both ways with releases that sync it.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	b := &Bolt{db: db, clock: applyOptions(opts).clock}
	if err := b.createDeliveryBuckets(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: create the delivery buckets of %s: %w", path, err)
	}
	if err := b.clearIntakeLeases(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: clear leases of %s: %w", path, err)
	}
	if err := b.releaseHeld(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: release deliveries held by the previous process in %s: %w", path, err)
	}
	if err := b.dropPacingState(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: drop the old pacing state of %s: %w", path, err)
	}
	if err := b.UpgradeSearchIndex(context.Background()); err != nil {
		_ = db.Close()
		return nil, err
	}
	return b, nil
}

// Path returns the database file.
func (b *Bolt) Path() string { return b.db.Path() }

// Close closes the database file.
func (b *Bolt) Close() error { return b.db.Close() }

// updateIf runs fn in a writing transaction when need, run first in a
// reading one, reports that there is something to write: a reading
// transaction costs no fsync, so a loop that finds nothing to do writes
// nothing. fn must itself cope with finding nothing to do, as the file may
// change between the two.
func (b *Bolt) updateIf(need func(tx *bolt.Tx) bool, fn func(tx *bolt.Tx) error) error {
	found := false
	if err := b.db.View(func(tx *bolt.Tx) error { found = need(tx); return nil }); err != nil {
		return err
	}
	if !found {
		return nil
	}
	return b.db.Update(fn)
}

// boltSignal wakes the callers blocked waiting for new work (Lease,
// NextPublications) when a write may have brought some: one process owns
// the file, so every write that adds work passes through it.
type boltSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify. Take it before looking
// for work, so that work added while looking is not missed.
func (s *boltSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *boltSignal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// waitFor waits for ch, until at (zero: no such time) or deadline,
// whichever is first; it reports false when deadline passed or ctx ended.
func waitFor(ctx context.Context, ch <-chan struct{}, at, deadline time.Time) bool {
	until := deadline
	if !at.IsZero() && at.Before(until) {
		until = at
	}
	left := time.Until(until)
	if time.Until(deadline) <= 0 {
		return false
	}
	timer := time.NewTimer(max(left, 0))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-ch:
		return true
	case <-timer.C:
		return time.Until(deadline) > 0
	}
}
