package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Buckets of the embedded subscriber store. Chat ids and times are encoded
// by subKey so that byte order is numeric order, negative ids included.
const (
	// subKey(chat id) -> JSON subRecord
	boltSubscribers = "subscribers"
	// 'c' category 0x00 subKey(chat id), and 'l' language 0x00 subKey(chat
	// id) -> empty: the category and language indexes, in chat id order.
	boltSubIndex = "sub_index"
	// "total", 'c' category, 'l' language -> 8-byte big-endian count; a
	// count that drops to zero is deleted.
	boltSubCounts = "sub_counts"
	// subKey(ms) 'j'|'l' subKey(chat id) -> empty: join and leave events.
	boltSubEvents = "sub_events"
)

const (
	subIndexCategory = 'c'
	subIndexLanguage = 'l'
	subEventJoin     = 'j'
	subEventLeave    = 'l'
)

// subRecord is a subscriber as the embedded store keeps it.
type subRecord struct {
	Type   string   `json:"type"`
	Lang   string   `json:"lang"`
	Cats   []string `json:"cats"`
	Joined int64    `json:"joined"` // ms
	// Prefs in subscriptions.Prefs.String's form; records of the release
	// before them have none, which reads as the defaults.
	Prefs string `json:"prefs,omitempty"`
}

// subscriber reads the record; prefs it cannot read (written by hand, or
// by a later release in a form this one does not know) are the defaults
// rather than a subscriber lost.
func (rec subRecord) subscriber(chatID int64) subscriptions.Subscriber {
	prefs, _ := subscriptions.ParsePrefs(rec.Prefs)
	return subscriptions.Subscriber{
		ChatID:     chatID,
		Type:       subscriptions.ChatType(rec.Type),
		Language:   rec.Lang,
		Categories: rec.Cats,
		JoinedAt:   time.UnixMilli(rec.Joined).UTC(),
		Prefs:      prefs,
	}
}

// subBuckets are the buckets of one writing transaction.
type subBuckets struct {
	subs, index, counts, events *bolt.Bucket
}

func openSubBuckets(tx *bolt.Tx) (subBuckets, error) {
	var bs subBuckets
	for _, b := range []struct {
		name string
		dst  **bolt.Bucket
	}{{boltSubscribers, &bs.subs}, {boltSubIndex, &bs.index}, {boltSubCounts, &bs.counts}, {boltSubEvents, &bs.events}} {
		bucket, err := tx.CreateBucketIfNotExists([]byte(b.name))
		if err != nil {
			return subBuckets{}, fmt.Errorf("create bucket %s: %w", b.name, err)
		}
		*b.dst = bucket
	}
	return bs, nil
}

// load returns the stored record of a chat, if any.
func (bs subBuckets) load(chatID int64) (subRecord, bool, error) {
	return subLoad(bs.subs, chatID)
}

func subLoad(subs *bolt.Bucket, chatID int64) (subRecord, bool, error) {
	if subs == nil {
		return subRecord{}, false, nil
	}
	v := subs.Get(subKey(chatID))
	if v == nil {
		return subRecord{}, false, nil
	}
	var rec subRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return subRecord{}, false, fmt.Errorf("decode subscriber %d: %w", chatID, err)
	}
	return rec, true, nil
}

// put stores a record and indexes it under its categories and language.
func (bs subBuckets) put(chatID int64, rec subRecord) error {
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode subscriber %d: %w", chatID, err)
	}
	if err := bs.subs.Put(subKey(chatID), body); err != nil {
		return err
	}
	for _, c := range rec.Cats {
		if err := bs.index.Put(subIndexKey(subIndexCategory, c, chatID), []byte{}); err != nil {
			return err
		}
		if err := bs.add(subCountKey(subIndexCategory, c), 1); err != nil {
			return err
		}
	}
	if err := bs.index.Put(subIndexKey(subIndexLanguage, rec.Lang, chatID), []byte{}); err != nil {
		return err
	}
	return bs.add(subCountKey(subIndexLanguage, rec.Lang), 1)
}

// remove deletes a record and its index entries.
func (bs subBuckets) remove(chatID int64, rec subRecord) error {
	if err := bs.subs.Delete(subKey(chatID)); err != nil {
		return err
	}
	for _, c := range rec.Cats {
		if err := bs.index.Delete(subIndexKey(subIndexCategory, c, chatID)); err != nil {
			return err
		}
		if err := bs.add(subCountKey(subIndexCategory, c), -1); err != nil {
			return err
		}
	}
	if err := bs.index.Delete(subIndexKey(subIndexLanguage, rec.Lang, chatID)); err != nil {
		return err
	}
	return bs.add(subCountKey(subIndexLanguage, rec.Lang), -1)
}

