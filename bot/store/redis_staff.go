package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// Staff keys, under the {staff} hash tag. Records are opaque to the store:
// bot/staff encodes them; the store keeps their layout, expiry and indexes.
// (To move into keys.go with the rest.)
func staffDraftKey(id string) string     { return "bb:{staff}:draft:" + id }         // draft body, expiring
func staffAwaitKey(user int64) string    { return "bb:{staff}:await:" + itoa(user) } // what an admin's next message is for, expiring
func staffBroadcastKey(id string) string { return "bb:{staff}:bc:" + id }            // broadcast audit record
func staffBroadcastsKey() string         { return "bb:{staff}:bcs" }                 // zset: broadcast id -> created (ms)
func staffActiveKey() string             { return "bb:{staff}:active" }              // set: broadcast ids someone must watch
func staffAlertsKey() string             { return "bb:{staff}:alerts" }              // hash: alert key -> state
func staffAlertVersionsKey() string      { return "bb:{staff}:alert_versions" }      // hash: alert key -> health version of its state
func staffCountersKey(day string) string { return "bb:{staff}:counters:" + day }     // hash: counter -> count of that day

const (
	// staffCounterTTL is how long a day's counters stay.
	staffCounterTTL = 8 * 24 * time.Hour
	// staffBroadcastRetention is how long the audit log keeps a broadcast.
	staffBroadcastRetention = 180 * 24 * time.Hour
	// staffUpdateAttempts bounds the optimistic retries of UpdateBroadcast;
	// records are changed by a handful of admins and one watcher at most.
	staffUpdateAttempts = 16
)

// ErrConflict means a record kept changing under an update.
var ErrConflict = errors.New("store: record kept changing; try again")

// SaveDraft stores a broadcast draft for ttl.
func (r *Redis) SaveDraft(ctx context.Context, id string, body []byte, ttl time.Duration) error {
	if err := r.rdb.Set(ctx, staffDraftKey(id), body, ttl).Err(); err != nil {
		return fmt.Errorf("store: save draft %s: %w", id, err)
	}
	return nil
}

// Draft returns a draft that has not expired.
func (r *Redis) Draft(ctx context.Context, id string) ([]byte, bool, error) {
	body, err := r.rdb.Get(ctx, staffDraftKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: draft %s: %w", id, err)
	}
	return body, true, nil
}

// DeleteDraft removes a draft, reporting whether it existed: of two
// callers, exactly one gets true.
func (r *Redis) DeleteDraft(ctx context.Context, id string) (bool, error) {
	n, err := r.rdb.Del(ctx, staffDraftKey(id)).Result()
	if err != nil {
		return false, fmt.Errorf("store: delete draft %s: %w", id, err)
	}
	return n == 1, nil
}

// SetAwaiting remembers for ttl what an admin's next message is for.
func (r *Redis) SetAwaiting(ctx context.Context, userID int64, body []byte, ttl time.Duration) error {
	if err := r.rdb.Set(ctx, staffAwaitKey(userID), body, ttl).Err(); err != nil {
		return fmt.Errorf("store: set awaiting for %d: %w", userID, err)
	}
	return nil
}

