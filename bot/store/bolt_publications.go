package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/poller"
)

// Buckets of the embedded publication store. They hold what the Redis {pub}
// keys hold, with the same retention constants (seenRetention, latestCap,
// latestCategoryCap, publicationTTL, announceStreamCap). Times are unix ms
// encoded by subKey, so that byte order is time order.
//
// The seen set and the stored publications are pruned by age at the start of
// each Record, through a time-ordered twin bucket, so that pruning reads only
// what it deletes. A publication is kept publicationTTL after it was stored,
// as Redis's EXPIRE keeps it, not dropped when it leaves the latest indexes:
// the announcement queue still names it, and a burst of more than latestCap
// new items would otherwise lose the oldest of them before they are sent.
// Pruning runs on the clock Record is given rather than the wall clock.
const (
	// id -> subKey(last seen ms). One set for all sources.
	boltPubSeen = "seen"
	// subKey(last seen ms) id -> empty: the seen set by age, kept in step.
	boltPubSeenByTime = "seen_by_time"
	// id -> subKey(stored ms) followed by the publication as JSON.
	boltPublications = "publications"
	// subKey(stored ms) id -> empty: stored publications by age.
	boltPubByTime = "publications_by_time"
	// index 0x00 pubLatestScore(score) pubLatestID(id) -> id: the latest
	// indexes, newest first in byte order. index is "*" for all sources and
	// "c" category for one category.
	boltPubLatest = "pub_latest"
	// index 0x00 id -> the id's key in boltPubLatest, to move or drop it.
	boltPubLatestIDs = "pub_latest_ids"
	// source URL -> JSON boltPubSource.
	boltPubSources = "pub_sources"
	// 8-byte big-endian NextSequence -> JSON boltAnnouncement: the
	// announcement queue, oldest first. Record only appends, and drops the
	// oldest entries beyond announceStreamCap as Redis's XADD MAXLEN does;
	// reading and acknowledging entries belongs to the delivery engine.
	boltAnnounce = "announce"
)

// boltPubSource is what the embedded store keeps per source: the Redis
// source state hash.
type boltPubSource struct {
	Initialized  bool            `json:"initialized,omitempty"`
	ETag         string          `json:"etag,omitempty"`
	LastModified string          `json:"last_modified,omitempty"`
	Health       json.RawMessage `json:"health,omitempty"`
	// HealthVersion counts the saves of Health: Redis's health_version.
	HealthVersion int64 `json:"health_version,omitempty"`
}

// boltAnnouncement is one entry of the announcement queue: the fields of a
// Redis stream entry.
type boltAnnouncement struct {
	ID     string `json:"id"`
	Source string `json:"source"`
}

// pubBuckets are the buckets of one writing transaction.
type pubBuckets struct {
	seen, seenByTime, pubs, pubsByTime, latest, latestIDs, sources, announce *bolt.Bucket
}

func openPubBuckets(tx *bolt.Tx) (pubBuckets, error) {
	var bs pubBuckets
	for _, b := range []struct {
		name string
		dst  **bolt.Bucket
	}{
		{boltPubSeen, &bs.seen}, {boltPubSeenByTime, &bs.seenByTime},
		{boltPublications, &bs.pubs}, {boltPubByTime, &bs.pubsByTime},
		{boltPubLatest, &bs.latest}, {boltPubLatestIDs, &bs.latestIDs},
		{boltPubSources, &bs.sources}, {boltAnnounce, &bs.announce},
	} {
		bucket, err := tx.CreateBucketIfNotExists([]byte(b.name))
		if err != nil {
			return pubBuckets{}, fmt.Errorf("create bucket %s: %w", b.name, err)
		}
		*b.dst = bucket
	}
	return bs, nil
}

// see marks id as seen at ms and reports whether it was seen before.
func (bs pubBuckets) see(id string, ms int64) (bool, error) {
	old := bs.seen.Get([]byte(id))
	if old != nil {
		if err := bs.seenByTime.Delete(append(bytes.Clone(old), id...)); err != nil {
			return false, err
		}
	}
	at := subKey(ms)
	if err := bs.seen.Put([]byte(id), at); err != nil {
		return false, err
	}
	return old != nil, bs.seenByTime.Put(append(at, id...), []byte{})
}

// store saves a publication, replacing any older copy and its age entry.
func (bs pubBuckets) store(p poller.Publication, ms int64) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode publication %s: %w", p.ID, err)
	}
	if old := bs.pubs.Get([]byte(p.ID)); len(old) >= 8 {
		if err := bs.pubsByTime.Delete(append(bytes.Clone(old[:8]), p.ID...)); err != nil {
			return err
		}
	}
	at := subKey(ms)
	if err := bs.pubs.Put([]byte(p.ID), append(bytes.Clone(at), body...)); err != nil {
		return err
	}
	return bs.pubsByTime.Put(append(at, p.ID...), []byte{})
}

// index puts id into one latest index at score, moving it if it is there
// already, as ZADD does.
func (bs pubBuckets) index(index []byte, id string, score float64) error {
	ref := append(bytes.Clone(index), id...)
	if old := bs.latestIDs.Get(ref); old != nil {
		if err := bs.latest.Delete(bytes.Clone(old)); err != nil {
			return err
		}
	}
	key := pubLatestKey(index, score, id)
	if err := bs.latest.Put(key, []byte(id)); err != nil {
		return err
	}
	return bs.latestIDs.Put(ref, key)
}

// trim keeps the newest limit entries of one latest index.
func (bs pubBuckets) trim(index []byte, limit int) error {
	var drop [][]byte
	c := bs.latest.Cursor()
	kept := 0
	for k, id := c.Seek(index); k != nil && bytes.HasPrefix(k, index); k, id = c.Next() {
		if kept < limit {
			kept++
			continue
		}
		drop = append(drop, bytes.Clone(k), append(bytes.Clone(index), id...))
	}
	// Deleting under a moving cursor can skip keys; delete after the walk.
	for i := 0; i < len(drop); i += 2 {
		if err := bs.latest.Delete(drop[i]); err != nil {
			return err
		}
		if err := bs.latestIDs.Delete(drop[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// prune deletes the seen ids last seen, and the publications stored, before
// their cutoffs.
func (bs pubBuckets) prune(seenBefore, storedBefore int64) error {
	if err := pruneByTime(bs.seenByTime, bs.seen, subKey(seenBefore)); err != nil {
		return err
	}
	return pruneByTime(bs.pubsByTime, bs.pubs, subKey(storedBefore))
}

// pruneByTime deletes the entries of byTime (subKey(ms) id) before cutoff and
// the ids they name from items.
func pruneByTime(byTime, items *bolt.Bucket, cutoff []byte) error {
	var old [][]byte
	c := byTime.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := byTime.Delete(k); err != nil {
			return err
		}
		if err := items.Delete(k[8:]); err != nil {
			return err
		}
	}
	return nil
}

// enqueue appends an announcement and drops the oldest entries beyond
// announceStreamCap.
func (bs pubBuckets) enqueue(a boltAnnouncement) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode announcement of %s: %w", a.ID, err)
	}
	seq, err := bs.announce.NextSequence()
	if err != nil {
		return err
	}
	if err := bs.announce.Put(binary.BigEndian.AppendUint64(nil, seq), body); err != nil {
		return err
	}
	if seq <= announceStreamCap {
		return nil
	}
	cutoff := binary.BigEndian.AppendUint64(nil, seq-announceStreamCap+1)
	var old [][]byte
	c := bs.announce.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := bs.announce.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (bs pubBuckets) source(source string) (boltPubSource, error) {
	return pubSourceLoad(bs.sources, source)
}

func pubSourceLoad(sources *bolt.Bucket, source string) (boltPubSource, error) {
	var st boltPubSource
	if sources == nil {
		return st, nil
	}
	v := sources.Get([]byte(source))
	if v == nil {
		return st, nil
	}
	if err := json.Unmarshal(v, &st); err != nil {
		return boltPubSource{}, fmt.Errorf("decode state of %s: %w", source, err)
	}
	return st, nil
}

func (bs pubBuckets) saveSource(source string, st boltPubSource) error {
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state of %s: %w", source, err)
	}
	return bs.sources.Put([]byte(source), body)
}

// Record implements poller.Store. It does in one transaction what the Redis
// record script does: prune, then diff, store, index and queue, then mark
// the source initialized with its validators.
func (b *Bolt) Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: record publications of %s: %w", source, err)
	}
	for _, p := range pubs {
		// bbolt keys cannot be empty; the poller never makes such an id.
		if p.ID == "" {
			return nil, fmt.Errorf("store: record publications of %s: a publication has an empty id", source)
		}
	}
	ms := now.UnixMilli()
	byID := make(map[string]poller.Publication, len(pubs))
	var ids []string
	err := b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openPubBuckets(tx)
		if err != nil {
			return err
		}
		st, err := bs.source(source)
		if err != nil {
			return err
		}
		if err := bs.prune(now.Add(-seenRetention).UnixMilli(), now.Add(-publicationTTL).UnixMilli()); err != nil {
			return err
		}
		all := pubLatestIndex("")
		for _, i := range poller.OldestFirst(pubs) {
			p := pubs[i]
			// Like the Redis code, the last copy of a repeated id is the one
			// returned; the first is the one stored.
			byID[p.ID] = p
			known, err := bs.see(p.ID, ms)
			if err != nil {
				return err
			}
			if known {
				continue
			}
			if err := bs.store(p, ms); err != nil {
				return err
			}
			score := latestScore(p, i)
			if err := bs.index(all, p.ID, score); err != nil {
				return err
			}
			cat := pubLatestIndex(p.Category)
			if err := bs.index(cat, p.ID, score); err != nil {
				return err
			}
			if err := bs.trim(cat, latestCategoryCap); err != nil {
				return err
			}
			if st.Initialized {
				if err := bs.enqueue(boltAnnouncement{ID: p.ID, Source: source}); err != nil {
					return err
				}
				ids = append(ids, p.ID)
			}
		}
		if err := bs.trim(all, latestCap); err != nil {
			return err
		}
		st.Initialized, st.ETag, st.LastModified = true, v.ETag, v.LastModified
		return bs.saveSource(source, st)
	})
	if err != nil {
		return nil, fmt.Errorf("store: record publications of %s: %w", source, err)
	}
	fresh := make([]poller.Publication, 0, len(ids))
	for _, id := range ids {
		fresh = append(fresh, byID[id])
	}
	return fresh, nil
}

