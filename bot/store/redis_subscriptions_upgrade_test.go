package store

import (
	"context"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// The previous release's subscriber scripts, copied verbatim (only renamed):
// the upgrade test writes data exactly as that release did.
const subV1IndexLua = `
local function unindex(id, lang, cats, cp, lp, cs, ls)
  if cats then
    for c in string.gmatch(cats, '[^,]+') do
      redis.call('ZREM', cp .. c, id)
      if redis.call('EXISTS', cp .. c) == 0 then redis.call('SREM', cs, c) end
    end
  end
  if lang and lang ~= '' then
    redis.call('ZREM', lp .. lang, id)
    if redis.call('EXISTS', lp .. lang) == 0 then redis.call('SREM', ls, lang) end
  end
end
local function index(id, lang, cats, cp, lp, cs, ls)
  for c in string.gmatch(cats, '[^,]+') do
    redis.call('ZADD', cp .. c, id, id)
    redis.call('SADD', cs, c)
  end
  if lang ~= '' then
    redis.call('ZADD', lp .. lang, id, id)
    redis.call('SADD', ls, lang)
  end
end
`

const subV1SaveLua = `
local id = ARGV[1]
local created = redis.call('EXISTS', KEYS[1]) == 0
if not created then
  local old = redis.call('HMGET', KEYS[1], 'lang', 'cats')
  unindex(id, old[1], old[2], ARGV[7], ARGV[8], KEYS[4], KEYS[5])
end
index(id, ARGV[3], ARGV[4], ARGV[7], ARGV[8], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'type', ARGV[2], 'lang', ARGV[3], 'cats', ARGV[4])
redis.call('ZADD', KEYS[2], id, id)
if not created then
  return 0
end
redis.call('HSET', KEYS[1], 'joined', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[5], 'join:' .. id .. ':' .. ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6])
return 1
`

const subV1DeleteLua = `
local id = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local old = redis.call('HMGET', KEYS[1], 'lang', 'cats')
unindex(id, old[1], old[2], ARGV[4], ARGV[5], KEYS[4], KEYS[5])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], id)
redis.call('ZADD', KEYS[3], ARGV[2], 'leave:' .. id .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[3])
return 1
`

var subV1RemoveScript = redis.NewScript(subV1IndexLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local fields = redis.call('HGETALL', KEYS[1])
  redis.call('DEL', KEYS[6])
  redis.call('HSET', KEYS[6], unpack(fields))
  redis.call('HSET', KEYS[6], 'removed', ARGV[2], 'why', ARGV[6])
  redis.call('PEXPIRE', KEYS[6], ARGV[7])
  redis.call('ZADD', KEYS[7], ARGV[2], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', '(' .. ARGV[8])
end
` + subV1DeleteLua)

var (
	subV1SaveScript   = redis.NewScript(subV1IndexLua + subV1SaveLua)
	subV1DeleteScript = redis.NewScript(subV1IndexLua + subV1DeleteLua)
)

// subV1 writes subscribers as the previous release's Redis store did.
type subV1 struct{ rdb redis.UniversalClient }

func (v subV1) keys(chatID int64) []string {
	return []string{subscriberKey(chatID), subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey()}
}

func (v subV1) save(t testing.TB, s subscriptions.Subscriber) {
	t.Helper()
	joined := s.JoinedAt.UnixMilli()
	err := subV1SaveScript.Run(context.Background(), v.rdb, v.keys(s.ChatID),
		s.ChatID, string(s.Type), s.Language, strings.Join(s.Categories, ","), joined,
		joined-subEventRetention.Milliseconds(), subscriberCategoryKey(""), subscriberLanguageKey("")).Err()
	if err != nil {
		t.Fatalf("layout 1 save %d: %v", s.ChatID, err)
	}
}

func (v subV1) delete(t *testing.T, chatID int64, at time.Time) {
	t.Helper()
	ms := at.UnixMilli()
	err := subV1DeleteScript.Run(context.Background(), v.rdb, v.keys(chatID),
		chatID, ms, ms-subEventRetention.Milliseconds(), subscriberCategoryKey(""), subscriberLanguageKey("")).Err()
	if err != nil {
		t.Fatalf("layout 1 delete %d: %v", chatID, err)
	}
}

func (v subV1) remove(t *testing.T, chatID int64, reason string, at time.Time) {
	t.Helper()
	ms := at.UnixMilli()
	keys := append(v.keys(chatID), subscriberTombstoneKey(chatID), subscriberTombstonesKey())
	err := subV1RemoveScript.Run(context.Background(), v.rdb, keys,
		chatID, ms, ms-subEventRetention.Milliseconds(), subscriberCategoryKey(""), subscriberLanguageKey(""),
		reason, subscriptions.TombstoneTTL.Milliseconds(), ms-subscriptions.TombstoneTTL.Milliseconds()).Err()
	if err != nil {
		t.Fatalf("layout 1 remove %d: %v", chatID, err)
	}
}

// subGen makes n subscribers with real-looking chat ids (10-digit users,
// groups and supergroups), the 9 default categories at random, joined over
// the 10 days before now, in a random order.
func subGen(n int, now time.Time) []subscriptions.Subscriber {
	rng := rand.New(rand.NewPCG(5, 6))
	cats := []string{"briefings", "consular", "culture", "events", "interviews", "news", "other", "statements", "visas"}
	seen := make(map[int64]bool, n)
	out := make([]subscriptions.Subscriber, 0, n)
	for len(out) < n {
		s := subscriptions.Subscriber{Type: subscriptions.ChatPrivate, Language: []string{"en", "ru"}[rng.IntN(2)]}
		switch rng.IntN(4) {
		case 0:
			s.ChatID, s.Type = -1001000000000-rng.Int64N(999999999), subscriptions.ChatSupergroup
		case 1:
			s.ChatID, s.Type = -1000000000-rng.Int64N(999999999), subscriptions.ChatGroup
		default:
			s.ChatID = 1000000000 + rng.Int64N(8999999999)
		}
		if seen[s.ChatID] {
			continue
		}
		seen[s.ChatID] = true
		for _, c := range cats {
			if rng.IntN(3) > 0 {
				s.Categories = append(s.Categories, c)
			}
		}
		s.JoinedAt = now.Add(-time.Duration(rng.IntN(10*24*60)) * time.Minute)
		out = append(out, s)
	}
	return out
}

// TestRedisSubscribersUpgrade writes subscribers, leaves and a tombstone
// with the previous release's scripts, upgrades, killed after one step and
// resumed by two processes at once, and checks all of it after.
func TestRedisSubscribersUpgrade(t *testing.T) {
	ctx := context.Background()
	r := NewRedis(storetest.Redis(t))
	v1 := subV1{r.rdb}
	now := time.Now().UTC().Truncate(time.Minute)
	all := make(map[int64]subscriptions.Subscriber)
	for _, s := range subGen(1300, now) {
		v1.save(t, s)
		all[s.ChatID] = s
	}
	want := maps.Clone(all)
	ids := slices.Sorted(maps.Keys(want))
	left := map[int64]time.Time{}
	for i, id := range ids[:100] {
		at := now.Add(-time.Duration(i) * time.Hour)
		v1.delete(t, id, at)
		left[id] = at
		delete(want, id)
	}
	gone := ids[100]
	v1.remove(t, gone, "Forbidden: bot was blocked by the user", now.Add(-time.Minute))
	left[gone] = now.Add(-time.Minute)
	delete(want, gone)

	// Killed after one step: the batch moved is whole, the rest still old.
	n, err := r.upgradeSubscribersStep(ctx)
	if err != nil || n != subUpgradeBatch {
		t.Fatalf("first step: got %d, %v, want %d", n, err, subUpgradeBatch)
	}
	if left, _ := r.rdb.ZCard(ctx, subscribersKey()).Result(); left != int64(len(want)-subUpgradeBatch) {
		t.Fatalf("after one step: %d chats in layout 1, want %d", left, len(want)-subUpgradeBatch)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := r.UpgradeSubscribers(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := r.UpgradeSubscribers(ctx); err != nil { // once more: nothing to do
		t.Fatal(err)
	}
	if v, _ := r.rdb.Get(ctx, subLayoutVersionKey()).Result(); v != subLayoutVersion {
		t.Errorf("layout version: got %q, want %q", v, subLayoutVersion)
	}

	for _, s := range want {
		subAssertGet(t, r, s)
	}
	subAssertSameOrdered(t, subIDs(subWalk(t, r, subscriptions.Filter{}, 100, nil)), slices.Sorted(maps.Keys(want)))
	var wantConsularRu []int64
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if want[id].Wants("consular") && want[id].Language == "ru" {
			wantConsularRu = append(wantConsularRu, id)
		}
	}
	subAssertSameOrdered(t, subIDs(subWalk(t, r, subscriptions.Filter{Category: "consular", Language: "ru"}, 100, nil)), wantConsularRu)
	subAssertIndexes(t, r)

	since := now.Add(-3 * 24 * time.Hour)
	wantJoined, wantLeft := 0, 0
	for _, s := range all {
		if !s.JoinedAt.Before(since) {
			wantJoined++
		}
	}
	for _, at := range left {
		if !at.Before(since) {
			wantLeft++
		}
	}
	c, err := r.SubscriberCounts(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total != len(want) || c.Joined != wantJoined || c.Left != wantLeft {
		t.Errorf("counts since %v: got total %d joined %d left %d, want %d %d %d", since, c.Total, c.Joined, c.Left, len(want), wantJoined, wantLeft)
	}
	if c, _ := r.SubscriberCounts(ctx, time.Time{}); c.Joined != len(all) || c.Left != len(left) {
		t.Errorf("counts of all time: got joined %d left %d, want %d %d", c.Joined, c.Left, len(all), len(left))
	}

	// Nothing of layout 1 is left, but the tombstone.
	iter := r.rdb.Scan(ctx, 0, "bb:{sub}:*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		for _, p := range []string{subscriberKeyPrefix(), subscriberCategoryKey(""), subscriberLanguageKey("")} {
			if strings.HasPrefix(key, p) {
				t.Errorf("layout 1 key %s remains", key)
			}
		}
		switch key {
		case subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey():
			t.Errorf("layout 1 key %s remains", key)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	got, ok, err := r.RestoreSubscriber(ctx, gone, now)
	if err != nil || !ok {
		t.Fatalf("restore from a layout 1 tombstone: got %v, %v, want restored", ok, err)
	}
	back := all[gone]
	back.JoinedAt = now
	if !subEqual(got, back) {
		t.Errorf("restored: got %+v, want %+v", got, back)
	}
	subAssertGet(t, r, back)

	// A replica of the previous release still running writes one more: the
	// next start picks it up although the version is set.
	late := subscriptions.Subscriber{ChatID: 4000000001, Type: subscriptions.ChatPrivate, Language: "en", Categories: []string{"visas"}, JoinedAt: now}
	v1.save(t, late)
	if err := r.UpgradeSubscribers(ctx); err != nil {
		t.Fatal(err)
	}
	subAssertGet(t, r, late)
	subAssertIndexes(t, r)
}

// TestOpenRedisUpgrades checks that a bot opening Redis upgrades layout 1
// before it can serve.
func TestOpenRedisUpgrades(t *testing.T) {
	ctx := context.Background()
	rdb := storetest.Redis(t)
	in := subscriptions.Subscriber{ChatID: 5012345678, Type: subscriptions.ChatPrivate, Language: "ru",
		Categories: []string{"consular", "statements"}, JoinedAt: time.Now().UTC().Truncate(time.Millisecond)}
	subV1{rdb}.save(t, in)
	o := rdb.Options()
	u := url.URL{Scheme: "redis", Host: o.Addr, Path: "/" + strconv.Itoa(o.DB)}
	if o.Password != "" {
		u.User = url.UserPassword(o.Username, o.Password)
	}
	r, err := OpenRedis(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	subAssertGet(t, r, in)
	if n, _ := rdb.Exists(ctx, subscriberKey(in.ChatID), subscribersKey()).Result(); n != 0 {
		t.Errorf("layout 1 keys after OpenRedis: %d remain, want 0", n)
	}
}
