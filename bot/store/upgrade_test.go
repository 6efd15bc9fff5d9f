package store

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// writePrevious regenerates testdata/previous-release from the code it runs
// on. The files there were written by the release before storage v2
// (commit 7d27b83, Redis subscribers in layout 1): they are what a bot
// upgraded from it finds. Regenerate them only to describe a new previous
// release, never to make a failing upgrade pass.
var writePrevious = flag.Bool("write-previous-release", false, "rewrite testdata/previous-release from this code")

const previousDir = "testdata/previous-release"

// What the previous release's store holds.
var (
	prevSource = "https://example.org/news"
	prevSubs   = []subscriptions.Subscriber{
		{ChatID: 5012345678, Type: subscriptions.ChatPrivate, Language: "en", Categories: []string{"consular", "statements"}, JoinedAt: subT0},
		{ChatID: -1001234567890, Type: subscriptions.ChatSupergroup, Language: "ru", Categories: []string{"press-releases"}, JoinedAt: subT0.Add(time.Hour)},
		{ChatID: -123456789, Type: subscriptions.ChatGroup, Language: "ru", Categories: []string{"consular", "other", "speeches"}, JoinedAt: subT0.Add(2 * time.Hour)},
	}
	prevAudit = []byte(`{"id":"bc-1","text":"<b>Consular hours</b>","by":42}`)
)

func prevPubs(ids ...string) []poller.Publication {
	out := make([]poller.Publication, len(ids))
	for i, id := range ids {
		out[i] = poller.Publication{ID: prevSource + "/" + id, Source: prevSource, URL: prevSource + "/" + id,
			Title: "Item " + id, Category: "consular", Date: subT0.Add(-time.Duration(i) * 24 * time.Hour), SeenAt: subT0}
	}
	return out
}

// previousStore is what the previous release's bot wrote through.
type previousStore interface {
	conformance.StaffStore
	conformance.PollerStore
	subscriptions.Store
	bot.Store
}