// Validators implements poller.Store.
func (b *Bolt) Validators(ctx context.Context, source string) (poller.Validators, error) {
	if err := ctx.Err(); err != nil {
		return poller.Validators{}, fmt.Errorf("store: validators of %s: %w", source, err)
	}
	var st boltPubSource
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		st, err = pubSourceLoad(tx.Bucket([]byte(boltPubSources)), source)
		return err
	})
	if err != nil {
		return poller.Validators{}, fmt.Errorf("store: validators of %s: %w", source, err)
	}
	return poller.Validators{ETag: st.ETag, LastModified: st.LastModified}, nil
}

// SaveHealth implements poller.Store.
func (b *Bolt) SaveHealth(ctx context.Context, source string, h poller.Health) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: save health of %s: %w", source, err)
	}
	body, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("store: encode health of %s: %w", source, err)
	}
	err = b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openPubBuckets(tx)
		if err != nil {
			return err
		}
		st, err := bs.source(source)
		if err != nil {
			return err
		}
		st.Health = body
		st.HealthVersion++
		return bs.saveSource(source, st)
	})
	if err != nil {
		return fmt.Errorf("store: save health of %s: %w", source, err)
	}
	return nil
}

// SourceHealth returns the polling health of every source ever polled.
func (b *Bolt) SourceHealth(ctx context.Context) (map[string]poller.Health, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	out := map[string]poller.Health{}
	err := b.db.View(func(tx *bolt.Tx) error {
		sources := tx.Bucket([]byte(boltPubSources))
		if sources == nil {
			return nil
		}
		return sources.ForEach(func(k, v []byte) error {
			var st boltPubSource
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("decode state of %s: %w", k, err)
			}
			var h poller.Health
			if len(st.Health) > 0 {
				if err := json.Unmarshal(st.Health, &h); err != nil {
					return fmt.Errorf("decode health of %s: %w", k, err)
				}
			}
			h.Version = st.HealthVersion
			out[string(k)] = h
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: source health: %w", err)
	}
	return out, nil
}

// Latest returns up to n newest publications, of one category when category
// is not empty. Index entries whose publication was pruned are skipped, as
// Redis skips expired ones.
func (b *Bolt) Latest(ctx context.Context, category string, n int) ([]poller.Publication, error) {
	if n <= 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: latest: %w", err)
	}
	var out []poller.Publication
	err := b.db.View(func(tx *bolt.Tx) error {
		latest, pubs := tx.Bucket([]byte(boltPubLatest)), tx.Bucket([]byte(boltPublications))
		if latest == nil || pubs == nil {
			return nil
		}
		index := pubLatestIndex(category)
		c := latest.Cursor()
		for k, id := c.Seek(index); k != nil && bytes.HasPrefix(k, index) && len(out) < n; k, id = c.Next() {
			p, ok, err := pubLoad(pubs, string(id))
			if err != nil {
				return err
			}
			if ok {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: latest: %w", err)
	}
	return out, nil
}

// Publication returns one stored publication.
func (b *Bolt) Publication(ctx context.Context, id string) (poller.Publication, bool, error) {
	if err := ctx.Err(); err != nil {
		return poller.Publication{}, false, fmt.Errorf("store: load publication %s: %w", id, err)
	}
	var (
		p  poller.Publication
		ok bool
	)
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		p, ok, err = pubLoad(tx.Bucket([]byte(boltPublications)), id)
		return err
	})
	if err != nil {
		return poller.Publication{}, false, fmt.Errorf("store: load publication %s: %w", id, err)
	}
	return p, ok, nil
}

func pubLoad(pubs *bolt.Bucket, id string) (poller.Publication, bool, error) {
	if pubs == nil {
		return poller.Publication{}, false, nil
	}
	v := pubs.Get([]byte(id))
	if len(v) < 8 {
		return poller.Publication{}, false, nil
	}
	var p poller.Publication
	if err := json.Unmarshal(v[8:], &p); err != nil {
		return poller.Publication{}, false, fmt.Errorf("decode publication %s: %w", id, err)
	}
	return p, true, nil
}

// pubLatestIndex is the key prefix of the overall latest index (category
// "") or of one category's.
func pubLatestIndex(category string) []byte {
	if category == "" {
		return []byte{'*', 0}
	}
	p := make([]byte, 0, len(category)+2)
	p = append(p, 'c')
	p = append(p, category...)
	return append(p, 0)
}

// pubLatestKey orders an index newest first, and equal scores by id
// descending, as ZREVRANGE does.
func pubLatestKey(index []byte, score float64, id string) []byte {
	k := make([]byte, 0, len(index)+8+len(id)+1)
	k = append(k, index...)
	k = binary.BigEndian.AppendUint64(k, ^pubSortableScore(score))
	for i := 0; i < len(id); i++ {
		k = append(k, ^id[i])
	}
	// The terminator sorts an id before its own prefixes, which is the
	// reverse of their order.
	return append(k, 0xff)
}

// pubSortableScore maps a float to an integer of the same order: negative
// numbers have every bit flipped, others the sign bit set.
func pubSortableScore(f float64) uint64 {
	bits := math.Float64bits(f)
	if bits&(1<<63) != 0 {
		return ^bits
	}
	return bits | 1<<63
}

var _ poller.Store = (*Bolt)(nil)
