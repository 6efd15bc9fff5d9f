package store

import (
	"context"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// The release before alert settings wrote subscriber records without them;
// both stores read those as the defaults, with nothing re-written, and
// keep them working through a change.

func TestPreviousReleaseSubscriberReadsWithDefaultPrefsRedis(t *testing.T) {
	ctx := context.Background()
	rdb := storetest.Redis(t)
	st := NewRedis(rdb)
	// Register the category bit as the previous release did, then put its
	// record in place by hand: "type lang mask joined".
	if _, err := st.SaveSubscriber(ctx, subNew(1, "en", "consular")); err != nil {
		t.Fatal(err)
	}
	const old = "g ru 1 1709294400000"
	if err := rdb.HSet(ctx, subBucketPrefix()+"-9007199254740992", "42", old).Err(); err != nil {
		t.Fatal(err)
	}
	testPreviousReleaseSubscriber(t, st)
	if v := rdb.HGet(ctx, subBucketPrefix()+"-9007199254740992", "43").Val(); v != "g ru 1 1709294400000 q1380-420" {
		t.Errorf("record after a change of settings: got %q", v)
	}
}

func TestPreviousReleaseSubscriberReadsWithDefaultPrefsBolt(t *testing.T) {
	st := subOpenBolt(t)
	err := st.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(boltSubscribers))
		if err != nil {
			return err
		}
		// The previous release's JSON, without "prefs".
		return b.Put(subKey(42), []byte(`{"type":"group","lang":"ru","cats":["consular"],"joined":1709294400000}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	testPreviousReleaseSubscriber(t, st)
}

func testPreviousReleaseSubscriber(t *testing.T, st subscriptions.Store) {
	t.Helper()
	ctx := context.Background()
	want := subscriptions.Subscriber{ChatID: 42, Type: subscriptions.ChatGroup, Language: "ru",
		Categories: []string{"consular"}, JoinedAt: time.UnixMilli(1709294400000).UTC()}
	subAssertGet(t, st, want)
	svc := subscriptions.NewService(st, []string{"consular", "statements"}, "en", nil)
	got, err := svc.SetPrefs(ctx, 42, func(p *subscriptions.Prefs) { p.Quiet, p.QuietFrom, p.QuietTo = true, 23*60, 7*60 })
	if err != nil {
		t.Fatal(err)
	}
	want.Prefs = subscriptions.Prefs{Quiet: true, QuietFrom: 23 * 60, QuietTo: 7 * 60}
	if !subEqual(got, want) {
		t.Fatalf("SetPrefs: got %+v, want %+v", got, want)
	}
	if _, err := st.MigrateSubscriber(ctx, 42, 43); err != nil {
		t.Fatal(err)
	}
	want.ChatID = 43
	subAssertGet(t, st, want)
}

// TestDeliveryEncodingKeepsHowAndReadsPreviousRelease: silent and thread
// survive the queue, and a queue entry of the release before them reads
// as a loud delivery to the chat itself.
func TestDeliveryEncodingKeepsHowAndReadsPreviousRelease(t *testing.T) {
	for _, d := range []delivery.Delivery{
		{AnnouncementID: "pub-1", ChatID: -100, ChatType: subscriptions.ChatSupergroup, Language: "ru", Attempt: 2, Plain: true},
		{AnnouncementID: "pub-1", ChatID: 5, ChatType: subscriptions.ChatPrivate, Language: "en", Silent: true},
		{AnnouncementID: "pub-1", ChatID: -100, ChatType: subscriptions.ChatSupergroup, Language: "en", Thread: 42},
		{AnnouncementID: "pub-1", ChatID: -100, ChatType: subscriptions.ChatSupergroup, Language: "en", Silent: true, Thread: 42, Slot: time.UnixMilli(1700000000000)},
	} {
		got, err := decodeDelivery("", encodeDelivery(d))
		if err != nil || got != d {
			t.Errorf("round trip of %+v: got %+v, %v", d, got, err)
		}
	}
	got, err := decodeDelivery("1-0", "pub-1|7|private|en|0|0")
	want := delivery.Delivery{ID: "1-0", AnnouncementID: "pub-1", ChatID: 7, ChatType: subscriptions.ChatPrivate, Language: "en"}
	if err != nil || got != want {
		t.Errorf("previous release: got %+v, %v, want %+v", got, err, want)
	}
	if _, err := decodeDelivery("", "pub-1|7|private|en|0|0|tx"); err == nil {
		t.Error("bad thread: got nil error")
	}
}

// A chat whose zone was stored as "Local" (the host's zone, accepted at
// first) reads with the default zone on both stores and can still be
// saved: Check refuses "Local" now.

func TestLocalZoneReadsAsDefaultRedis(t *testing.T) {
	ctx := context.Background()
	rdb := storetest.Redis(t)
	st := NewRedis(rdb)
	if _, err := st.SaveSubscriber(ctx, subNew(1, "en", "consular")); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, subBucketPrefix()+"-9007199254740992", "42", "g ru 1 1709294400000 q1380-420,zLocal").Err(); err != nil {
		t.Fatal(err)
	}
	testLocalZoneReadsAsDefault(t, st)
}

func TestLocalZoneReadsAsDefaultBolt(t *testing.T) {
	st := subOpenBolt(t)
	err := st.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(boltSubscribers))
		if err != nil {
			return err
		}
		return b.Put(subKey(42), []byte(`{"type":"group","lang":"ru","cats":["consular"],"joined":1709294400000,"prefs":"q1380-420,zLocal"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	testLocalZoneReadsAsDefault(t, st)
}

func testLocalZoneReadsAsDefault(t *testing.T, st subscriptions.Store) {
	t.Helper()
	ctx := context.Background()
	want := subscriptions.Subscriber{ChatID: 42, Type: subscriptions.ChatGroup, Language: "ru",
		Categories: []string{"consular"}, JoinedAt: time.UnixMilli(1709294400000).UTC(),
		Prefs: subscriptions.Prefs{Quiet: true, QuietFrom: 23 * 60, QuietTo: 7 * 60}}
	subAssertGet(t, st, want)
	svc := subscriptions.NewService(st, []string{"consular", "statements"}, "en", nil)
	got, err := svc.Toggle(ctx, 42, "statements")
	if err != nil {
		t.Fatalf("a change to a chat stored with the zone Local: %v", err)
	}
	want.Categories = []string{"consular", "statements"}
	if !subEqual(got, want) {
		t.Errorf("after a change: got %+v, want %+v", got, want)
	}
}
