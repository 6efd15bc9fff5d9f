package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/poller"
)

// Retention of publication state. Seen ids are refreshed on every poll that
// still shows them, so only ids absent from the source for a whole year are
// forgotten: far longer than any feed or list page keeps an item.
const (
	seenRetention     = 365 * 24 * time.Hour
	publicationTTL    = 400 * 24 * time.Hour
	latestCap         = 200
	latestCategoryCap = 100
	announceStreamCap = 100000
)

// recordScript diffs one batch of a source's publications against the ids it
// has yielded before, stores and indexes the unseen ones, and queues them for
// announcement unless this is the source's first recording.
//
// KEYS[1] seen zset of all sources (member id, score last-seen ms)
// KEYS[2] source state hash (initialized, etag, last_modified)
// KEYS[3] latest zset over all sources (member id, score sort key)
// KEYS[4] announcement stream
// KEYS[5] set of known sources
// KEYS[6 .. 5+n] publication keys, one per item
// KEYS[6+n .. 5+2n] latest-of-category zset, one per item
// ARGV[1] now (ms)  ARGV[2] prune seen ids last seen before (ms)
// ARGV[3] latest cap  ARGV[4] latest-of-category cap  ARGV[5] publication TTL (s)
// ARGV[6] etag  ARGV[7] last-modified  ARGV[8] source  ARGV[9] stream cap
// ARGV[10 ..] per item: id, JSON, sort score
// Returns the ids queued for announcement.
var recordScript = redis.NewScript(`
local n = (#KEYS - 5) / 2
local now = ARGV[1]
local initialized = redis.call('HGET', KEYS[2], 'initialized')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
local fresh = {}
for i = 1, n do
  local base = 10 + (i - 1) * 3
  local id, body, score = ARGV[base], ARGV[base + 1], ARGV[base + 2]
  local known = redis.call('ZSCORE', KEYS[1], id)
  redis.call('ZADD', KEYS[1], now, id)
  if not known then
    redis.call('SET', KEYS[5 + i], body, 'EX', ARGV[5])
    redis.call('ZADD', KEYS[3], score, id)
    redis.call('ZADD', KEYS[5 + n + i], score, id)
    redis.call('ZREMRANGEBYRANK', KEYS[5 + n + i], 0, -(tonumber(ARGV[4]) + 1))
    if initialized then
      redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'id', id, 'source', ARGV[8])
      fresh[#fresh + 1] = id
    end
  end
end
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[3]) + 1))
redis.call('HSET', KEYS[2], 'initialized', '1', 'etag', ARGV[6], 'last_modified', ARGV[7])
redis.call('SADD', KEYS[5], ARGV[8])
return fresh
`)

// Record implements poller.Store.
func (r *Redis) Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error) {
	n := len(pubs)
	keys := make([]string, 5, 5+2*n)
	keys[0], keys[1], keys[2], keys[3], keys[4] = seenKey(), sourceStateKey(source), latestKey(), announceStreamKey(), sourcesKey()
	args := make([]any, 0, 9+3*n)
	args = append(args,
		now.UnixMilli(), now.Add(-seenRetention).UnixMilli(),
		latestCap, latestCategoryCap, int64(publicationTTL/time.Second),
		v.ETag, v.LastModified, source, announceStreamCap)
	byID := make(map[string]poller.Publication, n)
	// The script queues in argument order: oldest first. Keys follow the
	// same order.
	order := poller.OldestFirst(pubs)
	for _, i := range order {
		keys = append(keys, publicationKey(pubs[i].ID))
	}
	for _, i := range order {
		keys = append(keys, latestCategoryKey(pubs[i].Category))
	}
	for _, i := range order {
		p := pubs[i]
		body, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("store: encode publication %s: %w", p.ID, err)
		}
		args = append(args, p.ID, body, latestScore(p, i))
		if _, dup := byID[p.ID]; !dup {
			byID[p.ID] = p // the script stores the first of repeated ids
		}
	}
	ids, err := recordScript.Run(ctx, r.rdb, keys, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("store: record publications of %s: %w", source, err)
	}
	fresh := make([]poller.Publication, 0, len(ids))
	for _, id := range ids {
		fresh = append(fresh, byID[id])
	}
	return fresh, nil
}

