package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store"
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
