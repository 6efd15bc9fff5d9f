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
// deleteSubscriberScript does, at once.
//
// KEYS[1..5] as deleteSubscriberScript  KEYS[6] tombstone hash
// KEYS[7] tombstones zset
// ARGV[1..5] as deleteSubscriberScript  ARGV[6] why  ARGV[7] tombstone
// lifetime (ms)  ARGV[8] drop tombstones removed before this ms
// Returns 1 when the subscriber existed, 0 when not.
var removeSubscriberScript = redis.NewScript(subIndexLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local fields = redis.call('HGETALL', KEYS[1])
  redis.call('DEL', KEYS[6])
  redis.call('HSET', KEYS[6], unpack(fields))
  redis.call('HSET', KEYS[6], 'removed', ARGV[2], 'why', ARGV[6])
  redis.call('PEXPIRE', KEYS[6], ARGV[7])
  redis.call('ZADD', KEYS[7], ARGV[2], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', '(' .. ARGV[8])
end
` + deleteSubscriberLua)

// RemoveSubscriber implements subscriptions.TombstoneStore.
func (r *Redis) RemoveSubscriber(ctx context.Context, chatID int64, reason string, at time.Time) (bool, error) {
	keys := []string{subscriberKey(chatID), subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey(),
		subscriberTombstoneKey(chatID), subscriberTombstonesKey()}
	ms := at.UnixMilli()
	n, err := removeSubscriberScript.Run(ctx, r.rdb, keys,
		chatID, ms, ms-subEventRetention.Milliseconds(), subscriberCategoryKey(""), subscriberLanguageKey(""),
		reason, subscriptions.TombstoneTTL.Milliseconds(), ms-subscriptions.TombstoneTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: remove subscriber %d: %w", chatID, err)
	}
	return n == 1, nil
}

// restoreSubscriberScript subscribes a chat again from its tombstone, as
// saveSubscriberScript does, and drops the tombstone, at once.
//
// KEYS[1..5] as saveSubscriberScript  KEYS[6] tombstone hash
// KEYS[7] tombstones zset
// ARGV[1..8] as saveSubscriberScript (ARGV[5], joined, is now)  ARGV[9]
// the tombstone's "removed", as read: a tombstone written since is not
// restored from stale fields  ARGV[10] tombstone lifetime (ms)
// Returns 1 when restored, 0 when the chat is subscribed or the tombstone
// is past its lifetime (the tombstone is dropped), -1 when there is no
// tombstone, -2 when it changed.
var restoreSubscriberScript = redis.NewScript(subIndexLua + `
local removed = redis.call('HGET', KEYS[6], 'removed')
if not removed then
  redis.call('ZREM', KEYS[7], ARGV[1])
  return -1
end
if removed ~= ARGV[9] then return -2 end
redis.call('DEL', KEYS[6])
redis.call('ZREM', KEYS[7], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if tonumber(removed) + tonumber(ARGV[10]) < tonumber(ARGV[5]) then return 0 end
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
		keys := []string{subscriberKey(chatID), subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey(),
			subscriberTombstoneKey(chatID), subscriberTombstonesKey()}
		joined := at.UnixMilli()
		n, err := restoreSubscriberScript.Run(ctx, r.rdb, keys,
			chatID, string(s.Type), s.Language, strings.Join(cats, ","), joined,
			joined-subEventRetention.Milliseconds(), subscriberCategoryKey(""), subscriberLanguageKey(""),
			t.RemovedAt.UnixMilli(), subscriptions.TombstoneTTL.Milliseconds()).Int()
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
