package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// oldLeased encodes a leased entry as the previous release wrote it in
// dlv_pending and dlv_intake: 8-byte unix ns, 2-byte consumer length,
// consumer, body.
func oldLeased(consumer string, at time.Time, body []byte) []byte {
	v := binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))
	v = binary.BigEndian.AppendUint16(v, uint16(len(consumer)))
	return append(append(v, consumer...), body...)
}

func be64(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// TestBoltUpgradeFromCoordinatingRelease opens a file as the previous
// release left it after a kill -9 mid-fan-out (deliveries leased in
// dlv_pending, a publication leased in dlv_intake, the polling lease, the
// chat reservations and limiter state, a pause) and checks that every
// subscriber, seen id, queued delivery and audit record is there and works,
// opening it twice (the upgrade is idempotent).
func TestBoltUpgradeFromCoordinatingRelease(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Now()
	const source = "https://example.org/list"

	// Subscribers, seen ids, the offset and the audit log: buckets this
	// change leaves as they are, written as the previous release wrote them.
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	subs := []subscriptions.Subscriber{
		{ChatID: 1001, Type: subscriptions.ChatPrivate, Language: "en", Categories: []string{"consular"}, JoinedAt: now.Add(-time.Hour)},
		{ChatID: 1002, Type: subscriptions.ChatPrivate, Language: "ru", Categories: []string{"press-releases", "statements"}, JoinedAt: now.Add(-time.Hour)},
		{ChatID: -1001003, Type: subscriptions.ChatSupergroup, Language: "en", JoinedAt: now.Add(-time.Hour)},
	}
	for _, sub := range subs {
		if _, err := s.SaveSubscriber(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	var pubs []poller.Publication
	for i := range 3 {
		id := "https://example.org/p/" + strconv.Itoa(i)
		pubs = append(pubs, poller.Publication{ID: id, Source: source, URL: id, Title: "Item " + strconv.Itoa(i), Category: "consular", SeenAt: now})
	}
	if _, err := s.Record(ctx, source, pubs, poller.Validators{}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveOffset(ctx, 77); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AddBroadcast(ctx, "bc-1", now, []byte(`{"text":"hello"}`)); err != nil || !ok {
		t.Fatalf("AddBroadcast: %v, %v", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The delivery state, written raw in the previous release's layout.
	db, err := bolt.Open(dir+"/bulletinbot.db", 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ann, err := json.Marshal(boltDlvAnn{
		Kind: string(delivery.KindBroadcast), Created: now.UnixMilli(), Texts: map[string]string{"": "hi"},
		State: string(delivery.StateSending), Expires: now.Add(time.Hour).UnixMilli(), Targeted: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	dlv := func(chat int64) []byte {
		return []byte(encodeDelivery(delivery.Delivery{AnnouncementID: "b-1", ChatID: chat, ChatType: subscriptions.ChatPrivate, Language: "en"}))
	}
	err = db.Update(func(tx *bolt.Tx) error {
		put := func(bucket string, k, v []byte) {
			if err != nil {
				return
			}
			var bk *bolt.Bucket
			if bk, err = tx.CreateBucketIfNotExists([]byte(bucket)); err == nil {
				err = bk.Put(k, v)
			}
		}
		put("dlv_ann", []byte("b-1"), ann)
		// Queued, not leased: sequences 1 and 2.
		put("dlv_queue", seqKey(1), dlv(2001))
		put("dlv_queue", seqKey(2), dlv(2002))
		// Leased by the dead process, one just begun: sequences 3 and 4.
		put("dlv_pending", seqKey(3), oldLeased("dead-replica", now, dlv(2003)))
		put("dlv_pending", seqKey(4), oldLeased("dead-replica", now.Add(-time.Second), dlv(2004)))
		// A retry due already.
		put("dlv_delayed", append(subKey(now.Add(-time.Minute).UnixMilli()), seqKey(1)...), dlv(2005))
		// The poller's queue: entry 1 handed out and leased, entry 2 not
		// handed out yet.
		put("announce", seqKey(1), []byte(`{"id":"https://example.org/p/1","source":"`+source+`"}`))
		put("announce", seqKey(2), []byte(`{"id":"https://example.org/p/2","source":"`+source+`"}`))
		put("dlv_intake", seqKey(1), oldLeased("dead-replica", now, nil))
		put("dlv_meta", []byte("intake_last"), be64(1))
		// A 429's pause, the limiter and the chat reservations.
		put("dlv_meta", []byte("pause"), be64(now.Add(time.Hour).UnixMilli()))
		put("dlv_meta", []byte("pause_id"), []byte(delivery.Pause{Reason: delivery.PauseFlood, Since: now}.ID()))
		put("dlv_meta", []byte("rate"), be64(now.UnixNano()))
		put("dlv_meta", []byte("chat_sweep"), be64(now.UnixMilli()))
		put("dlv_chats", subKey(2001), subKey(now.Add(time.Hour).UnixMilli()))
		// The dead process's polling lease, for 30 s more.
		put("bot_intake", []byte("lease:poll"), []byte(`{"holder":"dead-replica","expires":`+strconv.FormatInt(now.Add(30*time.Second).UnixMilli(), 10)+`}`))
		// The sequences the entries above were numbered from.
		for bucket, seq := range map[string]uint64{"dlv_queue": 4, "dlv_delayed": 1, "announce": 2} {
			if err == nil {
				err = tx.Bucket([]byte(bucket)).SetSequence(seq)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		s, err := OpenBolt(dir)
		if err != nil {
			t.Fatalf("open %d: %v", round, err)
		}
		checkUpgraded(t, s, subs, pubs)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, gone := range []string{"dlv_pending", "dlv_chats"} {
		if got := boltBucketLen(t, dir, gone); got != 0 {
			t.Errorf("%s after the upgrade: %d entries, want none", gone, got)
		}
	}
}

// checkUpgraded checks one opening of the upgraded file; it leaves the file
// as it found it but for leases, which die with the store.
func checkUpgraded(t *testing.T, s *Bolt, subs []subscriptions.Subscriber, pubs []poller.Publication) {
	t.Helper()
	ctx := context.Background()
	got, _, err := s.SubscribersPage(ctx, subscriptions.Filter{}, "", 100)
	if err != nil || len(got) != len(subs) {
		t.Fatalf("subscribers: got %d, %v; want %d", len(got), err, len(subs))
	}
	for _, want := range subs {
		sub, ok, err := s.Subscriber(ctx, want.ChatID)
		if err != nil || !ok || sub.Language != want.Language || sub.Type != want.Type || !slices.Equal(sub.Categories, want.Categories) {
			t.Errorf("subscriber %d: got %+v, %v, %v; want %+v", want.ChatID, sub, ok, err, want)
		}
	}
	// Every seen id is still seen: polling the same items announces none.
	if fresh, err := s.Record(ctx, pubs[0].Source, pubs, poller.Validators{}, time.Now()); err != nil || len(fresh) != 0 {
		t.Errorf("Record of seen items: got %d new, %v; want none", len(fresh), err)
	}
	if off, err := s.Offset(ctx); err != nil || off != 77 {
		t.Errorf("Offset: got %d, %v; want 77", off, err)
	}
	if bcs, err := s.RecentBroadcasts(ctx, 10); err != nil || len(bcs) != 1 || string(bcs[0]) != `{"text":"hello"}` {
		t.Errorf("audit: got %q, %v; want the one broadcast", bcs, err)
	}
	// The pause still holds, with its reason and start.
	if p, ok, err := s.CurrentPause(ctx, time.Now()); err != nil || !ok || p.Reason != delivery.PauseFlood || p.Until.Before(time.Now().Add(59*time.Minute)) {
		t.Errorf("CurrentPause: got %+v, %v, %v; want the flood pause of an hour", p, ok, err)
	}
	// The dead process's polling lease is gone: this one takes it at once.
	if ok, err := s.AcquireLease(ctx, "poll", "me", time.Minute); err != nil || !ok {
		t.Errorf("AcquireLease of the dead process's lease: got %v, %v; want it taken", ok, err)
	}
	// Every queued delivery comes out at once, leased or not when the
	// process died, in queue order; the due retry after them.
	ds, err := s.Lease(ctx, "me", 10, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var chats []int64
	for _, d := range ds {
		chats = append(chats, d.ChatID)
	}
	if want := []int64{2001, 2002, 2003, 2004, 2005}; !slices.Equal(chats, want) {
		t.Errorf("Lease: got chats %v, want %v", chats, want)
	}
	if st, err := s.Announcement(ctx, "b-1"); err != nil || st.Pending != 5 || st.Targeted != 5 {
		t.Errorf("announcement: got %+v, %v; want 5 targeted, 5 pending", st, err)
	}
	// The publication the dead process held comes back, then the new one.
	evs, err := s.NextPublications(ctx, "me", 10, 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range evs {
		ids = append(ids, ev.PublicationID)
	}
	if want := []string{"https://example.org/p/1", "https://example.org/p/2"}; !slices.Equal(ids, want) {
		t.Errorf("NextPublications: got %v, want %v", ids, want)
	}
}

// boltBucketLen counts a bucket's keys in the closed file of dir.
func boltBucketLen(t *testing.T, dir, bucket string) int {
	t.Helper()
	db, err := bolt.Open(dir+"/bulletinbot.db", 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	_ = db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(bucket)); bk != nil {
			n = bk.Stats().KeyN
		}
		return nil
	})
	return n
}

// TestBoltIdleWritesNothing: what an idle bot's loops call, finding
// nothing to do, commits no write transaction (each would cost two
// fsyncs); a blocked Lease ends as soon as a delivery is queued.
func TestBoltIdleWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := subOpenBolt(t)
	a := delivery.Announcement{ID: "b-1", Kind: delivery.KindBroadcast, Texts: map[string]string{"": "hi"}, CreatedAt: time.Now()}
	if err := s.AddAnnouncement(ctx, a); err != nil {
		t.Fatal(err)
	}
	f, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Minute))
	if err != nil || !ok {
		t.Fatalf("ClaimFanout: %v, %v", ok, err)
	}
	if err := s.AddDeliveries(ctx, f, "", true, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	writes := func() int64 { st := s.db.Stats(); return st.TxStats.GetWrite() }
	before := writes()
	for range 3 {
		if ds, err := s.Lease(ctx, "c", 10, 10*time.Millisecond, time.Minute); err != nil || len(ds) != 0 {
			t.Fatalf("Lease: %v, %v", ds, err)
		}
		if evs, err := s.NextPublications(ctx, "c", 10, 10*time.Millisecond, time.Minute); err != nil || len(evs) != 0 {
			t.Fatalf("NextPublications: %v, %v", evs, err)
		}
		if _, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Minute)); err != nil || ok {
			t.Fatalf("ClaimFanout: %v, %v", ok, err)
		}
		if _, _, err := s.CurrentPause(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.AcquireLease(ctx, "poll", "c", time.Minute); err != nil || !ok {
			t.Fatalf("AcquireLease: %v, %v", ok, err)
		}
		if ok, err := s.RenewLease(ctx, "poll", "c", time.Minute); err != nil || !ok {
			t.Fatalf("RenewLease: %v, %v", ok, err)
		}
	}
	if got := writes() - before; got != 0 {
		t.Fatalf("idle calls wrote %d pages, want none", got)
	}

	done := make(chan []delivery.Delivery, 1)
	go func() {
		ds, _ := s.Lease(ctx, "c", 10, time.Hour, 0)
		done <- ds
	}()
	err = s.dlvUpdate(func(t *dlvTx) error {
		return t.push([]byte(encodeDelivery(delivery.Delivery{AnnouncementID: "b-1", ChatID: 7})))
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ds := <-done:
		if len(ds) != 1 || ds[0].ChatID != 7 {
			t.Fatalf("blocked Lease: got %+v, want the delivery to chat 7", ds)
		}
	case <-time.After(time.Minute): // the signal is immediate; a minute means it never came
		t.Fatal("a Lease blocked for an hour was not woken by the delivery queued")
	}
}
