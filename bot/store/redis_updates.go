package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// saveOffsetScript stores an offset unless a larger one is stored already,
// so a replica that lost its lease mid-batch can never move the offset back.
//
// KEYS[1] offset key   ARGV[1] offset
// Returns 1 when stored, 0 when the stored offset was larger or equal.
var saveOffsetScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
`)

// acquireLeaseScript takes a lease that is free or already ours.
//
// KEYS[1] lease key   ARGV[1] holder   ARGV[2] ttl (ms)
// Returns 1 when the caller holds the lease, 0 when another holder does.
var acquireLeaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

// renewLeaseScript extends a lease the caller still holds.
//
// KEYS[1] lease key   ARGV[1] holder   ARGV[2] ttl (ms)
// Returns 1 when extended, 0 when the lease expired or passed to another.
var renewLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseLeaseScript gives up a lease the caller holds, and only then.
//
// KEYS[1] lease key   ARGV[1] holder
// Returns 1 when released, 0 when the caller did not hold it.
var releaseLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// Offset returns the getUpdates offset to poll from; 0 when none is stored.
func (r *Redis) Offset(ctx context.Context) (int64, error) {
	n, err := r.rdb.Get(ctx, botOffsetKey()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read update offset: %w", err)
	}
	return n, nil
}

// SaveOffset stores the offset to poll from next. The stored offset never
// decreases.
func (r *Redis) SaveOffset(ctx context.Context, offset int64) error {
	if err := saveOffsetScript.Run(ctx, r.rdb, []string{botOffsetKey()}, offset).Err(); err != nil {
		return fmt.Errorf("store: save update offset: %w", err)
	}
	return nil
}

// AcquireLease takes the lease name for holder for ttl when it is free or
// already holder's (then it is extended). It reports whether holder holds it.
func (r *Redis) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	n, err := acquireLeaseScript.Run(ctx, r.rdb, []string{botLeaseKey(name)}, holder, leaseMillis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("store: acquire lease %s: %w", name, err)
	}
	return n == 1, nil
}

// RenewLease extends holder's lease by ttl. It reports false when holder no
// longer holds it.
func (r *Redis) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	n, err := renewLeaseScript.Run(ctx, r.rdb, []string{botLeaseKey(name)}, holder, leaseMillis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("store: renew lease %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease frees the lease if holder holds it, so that a stand-by can
// take over at once instead of waiting for it to expire.
func (r *Redis) ReleaseLease(ctx context.Context, name, holder string) error {
	if err := releaseLeaseScript.Run(ctx, r.rdb, []string{botLeaseKey(name)}, holder).Err(); err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// MarkUpdate records that an update id arrived, for ttl. It reports true the
// first time only: a webhook retry of the same update reports false.
func (r *Redis) MarkUpdate(ctx context.Context, updateID int64, ttl time.Duration) (bool, error) {
	ok, err := r.rdb.SetNX(ctx, botUpdateKey(updateID), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("store: mark update %d: %w", updateID, err)
	}
	return ok, nil
}

// ForgetUpdate undoes MarkUpdate, for an update that was refused after all
// (the process was stopping) so that Telegram's retry is processed.
func (r *Redis) ForgetUpdate(ctx context.Context, updateID int64) error {
	if err := r.rdb.Del(ctx, botUpdateKey(updateID)).Err(); err != nil {
		return fmt.Errorf("store: forget update %d: %w", updateID, err)
	}
	return nil
}

// leaseMillis turns a ttl into Redis milliseconds, at least 1.
func leaseMillis(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }
