package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Buckets of the embedded store's tombstones, what the Redis tombstone
// hashes and zset hold.
const (
	// subKey(chat id) -> JSON boltTomb.
	boltSubTombs = "sub_tombs"
	// subKey(removed ms) subKey(chat id) -> empty: tombstones oldest first,
	// for listing and expiry.
	boltSubTombIndex = "sub_tomb_index"
	// boltTombPrune bounds how many expired tombstones one removal drops.
	boltTombPrune = 64
)

// boltTomb is a tombstone: the record removed, when and why.
type boltTomb struct {
	subRecord
	Removed int64  `json:"removed"` // ms
	Why     string `json:"why"`
}

func (t boltTomb) tombstone(chatID int64) subscriptions.Tombstone {
	return subscriptions.Tombstone{Subscriber: t.subscriber(chatID), RemovedAt: time.UnixMilli(t.Removed).UTC(), Reason: t.Why}
}

func tombIndexKey(removed, chatID int64) []byte {
	return append(subKey(removed), subKey(chatID)...)
}

// tombBuckets opens the tombstone buckets of a writing transaction.
func tombBuckets(tx *bolt.Tx) (tombs, index *bolt.Bucket, err error) {
	if tombs, err = tx.CreateBucketIfNotExists([]byte(boltSubTombs)); err != nil {
		return nil, nil, err
	}
	index, err = tx.CreateBucketIfNotExists([]byte(boltSubTombIndex))
	return tombs, index, err
}

// dropTomb deletes a chat's tombstone, if any.
func dropTomb(tombs, index *bolt.Bucket, chatID int64) (boltTomb, bool, error) {
	v := tombs.Get(subKey(chatID))
	if v == nil {
		return boltTomb{}, false, nil
	}
	var t boltTomb
	if err := json.Unmarshal(v, &t); err != nil {
		return boltTomb{}, false, fmt.Errorf("tombstone of %d: %w", chatID, err)
	}
	if err := tombs.Delete(subKey(chatID)); err != nil {
		return boltTomb{}, false, err
	}
	return t, true, index.Delete(tombIndexKey(t.Removed, chatID))
}

// pruneTombs drops a few tombstones removed before cutoff (ms).
func pruneTombs(tombs, index *bolt.Bucket, cutoff int64) error {
	var expired [][]byte
	c := index.Cursor()
	for k, _ := c.First(); k != nil && len(expired) < boltTombPrune && bytes.Compare(k[:8], subKey(cutoff)) < 0; k, _ = c.Next() {
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := index.Delete(k); err != nil {
			return err
		}
		if err := tombs.Delete(k[8:]); err != nil {
			return err
		}
	}
	return nil
}

// RemoveSubscriber implements subscriptions.TombstoneStore.
func (b *Bolt) RemoveSubscriber(_ context.Context, chatID int64, reason string, at time.Time) (bool, error) {
	removed := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openSubBuckets(tx)
		if err != nil {
			return err
		}
		rec, ok, err := bs.delete(chatID, at)
		if err != nil || !ok {
			return err
		}
		removed = true
		tombs, index, err := tombBuckets(tx)
		if err != nil {
			return err
		}
		ms := at.UnixMilli()
		if err := pruneTombs(tombs, index, ms-subscriptions.TombstoneTTL.Milliseconds()); err != nil {
			return err
		}
		if _, _, err := dropTomb(tombs, index, chatID); err != nil {
			return err
		}
		body, err := json.Marshal(boltTomb{subRecord: rec, Removed: ms, Why: reason})
		if err != nil {
			return err
		}
		if err := tombs.Put(subKey(chatID), body); err != nil {
			return err
		}
		return index.Put(tombIndexKey(ms, chatID), nil)
	})
	if err != nil {
		return false, fmt.Errorf("store: remove subscriber %d: %w", chatID, err)
	}
	return removed, nil
}

// RestoreSubscriber implements subscriptions.TombstoneStore.
func (b *Bolt) RestoreSubscriber(_ context.Context, chatID int64, at time.Time) (subscriptions.Subscriber, bool, error) {
	var (
		s        subscriptions.Subscriber
		restored bool
	)
	err := b.db.Update(func(tx *bolt.Tx) error {
		tombs, index, err := tombBuckets(tx)
		if err != nil {
			return err
		}
		t, ok, err := dropTomb(tombs, index, chatID)
		if err != nil || !ok {
			return err
		}
		if time.UnixMilli(t.Removed).Add(subscriptions.TombstoneTTL).Before(at) {
			return nil // expired, not pruned yet
		}
		bs, err := openSubBuckets(tx)
		if err != nil {
			return err
		}
		if _, subscribed, err := bs.load(chatID); err != nil || subscribed {
			return err
		}
		s = t.subscriber(chatID)
		s.JoinedAt = at
		cats, err := subCheck(s)
		if err != nil {
			return err
		}
		restored = true
		_, err = bs.save(s, cats, b.now())
		return err
	})
	if err != nil {
		return subscriptions.Subscriber{}, false, fmt.Errorf("store: restore subscriber %d: %w", chatID, err)
	}
	return s, restored, nil
}

// Tombstones implements subscriptions.TombstoneStore.
func (b *Bolt) Tombstones(_ context.Context, since time.Time, n int) ([]subscriptions.Tombstone, error) {
	var out []subscriptions.Tombstone
	err := b.db.View(func(tx *bolt.Tx) error {
		tombs, index := tx.Bucket([]byte(boltSubTombs)), tx.Bucket([]byte(boltSubTombIndex))
		if tombs == nil || index == nil {
			return nil
		}
		c := index.Cursor()
		for k, _ := c.Seek(subKey(since.UnixMilli())); k != nil && len(out) < n; k, _ = c.Next() {
			if len(k) != 16 {
				continue
			}
			var t boltTomb
			if err := json.Unmarshal(tombs.Get(k[8:]), &t); err != nil {
				continue
			}
			out = append(out, t.tombstone(subKeyID(k[8:])))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: tombstones: %w", err)
	}
	return out, nil
}
