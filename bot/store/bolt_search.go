package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/poller"
)

// The embedded store keeps the search index in boltPubLatest, one index per
// term (pubTermIndex), trimmed to termCap as Redis's term zsets are; it is
// written in the recording's own transaction.

// indexTerms puts a new publication into the index of each of its terms
// and adds the terms to touched, whose indexes trimTerms then trims.
func (bs pubBuckets) indexTerms(p poller.Publication, score float64, touched map[string]bool) error {
	for _, t := range publicationTerms(p) {
		if err := bs.index(pubTermIndex(t), p.ID, score); err != nil {
			return err
		}
		touched[t] = true
	}
	return nil
}

// trimTerms keeps the newest termCap entries of each touched term's index:
// once per transaction, not per publication.
func (bs pubBuckets) trimTerms(touched map[string]bool) error {
	for t := range touched {
		if err := bs.trim(pubTermIndex(t), termCap); err != nil {
			return err
		}
	}
	return nil
}

// boltTermVersion in boltPubSources' sibling bucket marks the search
// index's upgrade as done.
const (
	boltPubMeta       = "pub_meta"
	boltTermVersionID = "term_version"
)

// Search is Redis.Search on the embedded store.
func (b *Bolt) Search(ctx context.Context, query []string, offset, n int) ([]poller.Publication, int, error) {
	query = clampQuery(query)
	if len(query) == 0 || n <= 0 {
		return nil, 0, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: search: %w", err)
	}
	var (
		out   []poller.Publication
		total int
	)
	err := b.db.View(func(tx *bolt.Tx) error {
		latest, pubs := tx.Bucket([]byte(boltPubLatest)), tx.Bucket([]byte(boltPublications))
		if latest == nil || pubs == nil {
			return nil
		}
		lists := make([][]scoredID, len(query))
		for i, t := range query {
			index := pubTermIndex(t)
			c := latest.Cursor()
			for k, id := c.Seek(index); k != nil && bytes.HasPrefix(k, index) && len(lists[i]) < termCap; k, id = c.Next() {
				score := pubUnsortableScore(^binary.BigEndian.Uint64(k[len(index):]))
				lists[i] = append(lists[i], scoredID{string(id), score})
			}
		}
		ids := rankTerms(lists)
		total = len(ids)
		page := pageOf(ids, offset, n)
		var err error
		out, err = pubLoadAll(pubs, page, len(page))
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: search: %w", err)
	}
	return out, total, nil
}

// pubUnsortableScore is the inverse of pubSortableScore.
func pubUnsortableScore(u uint64) float64 {
	if u&(1<<63) != 0 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// UpgradeSearchIndex indexes the publications in the latest index stored by
// a release without the search index, once (see Redis.UpgradeSearchIndex).
func (b *Bolt) UpgradeSearchIndex(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: upgrade search index: %w", err)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte(boltPubMeta))
		if err != nil {
			return err
		}
		if meta.Get([]byte(boltTermVersionID)) != nil {
			return nil
		}
		bs, err := openPubBuckets(tx, b.now())
		if err != nil {
			return err
		}
		index := pubLatestIndex("")
		type entry struct {
			id    string
			score float64
		}
		var entries []entry
		c := bs.latest.Cursor()
		for k, id := c.Seek(index); k != nil && bytes.HasPrefix(k, index) && len(entries) < latestCap; k, id = c.Next() {
			entries = append(entries, entry{string(id), pubUnsortableScore(^binary.BigEndian.Uint64(k[len(index):]))})
		}
		touched := map[string]bool{}
		for _, e := range entries {
			p, ok, err := pubLoad(bs.pubs, e.id)
			if err != nil {
				return err
			}
			if ok {
				if err := bs.indexTerms(p, e.score, touched); err != nil {
					return err
				}
			}
		}
		if err := bs.trimTerms(touched); err != nil {
			return err
		}
		return meta.Put([]byte(boltTermVersionID), []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("store: upgrade search index: %w", err)
	}
	return nil
}

// Backfill implements poller.ArchiveStore.
func (b *Bolt) Backfill(ctx context.Context, source string) (poller.Backfill, error) {
	if err := ctx.Err(); err != nil {
		return poller.Backfill{}, fmt.Errorf("store: backfill of %s: %w", source, err)
	}
	var out poller.Backfill
	err := b.db.View(func(tx *bolt.Tx) error {
		sources := tx.Bucket([]byte(boltPubSources))
		if sources == nil {
			return nil
		}
		st, err := pubSourceLoad(sources, source)
		if err == nil && st.Backfill != nil {
			out = *st.Backfill
		}
		return err
	})
	if err != nil {
		return poller.Backfill{}, fmt.Errorf("store: backfill of %s: %w", source, err)
	}
	return out, nil
}

// SaveBackfill implements poller.ArchiveStore.
func (b *Bolt) SaveBackfill(ctx context.Context, source string, bf poller.Backfill) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: save backfill of %s: %w", source, err)
	}
	err := b.updateSource(source, func(st *boltPubSource) {
		st.Backfill = &bf
	})
	if err != nil {
		return fmt.Errorf("store: save backfill of %s: %w", source, err)
	}
	return nil
}

var _ poller.ArchiveStore = (*Bolt)(nil)
