package store_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
)

// A 429 pause written by the previous release, "1" on Redis and a bare
// deadline in the embedded file, reads as a flood pause and can be lifted.
func TestPauseOfThePreviousRelease(t *testing.T) {
	ctx := context.Background()
	legacy := delivery.Pause{Reason: delivery.PauseFlood}.ID()
	check := func(t *testing.T, s delivery.PauseStore) {
		t.Helper()
		p, ok := conformance.CurrentPause(t, s, time.Now())
		if !ok || p.Reason != delivery.PauseFlood || !p.Since.IsZero() || p.ID() != legacy || !near(p.Until, time.Now().Add(time.Hour)) {
			t.Fatalf("got %+v %v, want a flood pause of unknown start for an hour", p, ok)
		}
		if ok, err := s.ResumeSending(ctx, p.ID()); err != nil || !ok {
			t.Fatalf("ResumeSending: got %v, %v; want true", ok, err)
		}
		if got, ok := conformance.CurrentPause(t, s, time.Now()); ok {
			t.Fatalf("after resuming: got %+v, want none", got)
		}
	}
	t.Run("redis", func(t *testing.T) {
		s := openRedis(t)
		if err := s.Client().Set(ctx, "bb:{dlv}:pause", "1", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})
	t.Run("bolt", func(t *testing.T) {
		dir := t.TempDir()
		db, err := bolt.Open(filepath.Join(dir, "bulletinbot.db"), 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists([]byte("dlv_meta"))
			if err != nil {
				return err
			}
			return meta.Put([]byte("pause"), binary.BigEndian.AppendUint64(nil, uint64(time.Now().Add(time.Hour).UnixMilli())))
		})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		check(t, reopenableBolt(t, dir))
	})
}

var _ delivery.PauseStore = (*store.Redis)(nil)

var _ delivery.PauseStore = (*store.Bolt)(nil)

// near reports whether a and b are within the rounding of a store and
// the time a test's calls take.
func near(a, b time.Time) bool { return a.Sub(b).Abs() < 500*time.Millisecond }
