package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the embedded store: one bbolt file under DATA_DIR, for a single
// process. bbolt serialises writers, which gives every multi-key change the
// atomicity that Lua scripts give on Redis.
type Bolt struct {
	db    *bolt.DB
	probe boltProbe
	pace  boltPacing
	clock func() time.Time
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
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	b := &Bolt{db: db, clock: applyOptions(opts).clock}
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