// add changes a count, deleting it when it reaches zero.
func (bs subBuckets) add(key []byte, delta int64) error {
	n := int64(subCount(bs.counts.Get(key))) + delta
	if n <= 0 {
		return bs.counts.Delete(key)
	}
	return bs.counts.Put(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// event records a join or leave and drops events older than the retention
// before it.
func (bs subBuckets) event(kind byte, chatID, ms int64) error {
	key := append(append(subKey(ms), kind), subKey(chatID)...)
	if err := bs.events.Put(key, []byte{}); err != nil {
		return err
	}
	cutoff := subKey(ms - subEventRetention.Milliseconds())
	var old [][]byte
	c := bs.events.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	// Deleting under a moving cursor can skip keys; delete after the walk.
	for _, k := range old {
		if err := bs.events.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// SaveSubscriber implements subscriptions.Store.
func (b *Bolt) SaveSubscriber(_ context.Context, s subscriptions.Subscriber) (bool, error) {
	cats, err := subCheck(s)
	if err != nil {
		return false, err
	}
	created := false
	err = b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openSubBuckets(tx)
		if err != nil {
			return err
		}
		created, err = bs.save(s, cats, b.now())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: save subscriber %d: %w", s.ChatID, err)
	}
	return created, nil
}

// save is SaveSubscriber within a transaction, with cats from subCheck.
func (bs subBuckets) save(s subscriptions.Subscriber, cats []string, now time.Time) (created bool, err error) {
	rec := subRecord{Type: string(s.Type), Lang: s.Language, Cats: cats, Prefs: s.Prefs.String()}
	old, ok, err := bs.load(s.ChatID)
	if err != nil {
		return false, err
	}
	if ok {
		if err := bs.remove(s.ChatID, old); err != nil {
			return false, err
		}
		rec.Joined = old.Joined
	} else {
		rec.Joined = subJoinedMs(s, now)
		if err := bs.add([]byte("total"), 1); err != nil {
			return false, err
		}
		if err := bs.event(subEventJoin, s.ChatID, rec.Joined); err != nil {
			return false, err
		}
	}
	return !ok, bs.put(s.ChatID, rec)
}

// Subscriber implements subscriptions.Store.
func (b *Bolt) Subscriber(_ context.Context, chatID int64) (subscriptions.Subscriber, bool, error) {
	var (
		rec subRecord
		ok  bool
	)
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, ok, err = subLoad(tx.Bucket([]byte(boltSubscribers)), chatID)
		return err
	})
	if err != nil {
		return subscriptions.Subscriber{}, false, fmt.Errorf("store: load subscriber %d: %w", chatID, err)
	}
	if !ok {
		return subscriptions.Subscriber{}, false, nil
	}
	return rec.subscriber(chatID), true, nil
}

// DeleteSubscriber implements subscriptions.Store.
func (b *Bolt) DeleteSubscriber(_ context.Context, chatID int64, at time.Time) (bool, error) {
	deleted := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openSubBuckets(tx)
		if err != nil {
			return err
		}
		_, deleted, err = bs.delete(chatID, at)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: delete subscriber %d: %w", chatID, err)
	}
	return deleted, nil
}

// delete is DeleteSubscriber within a transaction; it returns the record
// deleted.
func (bs subBuckets) delete(chatID int64, at time.Time) (subRecord, bool, error) {
	rec, ok, err := bs.load(chatID)
	if err != nil || !ok {
		return subRecord{}, false, err
	}
	if err := bs.remove(chatID, rec); err != nil {
		return subRecord{}, false, err
	}
	if err := bs.add([]byte("total"), -1); err != nil {
		return subRecord{}, false, err
	}
	return rec, true, bs.event(subEventLeave, chatID, at.UnixMilli())
}

// MigrateSubscriber implements subscriptions.Store.
func (b *Bolt) MigrateSubscriber(_ context.Context, from, to int64) (bool, error) {
	existed := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openSubBuckets(tx)
		if err != nil {
			return err
		}
		rec, ok, err := bs.load(from)
		if err != nil || !ok || from == to {
			existed = ok
			return err
		}
		existed = true
		if err := bs.remove(from, rec); err != nil {
			return err
		}
		_, taken, err := bs.load(to)
		if err != nil {
			return err
		}
		if taken {
			return bs.add([]byte("total"), -1)
		}
		return bs.put(to, rec)
	})
	if err != nil {
		return false, fmt.Errorf("store: migrate subscriber %d to %d: %w", from, to, err)
	}
	return existed, nil
}

