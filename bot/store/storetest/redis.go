// Package storetest gives tests a real Redis database of their own.
package storetest

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis returns a client on an empty database of the server named by
// TEST_REDIS_URL, flushed again when the test ends. Without TEST_REDIS_URL the
// test is skipped, unless BULLETINBOT_REQUIRE_REDIS is set (make test sets
// it), in which case it fails: Redis-backed tests never skip silently there.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	opts := Options(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// Each test takes the next database so that packages running in
	// parallel never share one; database 0 holds the counter.
	admin := redis.NewClient(opts)
	defer admin.Close()
	databases := 16
	if cfg, err := admin.ConfigGet(ctx, "databases").Result(); err == nil {
		if n, err := strconv.Atoi(cfg["databases"]); err == nil && n > 1 {
			databases = n
		}
	}
	n, err := admin.Incr(ctx, "bbtest:nextdb").Result()
	if err != nil {
		t.Fatalf("storetest: redis at TEST_REDIS_URL does not answer: %v", err)
	}
	db := 1 + int(n)%(databases-1)

	o := *opts
	o.DB = db
	client := redis.NewClient(&o)
	if err := client.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("storetest: flush db %d: %v", db, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.FlushDB(ctx).Err()
		_ = client.Close()
	})
	return client
}

// Options returns the parsed TEST_REDIS_URL, skipping or failing the test as
// Redis describes when it is unset.
func Options(t testing.TB) *redis.Options {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("BULLETINBOT_REQUIRE_REDIS") != "" {
			t.Fatal("storetest: TEST_REDIS_URL is unset but a real Redis is required")
		}
		t.Skip("storetest: TEST_REDIS_URL is unset; make test starts a throwaway redis-server")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("storetest: TEST_REDIS_URL: %v", err)
	}
	return opts
}
