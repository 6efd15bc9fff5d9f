package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestBoltSecondOpenFailsFast: the embedded store is one process's; a second
// bulletinbot on the same DATA_DIR must say so at once instead of hanging.
func TestBoltSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	first, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	start := time.Now()
	second, err := store.OpenBolt(dir)
	if err == nil {
		second.Close()
		t.Fatal("a second open of the same DATA_DIR succeeded")
	}
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("got %v, want ErrLocked pointing at REDIS_URL", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("second open took %v to fail", took)
	}

	// Once the first closes, the store opens again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	again.Close()
}

// TestBoltOpenDropsLeasesOfADeadProcess: a lease left in the file by a
// process that was killed must not make the next start wait for it.
func TestBoltOpenDropsLeasesOfADeadProcess(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	first, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := first.AcquireLease(ctx, "poll", "killed-process", time.Hour); err != nil || !ok {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	if err := first.Close(); err != nil { // as a kill -9 leaves it: lease still stored
		t.Fatal(err)
	}
	second, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if ok, err := second.AcquireLease(ctx, "poll", "new-process", time.Minute); err != nil || !ok {
		t.Fatalf("the new process could not take the dead one's lease: %v, %v", ok, err)
	}
}

// TestBoltFileOpensWithASyncedFreelist: the store no longer writes bbolt's
// free-page list; a file it wrote must still open, whole and consistent, in
// a release that does (plain bolt.Open, as the previous release opened it),
// and open again here after that release wrote it.
func TestBoltFileOpensWithASyncedFreelist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	subscribe := func(chat int64) {
		t.Helper()
		s, err := store.OpenBolt(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, _, err := subscriptions.NewService(s, []string{"news"}, "en", nil).Subscribe(ctx, chat, subscriptions.ChatPrivate, "en"); err != nil {
			t.Fatal(err)
		}
	}
	subscribe(1)
	// The previous release's open: the free-page list synced by each commit.
	db, err := bolt.Open(filepath.Join(dir, "bulletinbot.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("written-by-the-previous-release"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("the file fails bbolt's check: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	subscribe(2)
	s, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, chat := range []int64{1, 2} {
		if _, ok, err := s.Subscriber(ctx, chat); err != nil || !ok {
			t.Fatalf("subscriber %d: found %v, %v; want it kept across both opens", chat, ok, err)
		}
	}
}