// SubscribersPage implements subscriptions.Store. It walks the indexes the
// filter names (its categories, else its language, else everyone) inside
// one read transaction, so what it returns is a consistent snapshot.
// Several categories are walked with a cursor each, merged in chat id order.
func (b *Bolt) SubscribersPage(_ context.Context, f subscriptions.Filter, cursor string, limit int) ([]subscriptions.Subscriber, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("store: subscribers page: limit %d is not positive", limit)
	}
	after, err := subCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	out := make([]subscriptions.Subscriber, 0, limit)
	next := ""
	err = b.db.View(func(tx *bolt.Tx) error {
		subs := tx.Bucket([]byte(boltSubscribers))
		index := tx.Bucket([]byte(boltSubIndex))
		if subs == nil {
			return nil
		}
		var walks []*subIndexWalk
		switch cats := f.AnyOf(); {
		case len(cats) > 0 && index != nil:
			for _, c := range cats {
				walks = append(walks, newSubIndexWalk(index, subIndexPrefix(subIndexCategory, c), after))
			}
		case len(cats) > 0:
			return nil
		case f.Language != "" && index != nil:
			walks = append(walks, newSubIndexWalk(index, subIndexPrefix(subIndexLanguage, f.Language), after))
		case f.Language != "":
			return nil
		default:
			walks = append(walks, newSubIndexWalk(subs, nil, after))
		}
		last := ""
		for {
			// The smallest id any walk is at; every walk there moves on.
			var chatID int64
			found := false
			for _, w := range walks {
				if w.ok && (!found || w.id < chatID) {
					chatID, found = w.id, true
				}
			}
			if !found {
				return nil
			}
			if len(out) == limit {
				next = last
				return nil
			}
			for _, w := range walks {
				if w.ok && w.id == chatID {
					w.next()
				}
			}
			last = strconv.FormatInt(chatID, 10)
			rec, ok, err := subLoad(subs, chatID)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if s := rec.subscriber(chatID); f.Matches(s) {
				out = append(out, s)
			}
		}
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: subscribers page: %w", err)
	}
	return out, next, nil
}

// subIndexWalk walks the chat ids of one index (keys prefix + subKey), or
// of the subscribers bucket with a nil prefix.
type subIndexWalk struct {
	c      *bolt.Cursor
	prefix []byte
	id     int64 // where the walk is, when ok
	ok     bool
}

// newSubIndexWalk starts a walk at the first id above after (nil: the
// first id).
func newSubIndexWalk(bucket *bolt.Bucket, prefix []byte, after *int64) *subIndexWalk {
	w := &subIndexWalk{c: bucket.Cursor(), prefix: prefix}
	var k []byte
	switch {
	case after == nil && prefix == nil:
		k, _ = w.c.First()
	case after == nil:
		k, _ = w.c.Seek(prefix)
	default:
		from := append(bytes.Clone(prefix), subKey(*after)...)
		if k, _ = w.c.Seek(from); bytes.Equal(k, from) {
			k, _ = w.c.Next()
		}
	}
	w.at(k)
	return w
}

func (w *subIndexWalk) next() {
	k, _ := w.c.Next()
	w.at(k)
}

func (w *subIndexWalk) at(k []byte) {
	w.ok = k != nil && bytes.HasPrefix(k, w.prefix) && len(k) == len(w.prefix)+8
	if w.ok {
		w.id = subKeyID(k[len(w.prefix):])
	}
}

// SubscriberCounts implements subscriptions.Store.
func (b *Bolt) SubscriberCounts(_ context.Context, since time.Time) (subscriptions.Counts, error) {
	counts := subscriptions.Counts{ByCategory: map[string]int{}, ByLanguage: map[string]int{}}
	err := b.db.View(func(tx *bolt.Tx) error {
		if cb := tx.Bucket([]byte(boltSubCounts)); cb != nil {
			counts.Total = int(subCount(cb.Get([]byte("total"))))
			err := cb.ForEach(func(k, v []byte) error {
				switch k[0] {
				case subIndexCategory:
					counts.ByCategory[string(k[1:])] = int(subCount(v))
				case subIndexLanguage:
					counts.ByLanguage[string(k[1:])] = int(subCount(v))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		eb := tx.Bucket([]byte(boltSubEvents))
		if eb == nil {
			return nil
		}
		c := eb.Cursor()
		for k, _ := c.Seek(subKey(since.UnixMilli())); k != nil; k, _ = c.Next() {
			switch k[8] {
			case subEventJoin:
				counts.Joined++
			case subEventLeave:
				counts.Left++
			}
		}
		return nil
	})
	if err != nil {
		return subscriptions.Counts{}, fmt.Errorf("store: subscriber counts: %w", err)
	}
	return counts, nil
}

// subKey encodes a signed number so that byte order is numeric order:
// big-endian with the sign bit flipped.
func subKey(n int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(n)^(1<<63))
}

func subKeyID(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func subIndexPrefix(kind byte, name string) []byte {
	p := make([]byte, 0, len(name)+10)
	p = append(p, kind)
	p = append(p, name...)
	return append(p, 0)
}

func subIndexKey(kind byte, name string, chatID int64) []byte {
	return append(subIndexPrefix(kind, name), subKey(chatID)...)
}

func subCountKey(kind byte, name string) []byte { return append([]byte{kind}, name...) }

func subCount(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

var _ subscriptions.Store = (*Bolt)(nil)
