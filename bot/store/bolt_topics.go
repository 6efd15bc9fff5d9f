package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Topics on the embedded store, what the Redis topic keys hold:
const (
	// chat id (8 bytes, order-preserving) topic key -> label.
	boltSubTopics = "sub_topics"
	// term 0x00 chat id (8 bytes, order-preserving) topic key -> empty:
	// the index by each topic's first term, walked by chat id ranges.
	boltSubTopicIndex = "sub_topic_index"
)

// topicChat encodes a chat id so that byte order is numeric order.
func topicChat(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)^(1<<63)) }

func topicChatID(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func topicIndexKey(term string, chatID int64, key string) []byte {
	k := append([]byte(term), 0)
	k = append(k, topicChat(chatID)...)
	return append(k, key...)
}

func topicBuckets(tx *bolt.Tx) (topics, index *bolt.Bucket, err error) {
	if topics, err = tx.CreateBucketIfNotExists([]byte(boltSubTopics)); err != nil {
		return nil, nil, err
	}
	index, err = tx.CreateBucketIfNotExists([]byte(boltSubTopicIndex))
	return topics, index, err
}

// AddTopic implements subscriptions.TopicStore.
func (b *Bolt) AddTopic(_ context.Context, chatID int64, t subscriptions.Topic, max int) (added bool, n int, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		topics, index, err := topicBuckets(tx)
		if err != nil {
			return err
		}
		prefix := topicChat(chatID)
		exists := false
		c := topics.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
			exists = exists || string(k[len(prefix):]) == t.Key
		}
		if exists || n >= max {
			return nil
		}
		if err := topics.Put(append(prefix, t.Key...), []byte(t.Label)); err != nil {
			return err
		}
		added, n = true, n+1
		return index.Put(topicIndexKey(subscriptions.TopicIndexTerm(t.Key), chatID, t.Key), []byte{})
	})
	if err != nil {
		return false, 0, fmt.Errorf("store: add topic of %d: %w", chatID, err)
	}
	return added, n, nil
}

// RemoveTopic implements subscriptions.TopicStore.
func (b *Bolt) RemoveTopic(_ context.Context, chatID int64, key string) (bool, error) {
	found := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		topics, index, err := topicBuckets(tx)
		if err != nil {
			return err
		}
		k := append(topicChat(chatID), key...)
		found = topics.Get(k) != nil
		if err := topics.Delete(k); err != nil {
			return err
		}
		return index.Delete(topicIndexKey(subscriptions.TopicIndexTerm(key), chatID, key))
	})
	if err != nil {
		return false, fmt.Errorf("store: remove topic of %d: %w", chatID, err)
	}
	return found, nil
}

// Topics implements subscriptions.TopicStore.
func (b *Bolt) Topics(_ context.Context, chatID int64) ([]subscriptions.Topic, error) {
	var out []subscriptions.Topic
	err := b.db.View(func(tx *bolt.Tx) error {
		topics := tx.Bucket([]byte(boltSubTopics))
		if topics == nil {
			return nil
		}
		prefix := topicChat(chatID)
		c := topics.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			out = append(out, subscriptions.Topic{Key: string(k[len(prefix):]), Label: string(v)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: topics of %d: %w", chatID, err)
	}
	return out, nil
}

// DeleteTopics implements subscriptions.TopicStore.
func (b *Bolt) DeleteTopics(ctx context.Context, chatID int64) error {
	topics, err := b.Topics(ctx, chatID)
	if err != nil || len(topics) == 0 {
		return err
	}
	err = b.db.Update(func(tx *bolt.Tx) error {
		tb, index, err := topicBuckets(tx)
		if err != nil {
			return err
		}
		for _, t := range topics {
			if err := tb.Delete(append(topicChat(chatID), t.Key...)); err != nil {
				return err
			}
			if err := index.Delete(topicIndexKey(subscriptions.TopicIndexTerm(t.Key), chatID, t.Key)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete topics of %d: %w", chatID, err)
	}
	return nil
}

// TopicFollowers implements subscriptions.TopicStore.
func (b *Bolt) TopicFollowers(_ context.Context, terms []string, after, upTo *int64) ([]subscriptions.Follower, error) {
	var out []subscriptions.Follower
	err := b.db.View(func(tx *bolt.Tx) error {
		index := tx.Bucket([]byte(boltSubTopicIndex))
		if index == nil {
			return nil
		}
		for _, t := range terms {
			prefix := append([]byte(t), 0)
			start := prefix
			if after != nil {
				start = append(bytes.Clone(prefix), topicChat(*after+1)...)
			}
			c := index.Cursor()
			for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix) && len(k) >= len(prefix)+8; k, _ = c.Next() {
				id := topicChatID(k[len(prefix) : len(prefix)+8])
				if upTo != nil && id > *upTo {
					break
				}
				out = append(out, subscriptions.Follower{ChatID: id, Key: string(k[len(prefix)+8:])})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: topic followers: %w", err)
	}
	return out, nil
}

// SubscribersByID implements subscriptions.TopicStore.
func (b *Bolt) SubscribersByID(_ context.Context, ids []int64) ([]subscriptions.Subscriber, error) {
	var out []subscriptions.Subscriber
	err := b.db.View(func(tx *bolt.Tx) error {
		subs := tx.Bucket([]byte(boltSubscribers))
		for _, id := range ids {
			rec, ok, err := subLoad(subs, id)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, rec.subscriber(id))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: load subscribers: %w", err)
	}
	return out, nil
}

var _ subscriptions.TopicStore = (*Bolt)(nil)
