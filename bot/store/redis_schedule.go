package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxScheduled bounds the scheduled broadcasts a store keeps: a handful
// of admins schedule a few each.
const maxScheduled = 100

// ErrTooManyScheduled refuses a schedule past maxScheduled.
var ErrTooManyScheduled = errors.New("store: too many scheduled broadcasts")

// scheduleScript keeps a broadcast record to add at a time.
//
// KEYS[1] schedule zset  KEYS[2] scheduled record
// ARGV[1] id  ARGV[2] due (ms)  ARGV[3] body  ARGV[4] most scheduled
// Returns 1, or 0 when the schedule is full.
var scheduleScript = redis.NewScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`)

// ScheduleBroadcast keeps a broadcast record to be added to the audit log
// (as AddBroadcast would) once at is due; a record of the same id is
// replaced. At most maxScheduled wait at once.
func (r *Redis) ScheduleBroadcast(ctx context.Context, id string, at time.Time, body []byte) error {
	n, err := scheduleScript.Run(ctx, r.rdb, []string{staffScheduleKey(), staffScheduledKey(id)}, id, at.UnixMilli(), body, maxScheduled).Int()
	if err != nil {
		return fmt.Errorf("store: schedule broadcast %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: schedule broadcast %s: %w", id, ErrTooManyScheduled)
	}
	return nil
}

// ScheduledBroadcasts returns the scheduled records, earliest first.
func (r *Redis) ScheduledBroadcasts(ctx context.Context) ([][]byte, error) {
	ids, err := r.rdb.ZRange(ctx, staffScheduleKey(), 0, maxScheduled-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: scheduled broadcasts: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = staffScheduledKey(id)
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("store: scheduled broadcasts: %w", err)
	}
	out := make([][]byte, 0, len(vals))
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, []byte(s))
		}
	}
	return out, nil
}

// CancelScheduled drops a scheduled broadcast, reporting whether it was
// still scheduled: of a cancel and a claim, one wins.
func (r *Redis) CancelScheduled(ctx context.Context, id string) (bool, error) {
	var n *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.ZRem(ctx, staffScheduleKey(), id)
		p.Del(ctx, staffScheduledKey(id))
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: cancel scheduled broadcast %s: %w", id, err)
	}
	return n.Val() == 1, nil
}

// claimScheduledScript moves a due scheduled broadcast into the audit log,
// as addBroadcastScript adds one: whoever runs it first for an id gets the
// record; everyone else gets nothing.
//
// KEYS[1] schedule zset  KEYS[2] scheduled record  KEYS[3] record
// KEYS[4] index zset  KEYS[5] active set
// ARGV[1] id  ARGV[2] now (ms)  ARGV[3] retention (ms)
// Returns the record, or false when it is not due or taken already.
var claimScheduledScript = redis.NewScript(`
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if due == false or tonumber(due) > tonumber(ARGV[2]) then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
local body = redis.call('GET', KEYS[2])
redis.call('DEL', KEYS[2])
if body == false or redis.call('EXISTS', KEYS[3]) == 1 then return false end
redis.call('SET', KEYS[3], body, 'PX', ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
redis.call('SADD', KEYS[5], ARGV[1])
return body
`)

// ClaimDueBroadcast moves one scheduled broadcast due at now into the
// audit log, marked active, and returns its record; ok is false when none
// is due. Each scheduled broadcast is claimed once, whatever the number of
// replicas.
func (r *Redis) ClaimDueBroadcast(ctx context.Context, now time.Time) ([]byte, bool, error) {
	ids, err := r.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: staffScheduleKey(), Start: "-inf", Stop: now.UnixMilli(), ByScore: true, Count: 4}).Result()
	if err != nil {
		return nil, false, fmt.Errorf("store: claim due broadcast: %w", err)
	}
	for _, id := range ids {
		body, err := claimScheduledScript.Run(ctx, r.rdb,
			[]string{staffScheduleKey(), staffScheduledKey(id), staffBroadcastKey(id), staffBroadcastsKey(), staffActiveKey()},
			id, now.UnixMilli(), staffBroadcastRetention.Milliseconds()).Text()
		if errors.Is(err, redis.Nil) {
			continue // another replica took it
		}
		if err != nil {
			return nil, false, fmt.Errorf("store: claim due broadcast %s: %w", id, err)
		}
		return []byte(body), true, nil
	}
	return nil, false, nil
}
