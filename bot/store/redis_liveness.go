package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// takeOverBatch bounds the entries one takeover script puts back, so that a
// dead replica holding many never blocks Redis for long; the rest follow at
// the next beat.
const takeOverBatch = 1000

// Heartbeats run on Redis's clock (TIME in the scripts), so replicas whose
// clocks disagree never take each other for dead. A replica's consumer name
// in the stream groups is its replica id, which is also its heartbeat's
// member. Consumers of a previous release never beat: their work is left to
// the idle reclaim, as before.

// redisNowMs is Lua that sets now to Redis's clock in milliseconds.
const redisNowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// heartbeatScript records that a replica is alive.
//
// KEYS[1] replicas zset
// ARGV[1] replica  ARGV[2] ttl (ms)
var heartbeatScript = redis.NewScript(redisNowMs + `
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`)

// Heartbeat implements delivery.Liveness.
func (r *Redis) Heartbeat(ctx context.Context, replica string, ttl time.Duration) error {
	if err := heartbeatScript.Run(ctx, r.rdb, []string{deliveryReplicasKey()}, replica, ttl.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("store: heartbeat: %w", err)
	}
	return nil
}

// Depart implements delivery.Liveness: the replica's heartbeat lapses now.
func (r *Redis) Depart(ctx context.Context, replica string) error {
	if err := r.rdb.ZAddXX(ctx, deliveryReplicasKey(), redis.Z{Score: 0, Member: replica}).Err(); err != nil {
		return fmt.Errorf("store: end heartbeat: %w", err)
	}
	return nil
}

// requeuePendingLua puts back what the consumers named in dead hold in the
// stream KEYS[1] of group ARGV[1]: each pending entry is copied to a new
// entry, which any consumer reads as new, and acknowledged; with del, the
// old entry is deleted too. A consumer left holding nothing is deleted
// from the group, so that replicas that come and go do not pile up there.
// It sets moved and clear (the consumers holding nothing now).
const requeuePendingLua = `
local function requeue(stream, group, dead, budget, del)
  local moved, clear = 0, {}
  for _, consumer in ipairs(dead) do
    local pend = redis.pcall('XPENDING', stream, group, '-', '+', budget, consumer)
    if type(pend) == 'table' and not pend.err then
      for _, p in ipairs(pend) do
        local entry = redis.call('XRANGE', stream, p[1], p[1])
        if entry[1] then
          redis.call('XADD', stream, '*', unpack(entry[1][2]))
        end
        redis.call('XACK', stream, group, p[1])
        if del then redis.call('XDEL', stream, p[1]) end
        moved = moved + 1
      end
      budget = budget - #pend
      if budget > 0 then
        redis.call('XGROUP', 'DELCONSUMER', stream, group, consumer)
        clear[#clear + 1] = consumer
      end
    else
      clear[#clear + 1] = consumer
    end
    if budget <= 0 then break end
  end
  return moved, clear
end
`

// takeOverDeliveriesScript finds the replicas whose heartbeat lapsed and
// puts their leased deliveries back in the queue.
//
// KEYS[1] replicas zset  KEYS[2] delivery queue stream
// ARGV[1] group  ARGV[2] most entries to put back
// Returns {deliveries put back, quiet (ms), replicas dead...}; a dead
// replica whose deliveries are all back is listed, the others wait for the
// next call. Quiet is, when no replica is dead, how long until the first
// heartbeat could lapse: nothing to look for before then.
var takeOverDeliveriesScript = redis.NewScript(redisNowMs + requeuePendingLua + `
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return {0, 0} end
if tonumber(first[2]) > now then return {0, tonumber(first[2]) - now} end
local dead = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, 16)
local moved, clear = requeue(KEYS[2], ARGV[1], dead, tonumber(ARGV[2]), true)
local out = {moved, 0}
for _, c in ipairs(clear) do out[#out + 1] = c end
return out
`)

// takeOverIntakeScript puts back the new publications dead replicas had
// leased. The poller's stream keeps its entries, so the old one stays,
// acknowledged; announcing a publication twice adds nothing (the
// announcement id is the publication's).
//
// KEYS[1] announcement stream
// ARGV[1] group  ARGV[2] most entries to put back  ARGV[3 ..] dead replicas
// Returns {events put back, replicas holding nothing now...}.
var takeOverIntakeScript = redis.NewScript(requeuePendingLua + `
local dead = {}
for i = 3, #ARGV do dead[#dead + 1] = ARGV[i] end
local moved, clear = requeue(KEYS[1], ARGV[1], dead, tonumber(ARGV[2]), false)
local out = {moved}
for _, c in ipairs(clear) do out[#out + 1] = c end
return out
`)

// forgetReplicasScript forgets dead replicas whose work is all back,
// unless one beat again meanwhile.
//
// KEYS[1] replicas zset
// ARGV[1 ..] replicas
var forgetReplicasScript = redis.NewScript(redisNowMs + `
for _, replica in ipairs(ARGV) do
  local deadline = redis.call('ZSCORE', KEYS[1], replica)
  if deadline and tonumber(deadline) <= now then redis.call('ZREM', KEYS[1], replica) end
end
return 1
`)

// TakeOver implements delivery.Liveness. The deliveries ({dlv}) and the
// poller's stream ({pub}) live under different hash tags, so each is put
// back by its own script; a replica is forgotten only once both hold
// nothing of it, and until then every call tries again.
func (r *Redis) TakeOver(ctx context.Context) (delivery.Takeover, error) {
	var to delivery.Takeover
	res, err := takeOverDeliveriesScript.Run(ctx, r.rdb, []string{deliveryReplicasKey(), deliveryQueueKey()}, deliveryGroup, takeOverBatch).Slice()
	if err != nil {
		return to, fmt.Errorf("store: take over deliveries: %w", err)
	}
	if len(res) > 1 {
		quiet, _ := res[1].(int64)
		res = append(res[:1:1], res[2:]...)
		to.Quiet = time.Duration(quiet) * time.Millisecond
	}
	moved, dead := splitTakeOver(res)
	to.Deliveries = moved
	if len(dead) == 0 {
		return to, nil
	}
	args := []any{announceGroup, takeOverBatch}
	for _, d := range dead {
		args = append(args, d)
	}
	res, err = takeOverIntakeScript.Run(ctx, r.rdb, []string{announceStreamKey()}, args...).Slice()
	if err != nil {
		return to, fmt.Errorf("store: take over publications: %w", err)
	}
	moved, clear := splitTakeOver(res)
	to.Publications = moved
	if len(clear) == 0 {
		return to, nil
	}
	args = args[:0]
	for _, c := range clear {
		args = append(args, c)
	}
	if err := forgetReplicasScript.Run(ctx, r.rdb, []string{deliveryReplicasKey()}, args...).Err(); err != nil {
		return to, fmt.Errorf("store: forget dead replicas: %w", err)
	}
	to.Replicas = clear
	return to, nil
}

func splitTakeOver(res []any) (int, []string) {
	if len(res) == 0 {
		return 0, nil
	}
	n, _ := res[0].(int64)
	var names []string
	for _, v := range res[1:] {
		if s, ok := v.(string); ok {
			names = append(names, s)
		}
	}
	return int(n), names
}

var _ delivery.Liveness = (*Redis)(nil)
