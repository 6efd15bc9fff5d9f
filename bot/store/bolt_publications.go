package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
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
// each chunk of a recording and at its finish, through a time-ordered twin
// bucket, so that pruning reads only
// what it deletes. A publication is kept publicationTTL after it was stored,
// as Redis's EXPIRE keeps it, not dropped when it leaves the latest indexes:
// the announcement queue still names it, and a burst of more than latestCap
// new items would otherwise lose the oldest of them before they are sent.
// Pruning runs on the clock a recording is given rather than the wall clock.
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
	// source URL 0x00 id -> 8-byte sortable latest score: publications
	// recorded but not yet queued or held (Redis's pending zsets).
	boltPubPending = "pub_pending"
	// burst id -> JSON boltBurst.
	boltPubBursts = "pub_bursts"
	// source URL -> expiry (expiring): staff were told of a burst of the
	// source (Redis's burstQuietKey).
	boltPubBurstQuiet = "pub_burst_quiet"
)

// boltPubSource is what the embedded store keeps per source: the Redis
// source state hash.
type boltPubSource struct {
	Initialized  bool            `json:"initialized,omitempty"`
	ETag         string          `json:"etag,omitempty"`
	LastModified string          `json:"last_modified,omitempty"`
	Health       json.RawMessage `json:"health,omitempty"`
	// HealthVersion counts the saves of Health: Redis's health_version.
	HealthVersion int64  `json:"health_version,omitempty"`
	Digest        string `json:"digest,omitempty"`
	DigestAt      int64  `json:"digest_at,omitempty"` // unix ms
	// Backfill is the archive backfill's progress.
	Backfill *poller.Backfill `json:"backfill,omitempty"`
}

// boltBurst is a held burst: the Redis burst hash.
type boltBurst struct {
	Source   string   `json:"source"`
	Count    int      `json:"count"`
	At       int64    `json:"at"` // unix ms
	Newest   []string `json:"newest"`
	Noticed  bool     `json:"noticed,omitempty"`
	Released bool     `json:"released,omitempty"`
	Expires  int64    `json:"expires"` // unix ms, wall clock
}

// boltAnnouncement is one entry of the announcement queue: the fields of a
// Redis stream entry.
type boltAnnouncement struct {
	ID     string `json:"id"`
	Source string `json:"source"`
}

// pubBuckets are the buckets of one writing transaction.
type pubBuckets struct {
	seen, seenByTime, pubs, pubsByTime, latest, latestIDs, sources, announce, pending, bursts, burstQuiet *bolt.Bucket

	now time.Time // the store's clock when the transaction began
}

