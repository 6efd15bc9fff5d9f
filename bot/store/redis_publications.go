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

// Bounds of one recording. A poll's publications are recorded in chunks of
// recordChunk, one script each, so that no script touches more than
// 4+2×recordChunk keys or blocks Redis for long whatever the page holds.
const (
	recordChunk = 100
	// burstTTL is how long a held burst's button works.
	burstTTL = 7 * 24 * time.Hour
	// burstsKept is how many bursts are listed for staff.
	burstsKept = 100
)

// recordChunkScript diffs one chunk of a source's publications against every
// id seen before, stores and indexes the unseen ones, and, unless the source
// is new, adds them to the source's pending set, which recordFinishScript
// then queues or holds.
//
// KEYS[1] seen zset of all sources (member id, score last-seen ms)
// KEYS[2] source state hash (initialized, ...)
// KEYS[3] latest zset over all sources (member id, score sort key)
// KEYS[4] the source's pending zset (member id, score sort key)
// KEYS[5 .. 4+n] publication keys, one per item
// KEYS[5+n .. 4+2n] latest-of-category zset, one per item
// ARGV[1] now (ms)  ARGV[2] latest-of-category cap  ARGV[3] publication TTL (s)
// ARGV[4] prune seen ids last seen before (ms)  ARGV[5] "1": an archive page
// (nothing becomes pending)
// ARGV[6 ..] per item: id, legacy id ("" for none), JSON, sort score
// An item seen under its legacy id (the previous release's) counts as seen.
// Returns the number of unseen items.
var recordChunkScript = redis.NewScript(`
local n = (#KEYS - 4) / 2
local now = ARGV[1]
local initialized = redis.call('HGET', KEYS[2], 'initialized')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
local unseen = 0
for i = 1, n do
  local base = 6 + (i - 1) * 4
  local id, legacy, body, score = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local known = redis.call('ZSCORE', KEYS[1], id)
  if not known and legacy ~= '' then
    known = redis.call('ZSCORE', KEYS[1], legacy)
  end
  redis.call('ZADD', KEYS[1], now, id)
  if not known then
    unseen = unseen + 1
    redis.call('SET', KEYS[4 + i], body, 'EX', ARGV[3])
    redis.call('ZADD', KEYS[3], score, id)
    redis.call('ZADD', KEYS[4 + n + i], score, id)
    redis.call('ZREMRANGEBYRANK', KEYS[4 + n + i], 0, -(tonumber(ARGV[2]) + 1))
    if initialized and ARGV[5] ~= '1' then
      redis.call('ZADD', KEYS[4], score, id)
    end
  end
end
return unseen
`)

// recordFinishScript ends a recording: it prunes the seen set and the latest
// index, then queues the source's pending publications for announcement,
// oldest first (their latestScore: by date, then bottom-up on the page), or, when there are more than the burst limit, holds them as
// a burst for staff; and it stores the validators and marks the source
// initialized. Pending ids left by a recording that failed midway are
// queued here too.
//
// KEYS[1] seen zset  KEYS[2] source state hash  KEYS[3] latest zset
// KEYS[4] the source's pending zset  KEYS[5] announcement stream
// KEYS[6] set of known sources  KEYS[7] bursts zset (id -> at ms)
// KEYS[8] the burst hash to create if this is a burst
// ARGV[1] now (ms)  ARGV[2] prune seen ids last seen before (ms)
// ARGV[3] latest cap  ARGV[4] etag  ARGV[5] last-modified  ARGV[6] digest
// ARGV[7] digest time (ms)  ARGV[8] source  ARGV[9] stream cap
// ARGV[10] burst limit (0: none)  ARGV[11] newest ids a burst keeps
// ARGV[12] burst id  ARGV[13] burst TTL (s)  ARGV[14] bursts listed
// Returns {held, ids...}: held is 0 and ids the queued ones, or held is the
// burst's size and ids its newest.
var recordFinishScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[3]) + 1))
local out = {0}
local pending = redis.call('ZCARD', KEYS[4])
local limit = tonumber(ARGV[10])
if pending > 0 and limit > 0 and pending > limit then
  local newest = redis.call('ZREVRANGE', KEYS[4], 0, tonumber(ARGV[11]) - 1)
  redis.call('HSET', KEYS[8], 'id', ARGV[12], 'source', ARGV[8], 'count', pending, 'at', ARGV[1],
    'newest', cjson.encode(newest))
  redis.call('EXPIRE', KEYS[8], ARGV[13])
  redis.call('ZADD', KEYS[7], ARGV[1], ARGV[12])
  redis.call('ZREMRANGEBYRANK', KEYS[7], 0, -(tonumber(ARGV[14]) + 1))
  out[1] = pending
  for _, id in ipairs(newest) do out[#out + 1] = id end
elseif pending > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[9], '*', 'id', id, 'source', ARGV[8])
    out[#out + 1] = id
  end
end
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[2], 'initialized', '1', 'etag', ARGV[4], 'last_modified', ARGV[5],
  'digest', ARGV[6], 'digest_at', ARGV[7])
