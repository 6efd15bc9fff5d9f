package store

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// subBenchSize is the audience of the Redis subscriber benchmarks: 100,000,
// or BULLETINBOT_BENCH_SUBSCRIBERS (1000000 takes minutes to write).
func subBenchSize(b *testing.B) int {
	v := os.Getenv("BULLETINBOT_BENCH_SUBSCRIBERS")
	if v == "" {
		return 100_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("BULLETINBOT_BENCH_SUBSCRIBERS=%q is not a positive number", v)
	}
	return n
}

// subV1CountsScript is the previous release's SubscriberCounts script,
// kept to measure the old figure beside the new one.
var subV1CountsScript = redis.NewScript(`
local function sizes(set, prefix)
  local out = {}
  for _, name in ipairs(redis.call('SMEMBERS', set)) do
    out[#out + 1] = name
    out[#out + 1] = redis.call('ZCARD', prefix .. name)
  end
  return out
end
local joined, left = 0, 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], ARGV[1], '+inf', 'BYSCORE')) do
  if string.sub(m, 1, 5) == 'join:' then
    joined = joined + 1
  elseif string.sub(m, 1, 6) == 'leave:' then
    left = left + 1
  end
end
return {redis.call('ZCARD', KEYS[1]), sizes(KEYS[3], ARGV[2]), sizes(KEYS[4], ARGV[3]), joined, left}
`)

// subBenchFill saves n subscribers with 8 writers and returns the
// bytes per subscriber: every key's MEMORY USAGE (exact, SAMPLES 0) and
// the growth of INFO memory's used_memory.
func subBenchFill(b *testing.B, rdb *redis.Client, n int, save func(subscriptions.Subscriber) error) (keyBytes, usedBytes float64) {
	ctx := context.Background()
	before := subUsedMemory(b, rdb)
	jobs := make(chan subscriptions.Subscriber)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for s := range jobs {
				if err := save(s); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, s := range subGen(n, time.Now().UTC()) {
		jobs <- s
	}
	close(jobs)
	wg.Wait()
	used := subUsedMemory(b, rdb) - before
	var total int64
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	return float64(total) / float64(n), float64(used) / float64(n)
}

func subUsedMemory(b *testing.B, rdb *redis.Client) int64 {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("INFO memory has no used_memory")
	return 0
}

// BenchmarkRedisSubscribersLayout1 measures the previous release's layout:
// bytes per subscriber and SubscriberCounts.
func BenchmarkRedisSubscribersLayout1(b *testing.B) {
	ctx := context.Background()
	rdb := storetest.Redis(b)
	v1 := subV1{rdb}
	keyBytes, usedBytes := subBenchFill(b, rdb, subBenchSize(b), func(s subscriptions.Subscriber) error { v1.save(b, s); return nil })
	since := time.Now().Add(-7 * 24 * time.Hour).UnixMilli()
	b.ResetTimer()
	for b.Loop() {
		err := subV1CountsScript.Run(ctx, rdb, []string{subscribersKey(), subscriberEventsKey(), subscriberCategoriesKey(), subscriberLanguagesKey()},
			since, subscriberCategoryKey(""), subscriberLanguageKey("")).Err()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(keyBytes, "key-B/sub")
	b.ReportMetric(usedBytes, "used-B/sub")
}

// BenchmarkRedisSubscribers measures layout 2:
// bytes per subscriber, SubscriberCounts, and walks of the whole audience
// in pages of 500, unfiltered and for one category in one language.
func BenchmarkRedisSubscribers(b *testing.B) {
	ctx := context.Background()
	rdb := storetest.Redis(b)
	r := NewRedis(rdb)
	n := subBenchSize(b)
	keyBytes, usedBytes := subBenchFill(b, rdb, n, func(s subscriptions.Subscriber) error {
		_, err := r.SaveSubscriber(ctx, s)
		return err
	})
	b.Run("bytes", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(keyBytes, "key-B/sub")
		b.ReportMetric(usedBytes, "used-B/sub")
	})
	b.Run("counts", func(b *testing.B) {
		since := time.Now().Add(-7 * 24 * time.Hour)
		for b.Loop() {
			c, err := r.SubscriberCounts(ctx, since)
			if err != nil {
				b.Fatal(err)
			}
			if c.Total != n {
				b.Fatalf("total: got %d, want %d", c.Total, n)
			}
		}
	})
	for _, f := range []subscriptions.Filter{{}, {Category: "consular", Language: "ru"}} {
		b.Run("walk"+f.Category+f.Language, func(b *testing.B) {
			pages := 0
			for b.Loop() {
				seen, cursor := 0, ""
				for {
					page, next, err := r.SubscribersPage(ctx, f, cursor, 500)
					if err != nil {
						b.Fatal(err)
					}
					pages++
					seen += len(page)
					if next == "" {
						break
					}
					cursor = next
				}
				if f.Category == "" && seen != n {
					b.Fatalf("walked %d subscribers, want %d", seen, n)
				}
			}
			b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
		})
	}
}
