package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// subEventRetention is how long join and leave counts are kept for Counts;
// a month of statistics plus a margin.
const subEventRetention = 35 * 24 * time.Hour

// subPageBudget is how many subscribers one page script looks at, at most,
// whatever the limit: a selective filter returns a short page and a cursor
// rather than block Redis for a walk of the whole audience.
const subPageBudget = 1000

// Layout 2 of the Redis subscriber data, all under the {sub} hash tag.
//
// Subscribers live in bucket hashes of at most 128 chats (MAXB), so that
// each stays listpack-encoded (Redis's default hash-max-listpack-entries is
// 128): field = chat id, value = "type lang mask joined[ prefs]", where
// type is one letter for Telegram's four chat types, mask is the category
// bitmask in hex, lowest nibble first, joined is in ms, and prefs, left out
// when they are the defaults, are the chat's alert settings in
// subscriptions.Prefs.String's form (records of the release before them
// have none, and read as the defaults). Buckets cover consecutive
// ranges of chat ids; a zset names each by its lower bound, so the bucket of
// a chat is the one with the greatest bound at or below it and a walk in
// chat id order reads bucket after bucket. A bucket that grows past 128
// splits in two at its median, the new bound a round number between two
// chats rather than a chat's id; an empty one is dropped (the lowest, bound
// -2^53, stays). Chat ids stay within 52 bits, exact in a
// float64 score and a Lua number.
//
// Category ids map to bit positions in an append-only registry hash, so
// that a bit once given keeps its meaning whatever the configuration
// becomes. Counts are counters changed in the same script as the
// subscriber: total, per category bit and per language; joins and leaves
// per UTC day, in a hash per day with the day's totals, per-hour and
// per-minute counts (so that Counts since any minute reads at most 60
// minutes, 24 hours and 35 days), a zset of the days,
// pruned by event time past subEventRetention and expiring as well.
//
// Scripts find buckets, build bucket and day keys from prefixes in ARGV:
// which bucket holds a chat is only known inside the script. Those keys
// share the {sub} hash tag with the KEYS, so they live in the same Cluster
// slot. Every script takes the same first KEYS and ARGV:
//
//	KEYS[1] bucket zset  KEYS[2] category bit registry  KEYS[3] counters
//	KEYS[4] event days zset
//	ARGV[1] bucket key prefix  ARGV[2] event day key prefix
const subLua = `
local BK, CB, CN, ED = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local BP, DP = ARGV[1], ARGV[2]
local MINB = '-9007199254740992'
local MAXB = 128
local DAY, MINUTE = 86400000, 60000
local TYPES = {p = 'private', g = 'group', s = 'supergroup', c = 'channel'}

local function numeric(x, y) return tonumber(x) < tonumber(y) end

local function bucketOf(id)
  return redis.call('ZRANGE', BK, id, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1)[1]
end

local function get(id)
  local b = bucketOf(id)
  if not b then return nil, nil end
  return b, redis.call('HGET', BP .. b, id)
end

local function decode(v)
  return string.match(v, '^(%S*) (%S*) (%x*) (%-?%d+) ?(%S*)$')
end

-- tail is the record's optional last part, with its space.
local function tail(prefs)
  if prefs == nil or prefs == '' then return '' end
  return ' ' .. prefs
end

local function bits(mask)
  local out = {}
  for i = 1, #mask do
    local n = tonumber(string.sub(mask, i, i), 16)
    for b = 0, 3 do
      if bit.band(n, bit.lshift(1, b)) ~= 0 then out[#out + 1] = (i - 1) * 4 + b end
    end
  end
  return out
end

local function maskOf(positions)
  local nib, top = {}, 0
  for _, p in ipairs(positions) do
    local i = math.floor(p / 4) + 1
    nib[i] = bit.bor(nib[i] or 0, bit.lshift(1, p % 4))
    if i > top then top = i end
  end
  local s = {}
  for i = 1, top do s[i] = string.format('%x', nib[i] or 0) end
  return table.concat(s)
end

local function overlaps(a, b)
  for i = 1, math.min(#a, #b) do
    if bit.band(tonumber(string.sub(a, i, i), 16), tonumber(string.sub(b, i, i), 16)) ~= 0 then return true end
  end
  return false
end

-- catBits returns the bits of comma-separated category ids, giving the
-- next free bit to a new one when assign is set.
local function catBits(cats, assign)
  local out = {}
  for c in string.gmatch(cats, '[^,]+') do
    local b = redis.call('HGET', CB, c)
    if not b and assign then
      b = redis.call('HLEN', CB)
      redis.call('HSET', CB, c, b)
    end
    if b then out[#out + 1] = tonumber(b) end
  end
  return out
end

local registry
local function names(mask)
  if not registry then
    registry = {}
    local r = redis.call('HGETALL', CB)
    for i = 1, #r, 2 do registry[tonumber(r[i + 1])] = r[i] end
  end
  local out = {}
  for _, b in ipairs(bits(mask)) do out[#out + 1] = registry[b] end
  return table.concat(out, ',')
end

-- readable turns a stored record into "type lang categories joined[ prefs]",
-- the categories by id, comma-separated.
local function readable(v)
  local t, lang, mask, joined, prefs = decode(v)
  return t .. ' ' .. lang .. ' ' .. names(mask) .. ' ' .. joined .. tail(prefs)
end

local function count(lang, mask, d)
  local function incr(f)
    if redis.call('HINCRBY', CN, f, d) <= 0 then redis.call('HDEL', CN, f) end
  end
  incr('n')
  incr('l:' .. lang)
  for _, b in ipairs(bits(mask)) do incr('c' .. b) end
end

-- bound returns the roundest number in (lo, hi], the lower bound of a new
-- bucket: a chat's id names a bucket only when no rounder one fits, so a
-- key name rarely outlives a chat that left. Powers of two keep it exact.
local function bound(lo, hi)
  for k = 52, 0, -1 do
    local m = 2 ^ k
    local c = math.floor(lo / m) * m + m
    if c <= hi then return string.format('%.0f', c) end
  end
  return string.format('%.0f', hi)
end

local function put(id, v)
  local b = bucketOf(id)
  if not b then
    b = MINB
    redis.call('ZADD', BK, b, b)
  end
  local key = BP .. b
  redis.call('HSET', key, id, v)
  if redis.call('HLEN', key) <= MAXB then return end
  local ids = redis.call('HKEYS', key)
  table.sort(ids, numeric)
  local mid = math.floor(#ids / 2) + 1
  local upper = {}
  for i = mid, #ids do upper[#upper + 1] = ids[i] end
  local vals = redis.call('HMGET', key, unpack(upper))
  local moved = {}
  for i, f in ipairs(upper) do
    moved[#moved + 1] = f
    moved[#moved + 1] = vals[i]
  end
  local nb = bound(tonumber(ids[mid - 1]), tonumber(ids[mid]))
  redis.call('HSET', BP .. nb, unpack(moved))
  redis.call('HDEL', key, unpack(upper))
  redis.call('ZADD', BK, nb, nb)
end

local function del(id, b)
  local key = BP .. b
  redis.call('HDEL', key, id)
  if b ~= MINB and redis.call('EXISTS', key) == 0 then redis.call('ZREM', BK, b) end
end

-- event counts a join ('j') or leave ('l') at ms, and drops the days that
-- ended keep ms before it.
local function event(kind, ms, keep)
  ms, keep = tonumber(ms), tonumber(keep)
  local day = math.floor(ms / DAY)
  local d = string.format('%d', day)
  local key = DP .. d
  local m = math.floor((ms - day * DAY) / MINUTE)
  redis.call('HINCRBY', key, kind, 1)
  redis.call('HINCRBY', key, kind .. 'h' .. math.floor(m / 60), 1)
  redis.call('HINCRBY', key, kind .. m, 1)
  redis.call('PEXPIRE', key, keep + DAY)
  redis.call('ZADD', ED, day, d)
  local cutoff = '(' .. string.format('%d', math.floor((ms - keep) / DAY))
  for _, old in ipairs(redis.call('ZRANGE', ED, '-inf', cutoff, 'BYSCORE')) do
    redis.call('DEL', DP .. old)
  end
  redis.call('ZREMRANGEBYSCORE', ED, '-inf', cutoff)
end
`

