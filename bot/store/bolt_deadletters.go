package store

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// Dead letters are keyed by the dead bucket's sequence, so a letter's key is
// its number and the bucket's sequence the newest letter's: the Mark.

// DeadLetterSummary implements staff.DeadLetterStore.
func (b *Bolt) DeadLetterSummary(ctx context.Context) (delivery.DeadLetterSummary, error) {
	if err := ctx.Err(); err != nil {
		return delivery.DeadLetterSummary{}, fmt.Errorf("store: dead letter summary: %w", err)
	}
	var s delivery.DeadLetterSummary
	err := b.db.View(func(tx *bolt.Tx) error {
		dead := tx.Bucket([]byte(boltDlvDead))
		if dead == nil {
			return nil
		}
		var t deadLetterTally
		err := dead.ForEach(func(_, v []byte) error {
			t.add(v)
			return nil
		})
		s = t.summary(int64(dead.Sequence()))
		return err
	})
	if err != nil {
		return delivery.DeadLetterSummary{}, fmt.Errorf("store: dead letter summary: %w", err)
	}
	return s, nil
}

// RetryDeadLetters implements staff.DeadLetterStore: it queues every dead
// letter up to mark again, oldest first, a batch per transaction.
func (b *Bolt) RetryDeadLetters(ctx context.Context, mark int64) (int, error) {
	moved := 0
	for {
		if err := ctx.Err(); err != nil {
			return moved, fmt.Errorf("store: retry dead letters: %w", err)
		}
		took := 0
		err := b.dlvUpdate(func(t *dlvTx) error {
			took = 0
			for _, k := range deadUpTo(t.dead, mark, deadLetterBatch) {
				d, body, ok := retryBody(t.dead.Get(k))
				if err := t.dead.Delete(k); err != nil {
					return err
				}
				took++
				if !ok {
					continue
				}
				if err := t.push([]byte(body)); err != nil {
					return err
				}
				a, err := t.ann(d.AnnouncementID)
				if err != nil {
					return err
				}
				if a != nil && a.Failed > 0 {
					a.Failed--
					t.touch(d.AnnouncementID)
				}
			}
			return nil
		})
		if err != nil {
			return moved, fmt.Errorf("store: retry dead letters: %w", err)
		}
		if took == 0 {
			return moved, nil
		}
		moved += took
	}
}

// DiscardDeadLetters implements staff.DeadLetterStore.
func (b *Bolt) DiscardDeadLetters(ctx context.Context, mark int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: discard dead letters: %w", err)
	}
	n := 0
	err := b.dlvUpdate(func(t *dlvTx) error {
		keys := deadUpTo(t.dead, mark, -1)
		n = len(keys)
		for _, k := range keys {
			if err := t.dead.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: discard dead letters: %w", err)
	}
	return n, nil
}

// deadUpTo returns the keys of the oldest dead letters numbered up to mark,
// at most limit of them (all for a negative limit). A mark beyond the newest
// letter ever numbered names none: no one saw it.
func deadUpTo(dead *bolt.Bucket, mark int64, limit int) [][]byte {
	if mark <= 0 || uint64(mark) > dead.Sequence() {
		return nil
	}
	last := seqKey(uint64(mark))
	var keys [][]byte
	c := dead.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, last) <= 0 && (limit < 0 || len(keys) < limit); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}