// TakeAwaiting returns and forgets, at once, what an admin's next message
// is for.
func (r *Redis) TakeAwaiting(ctx context.Context, userID int64) ([]byte, bool, error) {
	body, err := r.rdb.GetDel(ctx, staffAwaitKey(userID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: take awaiting for %d: %w", userID, err)
	}
	return body, true, nil
}

// addBroadcastScript stores a broadcast record unless it exists, indexes it
// and marks it active.
//
// KEYS[1] record  KEYS[2] index zset  KEYS[3] active set
// ARGV[1] id  ARGV[2] created (ms)  ARGV[3] body  ARGV[4] retention (ms)
// Returns 1, or 0 when the record exists (nothing changes).
var addBroadcastScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[4]))
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`)

// AddBroadcast stores a broadcast record created at `at`, unless one with
// this id exists, and marks it active. It reports whether it was added.
func (r *Redis) AddBroadcast(ctx context.Context, id string, at time.Time, body []byte) (bool, error) {
	n, err := addBroadcastScript.Run(ctx, r.rdb, []string{staffBroadcastKey(id), staffBroadcastsKey(), staffActiveKey()},
		id, at.UnixMilli(), body, staffBroadcastRetention.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: add broadcast %s: %w", id, err)
	}
	return n == 1, nil
}

// Broadcast returns a broadcast record.
func (r *Redis) Broadcast(ctx context.Context, id string) ([]byte, bool, error) {
	body, err := r.rdb.Get(ctx, staffBroadcastKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: broadcast %s: %w", id, err)
	}
	return body, true, nil
}

// UpdateBroadcast replaces a broadcast record with fn's change of it,
// atomically: fn may run more than once when the record changes meanwhile.
// When fn fails nothing changes and its error is returned. It reports
// false when there is no such record.
func (r *Redis) UpdateBroadcast(ctx context.Context, id string, fn func([]byte) ([]byte, error)) (bool, error) {
	key := staffBroadcastKey(id)
	found := false
	var fnErr error
	for range staffUpdateAttempts {
		fnErr = nil
		err := r.rdb.Watch(ctx, func(tx *redis.Tx) error {
			body, err := tx.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				found = false
				return nil
			}
			if err != nil {
				return err
			}
			found = true
			next, err := fn(body)
			if err != nil {
				fnErr = err
				return nil
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SetArgs(ctx, key, next, redis.SetArgs{KeepTTL: true})
				return nil
			})
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("store: update broadcast %s: %w", id, err)
		}
		if fnErr != nil {
			return found, fnErr
		}
		return found, nil
	}
	return true, fmt.Errorf("store: update broadcast %s: %w", id, ErrConflict)
}

// RecentBroadcasts returns up to n broadcast records, newest first.
func (r *Redis) RecentBroadcasts(ctx context.Context, n int) ([][]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	ids, err := r.rdb.ZRevRange(ctx, staffBroadcastsKey(), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: recent broadcasts: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = staffBroadcastKey(id)
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("store: recent broadcasts: %w", err)
	}
	out := make([][]byte, 0, len(vals))
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, []byte(s))
		}
	}
	return out, nil
}

// ActiveBroadcasts returns the ids of broadcasts marked active.
func (r *Redis) ActiveBroadcasts(ctx context.Context) ([]string, error) {
	ids, err := r.rdb.SMembers(ctx, staffActiveKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("store: active broadcasts: %w", err)
	}
	return ids, nil
}

// SetBroadcastActive marks a broadcast as needing a watcher, or not.
func (r *Redis) SetBroadcastActive(ctx context.Context, id string, active bool) error {
	var err error
	if active {
		err = r.rdb.SAdd(ctx, staffActiveKey(), id).Err()
	} else {
		err = r.rdb.SRem(ctx, staffActiveKey(), id).Err()
	}
	if err != nil {
		return fmt.Errorf("store: mark broadcast %s active=%v: %w", id, active, err)
	}
	return nil
}

// swapAlertScript moves an alert's state from one value to another,
// unless the health snapshot asking is older than the one that made the
// current state. The version outlives a state of none, so that a stale
// snapshot cannot raise again an alert a newer one cleared.
//
// KEYS[1] alerts hash  KEYS[2] alert versions hash
// ARGV[1] alert key  ARGV[2] expected state ("" for none)  ARGV[3] new state
// ARGV[4] health version of the snapshot asking
// Returns 1 when the state was as expected, its version not above ARGV[4],
// and the state is now the new one with version ARGV[4]; else 0.
var swapAlertScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if cur ~= ARGV[2] then return 0 end
local v = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if v > tonumber(ARGV[4]) then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
return 1
`)