// saveSubscriberLua creates or updates one subscriber.
//
// ARGV[3] chat id  ARGV[4] type code  ARGV[5] language
// ARGV[6] categories, comma-separated  ARGV[7] joined-at ms (used on
// creation)  ARGV[8] event retention (ms)  ARGV[9] prefs, "" for the
// defaults
// Returns 1 when the subscriber was created, 0 when it was updated.
const saveSubscriberLua = `
local id = ARGV[3]
local _, old = get(id)
local mask = maskOf(catBits(ARGV[6], true))
local joined = ARGV[7]
if old then
  local _, olang, omask, ojoined = decode(old)
  count(olang, omask, -1)
  joined = ojoined
end
put(id, ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. mask .. ' ' .. joined .. tail(ARGV[9]))
count(ARGV[5], mask, 1)
if old then return 0 end
event('j', ARGV[7], ARGV[8])
return 1
`

var saveSubscriberScript = redis.NewScript(subLua + saveSubscriberLua)

// deleteSubscriberLua removes one subscriber and counts its leave.
//
// ARGV[3] chat id  ARGV[4] left-at ms  ARGV[5] event retention (ms)
// Returns 1 when the subscriber existed, 0 when not.
const deleteSubscriberLua = `
local b, old = get(ARGV[3])
if not old then return 0 end
local _, lang, mask = decode(old)
count(lang, mask, -1)
del(ARGV[3], b)
event('l', ARGV[4], ARGV[5])
return 1
`

