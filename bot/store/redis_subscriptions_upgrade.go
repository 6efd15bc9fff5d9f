package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// subLayoutVersion is the Redis subscriber layout this release writes.
const subLayoutVersion = "2"

// subUpgradeBatch is how many layout-1 subscribers or events one upgrade
// step moves: each step is one script, so Redis is never blocked for long.
const subUpgradeBatch = 500

// upgradeSubscribersScript moves one batch of layout-1 data (a hash per
// subscriber, zset indexes, an events zset) into layout 2. Each batch is
// atomic, so an upgrade killed midway resumes where it stopped, and two
// processes upgrading at once take different batches.
//
// KEYS[1..4] as every subscriber script (subLua)  KEYS[5] layout-1 zset of
// all chat ids  KEYS[6] layout-1 events zset  KEYS[7] layout-1 set of
// categories in use  KEYS[8] layout-1 set of languages in use
// KEYS[9] layout version
// ARGV[1..2] as every subscriber script  ARGV[3] batch size
// ARGV[4] event retention (ms)  ARGV[5] layout-1 subscriber hash prefix
// ARGV[6] layout-1 category zset prefix  ARGV[7] layout-1 language zset
// prefix  ARGV[8] layout version to set when done
// Returns how many entries it moved; 0 when the upgrade is complete.
var upgradeSubscribersScript = redis.NewScript(subLua + `
local CODES = {private = 'p', group = 'g', supergroup = 's', channel = 'c'}
local n = tonumber(ARGV[3])
local ids = redis.call('ZRANGE', KEYS[5], 0, n - 1)
for _, id in ipairs(ids) do
  local h = redis.call('HMGET', ARGV[5] .. id, 'type', 'lang', 'cats', 'joined')
  local t, lang, cats, joined = h[1] or '', h[2] or '', h[3] or '', h[4] or '0'
  if h[2] then
    local _, cur = get(id)
    if not cur then
      local mask = maskOf(catBits(cats, true))
      put(id, (CODES[t] or t) .. ' ' .. lang .. ' ' .. mask .. ' ' .. joined)
      count(lang, mask, 1)
    end
    for c in string.gmatch(cats, '[^,]+') do redis.call('ZREM', ARGV[6] .. c, id) end
    if lang ~= '' then redis.call('ZREM', ARGV[7] .. lang, id) end
    redis.call('DEL', ARGV[5] .. id)
  end
  redis.call('ZREM', KEYS[5], id)
end
if #ids > 0 then return #ids end
local ev = redis.call('ZRANGE', KEYS[6], 0, n - 1, 'WITHSCORES')
for i = 1, #ev, 2 do
  local m = ev[i]
  if string.sub(m, 1, 5) == 'join:' then
    event('j', ev[i + 1], ARGV[4])
  elseif string.sub(m, 1, 6) == 'leave:' then
    event('l', ev[i + 1], ARGV[4])
  end
  redis.call('ZREM', KEYS[6], m)
end
if #ev > 0 then return #ev / 2 end
-- Indexes of chats whose hash was already gone: nothing left to move.
for _, c in ipairs(redis.call('SMEMBERS', KEYS[7])) do redis.call('DEL', ARGV[6] .. c) end
for _, l in ipairs(redis.call('SMEMBERS', KEYS[8])) do redis.call('DEL', ARGV[7] .. l) end
redis.call('DEL', KEYS[7], KEYS[8])
redis.call('SET', KEYS[9], ARGV[8])
return 0
`)

// UpgradeSubscribers moves subscribers written by a release before layout
// 2 into it, in steps of subUpgradeBatch, and marks the layout version. It
// is idempotent: once done it only reads the version and whether layout-1
// keys exist. OpenRedis calls
// it, so a bot upgrades before it serves.
func (r *Redis) UpgradeSubscribers(ctx context.Context) error {
	// Layout-1 keys are checked too: a replica of the previous release
	// still running after the upgrade may have written some since.
	pipe := r.rdb.Pipeline()
	version := pipe.Get(ctx, subLayoutVersionKey())
	old := pipe.Exists(ctx, subscribersKey(), subscriberEventsKey())
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: upgrade subscribers: %w", err)
	}
	if version.Val() == subLayoutVersion && old.Val() == 0 {
		return nil
	}
	for {
		n, err := r.upgradeSubscribersStep(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// upgradeSubscribersStep moves one batch; 0 means the upgrade is complete.
func (r *Redis) upgradeSubscribersStep(ctx context.Context) (int, error) {
	keys := subKeys(subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey(), subLayoutVersionKey())
	n, err := upgradeSubscribersScript.Run(ctx, r.rdb, keys, subArgs(subUpgradeBatch, subEventRetention.Milliseconds(),
		subscriberKeyPrefix(), subscriberCategoryKey(""), subscriberLanguageKey(""), subLayoutVersion)...).Int()
	if err != nil {
		return 0, fmt.Errorf("store: upgrade subscribers: %w", err)
	}
	return n, nil
}