redis.call('SADD', KEYS[6], ARGV[8])
return out
`)

// Record records pubs with no burst limit: RecordPoll for callers that only
// need what was queued.
func (r *Redis) Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error) {
	done, err := r.RecordPoll(ctx, poller.Recording{Source: source, Pubs: pubs, Validators: v, Now: now})
	return done.Queued, err
}

// RecordPoll implements poller.Store: a script per chunk of recordChunk
// publications, then recordFinishScript.
func (r *Redis) RecordPoll(ctx context.Context, rec poller.Recording) (poller.Recorded, error) {
	for i := 0; i < len(rec.Pubs); i += recordChunk {
		if err := r.recordChunk(ctx, rec, i, rec.Pubs[i:min(i+recordChunk, len(rec.Pubs))]); err != nil {
			return poller.Recorded{}, fmt.Errorf("store: record publications of %s: %w", rec.Source, err)
		}
	}
	if rec.Archive {
		// An older page: stored and indexed silently, and the source's
		// state stays the poll's.
		return poller.Recorded{}, nil
	}
	source, now := rec.Source, rec.Now
	burstID := newBurstID(source, now)
	keys := []string{seenKey(), sourceStateKey(source), latestKey(), pendingKey(source),
		announceStreamKey(), sourcesKey(), burstsKey(), burstKey(burstID)}
	var digestAt int64
	if !rec.Validators.DigestAt.IsZero() {
		digestAt = rec.Validators.DigestAt.UnixMilli()
	}
	res, err := recordFinishScript.Run(ctx, r.rdb, keys,
		now.UnixMilli(), now.Add(-seenRetention).UnixMilli(), latestCap,
		rec.Validators.ETag, rec.Validators.LastModified, rec.Validators.Digest, digestAt,
		source, announceStreamCap, max(rec.BurstLimit, 0), max(rec.BurstNewest, 1),
		burstID, int64(burstTTL/time.Second), burstsKept).Slice()
	if err != nil {
		return poller.Recorded{}, fmt.Errorf("store: record publications of %s: %w", source, err)
	}
	held, ids := finishResult(res)
	if held > 0 {
		return poller.Recorded{Burst: &poller.Burst{ID: burstID, Source: source, Count: held, At: time.UnixMilli(now.UnixMilli()).UTC(), Newest: ids}}, nil
	}
	queued, err := r.queuedPublications(ctx, rec.Pubs, ids)
	if err != nil {
		return poller.Recorded{}, fmt.Errorf("store: record publications of %s: %w", source, err)
	}
	return poller.Recorded{Queued: queued}, nil
}

func (r *Redis) recordChunk(ctx context.Context, rec poller.Recording, offset int, pubs []poller.Publication) error {
	n := len(pubs)
	keys := make([]string, 4, 4+2*n)
	keys[0], keys[1], keys[2], keys[3] = seenKey(), sourceStateKey(rec.Source), latestKey(), pendingKey(rec.Source)
	for _, p := range pubs {
		keys = append(keys, publicationKey(p.ID))
	}
	for _, p := range pubs {
		keys = append(keys, latestCategoryKey(p.Category))
	}
	if err := r.indexTerms(ctx, pubs, offset); err != nil {
		return err
	}
	archive := "0"
	if rec.Archive {
		archive = "1"
	}
	args := make([]any, 0, 5+4*n)
	args = append(args, rec.Now.UnixMilli(), latestCategoryCap, int64(publicationTTL/time.Second),
		rec.Now.Add(-seenRetention).UnixMilli(), archive)
	for i, p := range pubs {
		body, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode publication %s: %w", p.ID, err)
		}
		args = append(args, p.ID, p.LegacyID, body, latestScore(p, offset+i))
	}
	return recordChunkScript.Run(ctx, r.rdb, keys, args...).Err()
}

// finishResult reads recordFinishScript's {held, ids...}.
func finishResult(res []any) (int, []string) {
	held, _ := res[0].(int64)
	ids := make([]string, 0, len(res)-1)
	for _, v := range res[1:] {
		if id, ok := v.(string); ok {
			ids = append(ids, id)
		}
	}
	return int(held), ids
}

// queuedPublications returns the queued ids' publications: from this poll's
// when there, else (left by an interrupted recording) from the store.
func (r *Redis) queuedPublications(ctx context.Context, pubs []poller.Publication, ids []string) ([]poller.Publication, error) {
	return queuedPublications(pubs, ids, func(missing []string) ([]poller.Publication, error) {
		return r.publications(ctx, missing)
	})
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
	vals, err := r.rdb.HMGet(ctx, sourceStateKey(source), "etag", "last_modified", "digest", "digest_at").Result()
	if err != nil {
		return poller.Validators{}, fmt.Errorf("store: validators of %s: %w", source, err)
	}
	var v poller.Validators
	v.ETag, _ = vals[0].(string)
	v.LastModified, _ = vals[1].(string)
	v.Digest, _ = vals[2].(string)
	if at, _ := vals[3].(string); at != "" && at != "0" {
		ms, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return poller.Validators{}, fmt.Errorf("store: validators of %s: digest time %q: %w", source, at, err)
		}
		v.DigestAt = time.UnixMilli(ms).UTC()
	}
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