var deleteSubscriberScript = redis.NewScript(subLua + deleteSubscriberLua)

// migrateSubscriberScript moves a subscriber to a new chat id, or drops it
// when the new id is already subscribed.
//
// ARGV[3] old chat id  ARGV[4] new chat id
// Returns 0 when the old id is not subscribed, 1 when moved, 2 when the new
// id was already subscribed and the old one was removed.
var migrateSubscriberScript = redis.NewScript(subLua + `
local bf, old = get(ARGV[3])
if not old then return 0 end
local _, taken = get(ARGV[4])
del(ARGV[3], bf)
if taken then
  local _, lang, mask = decode(old)
  count(lang, mask, -1)
  return 2
end
put(ARGV[4], old)
return 1
`)

// subscriberScript reads one subscriber: its buckets may split between two
// separate reads.
//
// ARGV[3] chat id
// Returns "type lang categories joined[ prefs]", or nil.
var subscriberScript = redis.NewScript(subLua + `
local _, v = get(ARGV[3])
if not v then return nil end
return readable(v)
`)

// subscribersPageScript walks buckets from a cursor and keeps the
// subscribers a filter selects.
//
// ARGV[3] last chat id looked at, "" to start  ARGV[4] limit
// ARGV[5] most subscribers to look at  ARGV[6] categories, comma-separated,
// "" for any  ARGV[7] language, "" for any
// Returns {{chat id, stored record, ...}, next cursor, {category, bit, ...}}:
// the cursor is "" when the walk is over, and the registry names the bits
// of the records' masks.
var subscribersPageScript = redis.NewScript(subLua + `
local after, limit, budget = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local lang, want = ARGV[7], nil
if ARGV[6] ~= '' then
  local live = {}
  for _, p in ipairs(catBits(ARGV[6], false)) do
    if redis.call('HEXISTS', CN, 'c' .. p) == 1 then live[#live + 1] = p end
  end
  if #live == 0 then return {{}, '', {}} end
  want = maskOf(live)
end
if lang ~= '' and redis.call('HEXISTS', CN, 'l:' .. lang) == 0 then return {{}, '', {}} end
local afterN, b
if after == '' then
  b = redis.call('ZRANGE', BK, '-inf', '+inf', 'BYSCORE', 'LIMIT', 0, 1)[1]
else
  afterN = tonumber(after)
  b = bucketOf(after) or redis.call('ZRANGE', BK, '(' .. after, '+inf', 'BYSCORE', 'LIMIT', 0, 1)[1]
end
local out, looked, last = {}, 0, after
local reg = redis.call('HGETALL', CB)
while b do
  local h = redis.call('HGETALL', BP .. b)
  local nums, ids, vals = {}, {}, {}
  for i = 1, #h, 2 do
    local n = tonumber(h[i])
    if not afterN or n > afterN then
      nums[#nums + 1] = n
      ids[n] = h[i]
      vals[n] = h[i + 1]
    end
  end
  table.sort(nums)
  for _, n in ipairs(nums) do
    if #out >= 2 * limit or looked >= budget then return {out, last, reg} end
    looked = looked + 1
    last = ids[n]
    local v = vals[n]
    local _, l, mask = decode(v)
    if (lang == '' or l == lang) and (not want or overlaps(mask, want)) then
      out[#out + 1] = last
      out[#out + 1] = v
    end
  end
  b = redis.call('ZRANGE', BK, '(' .. b, '+inf', 'BYSCORE', 'LIMIT', 0, 1)[1]
end
return {out, '', reg}
`)