// SwapAlertState sets the state of alert key to next if it is old (a key
// never set is "") and version, that of the health snapshot deciding the
// move, is not older than the one that made the current state;
// atomically: of replicas racing for one transition, exactly one wins,
// and a replica acting on a stale snapshot cannot undo a fresher one's
// move. Equal versions pass: silence changes with the clock alone.
func (r *Redis) SwapAlertState(ctx context.Context, key, old, next string, version int64) (bool, error) {
	n, err := swapAlertScript.Run(ctx, r.rdb, []string{staffAlertsKey(), staffAlertVersionsKey()}, key, old, next, version).Int()
	if err != nil {
		return false, fmt.Errorf("store: swap alert state %s: %w", key, err)
	}
	return n == 1, nil
}

// AddStaffCounters adds deltas to the counters of day (YYYY-MM-DD), kept
// for eight days.
func (r *Redis) AddStaffCounters(ctx context.Context, day string, deltas map[string]int64) error {
	if len(deltas) == 0 {
		return nil
	}
	key := staffCountersKey(day)
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for name, n := range deltas {
			p.HIncrBy(ctx, key, name, n)
		}
		p.Expire(ctx, key, staffCounterTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add staff counters: %w", err)
	}
	return nil
}

// StaffCounters returns the counters of day.
func (r *Redis) StaffCounters(ctx context.Context, day string) (map[string]int64, error) {
	h, err := r.rdb.HGetAll(ctx, staffCountersKey(day)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: staff counters: %w", err)
	}
	out := make(map[string]int64, len(h))
	for k, v := range h {
		n, _ := strconv.ParseInt(v, 10, 64)
		out[k] = n
	}
	return out, nil
}

// QueueDepth counts the deliveries waiting: queued, being sent, or put
// aside for a retry or for their chat.
func (r *Redis) QueueDepth(ctx context.Context) (int64, error) {
	pipe := r.rdb.Pipeline()
	queued := pipe.XLen(ctx, deliveryQueueKey())
	delayed := pipe.ZCard(ctx, deliveryDelayedKey())
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("store: queue depth: %w", err)
	}
	return queued.Val() + delayed.Val(), nil
}

// SentCopies returns about n of an announcement's sent records after
// cursor ("" starts), and the cursor of the rest ("" when done). A walk
// returns every record that exists throughout it; run it once sending has
// finished, so that no record is added meanwhile.
func (r *Redis) SentCopies(ctx context.Context, announcementID, cursor string, n int) ([]delivery.SentCopy, string, error) {
	var c uint64
	if cursor != "" {
		var err error
		if c, err = strconv.ParseUint(cursor, 10, 64); err != nil {
			return nil, "", fmt.Errorf("store: sent copies of %s: bad cursor %q", announcementID, cursor)
		}
	}
	kv, next, err := r.rdb.HScan(ctx, deliverySentKey(announcementID), c, "", int64(max(n, 1))).Result()
	if err != nil {
		return nil, "", fmt.Errorf("store: sent copies of %s: %w", announcementID, err)
	}
	out := make([]delivery.SentCopy, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		chat, err := strconv.ParseInt(kv[i], 10, 64)
		if err != nil {
			continue
		}
		if c, ok := parseSent(chat, kv[i+1]); ok {
			out = append(out, c)
		}
	}
	if next == 0 {
		return out, "", nil
	}
	return out, strconv.FormatUint(next, 10), nil
}

// SendPause returns how long a sender that does not probe Telegram should
// wait before it looks again: the rest of the pause in force (zero when
// there is none).
func (r *Redis) SendPause(ctx context.Context) (time.Duration, error) {
	now := r.now()
	p, ok, err := r.CurrentPause(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("store: send pause: %w", err)
	}
	return pauseLeft(p, ok, now), nil
}

// PauseSends pauses all sending, by every replica, for d after a 429 (a
// longer pause in force stays).
func (r *Redis) PauseSends(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	now := r.now()
	if err := r.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseFlood, Until: now.Add(d)}, 0, now); err != nil {
		return fmt.Errorf("store: pause sends: %w", err)
	}
	return nil
}
