package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Consumer groups: deliveryGroup reads the delivery queue, announceGroup the
// poller's announcement stream.
const (
	deliveryGroup = "senders"
	announceGroup = "delivery"
)

// Retention of delivery state. Sent records exist for recall and deletion,
// and Telegram lets a bot delete its messages for 48 hours only.
const (
	announcementRetention = 30 * 24 * time.Hour
	sentRetention         = 72 * time.Hour
	deadLetterCap         = 10000
	promoteBatch          = 1000
)

// Announcement hash fields.
const (
	annKind      = "kind"
	annPub       = "pub"
	annCategory  = "category"
	annLanguage  = "language"
	annCats      = "categories" // the filter's Categories, comma-separated
	annCreated   = "created"
	annState     = "state"
	annCursor    = "cursor"
	annToken     = "token"
	annTextPfx   = "text:"
	annCopyPfx   = "copy:" // JSON of a delivery.Copy, by language
	annTargeted  = "targeted"
	annDelivered = "delivered"
	annRemoved   = "removed"
	annFailed    = "failed"
	annCancelled = "cancelled"
	annRetries   = "retries"
	annMoved     = "moved"
)

// encodeDelivery packs a delivery into one string, the queue entry's only
// field and the delayed set's member:
// [~slot|]announcement|chat|type|language|attempt|plain[|how]. The slot,
// in ms and of fixed width, comes first so that deliveries put aside for
// one moment sort, as members of equal score do, in their chat's order.
// Announcement ids never hold "|" (delivery validates them). how, left out
// when it would be empty (and by the release before it), is "s" for a
// silent delivery followed by "t" and the forum thread, if any.
func encodeDelivery(d delivery.Delivery) string {
	plain := "0"
	if d.Plain {
		plain = "1"
	}
	s := d.AnnouncementID + "|" + strconv.FormatInt(d.ChatID, 10) + "|" + string(d.ChatType) + "|" +
		d.Language + "|" + strconv.Itoa(d.Attempt) + "|" + plain
	how := ""
	if d.Silent {
		how = "s"
	}
	if d.Thread != 0 {
		how += "t" + strconv.FormatInt(d.Thread, 10)
	}
	if how != "" {
		s += "|" + how
	}
	if !d.Slot.IsZero() {
		s = fmt.Sprintf("~%015d|", d.Slot.UnixMilli()) + s
	}
	return s
}

func decodeDelivery(id, s string) (delivery.Delivery, error) {
	var slot time.Time
	if rest, ok := strings.CutPrefix(s, "~"); ok {
		ms, body, found := strings.Cut(rest, "|")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !found || err != nil {
			return delivery.Delivery{}, fmt.Errorf("store: malformed delivery %q", s)
		}
		slot, s = time.UnixMilli(n), body
	}
	f := strings.Split(s, "|")
	if len(f) != 6 && len(f) != 7 {
		return delivery.Delivery{}, fmt.Errorf("store: malformed delivery %q", s)
	}
	var silent bool
	var thread int64
	if len(f) == 7 {
		how := f[6]
		how, silent = strings.CutPrefix(how, "s")
		if t, ok := strings.CutPrefix(how, "t"); ok {
			n, err := strconv.ParseInt(t, 10, 64)
			if err != nil {
				return delivery.Delivery{}, fmt.Errorf("store: malformed delivery %q", s)
			}
			thread = n
		}
	}
	chat, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return delivery.Delivery{}, fmt.Errorf("store: malformed delivery %q", s)
	}
	attempt, err := strconv.Atoi(f[4])
	if err != nil {
		return delivery.Delivery{}, fmt.Errorf("store: malformed delivery %q", s)
	}
	return delivery.Delivery{ID: id, AnnouncementID: f[0], ChatID: chat, ChatType: subscriptions.ChatType(f[2]),
		Language: f[3], Attempt: attempt, Plain: f[5] == "1", Slot: slot, Silent: silent, Thread: thread}, nil
}