// subscriberCountsScript reads every count at one instant: the counters,
// and the join and leave counts of each day since a time, to the minute.
//
// ARGV[3] count events from this ms
// Returns {total, {category, count, ...}, {language, count, ...}, joined, left}.
var subscriberCountsScript = redis.NewScript(subLua + `
local total = tonumber(redis.call('HGET', CN, 'n') or '0')
local reg, catNames = redis.call('HGETALL', CB), {}
for i = 1, #reg, 2 do catNames[reg[i + 1]] = reg[i] end
local cats, langs = {}, {}
local cn = redis.call('HGETALL', CN)
for i = 1, #cn, 2 do
  local f, v = cn[i], tonumber(cn[i + 1])
  if string.sub(f, 1, 2) == 'l:' then
    langs[#langs + 1] = string.sub(f, 3)
    langs[#langs + 1] = v
  elseif string.sub(f, 1, 1) == 'c' and catNames[string.sub(f, 2)] then
    cats[#cats + 1] = catNames[string.sub(f, 2)]
    cats[#cats + 1] = v
  end
end
local since = tonumber(ARGV[3])
local sday = math.floor(since / DAY)
local from = math.ceil((since - sday * DAY) / MINUTE)
local joined, left = 0, 0
for _, d in ipairs(redis.call('ZRANGE', ED, '(' .. string.format('%d', sday), '+inf', 'BYSCORE')) do
  local v = redis.call('HMGET', DP .. d, 'j', 'l')
  joined = joined + tonumber(v[1] or '0')
  left = left + tonumber(v[2] or '0')
end
-- The first day: its minutes up to the next whole hour, then its hours.
local fields = {}
local hour = math.ceil(from / 60)
for m = from, math.min(hour * 60, 1440) - 1 do
  fields[#fields + 1] = 'j' .. m
  fields[#fields + 1] = 'l' .. m
end
for h = hour, 23 do
  fields[#fields + 1] = 'jh' .. h
  fields[#fields + 1] = 'lh' .. h
end
if #fields > 0 then
  local v = redis.call('HMGET', DP .. string.format('%d', sday), unpack(fields))
  for i = 1, #v, 2 do
    joined = joined + tonumber(v[i] or '0')
    left = left + tonumber(v[i + 1] or '0')
  end
end
return {total, cats, langs, joined, left}
`)

// subKeys are the KEYS every subscriber script starts with, and subArgs
// the ARGV, followed by the script's own.
func subKeys(more ...string) []string {
	return append([]string{subBucketsKey(), subCategoryBitsKey(), subCountsKey(), subEventDaysKey()}, more...)
}

func subArgs(more ...any) []any {
	return append([]any{subBucketPrefix(), subEventDayPrefix()}, more...)
}

// subTypeCode shortens Telegram's chat types to one letter in the packed
// record; another type is kept whole.
func subTypeCode(t subscriptions.ChatType) string {
	switch t {
	case subscriptions.ChatPrivate, subscriptions.ChatGroup, subscriptions.ChatSupergroup, subscriptions.ChatChannel:
		return string(t[:1])
	}
	return string(t)
}

func subTypeName(code string) subscriptions.ChatType {
	for _, t := range []subscriptions.ChatType{subscriptions.ChatPrivate, subscriptions.ChatGroup, subscriptions.ChatSupergroup, subscriptions.ChatChannel} {
		if code == string(t[:1]) {
			return t
		}
	}
	return subscriptions.ChatType(code)
}

