package storetest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

func TestClusterRig(t *testing.T) {
	t.Parallel()
	c := storetest.Cluster(t)
	rdb := c.Client(t)
	ctx := context.Background()
	// Keys in different slots land on different masters and all answer.
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		if err := rdb.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	var masters atomic.Int32 // the callback runs on every master at once
	if err := rdb.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		masters.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := masters.Load(); n != 3 {
		t.Fatalf("got %d masters, want 3", n)
	}
}

func TestSentinelRigFailsOver(t *testing.T) {
	t.Parallel()
	s := storetest.Sentinel(t, 500*time.Millisecond)
	ctx := context.Background()
	rdb := s.Client(t)
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	// WAIT: the replica has the write before the master dies.
	if n, err := rdb.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v; want 1 replica", n, err)
	}
	old := s.MasterAddr()
	s.KillMaster()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if addr, err := s.CurrentMaster(ctx); err == nil && addr != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sentinel did not promote the replica within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, err := rdb.Get(ctx, "k").Result()
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		got, err = rdb.Get(ctx, "k").Result()
	}
	if got != "v" {
		t.Fatalf("after failover GET k = %q, %v; want v", got, err)
	}
}
