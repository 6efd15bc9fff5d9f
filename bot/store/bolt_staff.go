package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// Buckets of the staff tools in the embedded store: what the Redis {staff}
// keys hold. Values that expire on Redis carry their expiry (8-byte unix
// ms) before the body here; an expired value reads as absent and is
// deleted when next written near.
const (
	boltStaffDrafts   = "staff_drafts"   // draft id -> expiry + body
	boltStaffAwait    = "staff_await"    // subKey(user id) -> expiry + body
	boltStaffRecords  = "staff_bc"       // broadcast id -> body
	boltStaffIndex    = "staff_bc_index" // subKey(created ms) + id -> empty
	boltStaffActive   = "staff_active"   // broadcast id -> empty
	boltStaffAlerts   = "staff_alerts"   // alert key -> state
	boltStaffAlertVer = "staff_alert_v"  // alert key -> 8-byte health version of its state
	boltStaffCounters = "staff_counters" // day + "/" + counter -> 8-byte count
)

// boltStaffKeep is how many broadcasts the embedded audit log keeps.
const boltStaffKeep = 1000

func expiring(body []byte, ttl time.Duration, now time.Time) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(body)), uint64(now.Add(ttl).UnixMilli()))
	return append(v, body...)
}

// live returns an expiring value's body, or false when it expired.
func live(v []byte, now time.Time) ([]byte, bool) {
	if len(v) < 8 || int64(binary.BigEndian.Uint64(v)) <= now.UnixMilli() {
		return nil, false
	}
	return bytes.Clone(v[8:]), true
}

// pruneExpiring deletes the expired values of a small bucket.
func pruneExpiring(bk *bolt.Bucket, now time.Time) error {
	var dead [][]byte
	err := bk.ForEach(func(k, v []byte) error {
		if _, ok := live(v, now); !ok {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := bk.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// staffUpdate runs fn in a writing transaction on one bucket.
func (b *Bolt) staffUpdate(ctx context.Context, bucket string, fn func(*bolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return fn(bk)
	})
}

// staffView runs fn on one bucket, which is nil when it was never written.
func (b *Bolt) staffView(ctx context.Context, bucket string, fn func(*bolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte(bucket))) })
}

// SaveDraft stores a broadcast draft for ttl.
func (b *Bolt) SaveDraft(ctx context.Context, id string, body []byte, ttl time.Duration) error {
	err := b.staffUpdate(ctx, boltStaffDrafts, func(bk *bolt.Bucket) error {
		if err := pruneExpiring(bk, b.now()); err != nil {
			return err
		}
		return bk.Put([]byte(id), expiring(body, ttl, b.now()))
	})
	if err != nil {
		return fmt.Errorf("store: save draft %s: %w", id, err)
	}
	return nil
}