// subFromRecord reads a script's "type lang categories joined[ prefs]".
func subFromRecord(chatID int64, rec string) (subscriptions.Subscriber, error) {
	parts := strings.Split(rec, " ")
	if len(parts) != 4 && len(parts) != 5 {
		return subscriptions.Subscriber{}, fmt.Errorf("store: subscriber %d: bad record %q", chatID, rec)
	}
	var prefs subscriptions.Prefs
	if len(parts) == 5 {
		// Prefs it cannot read are the defaults rather than a subscriber
		// lost, as in the embedded store.
		prefs, _ = subscriptions.ParsePrefs(parts[4])
	}
	ms, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return subscriptions.Subscriber{}, fmt.Errorf("store: subscriber %d: bad joined time in %q", chatID, rec)
	}
	s := subscriptions.Subscriber{
		ChatID:   chatID,
		Type:     subTypeName(parts[0]),
		Language: parts[1],
		JoinedAt: time.UnixMilli(ms).UTC(),
		Prefs:    prefs,
	}
	if parts[2] != "" {
		s.Categories = strings.Split(parts[2], ",")
		slices.Sort(s.Categories)
	}
	return s, nil
}

// subFromPacked reads a stored record, "type lang mask joined[ prefs]", naming the
// mask's bits from the registry.
func subFromPacked(chatID int64, rec string, names []string) (subscriptions.Subscriber, error) {
	t, rest, _ := strings.Cut(rec, " ")
	lang, rest, _ := strings.Cut(rest, " ")
	mask, joined, ok := strings.Cut(rest, " ")
	var cats []string
	for i := range len(mask) {
		nib, err := strconv.ParseUint(mask[i:i+1], 16, 8)
		if err != nil {
			ok = false
			break
		}
		for b := range 4 {
			if nib&(1<<b) == 0 {
				continue
			}
			if bit := i*4 + b; bit < len(names) && names[bit] != "" {
				cats = append(cats, names[bit])
			} else {
				return subscriptions.Subscriber{}, fmt.Errorf("store: subscriber %d: category bit %d is not registered", chatID, bit)
			}
		}
	}
	if !ok {
		return subscriptions.Subscriber{}, fmt.Errorf("store: subscriber %d: bad record %q", chatID, rec)
	}
	return subFromRecord(chatID, t+" "+lang+" "+strings.Join(cats, ",")+" "+joined)
}

func subList(v any) []any {
	l, _ := v.([]any)
	return l
}

// SaveSubscriber implements subscriptions.Store.
func (r *Redis) SaveSubscriber(ctx context.Context, s subscriptions.Subscriber) (bool, error) {
	cats, err := subCheck(s)
	if err != nil {
		return false, err
	}
	if strings.ContainsAny(string(s.Type), " \x00") {
		return false, fmt.Errorf("store: save subscriber %d: bad chat type %q", s.ChatID, s.Type)
	}
	n, err := saveSubscriberScript.Run(ctx, r.rdb, subKeys(), subArgs(
		s.ChatID, subTypeCode(s.Type), s.Language, strings.Join(cats, ","), subJoinedMs(s, r.now()),
		subEventRetention.Milliseconds(), s.Prefs.String())...).Int()
	if err != nil {
		return false, fmt.Errorf("store: save subscriber %d: %w", s.ChatID, err)
	}
	return n == 1, nil
}

// Subscriber implements subscriptions.Store.
func (r *Redis) Subscriber(ctx context.Context, chatID int64) (subscriptions.Subscriber, bool, error) {
	rec, err := subscriberScript.Run(ctx, r.rdb, subKeys(), subArgs(chatID)...).Text()
	if errors.Is(err, redis.Nil) {
		return subscriptions.Subscriber{}, false, nil
	}
	if err != nil {
		return subscriptions.Subscriber{}, false, fmt.Errorf("store: load subscriber %d: %w", chatID, err)
	}
	s, err := subFromRecord(chatID, rec)
	return s, err == nil, err
}

