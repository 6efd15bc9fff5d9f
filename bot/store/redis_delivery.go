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
// [~slot|]announcement|chat|type|language|attempt|plain. The slot, in ms
// and of fixed width, comes first so that deliveries put aside for one
// moment sort, as members of equal score do, in their chat's order.
// Announcement ids never hold "|" (delivery validates them).
func encodeDelivery(d delivery.Delivery) string {
	plain := "0"
	if d.Plain {
		plain = "1"
	}
	s := d.AnnouncementID + "|" + strconv.FormatInt(d.ChatID, 10) + "|" + string(d.ChatType) + "|" +
		d.Language + "|" + strconv.Itoa(d.Attempt) + "|" + plain
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
	if len(f) != 6 {
		return delivery.Delivery{}, fmt.Errorf("store: malformed delivery %q", s)
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
		Language: f[3], Attempt: attempt, Plain: f[5] == "1", Slot: slot}, nil
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
func fanoutQueuedAt(created time.Time) int64 {
	now := time.Now().UnixMilli()
	if c := created.UnixMilli(); c <= now+fanoutAhead {
		return c
	}
	return now
}

// fanoutAhead is how far in the future a fan-out may be queued, in ms.
const fanoutAhead = 1000

// AddAnnouncement implements delivery.Store.
func (r *Redis) AddAnnouncement(ctx context.Context, a delivery.Announcement) error {
	args := []any{a.ID, int64(announcementRetention / time.Second), fanoutQueuedAt(a.CreatedAt),
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
	now := time.Now().UnixMilli()
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
// Returns how many moved.
// Deliveries put aside with a slot are queued in slot order, the rest
// first in the order they came due: a delivery that waited past its slot
// for its chat's gap can come due after one with a later slot, and must
// still go first.
var promoteScript = redis.NewScript(`
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
return #due
`)

// screenScript drops leased deliveries that must not be sent: already sent
// (a reclaimed delivery whose sender died after sending and recording), or
// of a cancelled or expired announcement.
//
// KEYS[1] queue stream  KEYS[2 ..] per announcement: hash, sent hash
// ARGV[1] group  ARGV[2 ..] per delivery: entry id, announcement index
// (1-based, into the KEYS pairs), chat id
// Returns the 1-based positions of the deliveries to keep.
var screenScript = redis.NewScript(`
local keep = {}
local n = 0
for i = 2, #ARGV, 3 do
  n = n + 1
  local ann = KEYS[2 * tonumber(ARGV[i + 1])]
  local sent = KEYS[2 * tonumber(ARGV[i + 1]) + 1]
  local state = redis.call('HGET', ann, 'state')
  if not state or state == 'cancelled' then
    if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 and state then
      redis.call('HINCRBY', ann, 'cancelled', 1)
    end
    redis.call('XDEL', KEYS[1], ARGV[i])
  elseif redis.call('HEXISTS', sent, ARGV[i + 2]) == 1 then
    redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
    redis.call('XDEL', KEYS[1], ARGV[i])
  else
    keep[#keep + 1] = n
  end
end
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
	if err := promoteScript.Run(ctx, r.rdb, []string{deliveryDelayedKey(), deliveryQueueKey()}, time.Now().UnixMilli(), promoteBatch).Err(); err != nil {
		return nil, fmt.Errorf("store: lease deliveries: promote retries: %w", err)
	}
	var msgs []redis.XMessage
	if reclaim > 0 {
		claimed, _, err := r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: deliveryQueueKey(), Group: deliveryGroup,
			Consumer: consumer, MinIdle: reclaim, Start: "0-0", Count: int64(n)}).Result()
		if err != nil && !isNoGroup(err) {
			return nil, fmt.Errorf("store: lease deliveries: reclaim: %w", err)
		}
		msgs = claimed
	}
	if len(msgs) < n {
		wait := block
		if len(msgs) > 0 {
			wait = -1 // something to do already: do not block
		}
		fresh, err := r.readGroup(ctx, deliveryQueueKey(), deliveryGroup, consumer, n-len(msgs), wait)
		if err != nil {
			return nil, fmt.Errorf("store: lease deliveries: %w", err)
		}
		msgs = append(msgs, fresh...)
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

// readGroup reads new entries of a stream for a consumer, creating the
// group when it does not exist (first start, or a store that lost it). A
// negative block does not wait.
func (r *Redis) readGroup(ctx context.Context, stream, group, consumer string, n int, block time.Duration) ([]redis.XMessage, error) {
	if block <= 0 {
		block = -1 // go-redis sends BLOCK 0, wait forever, for zero
	}
	args := &redis.XReadGroupArgs{Group: group, Consumer: consumer, Streams: []string{stream, ">"}, Count: int64(n), Block: block}
	for attempt := 0; ; attempt++ {
		res, err := r.rdb.XReadGroup(ctx, args).Result()
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
//
// KEYS[1] queue stream  KEYS[2] pause key  KEYS[3] delayed zset
// KEYS[4 .. 3+n] chat key per delivery  KEYS[4+n ..] per announcement: hash, sent hash
// ARGV[1] group  ARGV[2] consumer  ARGV[3] now (ms)
// ARGV[4 ..] per delivery: entry id, announcement index (1-based), chat id,
// gap (ms), encoded delivery without its slot, slot (ms, 0 for none)
// Returns {pause ms} while paused, else {0, positions ready (1-based)...}.
// A delivery no longer pending for this consumer is left alone; one sent or
// cancelled is acknowledged and dropped. For the rest, the chat's state
// (chatState) decides: a delivery without a slot goes when the chat's
// reservation has ended, else it is put aside with the reservation's end
// as its slot and the reservation grows by a gap, so that later ones queue
// behind it; one with a slot goes when its slot has come and a gap has
// passed since the chat's last message, else it waits for that, its slot
// keeping its place among those due at the same moment.
var beginScript = redis.NewScript(chatStateLua + `
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {pause} end
local now = tonumber(ARGV[3])
local n = (#ARGV - 3) / 6
local out = {0}
for i = 1, n do
  local a = 4 + (i - 1) * 6
  local id = ARGV[a]
  local chat = KEYS[3 + i]
  local ann = KEYS[3 + n + 2 * tonumber(ARGV[a + 1]) - 1]
  local sent = KEYS[3 + n + 2 * tonumber(ARGV[a + 1])]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if #p == 1 and p[1][2] == ARGV[2] then
    local state = redis.call('HGET', ann, 'state')
    if not state or state == 'cancelled' then
      redis.call('XACK', KEYS[1], ARGV[1], id)
      redis.call('XDEL', KEYS[1], id)
      if state then redis.call('HINCRBY', ann, 'cancelled', 1) end
    elseif redis.call('HEXISTS', sent, ARGV[a + 2]) == 1 then
      redis.call('XACK', KEYS[1], ARGV[1], id)
      redis.call('XDEL', KEYS[1], id)
    else
      local gap, slot = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 5])
      local due = 0
      if gap > 0 then
        local stop, last = chatState(chat, now)
        if slot > 0 then
          if slot <= now and last + gap <= now then
            chatSet(chat, math.max(stop, now + gap), now, now)
          else
            due = math.max(slot, last + gap)
          end
        elseif stop <= now then
          chatSet(chat, now + gap, now, now)
        else
          slot, due = stop, stop
          chatSet(chat, stop + gap, last, now)
        end
      end
      if due > 0 then
        redis.call('ZADD', KEYS[3], due, string.format('~%015.0f|', slot) .. ARGV[a + 4])
        redis.call('XACK', KEYS[1], ARGV[1], id)
        redis.call('XDEL', KEYS[1], id)
      else
        redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
        out[#out + 1] = i
      end
    end
  end
end
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
	args := make([]any, 0, 3+6*len(ds))
	args = append(args, deliveryGroup, consumer, now.UnixMilli())
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
// message went out. Every other effect needs this call's XACK to succeed,
// so a result for a delivery finished elsewhere counts once.
var finishScript = redis.NewScript(`
local now = tonumber(ARGV[2])
for i = 5, #ARGV, 8 do
  local outcome, id, chat, payload = ARGV[i], ARGV[i + 1], ARGV[i + 3], ARGV[i + 4]
  local ann = KEYS[4 + 2 * tonumber(ARGV[i + 2])]
  local sent = KEYS[5 + 2 * tonumber(ARGV[i + 2])]
  local live = redis.call('EXISTS', ann) == 1
  local acked = redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
  if outcome == 'sent' then
    if redis.call('HSETNX', sent, chat, payload) == 1 then
      redis.call('EXPIRE', sent, ARGV[4])
      if live then redis.call('HINCRBY', ann, 'delivered', 1) end
    end
  elseif acked == 1 then
    if outcome == 'removed' then
      if live then redis.call('HINCRBY', ann, 'removed', 1) end
    elseif outcome == 'failed' then
      if live then redis.call('HINCRBY', ann, 'failed', 1) end
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
      if live and string.find(flags, 'r', 1, true) then redis.call('HINCRBY', ann, 'retries', 1) end
      if live and string.find(flags, 'm', 1, true) then redis.call('HINCRBY', ann, 'moved', 1) end
      local pause = tonumber(ARGV[i + 6])
      if pause > 0 and redis.call('PTTL', KEYS[3]) < pause then
        local cur = redis.call('GET', KEYS[3])
        if not cur or not string.find(cur, '^flood|') then cur = 'flood|' .. ARGV[2] end
        redis.call('SET', KEYS[3], cur, 'PX', pause)
      end
    end
  end
end
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