// latestScore orders publications newest first: by publication day, then by
// their position on the page (sources list newest first), and by the time
// they were seen when the source gives no date.
func latestScore(p poller.Publication, position int) float64 {
	when := p.Date
	if when.IsZero() {
		when = p.SeenAt
	}
	return float64(when.UnixMilli()) - float64(min(position, 999))
}

// Validators implements poller.Store.
func (r *Redis) Validators(ctx context.Context, source string) (poller.Validators, error) {
	vals, err := r.rdb.HMGet(ctx, sourceStateKey(source), "etag", "last_modified").Result()
	if err != nil {
		return poller.Validators{}, fmt.Errorf("store: validators of %s: %w", source, err)
	}
	var v poller.Validators
	v.ETag, _ = vals[0].(string)
	v.LastModified, _ = vals[1].(string)
	return v, nil
}

// SaveHealth implements poller.Store.
func (r *Redis) SaveHealth(ctx context.Context, source string, h poller.Health) error {
	body, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("store: encode health of %s: %w", source, err)
	}
	// The version moves with the health in one transaction, so that a
	// reader of both can tell an older snapshot from a newer one.
	pipe := r.rdb.TxPipeline()
	pipe.HSet(ctx, sourceStateKey(source), "health", body)
	pipe.HIncrBy(ctx, sourceStateKey(source), "health_version", 1)
	pipe.SAdd(ctx, sourcesKey(), source)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store: save health of %s: %w", source, err)
	}
	return nil
}

// SourceHealth returns the polling health of every source ever polled.
func (r *Redis) SourceHealth(ctx context.Context) (map[string]poller.Health, error) {
	sources, err := r.rdb.SMembers(ctx, sourcesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	out := make(map[string]poller.Health, len(sources))
	for _, s := range sources {
		vals, err := r.rdb.HMGet(ctx, sourceStateKey(s), "health", "health_version").Result()
		if err != nil {
			return nil, fmt.Errorf("store: health of %s: %w", s, err)
		}
		var h poller.Health
		if body, ok := vals[0].(string); ok {
			if err := json.Unmarshal([]byte(body), &h); err != nil {
				return nil, fmt.Errorf("store: decode health of %s: %w", s, err)
			}
		}
		if v, ok := vals[1].(string); ok {
			if h.Version, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, fmt.Errorf("store: decode health version of %s: %w", s, err)
			}
		}
		out[s] = h
	}
	return out, nil
}

// Latest returns up to n newest publications, of one category when category
// is not empty.
func (r *Redis) Latest(ctx context.Context, category string, n int) ([]poller.Publication, error) {
	if n <= 0 {
		return nil, nil
	}
	key := latestKey()
	if category != "" {
		key = latestCategoryKey(category)
	}
	ids, err := r.rdb.ZRevRange(ctx, key, 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: latest: %w", err)
	}
	return r.publications(ctx, ids)
}

// Publication returns one stored publication.
func (r *Redis) Publication(ctx context.Context, id string) (poller.Publication, bool, error) {
	pubs, err := r.publications(ctx, []string{id})
	if err != nil || len(pubs) == 0 {
		return poller.Publication{}, false, err
	}
	return pubs[0], true, nil
}

// publications loads the given ids in order, skipping any that expired.
func (r *Redis) publications(ctx context.Context, ids []string) ([]poller.Publication, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = publicationKey(id)
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("store: load publications: %w", err)
	}
	out := make([]poller.Publication, 0, len(vals))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var p poller.Publication
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			return nil, fmt.Errorf("store: decode publication %s: %w", ids[i], err)
		}
		out = append(out, p)
	}
	return out, nil
}

// itoa is shorthand for stream and key arguments.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
