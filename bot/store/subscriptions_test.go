package store

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

func TestSubscriptionStoreRedis(t *testing.T) {
	conformance.RunSubscriptions(t, func(t *testing.T, now func() time.Time) *Redis {
		return NewRedis(storetest.Redis(t), WithClock(now))
	}, subAssertNoTrace)
}

func TestSubscriptionStoreBolt(t *testing.T) {
	conformance.RunSubscriptions(t, func(t *testing.T, now func() time.Time) *Bolt {
		return subOpenBolt(t, WithClock(now))
	}, subAssertNoTrace)
}

func subOpenBolt(t *testing.T, opts ...Option) *Bolt {
	t.Helper()
	b, err := OpenBolt(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	// Durability is not under test; an fsync per commit would make the
	// thousands of writes below take seconds.
	b.db.NoSync = true
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// The kit's steps under the names this package's Redis- and bbolt-specific
// tests use.
var (
	subT0                = conformance.Joined
	subNew               = conformance.NewSubscriber
	subSave              = conformance.SaveSubscriber
	subAssertGet         = conformance.AssertSubscriber
	subAssertIndexes     = conformance.AssertIndexes
	subEqual             = conformance.SubscriberEqual
	subWalk              = conformance.Walk
	subIDs               = conformance.ChatIDs
	subAssertSameOrdered = conformance.AssertSameOrdered
)

// subAssertNoTrace checks, below the interface, that nothing but join and
// leave events still names the chat.
func subAssertNoTrace(t *testing.T, st subscriptions.Store, chatID int64) {
	t.Helper()
	ctx := context.Background()
	switch st := st.(type) {
	case *Redis:
		id := strconv.FormatInt(chatID, 10)
		mentions := func(s string) bool {
			for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' }) {
				if part == id {
					return true
				}
			}
			return false
		}
		iter := st.rdb.Scan(ctx, 0, "*", 100).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			if mentions(key) {
				t.Errorf("key %s remains", key)
			}
			var members []string
			var err error
			switch st.rdb.Type(ctx, key).Val() {
			case "zset":
				if key == subscriberEventsKey() {
					continue
				}
				members, err = st.rdb.ZRange(ctx, key, 0, -1).Result()
			case "set":
				members, err = st.rdb.SMembers(ctx, key).Result()
			case "hash":
				var h map[string]string
				h, err = st.rdb.HGetAll(ctx, key).Result()
				members = slices.Collect(maps.Values(h))
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range members {
				if mentions(m) {
					t.Errorf("%s still holds %q", key, m)
				}
			}
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
	case *Bolt:
		enc := subKey(chatID)
		err := st.db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				if string(name) == boltSubEvents {
					return nil
				}
				return b.ForEach(func(k, _ []byte) error {
					if bytes.HasSuffix(k, enc) {
						t.Errorf("bucket %s still holds key %q", name, k)
					}
					return nil
				})
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("no trace check for %T", st)
	}
}

func BenchmarkRedisSubscribersPage(b *testing.B) {
	ctx := context.Background()
	r := NewRedis(storetest.Redis(b))
	const n = 10000
	jobs := make(chan int64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range jobs {
				if _, err := r.SaveSubscriber(ctx, subNew(id, "en", "consular", "other")); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range int64(n) {
		jobs <- i*7919 - n*4000
	}
	close(jobs)
	wg.Wait()
	b.ResetTimer()
	for b.Loop() {
		seen := 0
		cursor := ""
		for {
			page, next, err := r.SubscribersPage(ctx, subscriptions.Filter{Category: "consular"}, cursor, 500)
			if err != nil {
				b.Fatal(err)
			}
			seen += len(page)
			if next == "" {
				break
			}
			cursor = next
		}
		if seen != n {
			b.Fatalf("got %d subscribers, want %d", seen, n)
		}
	}
	b.ReportMetric(float64(n/500), "pages/op")
}