// DeleteSubscriber implements subscriptions.Store.
func (r *Redis) DeleteSubscriber(ctx context.Context, chatID int64, at time.Time) (bool, error) {
	n, err := deleteSubscriberScript.Run(ctx, r.rdb, subKeys(), subArgs(
		chatID, at.UnixMilli(), subEventRetention.Milliseconds())...).Int()
	if err != nil {
		return false, fmt.Errorf("store: delete subscriber %d: %w", chatID, err)
	}
	return n == 1, nil
}

// MigrateSubscriber implements subscriptions.Store.
func (r *Redis) MigrateSubscriber(ctx context.Context, from, to int64) (bool, error) {
	if from == to {
		_, ok, err := r.Subscriber(ctx, from)
		if err != nil {
			return false, fmt.Errorf("store: migrate subscriber %d: %w", from, err)
		}
		return ok, nil
	}
	n, err := migrateSubscriberScript.Run(ctx, r.rdb, subKeys(), subArgs(from, to)...).Int()
	if err != nil {
		return false, fmt.Errorf("store: migrate subscriber %d to %d: %w", from, to, err)
	}
	return n != 0, nil
}

// SubscribersPage implements subscriptions.Store. One script walks the
// buckets from the cursor and filters by bitmask and language, so a bucket
// split meanwhile cannot hide a chat; it looks at no more than
// subPageBudget subscribers (or limit, if more), and a page cut short by
// that ends with a cursor as any other.
func (r *Redis) SubscribersPage(ctx context.Context, f subscriptions.Filter, cursor string, limit int) ([]subscriptions.Subscriber, string, error) {
	if limit <= 0 {
		return nil, "", fmt.Errorf("store: subscribers page: limit %d is not positive", limit)
	}
	if _, err := subCursor(cursor); err != nil {
		return nil, "", err
	}
	res, err := subscribersPageScript.Run(ctx, r.rdb, subKeys(), subArgs(
		cursor, limit, max(limit, subPageBudget), strings.Join(f.AnyOf(), ","), f.Language)...).Slice()
	if err != nil {
		return nil, "", fmt.Errorf("store: subscribers page: %w", err)
	}
	if len(res) != 3 {
		return nil, "", fmt.Errorf("store: subscribers page: script returned %d values, want 3", len(res))
	}
	list := subList(res[0])
	next, _ := res[1].(string)
	reg := subList(res[2])
	names := make([]string, len(reg)/2) // by bit
	for i := 0; i+1 < len(reg); i += 2 {
		name, _ := reg[i].(string)
		bit, _ := reg[i+1].(string)
		if n, err := strconv.Atoi(bit); err == nil && n >= 0 && n < len(names) {
			names[n] = name
		}
	}
	out := make([]subscriptions.Subscriber, 0, len(list)/2)
	for i := 0; i+1 < len(list); i += 2 {
		idText, _ := list[i].(string)
		rec, _ := list[i+1].(string)
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("store: subscribers page: bad chat id %q", idText)
		}
		s, err := subFromPacked(id, rec, names)
		if err != nil {
			return nil, "", err
		}
		out = append(out, s)
	}
	return out, next, nil
}

// SubscriberCounts implements subscriptions.Store. It reads counters, not
// subscribers: its cost does not grow with the audience. Joins and leaves
// are counted from the first whole minute at or after since.
func (r *Redis) SubscriberCounts(ctx context.Context, since time.Time) (subscriptions.Counts, error) {
	res, err := subscriberCountsScript.Run(ctx, r.rdb, subKeys(), subArgs(since.UnixMilli())...).Slice()
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
		slices.Sort(s.Categories) // layout 2 writes them in bit order
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
	if err := s.Prefs.Check(); err != nil {
		return nil, fmt.Errorf("store: save subscriber %d: %w", s.ChatID, err)
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
func subJoinedMs(s subscriptions.Subscriber, now time.Time) int64 {
	if s.JoinedAt.IsZero() {
		return now.UnixMilli()
	}
	return s.JoinedAt.UnixMilli()
}

// subCursor parses a page cursor: nil for the start, else the last chat id
// already seen.
func subCursor(cursor string) (*int64, error) {
	id, err := subscriptions.ParseCursor(cursor)
	if err != nil {
		return nil, fmt.Errorf("store: subscribers page: %w", err)
	}
	return id, nil
}

var _ subscriptions.Store = (*Redis)(nil)
