package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// subEventRetention is how long join and leave events are kept for Counts;
// a month of statistics plus a margin.
const subEventRetention = 35 * 24 * time.Hour

// Layout of the Redis subscriber data, all under the {sub} hash tag:
//   - a hash per subscriber (subscriberKey): type, lang, cats (comma-separated,
//     sorted), joined (ms);
//   - a zset of every chat id (subscribersKey), a zset per category and one
//     per language, each member a chat id scored by that id, so that pages
//     are ZRANGE BYSCORE from an exclusive lower bound (Telegram promises
//     chat ids of at most 52 bits, which a float64 score holds exactly);
//   - sets naming the categories and languages that have a zset, for Counts;
//   - an events zset of "join:<id>:<ms>" and "leave:<id>:<ms>" scored by ms.
//
// The scripts build the per-category and per-language keys from prefixes
// in ARGV: which categories to remove a chat from is only known inside the
// script. Those keys share the {sub} hash tag with KEYS[1], so they live in
// the same Cluster slot.

// subIndexLua holds the helpers that move one chat in and out of the
// category and language indexes, prepended to every writing script.
// cp, lp: category and language key prefixes; cs, ls: the sets naming the
// categories and languages in use.
const subIndexLua = `
local function unindex(id, lang, cats, cp, lp, cs, ls)
  if cats then
    for c in string.gmatch(cats, '[^,]+') do
      redis.call('ZREM', cp .. c, id)
      if redis.call('EXISTS', cp .. c) == 0 then redis.call('SREM', cs, c) end
    end
  end
  if lang and lang ~= '' then
    redis.call('ZREM', lp .. lang, id)
    if redis.call('EXISTS', lp .. lang) == 0 then redis.call('SREM', ls, lang) end
  end
end
local function index(id, lang, cats, cp, lp, cs, ls)
  for c in string.gmatch(cats, '[^,]+') do
    redis.call('ZADD', cp .. c, id, id)
    redis.call('SADD', cs, c)
  end
  if lang ~= '' then
    redis.call('ZADD', lp .. lang, id, id)
    redis.call('SADD', ls, lang)
  end
end
`

// saveSubscriberScript creates or updates one subscriber and its indexes.
//
// KEYS[1] subscriber hash  KEYS[2] zset of all chat ids  KEYS[3] events zset
// KEYS[4] set of categories in use  KEYS[5] set of languages in use
// ARGV[1] chat id  ARGV[2] chat type  ARGV[3] language
// ARGV[4] categories, comma-separated  ARGV[5] joined-at ms (used on creation)
// ARGV[6] drop events before this ms  ARGV[7] category key prefix
// ARGV[8] language key prefix
// Returns 1 when the subscriber was created, 0 when it was updated.
var saveSubscriberScript = redis.NewScript(subIndexLua + saveSubscriberLua)

const saveSubscriberLua = `
local id = ARGV[1]
local created = redis.call('EXISTS', KEYS[1]) == 0
if not created then
  local old = redis.call('HMGET', KEYS[1], 'lang', 'cats')
  unindex(id, old[1], old[2], ARGV[7], ARGV[8], KEYS[4], KEYS[5])
end
index(id, ARGV[3], ARGV[4], ARGV[7], ARGV[8], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'type', ARGV[2], 'lang', ARGV[3], 'cats', ARGV[4])
redis.call('ZADD', KEYS[2], id, id)
if not created then
  return 0
end
redis.call('HSET', KEYS[1], 'joined', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[5], 'join:' .. id .. ':' .. ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6])
return 1
`

// deleteSubscriberScript removes one subscriber from everywhere and records
// its leave.
//
// KEYS[1] subscriber hash  KEYS[2] zset of all chat ids  KEYS[3] events zset
// KEYS[4] set of categories in use  KEYS[5] set of languages in use
// ARGV[1] chat id  ARGV[2] left-at ms  ARGV[3] drop events before this ms
// ARGV[4] category key prefix  ARGV[5] language key prefix
// Returns 1 when the subscriber existed, 0 when not.
var deleteSubscriberScript = redis.NewScript(subIndexLua + deleteSubscriberLua)