// Draft returns a draft that has not expired.
func (b *Bolt) Draft(ctx context.Context, id string) ([]byte, bool, error) {
	var (
		body []byte
		ok   bool
	)
	err := b.staffView(ctx, boltStaffDrafts, func(bk *bolt.Bucket) error {
		if bk != nil {
			body, ok = live(bk.Get([]byte(id)), b.now())
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: draft %s: %w", id, err)
	}
	return body, ok, nil
}

// DeleteDraft removes a draft, reporting whether it existed.
func (b *Bolt) DeleteDraft(ctx context.Context, id string) (bool, error) {
	existed := false
	err := b.staffUpdate(ctx, boltStaffDrafts, func(bk *bolt.Bucket) error {
		_, existed = live(bk.Get([]byte(id)), b.now())
		return bk.Delete([]byte(id))
	})
	if err != nil {
		return false, fmt.Errorf("store: delete draft %s: %w", id, err)
	}
	return existed, nil
}

// SetAwaiting remembers for ttl what an admin's next message is for.
func (b *Bolt) SetAwaiting(ctx context.Context, userID int64, body []byte, ttl time.Duration) error {
	err := b.staffUpdate(ctx, boltStaffAwait, func(bk *bolt.Bucket) error {
		if err := pruneExpiring(bk, b.now()); err != nil {
			return err
		}
		return bk.Put(subKey(userID), expiring(body, ttl, b.now()))
	})
	if err != nil {
		return fmt.Errorf("store: set awaiting for %d: %w", userID, err)
	}
	return nil
}

// TakeAwaiting returns and forgets, at once, what an admin's next message
// is for.
func (b *Bolt) TakeAwaiting(ctx context.Context, userID int64) ([]byte, bool, error) {
	var (
		body []byte
		ok   bool
	)
	err := b.staffUpdate(ctx, boltStaffAwait, func(bk *bolt.Bucket) error {
		body, ok = live(bk.Get(subKey(userID)), b.now())
		return bk.Delete(subKey(userID))
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: take awaiting for %d: %w", userID, err)
	}
	return body, ok, nil
}

// staffTx is a writing transaction on the broadcast buckets.
type staffTx struct {
	records, index, active *bolt.Bucket
}

func (b *Bolt) staffBroadcasts(ctx context.Context, fn func(t staffTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		var t staffTx
		for _, x := range []struct {
			name string
			dst  **bolt.Bucket
		}{{boltStaffRecords, &t.records}, {boltStaffIndex, &t.index}, {boltStaffActive, &t.active}} {
			bk, err := tx.CreateBucketIfNotExists([]byte(x.name))
			if err != nil {
				return err
			}
			*x.dst = bk
		}
		return fn(t)
	})
}

// AddBroadcast stores a broadcast record created at `at`, unless one with
// this id exists, and marks it active. It reports whether it was added.
// Past boltStaffKeep records, the oldest go.
func (b *Bolt) AddBroadcast(ctx context.Context, id string, at time.Time, body []byte) (bool, error) {
	added := false
	err := b.staffBroadcasts(ctx, func(t staffTx) error {
		var err error
		added, err = t.add(id, at, body)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: add broadcast %s: %w", id, err)
	}
	return added, nil
}

// add is AddBroadcast within a transaction.
func (t staffTx) add(id string, at time.Time, body []byte) (bool, error) {
	if t.records.Get([]byte(id)) != nil {
		return false, nil
	}
	if err := t.records.Put([]byte(id), body); err != nil {
		return false, err
	}
	if err := t.index.Put(append(subKey(at.UnixMilli()), id...), []byte{}); err != nil {
		return false, err
	}
	if err := t.active.Put([]byte(id), []byte{}); err != nil {
		return false, err
	}
	count := 0
	if err := t.index.ForEach(func(_, _ []byte) error { count++; return nil }); err != nil {
		return false, err
	}
	var old [][]byte
	c := t.index.Cursor()
	for k, _ := c.First(); k != nil && count-len(old) > boltStaffKeep; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := t.index.Delete(k); err != nil {
			return false, err
		}
		if err := t.records.Delete(k[8:]); err != nil {
			return false, err
		}
		if err := t.active.Delete(k[8:]); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Broadcast returns a broadcast record.
func (b *Bolt) Broadcast(ctx context.Context, id string) ([]byte, bool, error) {
	var body []byte
	err := b.staffView(ctx, boltStaffRecords, func(bk *bolt.Bucket) error {
		if bk != nil {
			body = bytes.Clone(bk.Get([]byte(id)))
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: broadcast %s: %w", id, err)
	}
	return body, body != nil, nil
}

// UpdateBroadcast replaces a broadcast record with fn's change of it, in
// one transaction. When fn fails nothing changes and its error is
// returned. It reports false when there is no such record.
func (b *Bolt) UpdateBroadcast(ctx context.Context, id string, fn func([]byte) ([]byte, error)) (bool, error) {
	found := false
	var fnErr error
	err := b.staffBroadcasts(ctx, func(t staffTx) error {
		cur := t.records.Get([]byte(id))
		if cur == nil {
			return nil
		}
		found = true
		next, err := fn(bytes.Clone(cur))
		if err != nil {
			fnErr = err
			return nil
		}
		return t.records.Put([]byte(id), next)
	})
	if err != nil {
		return found, fmt.Errorf("store: update broadcast %s: %w", id, err)
	}
	return found, fnErr
}

// RecentBroadcasts returns up to n broadcast records, newest first.
func (b *Bolt) RecentBroadcasts(ctx context.Context, n int) ([][]byte, error) {
	var out [][]byte
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: recent broadcasts: %w", err)
	}
	err := b.db.View(func(tx *bolt.Tx) error {
		index, records := tx.Bucket([]byte(boltStaffIndex)), tx.Bucket([]byte(boltStaffRecords))
		if index == nil || records == nil {
			return nil
		}
		c := index.Cursor()
		for k, _ := c.Last(); k != nil && len(out) < n; k, _ = c.Prev() {
			if v := records.Get(k[8:]); v != nil {
				out = append(out, bytes.Clone(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: recent broadcasts: %w", err)
	}
	return out, nil
}

// ActiveBroadcasts returns the ids of broadcasts marked active.
func (b *Bolt) ActiveBroadcasts(ctx context.Context) ([]string, error) {
	var ids []string
	err := b.staffView(ctx, boltStaffActive, func(bk *bolt.Bucket) error {
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: active broadcasts: %w", err)
	}
	return ids, nil
}

// SetBroadcastActive marks a broadcast as needing a watcher, or not.
func (b *Bolt) SetBroadcastActive(ctx context.Context, id string, active bool) error {
	err := b.staffUpdate(ctx, boltStaffActive, func(bk *bolt.Bucket) error {
		if active {
			return bk.Put([]byte(id), []byte{})
		}
		return bk.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: mark broadcast %s active=%v: %w", id, active, err)
	}
	return nil
}

// SwapAlertState sets the state of alert key to next if it is old (a key
// never set is "") and version, that of the health snapshot deciding the
// move, is not older than the one that made the current state; in one
// transaction. The version outlives a state of none, so that a stale
// snapshot cannot raise again an alert a newer one cleared.
func (b *Bolt) SwapAlertState(ctx context.Context, key, old, next string, version int64) (bool, error) {
	swapped := false
	err := ctx.Err()
	if err == nil {
		err = b.db.Update(func(tx *bolt.Tx) error {
			swapped = false
			states, err := tx.CreateBucketIfNotExists([]byte(boltStaffAlerts))
			if err != nil {
				return err
			}
			versions, err := tx.CreateBucketIfNotExists([]byte(boltStaffAlertVer))
			if err != nil {
				return err
			}
			if string(states.Get([]byte(key))) != old {
				return nil
			}
			if v := versions.Get([]byte(key)); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > version {
				return nil
			}
			if err := versions.Put([]byte(key), binary.BigEndian.AppendUint64(nil, uint64(version))); err != nil {
				return err
			}
			swapped = true
			if next == "" {
				return states.Delete([]byte(key))
			}
			return states.Put([]byte(key), []byte(next))
		})
	}
	if err != nil {
		return false, fmt.Errorf("store: swap alert state %s: %w", key, err)
	}
	return swapped, nil
}

// AddStaffCounters adds deltas to the counters of day (YYYY-MM-DD). Days
// older than the Redis counters' lifetime are dropped.
func (b *Bolt) AddStaffCounters(ctx context.Context, day string, deltas map[string]int64) error {
	if len(deltas) == 0 {
		return nil
	}
	cutoff := b.now().Add(-staffCounterTTL).UTC().Format(time.DateOnly)
	err := b.staffUpdate(ctx, boltStaffCounters, func(bk *bolt.Bucket) error {
		for name, n := range deltas {
			k := []byte(day + "/" + name)
			var cur int64
			if v := bk.Get(k); len(v) == 8 {
				cur = int64(binary.BigEndian.Uint64(v))
			}
			if err := bk.Put(k, binary.BigEndian.AppendUint64(nil, uint64(cur+n))); err != nil {
				return err
			}
		}
		var old [][]byte
		c := bk.Cursor()
		for k, _ := c.First(); k != nil && string(k) < cutoff; k, _ = c.Next() {
			old = append(old, bytes.Clone(k))
		}
		for _, k := range old {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add staff counters: %w", err)
	}
	return nil
}

// StaffCounters returns the counters of day.
func (b *Bolt) StaffCounters(ctx context.Context, day string) (map[string]int64, error) {
	out := map[string]int64{}
	err := b.staffView(ctx, boltStaffCounters, func(bk *bolt.Bucket) error {
		if bk == nil {
			return nil
		}
		prefix := []byte(day + "/")
		c := bk.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) == 8 {
				out[string(k[len(prefix):])] = int64(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: staff counters: %w", err)
	}
	return out, nil
}

// QueueDepth counts the deliveries waiting: queued, being sent, or put
// aside for a retry or for their chat.
func (b *Bolt) QueueDepth(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: queue depth: %w", err)
	}
	var n int64
	err := b.db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{boltDlvQueue, boltDlvPending, boltDlvDelayed} {
			if bk := tx.Bucket([]byte(name)); bk != nil {
				n += int64(bk.Stats().KeyN)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue depth: %w", err)
	}
	return n, nil
}

// SentCopies returns up to n of an announcement's sent records after
// cursor ("" starts), in chat id order, and the cursor of the rest (""
// when done).
func (b *Bolt) SentCopies(ctx context.Context, announcementID, cursor string, n int) ([]delivery.SentCopy, string, error) {
	var from []byte
	if cursor != "" {
		chat, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("store: sent copies of %s: bad cursor %q", announcementID, cursor)
		}
		from = subKey(chat)
	}
	n = max(n, 1)
	var (
		out  []delivery.SentCopy
		next string
	)
	err := b.staffView(ctx, boltDlvSent, func(sent *bolt.Bucket) error {
		if sent == nil {
			return nil
		}
		sb := sent.Bucket([]byte(announcementID))
		if sb == nil {
			return nil
		}
		c := sb.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
			if bytes.Equal(k, from) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if len(out) == n {
				next = strconv.FormatInt(out[len(out)-1].ChatID, 10)
				return nil
			}
			if len(k) != 8 {
				continue
			}
			if c, ok := decodeSentIDs(subKeyID(k), v); ok {
				out = append(out, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: sent copies of %s: %w", announcementID, err)
	}
	return out, next, nil
}

// SendPause is Redis.SendPause.
func (b *Bolt) SendPause(ctx context.Context) (time.Duration, error) {
	now := b.now()
	p, ok, err := b.CurrentPause(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("store: send pause: %w", err)
	}
	return pauseLeft(p, ok, now), nil
}

// PauseSends is Redis.PauseSends.
func (b *Bolt) PauseSends(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	now := b.now()
	if err := b.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseFlood, Until: now.Add(d)}, 0, now); err != nil {
		return fmt.Errorf("store: pause sends: %w", err)
	}
	return nil
}
