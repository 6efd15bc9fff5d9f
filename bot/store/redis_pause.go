package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// decodePause reads a pause or probe key's value: its id, or "1", which
// the previous release wrote for a 429, the only pause it knew.
func decodePause(v string) (delivery.PauseReason, time.Time) {
	if r, since, ok := delivery.ParsePauseID(v); ok {
		return r, since
	}
	return delivery.PauseFlood, time.Time{}
}

// CurrentPause implements delivery.PauseStore.
func (r *Redis) CurrentPause(ctx context.Context, now time.Time) (delivery.Pause, bool, error) {
	// One MGET while sending goes on, which is nearly always (every
	// replica asks every PauseCheck); the pause's TTL only when there is
	// one.
	vals, err := r.rdb.MGet(ctx, deliveryPauseKey(), deliveryProbeKey()).Result()
	if err != nil {
		return delivery.Pause{}, false, fmt.Errorf("store: current pause: %w", err)
	}
	pause, paused := vals[0].(string)
	probe, probed := vals[1].(string)
	var ttl time.Duration
	if paused {
		ttl, err = r.rdb.PTTL(ctx, deliveryPauseKey()).Result()
		if err != nil {
			return delivery.Pause{}, false, fmt.Errorf("store: current pause: %w", err)
		}
	}
	var p delivery.Pause
	switch {
	case paused && ttl > 0:
		p.Reason, p.Since = decodePause(pause)
		p.Until = now.Add(ttl)
		p.Probe = probed && probe == pause
	case probed:
		p.Reason, p.Since = decodePause(probe)
		p.Until, p.Probe = now, true
	default:
		return delivery.Pause{}, false, nil
	}
	return p, true, nil
}

// pauseSendingScript starts or lengthens the pause of all sending.
//
// KEYS[1] pause key  KEYS[2] probe key  KEYS[3] probe lease
// ARGV[1] reason  ARGV[2] now (ms)  ARGV[3] pause (ms)  ARGV[4] "1" when a
// probe is owed after it  ARGV[5] how long the probe stays owed (ms)
// A pause of the same reason in force, timed or owing a probe, keeps its
// start; a longer timed pause in force stays whatever its reason. Owing a
// probe frees the claim of the last one: the next is claimed afresh.
var pauseSendingScript = redis.NewScript(`
local function since(v)
  if not v then return nil end
  local r, s = string.match(v, '^(.-)|(%d+)$')
  if r == ARGV[1] then return s end
  return nil
end
local v = ARGV[1] .. '|' .. (since(redis.call('GET', KEYS[1])) or since(redis.call('GET', KEYS[2])) or ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], v, 'PX', ARGV[3])
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[2], v, 'PX', ARGV[5])
  redis.call('DEL', KEYS[3])
end
return 1
`)

// PauseSending implements delivery.PauseStore.
func (r *Redis) PauseSending(ctx context.Context, p delivery.Pause, probeOwed time.Duration, now time.Time) error {
	d := p.Until.Sub(now).Milliseconds()
	if d <= 0 && !p.Probe {
		return nil
	}
	probe := "0"
	if p.Probe {
		probe = "1"
	}
	err := pauseSendingScript.Run(ctx, r.rdb, []string{deliveryPauseKey(), deliveryProbeKey(), deliveryProbeLeaseKey()},
		string(p.Reason), now.UnixMilli(), max(d, 1), probe, max(probeOwed.Milliseconds(), d, 1)).Err()
	if err != nil {
		return fmt.Errorf("store: pause sending: %w", err)
	}
	return nil
}

// ClaimProbe implements delivery.PauseStore.
func (r *Redis) ClaimProbe(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	ok, err := r.rdb.SetNX(ctx, deliveryProbeLeaseKey(), holder, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("store: claim probe: %w", err)
	}
	return ok, nil
}

// resumeSendingScript ends a pause.
//
// KEYS[1] pause key  KEYS[2] probe key  KEYS[3] probe lease
// ARGV[1] the pause's id, or "" for any  ARGV[2] the id a "1" (a 429 of
// the previous release) reads as
// Returns 1 when a pause or an owed probe was ended.
var resumeSendingScript = redis.NewScript(`
local pause, probe = redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])
if pause == '1' then pause = ARGV[2] end
if ARGV[1] ~= '' and pause ~= ARGV[1] and probe ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[3])
return redis.call('DEL', KEYS[1], KEYS[2]) > 0 and 1 or 0
`)

// ResumeSending implements delivery.PauseStore.
func (r *Redis) ResumeSending(ctx context.Context, id string) (bool, error) {
	n, err := resumeSendingScript.Run(ctx, r.rdb, []string{deliveryPauseKey(), deliveryProbeKey(), deliveryProbeLeaseKey()}, id, delivery.Pause{Reason: delivery.PauseFlood}.ID()).Int()
	if err != nil {
		return false, fmt.Errorf("store: resume sending: %w", err)
	}
	return n == 1, nil
}

// pauseNoticeTTL bounds how long the id of the last pause told of is kept:
// longer than any pause.
const pauseNoticeTTL = 7 * 24 * time.Hour

// claimNoticeScript claims telling staff of a pause.
//
// KEYS[1] notice key  ARGV[1] pause id  ARGV[2] ttl (ms)
// Returns 1 when the id was not claimed before.
var claimNoticeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// ClaimPauseNotice implements delivery.PauseStore.
func (r *Redis) ClaimPauseNotice(ctx context.Context, id string) (bool, error) {
	n, err := claimNoticeScript.Run(ctx, r.rdb, []string{deliveryPauseNoticeKey()}, id, pauseNoticeTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: claim pause notice: %w", err)
	}
	return n == 1, nil
}

// releaseNoticeScript gives a notice claim back.
//
// KEYS[1] notice key  ARGV[1] pause id
var releaseNoticeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// ReleasePauseNotice implements delivery.PauseStore.
func (r *Redis) ReleasePauseNotice(ctx context.Context, id string) error {
	if err := releaseNoticeScript.Run(ctx, r.rdb, []string{deliveryPauseNoticeKey()}, id).Err(); err != nil {
		return fmt.Errorf("store: release pause notice: %w", err)
	}
	return nil
}

// pauseRecheck is how often a sender that does not probe Telegram looks
// again at a pause whose end it cannot know: one owing a probe.
const pauseRecheck = 500 * time.Millisecond

// pauseLeft is how long a sender that does not probe waits before it looks
// at the pause again: the rest of its timed part, else, while a probe is
// owed, pauseRecheck; zero when sending may go on.
func pauseLeft(p delivery.Pause, ok bool, now time.Time) time.Duration {
	switch {
	case !ok:
		return 0
	case p.Timed(now):
		return p.Until.Sub(now)
	default:
		return pauseRecheck
	}
}
