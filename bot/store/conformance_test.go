package store_test

import (
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

// redisAt opens a Redis store on a database of its own, on clock now.
func redisAt(t *testing.T, now func() time.Time) *store.Redis {
	t.Helper()
	return store.NewRedis(storetest.Redis(t), store.WithClock(now))
}

// boltAt opens an embedded store in a temporary directory, on clock now.
func boltAt(t *testing.T, now func() time.Time) *store.Bolt {
	t.Helper()
	b, err := store.OpenBolt(t.TempDir(), store.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// Both stores pass each consumer's whole contract.
var (
	_ conformance.StaffStore = (*store.Redis)(nil)
	_ conformance.StaffStore = (*store.Bolt)(nil)
)

func TestRedisConformance(t *testing.T) {
	t.Run("bot", func(t *testing.T) { conformance.RunBot(t, redisAt) })
	t.Run("poller", func(t *testing.T) { conformance.RunPoller(t, redisAt) })
	t.Run("delivery", func(t *testing.T) { conformance.RunDelivery(t, redisAt) })
	t.Run("staff", func(t *testing.T) { conformance.RunStaff(t, redisAt) })
}

func TestBoltConformance(t *testing.T) {
	t.Run("bot", func(t *testing.T) { conformance.RunBot(t, boltAt) })
	t.Run("poller", func(t *testing.T) { conformance.RunPoller(t, boltAt) })
	t.Run("delivery", func(t *testing.T) { conformance.RunDelivery(t, boltAt) })
	t.Run("staff", func(t *testing.T) { conformance.RunStaff(t, boltAt) })
}

// t0 is a fixed moment the store-specific tests' records carry.
var t0 = time.Date(2017, 10, 17, 10, 32, 0, 0, time.UTC)
