package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// removeSubscriberScript keeps a subscriber's tombstone and deletes it, as
// deleteSubscriberLua does, at once. The tombstone hash keeps the fields of
// layout 1 (type, lang, cats by id, joined), so tombstones need no upgrade.
//
// KEYS[1..4] as every subscriber script (subLua)  KEYS[5] tombstone hash
// KEYS[6] tombstones zset
// ARGV[1..5] as deleteSubscriberLua  ARGV[6] why  ARGV[7] tombstone
// lifetime (ms)  ARGV[8] drop tombstones removed before this ms
// Returns 1 when the subscriber existed, 0 when not.
var removeSubscriberScript = redis.NewScript(subLua + `
local _, rec = get(ARGV[3])
if rec then
  local t, lang, cats, joined = string.match(readable(rec), '^(%S*) (%S*) (%S*) (%S*)$')
  redis.call('DEL', KEYS[5])
  redis.call('HSET', KEYS[5], 'type', TYPES[t] or t, 'lang', lang, 'cats', cats, 'joined', joined,
    'removed', ARGV[4], 'why', ARGV[6])
  redis.call('PEXPIRE', KEYS[5], ARGV[7])
  redis.call('ZADD', KEYS[6], ARGV[4], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[8])
end
` + deleteSubscriberLua)

// RemoveSubscriber implements subscriptions.TombstoneStore.
func (r *Redis) RemoveSubscriber(ctx context.Context, chatID int64, reason string, at time.Time) (bool, error) {
	ms := at.UnixMilli()
	n, err := removeSubscriberScript.Run(ctx, r.rdb, subKeys(subscriberTombstoneKey(chatID), subscriberTombstonesKey()), subArgs(
		chatID, ms, subEventRetention.Milliseconds(),
		reason, subscriptions.TombstoneTTL.Milliseconds(), ms-subscriptions.TombstoneTTL.Milliseconds())...).Int()
	if err != nil {
		return false, fmt.Errorf("store: remove subscriber %d: %w", chatID, err)
	}
	return n == 1, nil
}

// restoreSubscriberScript subscribes a chat again from its tombstone, as
// saveSubscriberLua does, and drops the tombstone, at once.
//
// KEYS[1..4] as every subscriber script (subLua)  KEYS[5] tombstone hash
// KEYS[6] tombstones zset
// ARGV[1..8] as saveSubscriberLua (ARGV[7], joined, is now)  ARGV[9]
// the tombstone's "removed", as read: a tombstone written since is not
// restored from stale fields  ARGV[10] tombstone lifetime (ms)
// Returns 1 when restored, 0 when the chat is subscribed or the tombstone
// is past its lifetime (the tombstone is dropped), -1 when there is no
// tombstone, -2 when it changed.
var restoreSubscriberScript = redis.NewScript(subLua + `
local removed = redis.call('HGET', KEYS[5], 'removed')
if not removed then
  redis.call('ZREM', KEYS[6], ARGV[3])
  return -1
end
if removed ~= ARGV[9] then return -2 end
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[6], ARGV[3])
local _, cur = get(ARGV[3])
if cur then return 0 end
if tonumber(removed) + tonumber(ARGV[10]) < tonumber(ARGV[7]) then return 0 end
` + saveSubscriberLua)

// RestoreSubscriber implements subscriptions.TombstoneStore.
func (r *Redis) RestoreSubscriber(ctx context.Context, chatID int64, at time.Time) (subscriptions.Subscriber, bool, error) {
	for {
		t, ok, err := r.tombstone(ctx, chatID)
		if err != nil || !ok {
			return subscriptions.Subscriber{}, false, err
		}
		s := t.Subscriber
		s.JoinedAt = at
		cats, err := subCheck(s)
		if err != nil {
			return subscriptions.Subscriber{}, false, err
		}
		n, err := restoreSubscriberScript.Run(ctx, r.rdb, subKeys(subscriberTombstoneKey(chatID), subscriberTombstonesKey()), subArgs(
			chatID, subTypeCode(s.Type), s.Language, strings.Join(cats, ","), at.UnixMilli(), subEventRetention.Milliseconds(),
			t.RemovedAt.UnixMilli(), subscriptions.TombstoneTTL.Milliseconds())...).Int()
		if err != nil {
			return subscriptions.Subscriber{}, false, fmt.Errorf("store: restore subscriber %d: %w", chatID, err)
		}
		switch n {
		case 1:
			return s, true, nil
		case -2:
			continue // removed again meanwhile: restore what that removal kept
		}
		return subscriptions.Subscriber{}, false, nil
	}
}

// tombstone reads one chat's tombstone.
func (r *Redis) tombstone(ctx context.Context, chatID int64) (subscriptions.Tombstone, bool, error) {
	h, err := r.rdb.HGetAll(ctx, subscriberTombstoneKey(chatID)).Result()
	if err != nil {
		return subscriptions.Tombstone{}, false, fmt.Errorf("store: tombstone of %d: %w", chatID, err)
	}
	if len(h) == 0 {
		return subscriptions.Tombstone{}, false, nil
	}
	return tombFromHash(chatID, h), true, nil
}

func tombFromHash(chatID int64, h map[string]string) subscriptions.Tombstone {
	t := subscriptions.Tombstone{Subscriber: subFromHash(chatID, h), Reason: h["why"]}
	if ms, err := strconv.ParseInt(h["removed"], 10, 64); err == nil {
		t.RemovedAt = time.UnixMilli(ms).UTC()
	}
	return t
}

// Tombstones implements subscriptions.TombstoneStore.
func (r *Redis) Tombstones(ctx context.Context, since time.Time, n int) ([]subscriptions.Tombstone, error) {
	if n <= 0 {
		return nil, nil
	}
	ids, err := r.rdb.ZRangeByScore(ctx, subscriberTombstonesKey(), &redis.ZRangeBy{
		Min: strconv.FormatInt(since.UnixMilli(), 10), Max: "+inf", Count: int64(n),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("store: tombstones: %w", err)
	}
	pipe := r.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		chat, _ := strconv.ParseInt(id, 10, 64)
		hs[i] = pipe.HGetAll(ctx, subscriberTombstoneKey(chat))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: tombstones: %w", err)
	}
	out := make([]subscriptions.Tombstone, 0, len(ids))
	for i, id := range ids {
		chat, err := strconv.ParseInt(id, 10, 64)
		if err != nil || len(hs[i].Val()) == 0 {
			continue // expired, its index entry not pruned yet
		}
		out = append(out, tombFromHash(chat, hs[i].Val()))
	}
	return out, nil
}