// addAnnouncementScript stores an announcement and queues its fan-out.
//
// KEYS[1] announcement hash  KEYS[2] fan-outs zset
// ARGV[1] id  ARGV[2] retention (s)  ARGV[3] fan-out score (ms: when it was
// created, at most now)  ARGV[4 ..] field, value pairs
// Returns 1, or 0 when the announcement exists.
var addAnnouncementScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`)

// fanoutQueuedAt is an unleased fan-out's score: the fan-outs zset holds a
// leased one at its lease's deadline and a free one at any time up to about
// now, so scoring free ones by creation makes replicas claim announcements
// in the order they were made, and a chat gets a poll's publications in
// order (previously all scored 0, and were claimed in the order of their
// ids). The engine spaces a burst of announcements a millisecond apart, a
// little into the future; a creation time further off (a test's clock, a
// skewed replica) is taken as now.
func fanoutQueuedAt(created, wall time.Time) int64 {
	now := wall.UnixMilli()
	if c := created.UnixMilli(); c <= now+fanoutAhead {
		return c
	}
	return now
}

// fanoutAhead is how far in the future a fan-out may be queued, in ms.
const fanoutAhead = 1000

// AddAnnouncement implements delivery.Store.
func (r *Redis) AddAnnouncement(ctx context.Context, a delivery.Announcement) error {
	args := []any{a.ID, int64(announcementRetention / time.Second), fanoutQueuedAt(a.CreatedAt, r.now()),
		annKind, string(a.Kind), annPub, a.PublicationID,
		annCategory, a.Filter.Category, annCats, strings.Join(a.Filter.Categories, ","), annLanguage, a.Filter.Language,
		annCreated, a.CreatedAt.UnixMilli(), annState, string(delivery.StateFanningOut),
		annCursor, "", annTargeted, 0, annDelivered, 0, annRemoved, 0, annFailed, 0,
		annCancelled, 0, annRetries, 0, annMoved, 0}
	for lang, text := range a.Texts {
		args = append(args, annTextPfx+lang, text)
	}
	for lang, c := range a.Copies {
		body, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("store: add announcement %s: %w", a.ID, err)
		}
		args = append(args, annCopyPfx+lang, string(body))
	}
	n, err := addAnnouncementScript.Run(ctx, r.rdb, []string{deliveryAnnKey(a.ID), deliveryFanoutsKey()}, args...).Int()
	if err != nil {
		return fmt.Errorf("store: add announcement %s: %w", a.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: add announcement %s: %w", a.ID, delivery.ErrDuplicate)
	}
	return nil
}

// Announcement implements delivery.Store.
func (r *Redis) Announcement(ctx context.Context, id string) (delivery.Stats, error) {
	h, err := r.rdb.HGetAll(ctx, deliveryAnnKey(id)).Result()
	if err != nil {
		return delivery.Stats{}, fmt.Errorf("store: announcement %s: %w", id, err)
	}
	if len(h) == 0 {
		return delivery.Stats{}, fmt.Errorf("store: announcement %s: %w", id, delivery.ErrNotFound)
	}
	return statsFromHash(id, h), nil
}

// sentPayload is a sent record's value: the message id, or an album copy's
// ids joined by commas.
func sentPayload(res delivery.Result) string {
	if len(res.MessageIDs) == 0 {
		return strconv.Itoa(res.MessageID)
	}
	parts := make([]string, len(res.MessageIDs))
	for i, id := range res.MessageIDs {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, ",")
}

// parseSent reads sentPayload.
func parseSent(chat int64, v string) (delivery.SentCopy, bool) {
	parts := strings.Split(v, ",")
	c := delivery.SentCopy{ChatID: chat}
	for _, p := range parts {
		id, err := strconv.Atoi(p)
		if err != nil {
			return delivery.SentCopy{}, false
		}
		c.MessageIDs = append(c.MessageIDs, id)
	}
	c.MessageID = c.MessageIDs[0]
	if len(c.MessageIDs) == 1 {
		c.MessageIDs = nil
	}
	return c, true
}

func statsFromHash(id string, h map[string]string) delivery.Stats {
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	a := delivery.Announcement{
		ID:            id,
		Kind:          delivery.Kind(h[annKind]),
		PublicationID: h[annPub],
		Filter:        subscriptions.Filter{Category: h[annCategory], Language: h[annLanguage]},
		CreatedAt:     time.UnixMilli(num(annCreated)).UTC(),
		Texts:         map[string]string{},
	}
	if c := h[annCats]; c != "" {
		a.Filter.Categories = strings.Split(c, ",")
	}
	for k, v := range h {
		if lang, ok := strings.CutPrefix(k, annTextPfx); ok {
			a.Texts[lang] = v
		}
		if lang, ok := strings.CutPrefix(k, annCopyPfx); ok {
			var c delivery.Copy
			if json.Unmarshal([]byte(v), &c) == nil {
				if a.Copies == nil {
					a.Copies = map[string]delivery.Copy{}
				}
				a.Copies[lang] = c
			}
		}
	}
	s := delivery.Stats{
		Announcement: a,
		State:        delivery.State(h[annState]),
		Targeted:     num(annTargeted),
		Delivered:    num(annDelivered),
		Removed:      num(annRemoved),
		Failed:       num(annFailed),
		Cancelled:    num(annCancelled),
		Retries:      num(annRetries),
		Moved:        num(annMoved),
	}
	s.Pending = max(0, s.Targeted-s.Delivered-s.Removed-s.Failed-s.Cancelled)
	if s.State == delivery.StateSending && s.Pending == 0 {
		s.State = delivery.StateDone
	}
	return s
}

// cancelScript marks an announcement cancelled and ends its fan-out.
//
// KEYS[1] announcement hash  KEYS[2] fan-outs zset
// ARGV[1] id
// Returns -1 when there is no such announcement, 0 when it was cancelled
// already, 1 when this call cancelled it.
var cancelScript = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return -1 end
if state == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'cancelled')
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// Cancel implements delivery.Store.
func (r *Redis) Cancel(ctx context.Context, id string) (bool, error) {
	n, err := cancelScript.Run(ctx, r.rdb, []string{deliveryAnnKey(id), deliveryFanoutsKey()}, id).Int()
	if err != nil {
		return false, fmt.Errorf("store: cancel announcement %s: %w", id, err)
	}
	if n < 0 {
		return false, fmt.Errorf("store: cancel announcement %s: %w", id, delivery.ErrNotFound)
	}
	return n == 1, nil
}

// claimFanoutScript leases one fan-out whose lease has run out.
//
// KEYS[1] fan-outs zset  KEYS[2] announcement hash
// ARGV[1] id  ARGV[2] now (ms)  ARGV[3] lease deadline (ms)  ARGV[4] token
// Returns the cursor, or false when the fan-out is leased, finished or its
// announcement is gone (then it is dropped from the set).
var claimFanoutScript = redis.NewScript(`
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not deadline or tonumber(deadline) > tonumber(ARGV[2]) then return false end
if redis.call('HGET', KEYS[2], 'state') ~= 'fanning_out' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return false
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], 'token', ARGV[4])
return redis.call('HGET', KEYS[2], 'cursor') or ''
`)

// ClaimFanout implements delivery.Store.
func (r *Redis) ClaimFanout(ctx context.Context, until time.Time) (delivery.Fanout, bool, error) {
	now := r.now().UnixMilli()
	ids, err := r.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: deliveryFanoutsKey(), Start: "-inf", Stop: strconv.FormatInt(now, 10), ByScore: true, Count: 8}).Result()
	if err != nil {
		return delivery.Fanout{}, false, fmt.Errorf("store: claim fan-out: %w", err)
	}
	for _, id := range ids {
		token := strconv.FormatUint(rand.Uint64(), 36)
		cursor, err := claimFanoutScript.Run(ctx, r.rdb, []string{deliveryFanoutsKey(), deliveryAnnKey(id)},
			id, now, until.UnixMilli(), token).Text()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return delivery.Fanout{}, false, fmt.Errorf("store: claim fan-out %s: %w", id, err)
		}
		st, err := r.Announcement(ctx, id)
		if err != nil {
			return delivery.Fanout{}, false, err
		}
		return delivery.Fanout{Announcement: st.Announcement, Cursor: cursor, Token: token}, true, nil
	}
	return delivery.Fanout{}, false, nil
}

// addDeliveriesScript queues a page of a fan-out and moves its cursor.
//
// KEYS[1] announcement hash  KEYS[2] fan-outs zset  KEYS[3] queue stream
// ARGV[1] id  ARGV[2] lease token  ARGV[3] expected cursor  ARGV[4] next cursor
// ARGV[5] "1" when this is the last page  ARGV[6] lease deadline (ms)
// ARGV[7 ..] encoded deliveries
// Returns 1, or 0 when the lease or cursor moved on (nothing changed).
var addDeliveriesScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'token', 'cursor', 'state')
if h[1] ~= ARGV[2] or (h[2] or '') ~= ARGV[3] or h[3] ~= 'fanning_out' then return 0 end
for i = 7, #ARGV do
  redis.call('XADD', KEYS[3], '*', 'd', ARGV[i])
end
redis.call('HINCRBY', KEYS[1], 'targeted', #ARGV - 6)
redis.call('HSET', KEYS[1], 'cursor', ARGV[4])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'sending')
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
end
return 1
`)

