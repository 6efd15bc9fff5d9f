package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot"
)

// Buckets of the embedded digest schedule: the due index in time order,
// and each chat's entry in it.
const (
	// subKey(due ms) subKey(chat id) -> empty
	boltDigestDue = "digest_due"
	// subKey(chat id) -> subKey(due ms)
	boltDigestChat = "digest_chat"
)

// ScheduleDigest implements bot.DigestStore.
func (b *Bolt) ScheduleDigest(_ context.Context, chatID int64, due time.Time) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		dues, chats, err := digestBuckets(tx)
		if err != nil {
			return err
		}
		return digestPut(dues, chats, chatID, due)
	})
	if err != nil {
		return fmt.Errorf("store: schedule digest of %d: %w", chatID, err)
	}
	return nil
}

// ClaimDigests implements bot.DigestStore.
func (b *Bolt) ClaimDigests(_ context.Context, now time.Time, lease time.Duration, n int) ([]bot.DueDigest, error) {
	var out []bot.DueDigest
	err := b.db.Update(func(tx *bolt.Tx) error {
		dues, chats, err := digestBuckets(tx)
		if err != nil {
			return err
		}
		limit := subKey(now.UnixMilli())
		c := dues.Cursor()
		for k, _ := c.First(); k != nil && len(out) < n && bytes.Compare(k[:8], limit) <= 0; k, _ = c.Next() {
			out = append(out, bot.DueDigest{ChatID: subKeyID(k[8:]), Due: time.UnixMilli(subKeyID(k[:8])).UTC()})
		}
		for _, d := range out {
			if err := digestPut(dues, chats, d.ChatID, now.Add(lease)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim digests: %w", err)
	}
	return out, nil
}

func digestBuckets(tx *bolt.Tx) (dues, chats *bolt.Bucket, err error) {
	if dues, err = tx.CreateBucketIfNotExists([]byte(boltDigestDue)); err != nil {
		return nil, nil, err
	}
	if chats, err = tx.CreateBucketIfNotExists([]byte(boltDigestChat)); err != nil {
		return nil, nil, err
	}
	return dues, chats, nil
}

// digestPut moves the chat's entry to due, or drops it for the zero time.
func digestPut(dues, chats *bolt.Bucket, chatID int64, due time.Time) error {
	id := subKey(chatID)
	if old := chats.Get(id); old != nil {
		if err := dues.Delete(append(bytes.Clone(old), id...)); err != nil {
			return err
		}
	}
	if due.IsZero() {
		return chats.Delete(id)
	}
	at := subKey(due.UnixMilli())
	if err := dues.Put(append(bytes.Clone(at), id...), []byte{}); err != nil {
		return err
	}
	return chats.Put(id, at)
}

var _ bot.DigestStore = (*Bolt)(nil)