const deleteSubscriberLua = `
local id = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local old = redis.call('HMGET', KEYS[1], 'lang', 'cats')
unindex(id, old[1], old[2], ARGV[4], ARGV[5], KEYS[4], KEYS[5])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], id)
redis.call('ZADD', KEYS[3], ARGV[2], 'leave:' .. id .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[3])
return 1
`

// migrateSubscriberScript moves a subscriber to a new chat id, or drops it
// when the new id is already subscribed.
//
// KEYS[1] old subscriber hash  KEYS[2] new subscriber hash
// KEYS[3] zset of all chat ids  KEYS[4] set of categories in use
// KEYS[5] set of languages in use
// ARGV[1] old chat id  ARGV[2] new chat id
// ARGV[3] category key prefix  ARGV[4] language key prefix
// Returns 0 when the old id is not subscribed, 1 when moved, 2 when the new
// id was already subscribed and the old one was removed.
var migrateSubscriberScript = redis.NewScript(subIndexLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local old = redis.call('HMGET', KEYS[1], 'lang', 'cats')
unindex(ARGV[1], old[1], old[2], ARGV[3], ARGV[4], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('DEL', KEYS[1])
  return 2
end
redis.call('RENAME', KEYS[1], KEYS[2])
index(ARGV[2], old[1] or '', old[2] or '', ARGV[3], ARGV[4], KEYS[4], KEYS[5])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])
return 1
`)

// subscriberCountsScript reads every count at one instant.
//
// KEYS[1] zset of all chat ids  KEYS[2] events zset
// KEYS[3] set of categories in use  KEYS[4] set of languages in use
// ARGV[1] count events from this ms  ARGV[2] category key prefix
// ARGV[3] language key prefix
// Returns {total, {category, count, ...}, {language, count, ...}, joined, left}.
var subscriberCountsScript = redis.NewScript(`
local function sizes(set, prefix)
  local out = {}
  for _, name in ipairs(redis.call('SMEMBERS', set)) do
    out[#out + 1] = name
    out[#out + 1] = redis.call('ZCARD', prefix .. name)
  end
  return out
end
local joined, left = 0, 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], ARGV[1], '+inf', 'BYSCORE')) do
  if string.sub(m, 1, 5) == 'join:' then
    joined = joined + 1
  elseif string.sub(m, 1, 6) == 'leave:' then
    left = left + 1
  end