// AddDeliveries implements delivery.Store.
func (r *Redis) AddDeliveries(ctx context.Context, f delivery.Fanout, next string, done bool, ds []delivery.Delivery, until time.Time) error {
	id := f.Announcement.ID
	last := "0"
	if done {
		last = "1"
	}
	args := make([]any, 0, 6+len(ds))
	args = append(args, id, f.Token, f.Cursor, next, last, until.UnixMilli())
	for _, d := range ds {
		args = append(args, encodeDelivery(d))
	}
	n, err := addDeliveriesScript.Run(ctx, r.rdb, []string{deliveryAnnKey(id), deliveryFanoutsKey(), deliveryQueueKey()}, args...).Int()
	if err != nil {
		return fmt.Errorf("store: queue deliveries of %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: queue deliveries of %s: %w", id, delivery.ErrLeaseLost)
	}
	return nil
}

// promoteScript moves due retries from the delayed set into the queue.
//
// KEYS[1] delayed zset  KEYS[2] queue stream
// ARGV[1] now (ms)  ARGV[2] most to move
// Returns how long until the next retry comes due (ms), -1 when none is
// waiting: a Lease blocks no longer than that. While none is due it reads
// only the first.
// Deliveries put aside with a slot are queued in slot order, the rest
// first in the order they came due: a delivery that waited past its slot
// for its chat's gap can come due after one with a later slot, and must
// still go first.
var promoteScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return -1 end
if tonumber(first[2]) > now then return tonumber(first[2]) - now end
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2])
local order = {}
for i, d in ipairs(due) do
  local slot = ''
  if string.sub(d, 1, 1) == '~' then slot = string.sub(d, 1, 16) end
  order[i] = {slot, i, d}
end
table.sort(order, function(x, y)
  if x[1] ~= y[1] then return x[1] < y[1] end
  return x[2] < y[2]
end)
for _, o in ipairs(order) do
  redis.call('XADD', KEYS[2], '*', 'd', o[3])
  redis.call('ZREM', KEYS[1], o[3])