func openPubBuckets(tx *bolt.Tx, now time.Time) (pubBuckets, error) {
	bs := pubBuckets{now: now}
	for _, b := range []struct {
		name string
		dst  **bolt.Bucket
	}{
		{boltPubSeen, &bs.seen}, {boltPubSeenByTime, &bs.seenByTime},
		{boltPublications, &bs.pubs}, {boltPubByTime, &bs.pubsByTime},
		{boltPubLatest, &bs.latest}, {boltPubLatestIDs, &bs.latestIDs},
		{boltPubSources, &bs.sources}, {boltAnnounce, &bs.announce},
		{boltPubPending, &bs.pending}, {boltPubBursts, &bs.bursts}, {boltPubBurstQuiet, &bs.burstQuiet},
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

// Record records pubs with no burst limit: RecordPoll for callers that only
// need what was queued.
func (b *Bolt) Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error) {
	done, err := b.RecordPoll(ctx, poller.Recording{Source: source, Pubs: pubs, Validators: v, Now: now})
	return done.Queued, err
}

// RecordPoll implements poller.Store as the Redis scripts do: a transaction
// per chunk of recordChunk publications (bbolt's one writer is never held
// for long), then one that queues or holds what is pending and marks the
// source initialized with its validators.
func (b *Bolt) RecordPoll(ctx context.Context, rec poller.Recording) (poller.Recorded, error) {
	if err := ctx.Err(); err != nil {
		return poller.Recorded{}, fmt.Errorf("store: record publications of %s: %w", rec.Source, err)
	}
	for _, p := range rec.Pubs {
		// bbolt keys cannot be empty; the poller never makes such an id.
		if p.ID == "" {
			return poller.Recorded{}, fmt.Errorf("store: record publications of %s: a publication has an empty id", rec.Source)
		}
	}
	for i := 0; i < len(rec.Pubs); i += recordChunk {
		chunk := rec.Pubs[i:min(i+recordChunk, len(rec.Pubs))]
		if err := b.db.Update(func(tx *bolt.Tx) error { return recordChunkTx(tx, rec, i, chunk, b.now()) }); err != nil {
			return poller.Recorded{}, fmt.Errorf("store: record publications of %s: %w", rec.Source, err)
		}
	}
	if rec.Archive {
		return poller.Recorded{}, nil // an older page: the source's state stays the poll's
	}
	var (
		done poller.Recorded
		ids  []string
	)
	err := b.db.Update(func(tx *bolt.Tx) error {
		var err error
		done.Burst, ids, err = recordFinishTx(tx, rec, b.now())
		return err
	})
	if err == nil && len(ids) > 0 {
		b.changed.notify() // new publications for NextPublications
	}
	if err == nil && done.Burst == nil {
		done.Queued, err = queuedPublications(rec.Pubs, ids, func(missing []string) ([]poller.Publication, error) {
			var out []poller.Publication
			err := b.db.View(func(tx *bolt.Tx) error {
				var err error
				out, err = pubLoadAll(tx.Bucket([]byte(boltPublications)), missing, len(missing))
				return err
			})
			return out, err
		})
	}
	if err != nil {
		return poller.Recorded{}, fmt.Errorf("store: record publications of %s: %w", rec.Source, err)
	}
	return done, nil
}

// recordChunkTx is recordChunkScript: pubs are rec.Pubs[offset:].
func recordChunkTx(tx *bolt.Tx, rec poller.Recording, offset int, pubs []poller.Publication, wall time.Time) error {
	bs, err := openPubBuckets(tx, wall)
	if err != nil {
		return err
	}
	st, err := bs.source(rec.Source)
	if err != nil {
		return err
	}
	if err := bs.prune(rec.Now.Add(-seenRetention).UnixMilli(), rec.Now.Add(-publicationTTL).UnixMilli()); err != nil {
		return err
	}
	ms := rec.Now.UnixMilli()
	all := pubLatestIndex("")
	touched := map[string]bool{}
	for i, p := range pubs {
		legacyKnown := p.LegacyID != "" && bs.seen.Get([]byte(p.LegacyID)) != nil
		known, err := bs.see(p.ID, ms)
		if err != nil {
			return err
		}
		if known || legacyKnown {
			continue
		}
		if err := bs.store(p, ms); err != nil {
			return err
		}
		score := latestScore(p, offset+i)
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
		if err := bs.indexTerms(p, score, touched); err != nil {
			return err
		}
		if st.Initialized && !rec.Archive {
			key := append(append([]byte(rec.Source), 0), p.ID...)
			if err := bs.pending.Put(key, binary.BigEndian.AppendUint64(nil, pubSortableScore(score))); err != nil {
				return err
			}
		}
	}
	return bs.trimTerms(touched)
}

// recordFinishTx is recordFinishScript. It returns the burst it held, or
// the ids it queued, oldest first.
func recordFinishTx(tx *bolt.Tx, rec poller.Recording, wall time.Time) (*poller.Burst, []string, error) {
	bs, err := openPubBuckets(tx, wall)
	if err != nil {
		return nil, nil, err
	}
	now := rec.Now
	if err := bs.prune(now.Add(-seenRetention).UnixMilli(), now.Add(-publicationTTL).UnixMilli()); err != nil {
		return nil, nil, err
	}
	if err := bs.trim(pubLatestIndex(""), latestCap); err != nil {
		return nil, nil, err
	}
	pending, err := bs.takePending(rec.Source)
	if err != nil {
		return nil, nil, err
	}
	var burst *poller.Burst
	switch {
	case len(pending) > 0 && rec.BurstLimit > 0 && len(pending) > rec.BurstLimit:
		burst = &poller.Burst{
			ID: newBurstID(rec.Source, now), Source: rec.Source, Count: len(pending),
			At: time.UnixMilli(now.UnixMilli()).UTC(), Newest: pending[:min(len(pending), max(rec.BurstNewest, 1))],
		}
		if err := bs.addBurst(*burst); err != nil {
			return nil, nil, err
		}
		pending = nil
	default:
		// Announced in publication order: oldest first.
		slices.Reverse(pending)
		for _, id := range pending {
			if err := bs.enqueue(boltAnnouncement{ID: id, Source: rec.Source}); err != nil {
				return nil, nil, err
			}
		}
	}
	st, err := bs.source(rec.Source)
	if err != nil {
		return nil, nil, err
	}
	st.Initialized, st.ETag, st.LastModified, st.Digest = true, rec.Validators.ETag, rec.Validators.LastModified, rec.Validators.Digest
	st.DigestAt = 0
	if !rec.Validators.DigestAt.IsZero() {
		st.DigestAt = rec.Validators.DigestAt.UnixMilli()
	}
	return burst, pending, bs.saveSource(rec.Source, st)
}

// takePending removes and returns the source's pending ids, newest first
// (highest score first, ties by id descending, as ZREVRANGE orders them).
func (bs pubBuckets) takePending(source string) ([]string, error) {
	prefix := append([]byte(source), 0)
	type entry struct {
		key   []byte
		score uint64
	}
	var entries []entry
	c := bs.pending.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		entries = append(entries, entry{bytes.Clone(k), binary.BigEndian.Uint64(v)})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return bytes.Compare(b.key, a.key)
	})
	ids := make([]string, len(entries))
	for i, e := range entries {
		if err := bs.pending.Delete(e.key); err != nil {
			return nil, err
		}
		ids[i] = string(e.key[len(prefix):])
	}
	return ids, nil
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
	v := poller.Validators{ETag: st.ETag, LastModified: st.LastModified, Digest: st.Digest}
	if st.DigestAt != 0 {
		v.DigestAt = time.UnixMilli(st.DigestAt).UTC()
	}
	return v, nil
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
	err = b.updateSource(source, func(st *boltPubSource) {
		st.Health = body
		st.HealthVersion++
	})
	if err != nil {
		return fmt.Errorf("store: save health of %s: %w", source, err)
	}
	return nil
}

// updateSource changes one source's record in one transaction.
func (b *Bolt) updateSource(source string, change func(*boltPubSource)) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openPubBuckets(tx, b.now())
		if err != nil {
			return err
		}
		st, err := bs.source(source)
		if err != nil {
			return err
		}
		change(&st)
		return bs.saveSource(source, st)
	})
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
			more, err := pubLoadAll(pubs, []string{string(id)}, n-len(out))
			if err != nil {
				return err
			}
			out = append(out, more...)
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

// pubLoadAll loads up to n of ids, in order, skipping the ones pruned.
func pubLoadAll(pubs *bolt.Bucket, ids []string, n int) ([]poller.Publication, error) {
	var out []poller.Publication
	for _, id := range ids {
		if len(out) == n {
			break
		}
		p, ok, err := pubLoad(pubs, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
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

// pubTermIndex is the key prefix of one term's search index in
// boltPubLatest: the latest indexes' layout, newest first.
func pubTermIndex(term string) []byte {
	p := make([]byte, 0, len(term)+2)
	p = append(p, 't')
	p = append(p, term...)
	return append(p, 0)
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