end
return {redis.call('ZCARD', KEYS[1]), sizes(KEYS[3], ARGV[2]), sizes(KEYS[4], ARGV[3]), joined, left}
`)

// SaveSubscriber implements subscriptions.Store.
func (r *Redis) SaveSubscriber(ctx context.Context, s subscriptions.Subscriber) (bool, error) {
	cats, err := subCheck(s)
	if err != nil {
		return false, err
	}
	joined := subJoinedMs(s)
	keys := []string{subscriberKey(s.ChatID), subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey()}
	n, err := saveSubscriberScript.Run(ctx, r.rdb, keys,
		s.ChatID, string(s.Type), s.Language, strings.Join(cats, ","), joined,
		joined-subEventRetention.Milliseconds(), subscriberCategoryKey(""), subscriberLanguageKey("")).Int()
	if err != nil {
		return false, fmt.Errorf("store: save subscriber %d: %w", s.ChatID, err)
	}
	return n == 1, nil
}

// Subscriber implements subscriptions.Store.
func (r *Redis) Subscriber(ctx context.Context, chatID int64) (subscriptions.Subscriber, bool, error) {
	h, err := r.rdb.HGetAll(ctx, subscriberKey(chatID)).Result()
	if err != nil {
		return subscriptions.Subscriber{}, false, fmt.Errorf("store: load subscriber %d: %w", chatID, err)
	}
	if len(h) == 0 {
		return subscriptions.Subscriber{}, false, nil
	}
	return subFromHash(chatID, h), true, nil
}

// DeleteSubscriber implements subscriptions.Store.
func (r *Redis) DeleteSubscriber(ctx context.Context, chatID int64, at time.Time) (bool, error) {
	keys := []string{subscriberKey(chatID), subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey()}
	ms := at.UnixMilli()
	n, err := deleteSubscriberScript.Run(ctx, r.rdb, keys,
		chatID, ms, ms-subEventRetention.Milliseconds(), subscriberCategoryKey(""), subscriberLanguageKey("")).Int()
	if err != nil {
		return false, fmt.Errorf("store: delete subscriber %d: %w", chatID, err)
	}
	return n == 1, nil
}

// MigrateSubscriber implements subscriptions.Store.
func (r *Redis) MigrateSubscriber(ctx context.Context, from, to int64) (bool, error) {
	if from == to {
		n, err := r.rdb.Exists(ctx, subscriberKey(from)).Result()
		if err != nil {
			return false, fmt.Errorf("store: migrate subscriber %d: %w", from, err)
		}
		return n == 1, nil
	}
	keys := []string{subscriberKey(from), subscriberKey(to), subscribersKey(), subscriberCategoriesKey(), subscriberLanguagesKey()}
	n, err := migrateSubscriberScript.Run(ctx, r.rdb, keys,
		from, to, subscriberCategoryKey(""), subscriberLanguageKey("")).Int()
	if err != nil {
		return false, fmt.Errorf("store: migrate subscriber %d to %d: %w", from, to, err)
	}
	return n != 0, nil
}

// SubscribersPage implements subscriptions.Store. It walks the indexes the
// filter names (its categories, else its language, else everyone) and
// checks each hash against the whole filter: a chat may change between the
// ZRANGE and the HGETALL, and a filter on category and language needs it.
// Several categories are walked together: each round reads the next ids of
// every category's index, and keeps the smallest of their union.
func (r *Redis) SubscribersPage(ctx context.Context, f subscriptions.Filter, cursor string, limit int) ([]subscriptions.Subscriber, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("store: subscribers page: limit %d is not positive", limit)
	}
	after, err := subCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	indexes := []string{subscribersKey()}
	if cats := f.AnyOf(); len(cats) > 0 {
		indexes = indexes[:0]
		for _, c := range cats {
			indexes = append(indexes, subscriberCategoryKey(c))
		}
	} else if f.Language != "" {
		indexes = []string{subscriberLanguageKey(f.Language)}
	}
	lower := "-inf"
	if after != nil {
		lower = "(" + strconv.FormatInt(*after, 10)
	}
	// One id more than the page holds tells whether another page follows.
	batch := limit + 1
	out := make([]subscriptions.Subscriber, 0, limit)
	last := "" // the last chat id looked at: the next page's cursor
	for {
		chatIDs, more, err := r.subNextIDs(ctx, indexes, lower, batch)
		if err != nil {
			return nil, "", err
		}
		if len(chatIDs) == 0 {
			return out, "", nil
		}
		pipe := r.rdb.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(chatIDs))
		for i, id := range chatIDs {
			cmds[i] = pipe.HGetAll(ctx, subscriberKey(id))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, "", fmt.Errorf("store: subscribers page: %w", err)
		}
		for i, h := range cmds {
			if len(out) == limit {
				return out, last, nil
			}
			last = strconv.FormatInt(chatIDs[i], 10)
			if len(h.Val()) == 0 {
				continue // removed since the ZRANGE
			}
			if s := subFromHash(chatIDs[i], h.Val()); f.Matches(s) {
				out = append(out, s)
			}
		}
		if !more {
			return out, "", nil
		}
		lower = "(" + last
	}
}

// subNextIDs returns the n smallest chat ids above lower in the union of
// the indexes, in order, and whether any index may hold more. Each index
// gives its own n smallest: the union's n smallest are among them.
func (r *Redis) subNextIDs(ctx context.Context, indexes []string, lower string, n int) ([]int64, bool, error) {
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(indexes))
	for i, key := range indexes {
		cmds[i] = pipe.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, Start: lower, Stop: "+inf", ByScore: true, Count: int64(n)})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, false, fmt.Errorf("store: subscribers page: %w", err)
	}
	var ids []int64
	more := false
	for i, cmd := range cmds {
		got := cmd.Val()
		more = more || len(got) == n
		for _, m := range got {
			id, err := strconv.ParseInt(m, 10, 64)
			if err != nil {
				return nil, false, fmt.Errorf("store: subscribers page: bad chat id %q in %s", m, indexes[i])
			}
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > n {
		ids, more = ids[:n], true
	}
	return ids, more, nil
}

// SubscriberCounts implements subscriptions.Store.
func (r *Redis) SubscriberCounts(ctx context.Context, since time.Time) (subscriptions.Counts, error) {
	keys := []string{subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey()}
	res, err := subscriberCountsScript.Run(ctx, r.rdb, keys,
		since.UnixMilli(), subscriberCategoryKey(""), subscriberLanguageKey("")).Slice()
	if err != nil {
		return subscriptions.Counts{}, fmt.Errorf("store: subscriber counts: %w", err)
	}
	if len(res) != 5 {
		return subscriptions.Counts{}, fmt.Errorf("store: subscriber counts: script returned %d values, want 5", len(res))
	}
	total, _ := res[0].(int64)
	joined, _ := res[3].(int64)
	left, _ := res[4].(int64)
	return subscriptions.Counts{
		Total:      int(total),
		ByCategory: subSizes(res[1]),
		ByLanguage: subSizes(res[2]),
		Joined:     int(joined),
		Left:       int(left),
	}, nil
}

// subSizes turns a script's {name, count, ...} into a map.
func subSizes(v any) map[string]int {
	list, _ := v.([]any)
	out := make(map[string]int, len(list)/2)
	for i := 0; i+1 < len(list); i += 2 {
		name, _ := list[i].(string)
		n, _ := list[i+1].(int64)
		out[name] = int(n)
	}
	return out
}

func subFromHash(chatID int64, h map[string]string) subscriptions.Subscriber {
	s := subscriptions.Subscriber{
		ChatID:   chatID,
		Type:     subscriptions.ChatType(h["type"]),
		Language: h["lang"],
	}
	if c := h["cats"]; c != "" {
		s.Categories = strings.Split(c, ",")
	}
	if ms, err := strconv.ParseInt(h["joined"], 10, 64); err == nil {
		s.JoinedAt = time.UnixMilli(ms).UTC()
	}
	return s
}

// Helpers shared by the Redis and bbolt subscriber stores.

// subCheck validates what both stores rely on and returns the categories
// sorted and unique. Category ids and languages become key parts, and the
// Redis hash keeps categories comma-separated.
func subCheck(s subscriptions.Subscriber) ([]string, error) {
	if !subName(s.Language) {
		return nil, fmt.Errorf("store: save subscriber %d: bad language %q", s.ChatID, s.Language)
	}
	cats := slices.Clone(s.Categories)
	slices.Sort(cats)
	cats = slices.Compact(cats)
	for _, c := range cats {
		if !subName(c) {
			return nil, fmt.Errorf("store: save subscriber %d: bad category id %q", s.ChatID, c)
		}
	}
	return cats, nil
}

func subName(s string) bool {
	return s != "" && !strings.ContainsAny(s, ",\x00 \t\r\n")
}

// subJoinedMs is when a new subscriber joined, now when the caller left it
// unset.
func subJoinedMs(s subscriptions.Subscriber) int64 {
	if s.JoinedAt.IsZero() {
		return time.Now().UnixMilli()
	}
	return s.JoinedAt.UnixMilli()
}

// subCursor parses a page cursor: nil for the start, else the last chat id
// already seen.
func subCursor(cursor string) (*int64, error) {
	if cursor == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("store: subscribers page: cursor %q is not a chat id", cursor)
	}
	return &id, nil
}

var _ subscriptions.Store = (*Redis)(nil)