end
return 0
`)

// batchLua defines batched(cmd, pre, list, post), which calls cmd with
// the arguments pre, then the items of list, then post (when given), in
// calls of at most 500 items, so that a command taking many ids (XACK,
// XDEL, XCLAIM, HMGET) is one call per batch and not one per delivery, and
// returns the sum of the calls' integer replies. And annInfo(hash, sent,
// chats), which returns an announcement's state (false when it expired)
// and the set of chats among chats that have a sent record: one HGET and
// one HMGET per announcement of a batch.
const batchLua = `
local function batched(cmd, pre, list, post)
  local total = 0
  for i = 1, #list, 500 do
    local args = {}
    for _, v in ipairs(pre) do args[#args + 1] = v end
    for j = i, math.min(i + 499, #list) do args[#args + 1] = list[j] end
    if post then args[#args + 1] = post end
    local r = redis.call(cmd, unpack(args))
    if type(r) == 'number' then total = total + r end
  end
  return total
end
local function annInfo(hash, sent, chats)
  local state = redis.call('HGET', hash, 'state')
  local have = {}
  if state and state ~= 'cancelled' then
    for i = 1, #chats, 500 do
      local part = {}
      for j = i, math.min(i + 499, #chats) do part[#part + 1] = chats[j] end
      local got = redis.call('HMGET', sent, unpack(part))
      for j, c in ipairs(part) do
        if got[j] then have[c] = true end
      end
    end
  end
  return state, have
end
`

// screenScript drops leased deliveries that must not be sent: already sent
// (a reclaimed delivery whose sender died after sending and recording, or
// one put back by a takeover after its send was recorded), or of a
// cancelled or expired announcement. It reads each announcement of the
// batch once.
//
// KEYS[1] queue stream  KEYS[2 ..] per announcement: hash, sent hash
// ARGV[1] group  ARGV[2 ..] per delivery: entry id, announcement index
// (1-based, into the KEYS pairs), chat id
// Returns the 1-based positions of the deliveries to keep.
var screenScript = redis.NewScript(batchLua + `
local n = (#ARGV - 1) / 3
local chats = {}
for i = 1, n do
  local ix = tonumber(ARGV[3 * i])
  chats[ix] = chats[ix] or {}
  table.insert(chats[ix], ARGV[3 * i + 1])
end
local info = {}
for ix, cs in pairs(chats) do
  local state, sent = annInfo(KEYS[2 * ix], KEYS[2 * ix + 1], cs)
  info[ix] = {state, sent}
end
local keep, done, gone, cancelled = {}, {}, {}, {}
for i = 1, n do
  local id, ix, chat = ARGV[3 * i - 1], tonumber(ARGV[3 * i]), ARGV[3 * i + 1]
  local state, sent = info[ix][1], info[ix][2]
  if not state or state == 'cancelled' then
    if state then
      cancelled[ix] = cancelled[ix] or {}
      table.insert(cancelled[ix], id)
    else
      done[#done + 1] = id
    end
    gone[#gone + 1] = id
  elseif sent[chat] then
    done[#done + 1] = id
    gone[#gone + 1] = id
  else
    keep[#keep + 1] = i
  end
end
for ix, ids in pairs(cancelled) do
  local acked = batched('XACK', {KEYS[1], ARGV[1]}, ids)
  if acked > 0 then redis.call('HINCRBY', KEYS[2 * ix], 'cancelled', acked) end
end
batched('XACK', {KEYS[1], ARGV[1]}, done)
batched('XDEL', {KEYS[1]}, gone)
return keep
`)

// annKeys lays out the announcement hash and sent hash of each distinct
// announcement of ds after the given leading keys, and returns each
// delivery's 1-based announcement index.
func annKeys(lead []string, ds []delivery.Delivery) ([]string, []int) {
	keys := append([]string(nil), lead...)
	index := map[string]int{}
	idx := make([]int, len(ds))
	for i, d := range ds {
		n, ok := index[d.AnnouncementID]
		if !ok {
			keys = append(keys, deliveryAnnKey(d.AnnouncementID), deliverySentKey(d.AnnouncementID))
			n = len(index) + 1
			index[d.AnnouncementID] = n
		}
		idx[i] = n
	}
	return keys, idx
}

// Lease implements delivery.Store.
func (r *Redis) Lease(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]delivery.Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	msgs, err := r.leaseEntries(ctx, consumer, n, block, reclaim)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	ds := make([]delivery.Delivery, 0, len(msgs))
	var junk []string
	for _, m := range msgs {
		s, _ := m.Values["d"].(string)
		d, err := decodeDelivery(m.ID, s)
		if err != nil {
			junk = append(junk, m.ID)
			continue
		}
		ds = append(ds, d)
	}
	if len(junk) > 0 {
		// Entries no version of this code wrote: drop them rather than
		// choke on them forever.
		pipe := r.rdb.Pipeline()
		pipe.XAck(ctx, deliveryQueueKey(), deliveryGroup, junk...)
		pipe.XDel(ctx, deliveryQueueKey(), junk...)
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("store: lease deliveries: drop malformed: %w", err)
		}
	}
	if len(ds) == 0 {
		return nil, nil
	}
	keys, idx := annKeys([]string{deliveryQueueKey()}, ds)
	args := make([]any, 0, 1+3*len(ds))
	args = append(args, deliveryGroup)
	for i, d := range ds {
		args = append(args, d.ID, idx[i], d.ChatID)
	}
	keep, err := screenScript.Run(ctx, r.rdb, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("store: lease deliveries: screen: %w", err)
	}
	out := make([]delivery.Delivery, 0, len(keep))
	for _, k := range keep {
		out = append(out, ds[k-1])
	}
	return out, nil
}

// leaseEntries promotes due retries and reads up to n entries for
// consumer: taken over when idle longer than reclaim, then new, blocking
// up to block for some. A block is cut at the next retry's due time, which
// no entry announces, and resumed after promoting it.
func (r *Redis) leaseEntries(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]redis.XMessage, error) {
	var deadline time.Time
	var msgs []redis.XMessage
	for {
		// Due times are on the store's clock; how long to block is real
		// time, as it is a wait on Redis (as in redis_block.go).
		wallNow := time.Now()
		if deadline.IsZero() {
			deadline = wallNow.Add(block)
		}
		next, err := promoteScript.Run(ctx, r.rdb, []string{deliveryDelayedKey(), deliveryQueueKey()}, r.now().UnixMilli(), promoteBatch).Int64()
		if err != nil {
			return nil, fmt.Errorf("store: lease deliveries: promote retries: %w", err)
		}
		wait := deadline.Sub(wallNow)
		if block <= 0 || len(msgs) > 0 {
			wait = -1 // asked not to wait, or something to do already
		}
		cut := next >= 0 && wait > time.Duration(next)*time.Millisecond
		if cut {
			wait = max(time.Duration(next)*time.Millisecond, time.Millisecond)
		}
		if reclaim > 0 {
			claimed, _, err := r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: deliveryQueueKey(), Group: deliveryGroup,
				Consumer: consumer, MinIdle: reclaim, Start: "0-0", Count: int64(n)}).Result()
			if err != nil && !isNoGroup(err) {
				return nil, fmt.Errorf("store: lease deliveries: reclaim: %w", err)
			}
			msgs, reclaim = claimed, 0
			if len(msgs) > 0 {
				wait = -1
			}
		}
		if len(msgs) < n {
			fresh, err := r.readGroup(ctx, deliveryQueueKey(), deliveryGroup, consumer, n-len(msgs), wait)
			if err != nil {
				return nil, fmt.Errorf("store: lease deliveries: %w", err)
			}
			msgs = append(msgs, fresh...)
		}
		if len(msgs) > 0 || !cut || ctx.Err() != nil {
			return msgs, nil
		}
	}
}

// readGroup reads new entries of a stream for a consumer, creating the
// group when it does not exist (first start, or a store that lost it). A
// negative block does not wait.
func (r *Redis) readGroup(ctx context.Context, stream, group, consumer string, n int, block time.Duration) ([]redis.XMessage, error) {
	if block <= 0 {
		block = -1 // go-redis sends BLOCK 0, wait forever, for zero
	}
	args := &redis.XReadGroupArgs{Group: group, Consumer: consumer, Streams: []string{stream, ">"}, Count: int64(n), Block: block}
	for attempt := 0; ; attempt++ {
		res, err := r.xReadGroup(ctx, args)
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if isNoGroup(err) && attempt == 0 {
			if err := r.rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
				return nil, fmt.Errorf("create group %s: %w", group, err)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		var out []redis.XMessage
		for _, s := range res {
			out = append(out, s.Messages...)
		}
		return out, nil
	}
}

func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

// beginScript checks, right before sending, that each delivery may go now.
// It is one call per batch whose Redis commands are, for the batch, one
// XPENDING, one MGET of the chats, one HGET and one HMGET per announcement
// and one XCLAIM, and per delivery the SET of its chat: the per-delivery
// XPENDING, state and sent lookups and XCLAIM of the release before cost
// 15 commands a message.
//
// KEYS[1] queue stream  KEYS[2] pause key  KEYS[3] delayed zset
// KEYS[4 .. 3+n] chat key per delivery  KEYS[4+n ..] per announcement: hash, sent hash
// ARGV[1] group  ARGV[2] consumer  ARGV[3] now (ms)  ARGV[4] lowest and
// ARGV[5] highest entry id of the batch
// ARGV[6 ..] per delivery: entry id, announcement index (1-based), chat id,
// gap (ms), encoded delivery without its slot, slot (ms, 0 for none)
// Returns {pause ms} while paused, else {0, positions ready (1-based)...}.
// A delivery no longer pending for this consumer is left alone; one sent or
// cancelled is acknowledged and dropped. For the rest, the chat's state
// decides: a delivery without a slot goes when the chat's reservation has
// ended, else it is put aside with the reservation's end as its slot and
// the reservation grows by a gap, so that later ones queue behind it; one
// with a slot goes when its slot has come and a gap has passed since the
// chat's last message, else it waits for that, its slot keeping its place
// among those due at the same moment. A chat key holds "stop last" (ms)
// and expires at stop; a key of a release before holds "1", its end only
// in its expiry (chatStateLua).
var beginScript = redis.NewScript(batchLua + `
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {pause} end
local now = tonumber(ARGV[3])
local n = (#ARGV - 5) / 6
local base = 3 + n
-- The entries this consumer holds in the batch's range: one XPENDING,
-- then one per entry only if the range held more than it read.
local want = 4 * n + 64
local held = {}
local pend = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[4], ARGV[5], want, ARGV[2])
for _, p in ipairs(pend) do held[p[1]] = true end
local chats, mine = {}, {}
for i = 1, n do
  local a = 6 + (i - 1) * 6
  local id = ARGV[a]
  local ok = held[id]
  if not ok and #pend >= want then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    ok = #p == 1 and p[1][2] == ARGV[2]
  end
  if ok then
    mine[i] = true
    local ix = tonumber(ARGV[a + 1])
    chats[ix] = chats[ix] or {}
    table.insert(chats[ix], ARGV[a + 2])
  end
end
local info = {}
for ix, cs in pairs(chats) do
  local state, sent = annInfo(KEYS[base + 2 * ix - 1], KEYS[base + 2 * ix], cs)
  info[ix] = {state, sent}
end
-- Chats' reservations: read at once, then kept here as they change.
local raw = {}
for i = 1, n, 500 do
  local part = {}
  for j = i, math.min(i + 499, n) do part[#part + 1] = KEYS[3 + j] end
  local vals = redis.call('MGET', unpack(part))
  for j, k in ipairs(part) do raw[k] = vals[j] end
end
local cache = {}
local function chatGet(key)
  local c = cache[key]
  if c then return c[1], c[2] end
  local v = raw[key]
  local stop, last = now, 0
  if v then
    local s, l = string.match(v, '^(%d+) (%d+)$')
    if s then
      stop, last = tonumber(s), tonumber(l)
    else
      local left = redis.call('PTTL', key)
      if left > 0 then stop = now + left end
    end
  end
  cache[key] = {stop, last}
  return stop, last
end
local function chatPut(key, stop, last)
  cache[key] = {stop, last}
  redis.call('SET', key, string.format('%.0f %.0f', stop, last), 'PX', math.max(stop - now, 1))
end
local out, ready, done, cancelled = {0}, {}, {}, {}
for i = 1, n do
  if mine[i] then
    local a = 6 + (i - 1) * 6
    local id, chat, ix = ARGV[a], KEYS[3 + i], tonumber(ARGV[a + 1])
    local state, sent = info[ix][1], info[ix][2]
    if not state or state == 'cancelled' then
      done[#done + 1] = id
      if state then cancelled[ix] = (cancelled[ix] or 0) + 1 end
    elseif sent[ARGV[a + 2]] then
      done[#done + 1] = id
    else
      local gap, slot = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 5])
      local due = 0
      if gap > 0 then
        local stop, last = chatGet(chat)
        if slot > 0 then
          if slot <= now and last + gap <= now then
            chatPut(chat, math.max(stop, now + gap), now)
          else
            due = math.max(slot, last + gap)
          end
        elseif stop <= now then
          chatPut(chat, now + gap, now)
        else
          slot, due = stop, stop
          chatPut(chat, stop + gap, last)
        end
      end
      if due > 0 then
        redis.call('ZADD', KEYS[3], due, string.format('~%015.0f|', slot) .. ARGV[a + 4])
        done[#done + 1] = id
      else
        ready[#ready + 1] = id
        out[#out + 1] = i
      end
    end
  end
end
batched('XACK', {KEYS[1], ARGV[1]}, done)
batched('XDEL', {KEYS[1]}, done)
for ix, c in pairs(cancelled) do redis.call('HINCRBY', KEYS[base + 2 * ix - 1], 'cancelled', c) end
batched('XCLAIM', {KEYS[1], ARGV[1], ARGV[2], 0}, ready, 'JUSTID')
return out
`)

// Begin implements delivery.Store.
func (r *Redis) Begin(ctx context.Context, consumer string, ds []delivery.Delivery, gaps delivery.Gaps, now time.Time) ([]delivery.Delivery, time.Duration, error) {
	if len(ds) == 0 {
		return nil, 0, nil
	}
	lead := make([]string, 0, 3+len(ds))
	lead = append(lead, deliveryQueueKey(), deliveryPauseKey(), deliveryDelayedKey())
	for _, d := range ds {
		lead = append(lead, deliveryChatKey(d.ChatID))
	}
	keys, idx := annKeys(lead, ds)
	lo, hi := entryRange(ds)
	args := make([]any, 0, 5+6*len(ds))
	args = append(args, deliveryGroup, consumer, now.UnixMilli(), lo, hi)
	for i, d := range ds {
		var slot int64
		if !d.Slot.IsZero() {
			slot = d.Slot.UnixMilli()
		}
		bare := d
		bare.Slot = time.Time{}
		args = append(args, d.ID, idx[i], d.ChatID, gaps.Of(d.ChatType).Milliseconds(), encodeDelivery(bare), slot)
	}
	res, err := beginScript.Run(ctx, r.rdb, keys, args...).Int64Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin deliveries: %w", err)
	}
	if res[0] > 0 {
		return nil, time.Duration(res[0]) * time.Millisecond, nil
	}
	ready := make([]delivery.Delivery, 0, len(res)-1)
	for _, k := range res[1:] {
		ready = append(ready, ds[k-1])
	}
	return ready, 0, nil
}

// entryRange returns the lowest and highest stream entry ids of ds, or
// the whole stream ("-", "+") when one is not an entry id.
func entryRange(ds []delivery.Delivery) (string, string) {
	var lo, hi [2]uint64
	for i, d := range ds {
		ms, seq, ok := strings.Cut(d.ID, "-")
		a, err1 := strconv.ParseUint(ms, 10, 64)
		b, err2 := strconv.ParseUint(seq, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return "-", "+"
		}
		id := [2]uint64{a, b}
		if i == 0 || id[0] < lo[0] || id[0] == lo[0] && id[1] < lo[1] {
			lo = id
		}
		if i == 0 || id[0] > hi[0] || id[0] == hi[0] && id[1] > hi[1] {
			hi = id
		}
	}
	return fmt.Sprintf("%d-%d", lo[0], lo[1]), fmt.Sprintf("%d-%d", hi[0], hi[1])
}

// finishScript records the results of sends.
//
// KEYS[1] queue stream  KEYS[2] delayed zset  KEYS[3] pause key
// KEYS[4] dead-letter list  KEYS[5] counters hash
// KEYS[6 ..] per announcement: hash, sent hash
// ARGV[1] group  ARGV[2] now (ms)  ARGV[3] dead-letter cap  ARGV[4] sent retention (s)
// ARGV[5 ..] per result, 8 values: outcome (sent, removed, failed,
// requeued), entry id, announcement index (1-based), chat id, payload
// (message id; dead-letter JSON; encoded next delivery), due (ms), pause
// (ms), flags ("r" retry, "m" moved)
// A pause (a 429) is a flood pause "flood|<now>" (delivery.Pause.ID); one
// in force keeps its start when lengthened.
// A sent record is written whether or not the entry is still pending: the
// message went out; the first message id recorded for a chat stays.
// Every other effect needs this call's XACK to succeed, so a result for a
// delivery finished elsewhere counts once. Sends, nearly every result, are
// recorded per batch: one XACK and one XDEL for all, and per announcement
// one HMGET, HSET, EXPIRE and HINCRBY.
var finishScript = redis.NewScript(batchLua + `
local now = tonumber(ARGV[2])
local alive = {}
local function live(ix)
  if alive[ix] == nil then alive[ix] = redis.call('EXISTS', KEYS[4 + 2 * ix]) == 1 end
  return alive[ix]
end
local all, sentIDs, sends = {}, {}, {}
for i = 5, #ARGV, 8 do
  local outcome, id, chat, payload = ARGV[i], ARGV[i + 1], ARGV[i + 3], ARGV[i + 4]
  local ix = tonumber(ARGV[i + 2])
  local ann = KEYS[4 + 2 * ix]
  all[#all + 1] = id
  if outcome == 'sent' then
    sentIDs[#sentIDs + 1] = id
    local s = sends[ix]
    if not s then
      s = {chats = {}, ids = {}, seen = {}}
      sends[ix] = s
    end
    if not s.seen[chat] then
      s.seen[chat] = true
      s.chats[#s.chats + 1] = chat
      s.ids[#s.ids + 1] = payload
    end
  else
    local acked = redis.call('XACK', KEYS[1], ARGV[1], id)
    if acked == 1 then
      if outcome == 'removed' then
        if live(ix) then redis.call('HINCRBY', ann, 'removed', 1) end
      elseif outcome == 'failed' then
        if live(ix) then redis.call('HINCRBY', ann, 'failed', 1) end
        redis.call('LPUSH', KEYS[4], payload)
        redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[3]) - 1)
        redis.call('HINCRBY', KEYS[5], 'dead', 1)
      elseif outcome == 'requeued' then
        local due = tonumber(ARGV[i + 5])
        if due <= now then
          redis.call('XADD', KEYS[1], '*', 'd', payload)
        else
          redis.call('ZADD', KEYS[2], due, payload)
        end
        local flags = ARGV[i + 7]
        if live(ix) and string.find(flags, 'r', 1, true) then redis.call('HINCRBY', ann, 'retries', 1) end
        if live(ix) and string.find(flags, 'm', 1, true) then redis.call('HINCRBY', ann, 'moved', 1) end
        local pause = tonumber(ARGV[i + 6])
        if pause > 0 and redis.call('PTTL', KEYS[3]) < pause then
          local cur = redis.call('GET', KEYS[3])
          if not cur or not string.find(cur, '^flood|') then cur = 'flood|' .. ARGV[2] end
          redis.call('SET', KEYS[3], cur, 'PX', pause)
        end
      end
    end
  end
end
batched('XACK', {KEYS[1], ARGV[1]}, sentIDs)
for ix, s in pairs(sends) do
  local sent = KEYS[5 + 2 * ix]
  local fresh = {}
  for i = 1, #s.chats, 500 do
    local part = {}
    for j = i, math.min(i + 499, #s.chats) do part[#part + 1] = s.chats[j] end
    local got = redis.call('HMGET', sent, unpack(part))
    for j = 1, #part do
      if not got[j] then
        fresh[#fresh + 1] = part[j]
        fresh[#fresh + 1] = s.ids[i + j - 1]
      end
    end
  end
  if #fresh > 0 then
    batched('HSET', {sent}, fresh)
    redis.call('EXPIRE', sent, ARGV[4])
    if live(ix) then redis.call('HINCRBY', KEYS[4 + 2 * ix], 'delivered', #fresh / 2) end
  end
end
batched('XDEL', {KEYS[1]}, all)
return 1
`)

// Finish implements delivery.Store.
func (r *Redis) Finish(ctx context.Context, rs []delivery.Result, now time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	ds := make([]delivery.Delivery, len(rs))
	for i, res := range rs {
		ds[i] = res.Delivery
	}
	keys, idx := annKeys([]string{deliveryQueueKey(), deliveryDelayedKey(), deliveryPauseKey(), deliveryDeadKey(), deliveryCountersKey()}, ds)
	args := make([]any, 0, 4+8*len(rs))
	args = append(args, deliveryGroup, now.UnixMilli(), deadLetterCap, int64(sentRetention/time.Second))
	for i, res := range rs {
		var outcome, payload, flags string
		var due, pause int64
		switch res.Outcome {
		case delivery.Sent:
			outcome, payload = "sent", sentPayload(res)
		case delivery.Removed:
			outcome = "removed"
		case delivery.Failed:
			outcome = "failed"
			body, err := json.Marshal(delivery.NewDeadLetter(res.Delivery, res.Error, now))
			if err != nil {
				return fmt.Errorf("store: encode dead letter: %w", err)
			}
			payload = string(body)
		case delivery.Requeued:
			outcome, payload = "requeued", encodeDelivery(res.Next)
			due, pause = res.At.UnixMilli(), res.Pause.Milliseconds()
			if res.Retry {
				flags += "r"
			}
			if res.Moved {
				flags += "m"
			}
		default:
			return fmt.Errorf("store: finish delivery %s: unknown outcome %d", res.Delivery.ID, res.Outcome)
		}
		args = append(args, outcome, res.Delivery.ID, idx[i], res.Delivery.ChatID, payload, due, pause, flags)
	}
	if err := finishScript.Run(ctx, r.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("store: finish %d deliveries: %w", len(rs), err)
	}
	return nil
}

// AllowSends implements delivery.Store with redis_rate's GCRA limiter, so
// every replica draws from one budget. A fractional rate is expressed over
// a longer period with the same emission interval.
func (r *Redis) AllowSends(ctx context.Context, rate float64, burst, n int) (int, time.Duration, error) {
	if rate <= 0 || n <= 0 {
		return n, 0, nil
	}
	limit := redis_rate.Limit{Rate: int(rate), Period: time.Second, Burst: max(1, burst)}
	if rate != math.Trunc(rate) || rate < 1 {
		limit.Rate, limit.Period = int(math.Round(rate*1000)), 1000*time.Second
	}
	n = min(n, limit.Burst)
	res, err := redis_rate.NewLimiter(r.rdb).AllowN(ctx, deliveryRateKey(), limit, n)
	if err != nil {
		return 0, 0, fmt.Errorf("store: allow sends: %w", err)
	}
	if res.Allowed == 0 {
		return 0, max(res.RetryAfter, time.Millisecond), nil
	}
	return res.Allowed, 0, nil
}

// chatStateLua defines chatState(key, now), which returns when the chat's
// reservation ends and when its last message went (ms), and chatSet(key,
// stop, last, now), which writes them. A chat key holds "stop last" and
// expires at stop; a key of a release before holds "1", its end only in
// its expiry.
const chatStateLua = `
local function chatState(key, now)
  local left = redis.call('PTTL', key)
  if left < 1 then return now, 0 end
  local stop, last = string.match(redis.call('GET', key) or '', '^(%d+) (%d+)$')
  if stop then return tonumber(stop), tonumber(last) end
  return now + left, 0
end
local function chatSet(key, stop, last, now)
  redis.call('SET', key, string.format('%.0f %.0f', stop, last), 'PX', math.max(stop - now, 1))
end
`

// reserveChatScript reserves a chat's next slot for a reply, ahead of the
// engine's deliveries, when it conforms to one message every gap with
// bursts of burst. The end of the chat's reservation is GCRA's arrival
// time; the key expires then, and Begin's SET NX honours it.
//
// KEYS[1] chat key  ARGV[1] gap (ms)  ARGV[2] burst  ARGV[3] now (ms)
// Returns 0 when reserved, else the wait (ms) until it would be.
var reserveChatScript = redis.NewScript(chatStateLua + `
local now, gap = tonumber(ARGV[3]), tonumber(ARGV[1])
local stop = chatState(KEYS[1], now)
stop = math.max(stop, now) + gap
local early = stop - now - gap * tonumber(ARGV[2])
if early > 0 then return early end
chatSet(KEYS[1], stop, now, now)
return 0
`)

// ReserveChat implements delivery.ReplyStore.
func (r *Redis) ReserveChat(ctx context.Context, chatID int64, gap time.Duration, burst int, now time.Time) (time.Duration, error) {
	if gap <= 0 {
		return 0, nil
	}
	ms, err := reserveChatScript.Run(ctx, r.rdb, []string{deliveryChatKey(chatID)}, max(gap.Milliseconds(), 1), max(burst, 1), now.UnixMilli()).Int64()
	if err != nil {
		return 0, fmt.Errorf("store: reserve chat: %w", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// DeadLetters implements delivery.Store.
func (r *Redis) DeadLetters(ctx context.Context, n int) ([]delivery.DeadLetter, int64, error) {
	pipe := r.rdb.Pipeline()
	var list *redis.StringSliceCmd
	if n > 0 {
		list = pipe.LRange(ctx, deliveryDeadKey(), 0, int64(n-1))
	}
	total := pipe.HGet(ctx, deliveryCountersKey(), "dead")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	count, _ := strconv.ParseInt(total.Val(), 10, 64)
	if list == nil {
		return nil, count, nil
	}
	out := make([]delivery.DeadLetter, 0, len(list.Val()))
	for _, s := range list.Val() {
		var d delivery.DeadLetter
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			return nil, 0, fmt.Errorf("store: decode dead letter: %w", err)
		}
		out = append(out, d)
	}
	return out, count, nil
}

// NextPublications implements delivery.Intake on the poller's announcement
// stream.
func (r *Redis) NextPublications(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]delivery.PublicationEvent, error) {
	var msgs []redis.XMessage
	if reclaim > 0 {
		claimed, _, err := r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: announceStreamKey(), Group: announceGroup,
			Consumer: consumer, MinIdle: reclaim, Start: "0-0", Count: int64(n)}).Result()
		if err != nil && !isNoGroup(err) {
			return nil, fmt.Errorf("store: next publications: reclaim: %w", err)
		}
		msgs = claimed
	}
	if len(msgs) < n {
		wait := block
		if len(msgs) > 0 {
			wait = -1
		}
		fresh, err := r.readGroup(ctx, announceStreamKey(), announceGroup, consumer, n-len(msgs), wait)
		if err != nil {
			return nil, fmt.Errorf("store: next publications: %w", err)
		}
		msgs = append(msgs, fresh...)
	}
	out := make([]delivery.PublicationEvent, 0, len(msgs))
	for _, m := range msgs {
		id, _ := m.Values["id"].(string)
		out = append(out, delivery.PublicationEvent{ID: m.ID, PublicationID: id})
	}
	return out, nil
}

// AckPublications implements delivery.Intake. The entries stay in the
// stream, which the poller caps.
func (r *Redis) AckPublications(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := r.rdb.XAck(ctx, announceStreamKey(), announceGroup, ids...).Err(); err != nil {
		return fmt.Errorf("store: ack publications: %w", err)
	}
	return nil
}

var (
	_ delivery.Store  = (*Redis)(nil)
	_ delivery.Intake = (*Redis)(nil)
)

// Backlog implements delivery.Store: the queue stream's entries, queued or
// leased (finished ones are deleted), one XLEN.
func (r *Redis) Backlog(ctx context.Context) (int64, error) {
	n, err := r.rdb.XLen(ctx, deliveryQueueKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("store: backlog: %w", err)
	}
	return n, nil
}
