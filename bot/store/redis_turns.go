package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// claimPollScript claims a source's poll turn when it is due.
// KEYS[1] pollTurnKey. ARGV[1] now (ms), ARGV[2] hold (ms).
// Returns -1 when claimed (the source is then due at now+hold), else when
// it is due (ms). The key expires hold after it is due by Redis's clock
// too, which bounds what a replica with a clock far ahead can hold off.
var claimPollScript = redis.NewScript(`
local now, hold = tonumber(ARGV[1]), tonumber(ARGV[2])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due > now then
	return due
end
redis.call('SET', KEYS[1], now + hold, 'PX', 2 * hold)
return -1
`)

// ClaimPoll claims source's poll turn if it is due at now (see
// poller.Turns). Atomic: of concurrent claims exactly one succeeds.
func (r *Redis) ClaimPoll(ctx context.Context, source string, now time.Time, hold time.Duration) (bool, time.Time, error) {
	holdMS := max(hold.Milliseconds(), 1)
	due, err := claimPollScript.Run(ctx, r.rdb, []string{pollTurnKey(source)}, now.UnixMilli(), holdMS).Int64()
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: claim poll turn: %w", err)
	}
	if due < 0 {
		return true, now.Add(hold), nil
	}
	return false, time.UnixMilli(due), nil
}

// SchedulePoll makes source due next at next (see poller.Turns).
func (r *Redis) SchedulePoll(ctx context.Context, source string, now, next time.Time) error {
	ttl := max(2*next.Sub(now), time.Millisecond)
	if err := r.rdb.Set(ctx, pollTurnKey(source), next.UnixMilli(), ttl).Err(); err != nil {
		return fmt.Errorf("store: schedule poll: %w", err)
	}
	return nil
}
