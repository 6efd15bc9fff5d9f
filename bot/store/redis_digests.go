package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot"
)

// Daily digests: one zset, chat id -> due time in ms. Only chats that take
// a digest have an entry; one that left is dropped when next claimed.

// claimDigestsScript takes the digests due and moves each one's due time
// to the end of a lease, in one step, so that one replica gets each.
//
// KEYS[1] digest zset  ARGV[1] now (ms)  ARGV[2] lease end (ms)  ARGV[3] most
// Returns {chat id, due ms, ...}.
var claimDigestsScript = redis.NewScript(`
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]), 'WITHSCORES')
for i = 1, #due, 2 do redis.call('ZADD', KEYS[1], ARGV[2], due[i]) end
return due
`)

// ScheduleDigest implements bot.DigestStore.
func (r *Redis) ScheduleDigest(ctx context.Context, chatID int64, due time.Time) error {
	var err error
	if due.IsZero() {
		err = r.rdb.ZRem(ctx, digestDueKey(), chatID).Err()
	} else {
		err = r.rdb.ZAdd(ctx, digestDueKey(), redis.Z{Score: float64(due.UnixMilli()), Member: chatID}).Err()
	}
	if err != nil {
		return fmt.Errorf("store: schedule digest of %d: %w", chatID, err)
	}
	return nil
}

// ClaimDigests implements bot.DigestStore.
func (r *Redis) ClaimDigests(ctx context.Context, now time.Time, lease time.Duration, n int) ([]bot.DueDigest, error) {
	res, err := claimDigestsScript.Run(ctx, r.rdb, []string{digestDueKey()},
		now.UnixMilli(), now.Add(lease).UnixMilli(), n).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("store: claim digests: %w", err)
	}
	out := make([]bot.DueDigest, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		id, err1 := strconv.ParseInt(res[i], 10, 64)
		ms, err2 := strconv.ParseFloat(res[i+1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("store: claim digests: bad entry %q %q", res[i], res[i+1])
		}
		out = append(out, bot.DueDigest{ChatID: id, Due: time.UnixMilli(int64(ms)).UTC()})
	}
	return out, nil
}

var _ bot.DigestStore = (*Redis)(nil)
