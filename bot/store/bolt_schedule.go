package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Scheduled broadcasts in the embedded store: boltStaffSchedule holds
// subKey(due ms) + id -> the record, so a cursor finds the earliest first;
// boltStaffScheduleIDs holds id -> subKey(due ms), to find one by id.
const (
	boltStaffSchedule    = "staff_sched"
	boltStaffScheduleIDs = "staff_sched_ids"
)

// scheduleTx opens the schedule's buckets with the audit log's.
func (b *Bolt) scheduleTx(ctx context.Context, fn func(t staffTx, sched, ids *bolt.Bucket) error) error {
	return b.staffBroadcasts(ctx, func(t staffTx) error {
		tx := t.records.Tx()
		sched, err := tx.CreateBucketIfNotExists([]byte(boltStaffSchedule))
		if err != nil {
			return err
		}
		ids, err := tx.CreateBucketIfNotExists([]byte(boltStaffScheduleIDs))
		if err != nil {
			return err
		}
		return fn(t, sched, ids)
	})
}

// ScheduleBroadcast is Redis.ScheduleBroadcast.
func (b *Bolt) ScheduleBroadcast(ctx context.Context, id string, at time.Time, body []byte) error {
	err := b.scheduleTx(ctx, func(_ staffTx, sched, ids *bolt.Bucket) error {
		if old := ids.Get([]byte(id)); old != nil {
			if err := sched.Delete(append(bytes.Clone(old), id...)); err != nil {
				return err
			}
		} else if ids.Stats().KeyN >= maxScheduled {
			return ErrTooManyScheduled
		}
		due := subKey(at.UnixMilli())
		if err := ids.Put([]byte(id), due); err != nil {
			return err
		}
		return sched.Put(append(due, id...), body)
	})
	if err != nil {
		return fmt.Errorf("store: schedule broadcast %s: %w", id, err)
	}
	return nil
}

// ScheduledBroadcasts is Redis.ScheduledBroadcasts.
func (b *Bolt) ScheduledBroadcasts(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	err := b.staffView(ctx, boltStaffSchedule, func(sched *bolt.Bucket) error {
		if sched == nil {
			return nil
		}
		return sched.ForEach(func(_, v []byte) error {
			out = append(out, bytes.Clone(v))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: scheduled broadcasts: %w", err)
	}
	return out, nil
}

// CancelScheduled is Redis.CancelScheduled.
func (b *Bolt) CancelScheduled(ctx context.Context, id string) (bool, error) {
	found := false
	err := b.scheduleTx(ctx, func(_ staffTx, sched, ids *bolt.Bucket) error {
		due := ids.Get([]byte(id))
		found = due != nil
		if !found {
			return nil
		}
		if err := sched.Delete(append(bytes.Clone(due), id...)); err != nil {
			return err
		}
		return ids.Delete([]byte(id))
	})
	if err != nil {
		return false, fmt.Errorf("store: cancel scheduled broadcast %s: %w", id, err)
	}
	return found, nil
}

// ClaimDueBroadcast is Redis.ClaimDueBroadcast: in one transaction the
// earliest due broadcast leaves the schedule and enters the audit log.
func (b *Bolt) ClaimDueBroadcast(ctx context.Context, now time.Time) ([]byte, bool, error) {
	var body []byte
	err := b.scheduleTx(ctx, func(t staffTx, sched, ids *bolt.Bucket) error {
		body = nil
		c := sched.Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			if len(k) <= 8 || bytes.Compare(k[:8], subKey(now.UnixMilli())) > 0 {
				return nil
			}
			id := string(k[8:])
			rec := bytes.Clone(v)
			if err := sched.Delete(k); err != nil {
				return err
			}
			if err := ids.Delete([]byte(id)); err != nil {
				return err
			}
			added, err := t.add(id, now, rec)
			if err != nil {
				return err
			}
			if added {
				body = rec
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: claim due broadcast: %w", err)
	}
	return body, body != nil, nil
}
