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

	// Each test reserves a database of its own, so that packages running
	// in parallel never share one: a lease key in TEST_REDIS_URL's database
	// marks it taken until the test ends (or, if the test binary dies, the
	// lease expires).
	admin := redis.NewClient(opts)
	defer admin.Close()
	databases := 16
	if cfg, err := admin.ConfigGet(ctx, "databases").Result(); err == nil {
		if n, err := strconv.Atoi(cfg["databases"]); err == nil && n > 1 {
			databases = n
		}
	}
	start, err := admin.Incr(ctx, "bbtest:nextdb").Result()
	if err != nil {
		t.Fatalf("storetest: redis at TEST_REDIS_URL does not answer: %v", err)
	}
	db, lease := 0, ""
	for i := range databases {
		candidate := (int(start) + i) % databases
		if candidate == opts.DB {
			continue // it holds the leases
		}
		key := "bbtest:lease:" + strconv.Itoa(candidate)
		ok, err := admin.SetNX(ctx, key, t.Name(), 30*time.Minute).Result()
		if err != nil {
			t.Fatalf("storetest: reserve a database: %v", err)
		}
		if ok {
			db, lease = candidate, key
			break
		}
	}
	if db == 0 {
		t.Fatalf("storetest: all %d test databases are in use; run fewer tests at once or start redis-server with more --databases", databases-1)
	}

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
		release := redis.NewClient(opts)
		defer release.Close()
		_ = release.Del(ctx, lease).Err()
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
