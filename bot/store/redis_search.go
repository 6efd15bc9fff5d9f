package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/poller"
)

// indexTerms adds the chunk's publications that are not yet seen (under
// their id or legacy id) to the search index, before recordChunkScript marks
// them seen: a crash in between leaves them unseen, so the next poll indexes
// them again (ZADD is idempotent), and a publication seen before is never
// indexed twice. One ZMSCORE and one pipeline of at most terms.MaxPerText
// small commands per new publication; the index is its own zsets, so the
// chunk script keeps its bound of keys.
func (r *Redis) indexTerms(ctx context.Context, pubs []poller.Publication, offset int) error {
	members := make([]string, 0, 2*len(pubs))
	for _, p := range pubs {
		members = append(members, p.ID, p.LegacyID)
	}
	scores, err := r.rdb.ZMScore(ctx, seenKey(), members...).Result()
	if err != nil {
		return fmt.Errorf("index terms: %w", err)
	}
	byTerm := map[string][]redis.Z{}
	for i, p := range pubs {
		if scores[2*i] != 0 || scores[2*i+1] != 0 {
			continue
		}
		addTerms(byTerm, p, latestScore(p, offset+i))
	}
	return r.writeTerms(ctx, byTerm, nil)
}

// addTerms adds one publication's terms to byTerm.
func addTerms(byTerm map[string][]redis.Z, p poller.Publication, score float64) {
	for _, t := range publicationTerms(p) {
		byTerm[t] = append(byTerm[t], redis.Z{Score: score, Member: p.ID})
	}
}

// writeTerms writes byTerm in one pipeline, three commands a term (add,
// trim to termCap, expiry), and then runs more (if any) in it too.
func (r *Redis) writeTerms(ctx context.Context, byTerm map[string][]redis.Z, more func(redis.Pipeliner)) error {
	if len(byTerm) == 0 && more == nil {
		return nil
	}
	pipe := r.rdb.Pipeline()
	for t, zs := range byTerm {
		key := termKey(t)
		pipe.ZAdd(ctx, key, zs...)
		pipe.ZRemRangeByRank(ctx, key, 0, -(termCap + 1))
		pipe.Expire(ctx, key, publicationTTL)
	}
	if more != nil {
		more(pipe)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("index terms: %w", err)
	}
	return nil
}

// Search implements the bot's search: see rankTerms. It reads at most
// termCap entries of each of at most MaxQueryTerms terms, in one round trip,
// and loads only the page asked for.
func (r *Redis) Search(ctx context.Context, query []string, offset, n int) ([]poller.Publication, int, error) {
	query = clampQuery(query)
	if len(query) == 0 || n <= 0 {
		return nil, 0, nil
	}
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.ZSliceCmd, len(query))
	for i, t := range query {
		cmds[i] = pipe.ZRevRangeWithScores(ctx, termKey(t), 0, termCap-1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, 0, fmt.Errorf("store: search: %w", err)
	}
	lists := make([][]scoredID, len(query))
	for i, c := range cmds {
		for _, z := range c.Val() {
			id, _ := z.Member.(string)
			lists[i] = append(lists[i], scoredID{id, z.Score})
		}
	}
	ids := rankTerms(lists)
	page := pageOf(ids, offset, n)
	pubs, err := r.publications(ctx, page)
	if err != nil {
		return nil, 0, fmt.Errorf("store: search: %w", err)
	}
	return pubs, len(ids), nil
}

// UpgradeSearchIndex indexes the publications stored by a release without
// the search index (the latest latestCap of them), once: a version key
// marks it done, and indexing twice changes nothing.
func (r *Redis) UpgradeSearchIndex(ctx context.Context) error {
	done, err := r.rdb.Exists(ctx, termVersionKey()).Result()
	if err != nil {
		return fmt.Errorf("store: upgrade search index: %w", err)
	}
	if done > 0 {
		return nil
	}
	zs, err := r.rdb.ZRevRangeWithScores(ctx, latestKey(), 0, latestCap-1).Result()
	if err != nil {
		return fmt.Errorf("store: upgrade search index: %w", err)
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i], _ = z.Member.(string)
	}
	pubs, err := r.publications(ctx, ids)
	if err != nil {
		return fmt.Errorf("store: upgrade search index: %w", err)
	}
	score := make(map[string]float64, len(zs))
	for _, z := range zs {
		id, _ := z.Member.(string)
		score[id] = z.Score
	}
	byTerm := map[string][]redis.Z{}
	for _, p := range pubs {
		addTerms(byTerm, p, score[p.ID])
	}
	err = r.writeTerms(ctx, byTerm, func(pipe redis.Pipeliner) { pipe.Set(ctx, termVersionKey(), "1", 0) })
	if err != nil {
		return fmt.Errorf("store: upgrade search index: %w", err)
	}
	return nil
}

// Backfill implements poller.ArchiveStore: a field of the source's state.
func (r *Redis) Backfill(ctx context.Context, source string) (poller.Backfill, error) {
	body, err := r.rdb.HGet(ctx, sourceStateKey(source), "backfill").Result()
	if errors.Is(err, redis.Nil) {
		return poller.Backfill{}, nil
	}
	if err != nil {
		return poller.Backfill{}, fmt.Errorf("store: backfill of %s: %w", source, err)
	}
	var b poller.Backfill
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return poller.Backfill{}, fmt.Errorf("store: decode backfill of %s: %w", source, err)
	}
	return b, nil
}

// SaveBackfill implements poller.ArchiveStore.
func (r *Redis) SaveBackfill(ctx context.Context, source string, b poller.Backfill) error {
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("store: encode backfill of %s: %w", source, err)
	}
	if err := r.rdb.HSet(ctx, sourceStateKey(source), "backfill", body).Err(); err != nil {
		return fmt.Errorf("store: save backfill of %s: %w", source, err)
	}
	return nil
}

var _ poller.ArchiveStore = (*Redis)(nil)
