package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// The dead-letter list holds the newest letters first, and the finish
// script counts every letter it pushes in the counters hash's "dead" field
// in the same step. So the letter at index i from the head is letter number
// dead - i: a number that stays the letter's own while newer ones are pushed
// and older ones trimmed, which lets a retry or discard act on exactly the
// letters staff saw (Mark) with no id stored in the letters themselves, and
// so with no migration of the letters earlier releases wrote.

// DeadLetterSummary implements staff.DeadLetterStore: the list is read in
// pages, so a large list never blocks Redis.
func (r *Redis) DeadLetterSummary(ctx context.Context) (delivery.DeadLetterSummary, error) {
	mark, n, err := r.deadLetterBounds(ctx)
	if err != nil {
		return delivery.DeadLetterSummary{}, fmt.Errorf("store: dead letter summary: %w", err)
	}
	var t deadLetterTally
	for from := int64(0); from < n; from += deadLetterBatch {
		page, err := r.rdb.LRange(ctx, deliveryDeadKey(), from, min(from+deadLetterBatch, n)-1).Result()
		if err != nil {
			return delivery.DeadLetterSummary{}, fmt.Errorf("store: dead letter summary: %w", err)
		}
		for _, raw := range page {
			t.add([]byte(raw))
		}
	}
	return t.summary(mark), nil
}

// deadLetterBounds reads, at one instant, the newest letter's number and
// how many letters the list holds.
func (r *Redis) deadLetterBounds(ctx context.Context) (mark, n int64, err error) {
	pipe := r.rdb.TxPipeline()
	total := pipe.HGet(ctx, deliveryCountersKey(), "dead")
	length := pipe.LLen(ctx, deliveryDeadKey())
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, err
	}
	mark, _ = strconv.ParseInt(total.Val(), 10, 64)
	return mark, length.Val(), nil
}

// retryDeadScript moves the oldest dead letters into the delivery queue,
// provided they are still the list's tail and no newer than the mark: two
// retries at once (a double press, two replicas) each move a letter only if
// the other has not, so no letter is queued twice.
//
// KEYS[1] dead-letter list  KEYS[2] counters hash  KEYS[3] queue stream
// KEYS[4 ..] announcement hashes
// ARGV[1] mark  ARGV[2] k, the letters expected at the tail
// ARGV[3 ..] per letter, oldest first: the stored letter, its announcement's
// index into KEYS (0 for a letter that cannot be read), encoded delivery
// Returns how many letters moved, or -1 when the tail is not what was read.
var retryDeadScript = redis.NewScript(`
local total = tonumber(redis.call('HGET', KEYS[2], 'dead') or '0')
local len = redis.call('LLEN', KEYS[1])
local k = tonumber(ARGV[2])
if k == 0 then return 0 end -- LRANGE -0 is an error, not an empty range
if len - (total - tonumber(ARGV[1])) < k then return -1 end
local tail = redis.call('LRANGE', KEYS[1], -k, -1)
for i = 1, k do
  if tail[k + 1 - i] ~= ARGV[3 + (i - 1) * 3] then return -1 end
end
redis.call('LTRIM', KEYS[1], 0, -k - 1)
for i = 1, k do
  local a = 3 + (i - 1) * 3
  local ann = tonumber(ARGV[a + 1])
  if ann > 0 then
    redis.call('XADD', KEYS[3], '*', 'd', ARGV[a + 2])
    local failed = tonumber(redis.call('HGET', KEYS[ann], 'failed') or '0')
    if failed > 0 then redis.call('HINCRBY', KEYS[ann], 'failed', -1) end
  end
end
return k
`)

// RetryDeadLetters implements staff.DeadLetterStore: it queues every dead
// letter up to mark again, oldest first, a batch at a time, and returns how
// many it queued. Each goes through the normal path: a chat whose sent
// record shows it got the announcement meanwhile is skipped when leased.
func (r *Redis) RetryDeadLetters(ctx context.Context, mark int64) (int, error) {
	moved := 0
	for conflicts := 0; ; {
		total, n, err := r.deadLetterBounds(ctx)
		if err != nil {
			return moved, fmt.Errorf("store: retry dead letters: %w", err)
		}
		eligible := n - (total - mark)
		if mark > total || eligible <= 0 {
			return moved, nil
		}
		k := min(eligible, deadLetterBatch)
		tail, err := r.rdb.LRange(ctx, deliveryDeadKey(), -k, -1).Result()
		if err != nil {
			return moved, fmt.Errorf("store: retry dead letters: %w", err)
		}
		if len(tail) == 0 {
			// Another retry or discard emptied the list since its bounds
			// were read (and LRANGE -0 would be no range at all): read again.
			if conflicts++; conflicts > 100 {
				return moved, errors.New("store: retry dead letters: the list keeps changing")
			}
			continue
		}
		keys := []string{deliveryDeadKey(), deliveryCountersKey(), deliveryQueueKey()}
		index := map[string]int{}
		args := []any{mark, len(tail)}
		for i := len(tail) - 1; i >= 0; i-- { // oldest first
			d, body, ok := retryBody([]byte(tail[i]))
			ann := 0
			if ok {
				if ann = index[d.AnnouncementID]; ann == 0 {
					keys = append(keys, deliveryAnnKey(d.AnnouncementID))
					ann = len(keys)
					index[d.AnnouncementID] = ann
				}
			}
			args = append(args, tail[i], ann, body)
		}
		got, err := retryDeadScript.Run(ctx, r.rdb, keys, args...).Int()
		if err != nil {
			return moved, fmt.Errorf("store: retry dead letters: %w", err)
		}
		if got < 0 {
			// Another retry or discard took the tail first: read again.
			if conflicts++; conflicts > 100 {
				return moved, errors.New("store: retry dead letters: the list keeps changing")
			}
			continue
		}
		moved += got
	}
}

// discardDeadScript drops the dead letters up to a mark.
//
// KEYS[1] dead-letter list  KEYS[2] counters hash
// ARGV[1] mark
// Returns how many letters it dropped.
var discardDeadScript = redis.NewScript(`
local total = tonumber(redis.call('HGET', KEYS[2], 'dead') or '0')
local keep = total - tonumber(ARGV[1])
local len = redis.call('LLEN', KEYS[1])
if keep < 0 or keep >= len then return 0 end
if keep == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('LTRIM', KEYS[1], 0, keep - 1)
end
return len - keep
`)

// DiscardDeadLetters implements staff.DeadLetterStore: it drops every dead
// letter up to mark and returns how many it dropped.
func (r *Redis) DiscardDeadLetters(ctx context.Context, mark int64) (int, error) {
	n, err := discardDeadScript.Run(ctx, r.rdb, []string{deliveryDeadKey(), deliveryCountersKey()}, mark).Int()
	if err != nil {
		return 0, fmt.Errorf("store: discard dead letters: %w", err)
	}
	return n, nil
}