// fillPrevious writes, through st, what a bot of the previous release had
// stored: subscribers (saved by save), seen publications with one queued
// for announcement, a broadcast fanned out with one copy sent and two
// queued, its audit record and the update offset.
func fillPrevious(t *testing.T, st previousStore, save func(subscriptions.Subscriber)) {
	ctx := context.Background()
	for _, s := range prevSubs {
		save(s)
	}
	if _, err := st.RecordPoll(ctx, poller.Recording{Source: prevSource, Pubs: prevPubs("c", "b", "a"), Now: subT0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordPoll(ctx, poller.Recording{Source: prevSource, Pubs: prevPubs("d", "c", "b", "a"), Now: subT0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	a := conformance.AddAnnouncement(t, st, "b-1")
	conformance.Queue(t, st, a, prevSubs[0].ChatID, prevSubs[1].ChatID, prevSubs[2].ChatID)
	ds := conformance.Lease(t, st, "old", 1, 0)
	if _, _, err := st.Begin(ctx, "old", ds, delivery.Gaps{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, []delivery.Result{{Delivery: ds[0], Outcome: delivery.Sent, MessageID: 777}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddBroadcast(ctx, "bc-1", subT0, prevAudit); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveOffset(ctx, 4242); err != nil {
		t.Fatal(err)
	}
}

// checkPrevious checks that st, opened on the previous release's data,
// holds all of it and announces nothing twice.
func checkPrevious(t *testing.T, st previousStore) {
	t.Helper()
	ctx := context.Background()
	for _, s := range prevSubs {
		subAssertGet(t, st, s)
	}
	subAssertIndexes(t, st)
	if c, err := st.SubscriberCounts(ctx, time.Time{}); err != nil || c.Total != 3 || c.ByCategory["consular"] != 2 || c.ByLanguage["ru"] != 2 {
		t.Errorf("counts: got %+v, %v; want 3 subscribers, 2 to consular, 2 in Russian", c, err)
	}

	// Seen ids: the same page again announces nothing; the one queued
	// before is still queued, once.
	done, err := st.RecordPoll(ctx, poller.Recording{Source: prevSource, Pubs: prevPubs("d", "c", "b", "a"), Now: subT0.Add(2 * time.Hour)})
	if err != nil || len(done.Queued) != 0 || done.Burst != nil {
		t.Errorf("the same page again: queued %v, burst %v, %v; want nothing", conformance.IDs(done.Queued), done.Burst, err)
	}
	if got, want := conformance.Taken(t, st), prevSource+"/d"; got != want {
		t.Errorf("announcement queue: got %q, want %q", got, want)
	}
	if latest, err := st.Latest(ctx, "", 10); err != nil || len(latest) != 4 {
		t.Errorf("Latest: got %d, %v; want the 4 publications", len(latest), err)
	}

	// Queued deliveries and sent records.
	st0 := conformance.Stats(t, st, "b-1")
	if st0.Delivered != 1 || st0.Pending != 2 {
		t.Errorf("announcement b-1: got %+v, want 1 delivered, 2 pending", st0)
	}
	var chats []int64
	for _, d := range conformance.Lease(t, st, "new", 10, 0) {
		chats = append(chats, d.ChatID)
	}
	slices.Sort(chats)
	if want := []int64{prevSubs[1].ChatID, prevSubs[2].ChatID}; !slices.Equal(chats, want) {
		t.Errorf("queued deliveries: got chats %v, want %v", chats, want)
	}
	copies, _, err := st.SentCopies(ctx, "b-1", "", 10)
	if err != nil || len(copies) != 1 || copies[0].ChatID != prevSubs[0].ChatID || !slices.Equal(copies[0].IDs(), []int{777}) {
		t.Errorf("sent copies: got %+v, %v; want chat %d's message 777", copies, err, prevSubs[0].ChatID)
	}

	// Audit and the intake's offset.
	if body, ok, err := st.Broadcast(ctx, "bc-1"); err != nil || !ok || string(body) != string(prevAudit) {
		t.Errorf("audit record: got %q %v %v, want %q", body, ok, err, prevAudit)
	}
	if recent, err := st.RecentBroadcasts(ctx, 10); err != nil || len(recent) != 1 || string(recent[0]) != string(prevAudit) {
		t.Errorf("recent broadcasts: got %q, %v; want the one record", recent, err)
	}
	if off, err := st.Offset(ctx); err != nil || off != 4242 {
		t.Errorf("offset: got %d, %v; want 4242", off, err)
	}
}

// TestBoltUpgradeFromPreviousRelease opens a copy of a file the previous
// release wrote, twice (the upgrade must be idempotent), and checks all of
// it.
func TestBoltUpgradeFromPreviousRelease(t *testing.T) {
	fixture := filepath.Join(previousDir, "bulletinbot.db")
	if *writePrevious {
		dir := t.TempDir()
		b, err := OpenBolt(dir)
		if err != nil {
			t.Fatal(err)
		}
		fillPrevious(t, b, func(s subscriptions.Subscriber) { subSave(t, b, s) })
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(dir, "bulletinbot.db"), fixture)
	}
	dir := t.TempDir()
	copyFile(t, fixture, filepath.Join(dir, "bulletinbot.db"))
	for range 2 {
		b, err := OpenBolt(dir)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	b, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	checkPrevious(t, b)
}

// TestRedisUpgradeFromPreviousRelease loads what the previous release left
// in Redis (subscribers in layout 1), upgrades it as OpenRedis does, twice,
// and checks all of it.
func TestRedisUpgradeFromPreviousRelease(t *testing.T) {
	ctx := context.Background()
	fixture := filepath.Join(previousDir, "redis.json")
	if *writePrevious {
		rdb := storetest.Redis(t)
		fillPrevious(t, NewRedis(rdb), func(s subscriptions.Subscriber) { subV1{rdb}.save(t, s) })
		dumpRedis(t, rdb, fixture)
	}
	rdb := storetest.Redis(t)
	loadRedis(t, rdb, fixture)
	r := NewRedis(rdb)
	for range 2 {
		if err := r.UpgradeSubscribers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	checkPrevious(t, r)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	body, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, body, 0o600); err != nil {
		t.Fatal(err)
	}
}

// redisKey is one key of a Redis dump, in a form any Redis version loads
// (DUMP's payload is tied to the server's RDB version).
type redisKey struct {
	Key    string            `json:"key"`
	Type   string            `json:"type"`
	TTLms  int64             `json:"ttl_ms,omitempty"`
	String string            `json:"string,omitempty"`
	Hash   map[string]string `json:"hash,omitempty"`
	Set    []string          `json:"set,omitempty"`
	ZSet   []redis.Z         `json:"zset,omitempty"`
	List   []string          `json:"list,omitempty"`
	Stream []redis.XMessage  `json:"stream,omitempty"`
	Groups []redisGroup      `json:"groups,omitempty"`
}

type redisGroup struct {
	Name, LastDeliveredID string
}

// dumpRedis writes every key of rdb's database to path. The previous
// release leaves nothing pending in a stream's group here, so a group's
// name and position are all there is to keep of it.
func dumpRedis(t *testing.T, rdb *redis.Client, path string) {
	t.Helper()
	ctx := context.Background()
	var out []redisKey
	iter := rdb.Scan(ctx, 0, "bb:*", 100).Iterator()
	for iter.Next(ctx) {
		k := redisKey{Key: iter.Val(), Type: rdb.Type(ctx, iter.Val()).Val()}
		if ttl := rdb.PTTL(ctx, k.Key).Val(); ttl > 0 {
			k.TTLms = ttl.Milliseconds()
		}
		var err error
		switch k.Type {
		case "string":
			k.String, err = rdb.Get(ctx, k.Key).Result()
		case "hash":
			k.Hash, err = rdb.HGetAll(ctx, k.Key).Result()
		case "set":
			k.Set, err = rdb.SMembers(ctx, k.Key).Result()
			slices.Sort(k.Set)
		case "zset":
			k.ZSet, err = rdb.ZRangeWithScores(ctx, k.Key, 0, -1).Result()
		case "list":
			k.List, err = rdb.LRange(ctx, k.Key, 0, -1).Result()
		case "stream":
			if k.Stream, err = rdb.XRange(ctx, k.Key, "-", "+").Result(); err != nil {
				break
			}
			var groups []redis.XInfoGroup
			groups, err = rdb.XInfoGroups(ctx, k.Key).Result()
			for _, g := range groups {
				if g.Pending != 0 {
					t.Fatalf("stream %s group %s has %d pending: the dump cannot keep them", k.Key, g.Name, g.Pending)
				}
				k.Groups = append(k.Groups, redisGroup{g.Name, g.LastDeliveredID})
			}
		default:
			t.Fatalf("key %s: type %s not dumped", k.Key, k.Type)
		}
		if err != nil {
			t.Fatalf("dump %s: %v", k.Key, err)
		}
		out = append(out, k)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b redisKey) int {
		if a.Key < b.Key {
			return -1
		}
		return 1
	})
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(body, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadRedis writes the keys of a dump into rdb.
func loadRedis(t *testing.T, rdb *redis.Client, path string) {
	t.Helper()
	ctx := context.Background()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys []redisKey
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, k := range keys {
		switch k.Type {
		case "string":
			err = rdb.Set(ctx, k.Key, k.String, 0).Err()
		case "hash":
			err = rdb.HSet(ctx, k.Key, k.Hash).Err()
		case "set":
			err = rdb.SAdd(ctx, k.Key, anys(k.Set)...).Err()
		case "zset":
			err = rdb.ZAdd(ctx, k.Key, k.ZSet...).Err()
		case "list":
			err = rdb.RPush(ctx, k.Key, anys(k.List)...).Err()
		case "stream":
			for _, m := range k.Stream {
				if err = rdb.XAdd(ctx, &redis.XAddArgs{Stream: k.Key, ID: m.ID, Values: m.Values}).Err(); err != nil {
					break
				}
			}
			for _, g := range k.Groups {
				if err == nil {
					err = rdb.XGroupCreateMkStream(ctx, k.Key, g.Name, g.LastDeliveredID).Err()
				}
			}
		default:
			t.Fatalf("key %s: type %s not loaded", k.Key, k.Type)
		}
		if err == nil && k.TTLms > 0 {
			err = rdb.PExpire(ctx, k.Key, time.Duration(k.TTLms)*time.Millisecond).Err()
		}
		if err != nil {
			t.Fatalf("load %s: %v", k.Key, err)
		}
	}
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
