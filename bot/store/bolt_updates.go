package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the bot's update intake in the embedded store.
const (
	// "offset" -> 8-byte big-endian offset. Releases before the leases
	// moved to memory also kept "lease:<name>" -> JSON {holder, expires}.
	boltIntake = "bot_intake"
	// 8-byte big-endian update id -> 8-byte big-endian expiry (unix ms).
	boltUpdates = "bot_updates"
)

// boltUpdatePrune bounds how many expired update marks one MarkUpdate
// deletes, so that a long pause is caught up in steps.
const boltUpdatePrune = 256

// boltLease is a named lease: who holds it until when (unix ms). Releases
// before the leases moved to memory kept them in boltIntake as JSON under
// "lease:<name>"; opening the file drops those (clearIntakeLeases).
type boltLease struct {
	Holder  string
	Expires int64
}

// Offset returns the getUpdates offset to poll from; 0 when none is stored.
func (b *Bolt) Offset(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: read update offset: %w", err)
	}
	var n int64
	err := b.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(boltIntake)); bk != nil {
			if v := bk.Get([]byte("offset")); len(v) == 8 {
				n = int64(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: read update offset: %w", err)
	}
	return n, nil
}

// SaveOffset stores the offset to poll from next. The stored offset never
// decreases.
func (b *Bolt) SaveOffset(ctx context.Context, offset int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: save update offset: %w", err)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(boltIntake))
		if err != nil {
			return err
		}
		if v := bk.Get([]byte("offset")); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= offset {
			return nil
		}
		return bk.Put([]byte("offset"), binary.BigEndian.AppendUint64(nil, uint64(offset)))
	})
	if err != nil {
		return fmt.Errorf("store: save update offset: %w", err)
	}
	return nil
}

// AcquireLease takes the lease name for holder for ttl when it is free or
// already holder's (then it is extended). It reports whether holder holds it.
func (b *Bolt) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ok, err := b.lease(ctx, name, func(cur boltLease, now int64) (boltLease, bool) {
		if cur.Holder != "" && cur.Holder != holder && cur.Expires > now {
			return cur, false
		}
		return boltLease{Holder: holder, Expires: now + leaseMillis(ttl)}, true
	})
	if err != nil {
		return false, fmt.Errorf("store: acquire lease %s: %w", name, err)
	}
	return ok, nil
}

// RenewLease extends holder's lease by ttl. It reports false when holder no
// longer holds it.
func (b *Bolt) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ok, err := b.lease(ctx, name, func(cur boltLease, now int64) (boltLease, bool) {
		if cur.Holder != holder || cur.Expires <= now {
			return cur, false
		}
		return boltLease{Holder: holder, Expires: now + leaseMillis(ttl)}, true
	})
	if err != nil {
		return false, fmt.Errorf("store: renew lease %s: %w", name, err)
	}
	return ok, nil
}

// ReleaseLease frees the lease if holder holds it.
func (b *Bolt) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := b.lease(ctx, name, func(cur boltLease, now int64) (boltLease, bool) {
		if cur.Holder != holder {
			return cur, false
		}
		return boltLease{}, true
	})
	if err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// lease applies change to the lease in memory; the lease is kept when
// change reports true (a zero lease drops it). One process opens the file,
// so there is nobody to share a lease with but its own goroutines, and a
// lease need not outlive the process: none is written to the file.
func (b *Bolt) lease(ctx context.Context, name string, change func(cur boltLease, now int64) (boltLease, bool)) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := b.now().UnixMilli()
	b.leases.mu.Lock()
	defer b.leases.mu.Unlock()
	next, write := change(b.leases.m[name], now)
	if !write {
		return false, nil
	}
	if next.Holder == "" {
		delete(b.leases.m, name)
		return true, nil
	}
	if b.leases.m == nil {
		b.leases.m = map[string]boltLease{}
	}
	b.leases.m[name] = next
	return true, nil
}

// boltLeases are the named leases (AcquireLease) held in memory.
type boltLeases struct {
	mu sync.Mutex
	m  map[string]boltLease
}

// MarkUpdate records that an update id arrived, for ttl. It reports true the
// first time only.
func (b *Bolt) MarkUpdate(ctx context.Context, updateID int64, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: mark update %d: %w", updateID, err)
	}
	key := binary.BigEndian.AppendUint64(nil, uint64(updateID))
	now := b.now().UnixMilli()
	var first bool
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(boltUpdates))
		if err != nil {
			return err
		}
		if v := bk.Get(key); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now {
			return nil
		}
		first = true
		if err := bk.Put(key, binary.BigEndian.AppendUint64(nil, uint64(now+leaseMillis(ttl)))); err != nil {
			return err
		}
		// Update ids grow with time, so the oldest marks come first. Keys
		// are collected before deleting: deleting under a cursor can make
		// it skip the next key.
		var expired [][]byte
		c := bk.Cursor()
		for k, v := c.First(); k != nil && len(expired) < boltUpdatePrune; k, v = c.Next() {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now {
				break
			}
			expired = append(expired, append([]byte(nil), k...))
		}
		for _, k := range expired {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: mark update %d: %w", updateID, err)
	}
	return first, nil
}

// ForgetUpdate undoes MarkUpdate.
func (b *Bolt) ForgetUpdate(ctx context.Context, updateID int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: forget update %d: %w", updateID, err)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(boltUpdates))
		if bk == nil {
			return nil
		}
		return bk.Delete(binary.BigEndian.AppendUint64(nil, uint64(updateID)))
	})
	if err != nil {
		return fmt.Errorf("store: forget update %d: %w", updateID, err)
	}
	return nil
}

// clearIntakeLeases drops the leases releases before this one kept in the
// file: a lease found on opening belongs to a process that died without
// releasing it, and leases now live in memory. It writes nothing when
// there are none.
func (b *Bolt) clearIntakeLeases() error {
	return b.updateIf(func(tx *bolt.Tx) bool {
		bk := tx.Bucket([]byte(boltIntake))
		if bk == nil {
			return false
		}
		k, _ := bk.Cursor().Seek([]byte("lease:"))
		return k != nil && bytes.HasPrefix(k, []byte("lease:"))
	}, func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(boltIntake))
		if bk == nil {
			return nil
		}
		var stale [][]byte
		c := bk.Cursor()
		prefix := []byte("lease:")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			stale = append(stale, bytes.Clone(k))
		}
		for _, k := range stale {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
