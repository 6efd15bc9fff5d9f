package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// instant is the shortest reclaim idle time Redis knows. Tests call
// idle() before reclaiming: no event marks an entry's going idle, only time.
const instant = time.Millisecond

func idle() { time.Sleep(3 * instant) }

// Gaps are the per-chat gaps the tests begin deliveries with.
var Gaps = delivery.Gaps{Private: time.Second, Group: 3 * time.Second}

// AddAnnouncement adds a broadcast id made at t0 for the consular,
// press and statements categories, in English and Russian.
func AddAnnouncement(t *testing.T, s delivery.Store, id string) delivery.Announcement {
	t.Helper()
	a := delivery.Announcement{ID: id, Kind: delivery.KindBroadcast, Texts: map[string]string{"": "<b>hi</b>", "ru": "<b>привет</b>"},
		Filter: subscriptions.Filter{Category: "consular", Categories: []string{"press", "statements"}}, CreatedAt: t0}
	if err := s.AddAnnouncement(context.Background(), a); err != nil {
		t.Fatalf("AddAnnouncement: %v", err)
	}
	return a
}

// Queue fans announcement a out to chats in one page.
func Queue(t *testing.T, s delivery.Store, a delivery.Announcement, chats ...int64) {
	t.Helper()
	ctx := context.Background()
	f, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Minute))
	if err != nil || !ok || f.Announcement.ID != a.ID {
		t.Fatalf("ClaimFanout: got %v %v %v, want %s", f.Announcement.ID, ok, err, a.ID)
	}
	ds := make([]delivery.Delivery, len(chats))
	for i, c := range chats {
		ds[i] = delivery.Delivery{AnnouncementID: a.ID, ChatID: c, ChatType: subscriptions.ChatPrivate, Language: "en"}
	}
	if err := s.AddDeliveries(ctx, f, "", true, ds, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("AddDeliveries: %v", err)
	}
}

// Lease leases up to n deliveries to consumer without waiting.
func Lease(t *testing.T, s delivery.Store, consumer string, n int, reclaim time.Duration) []delivery.Delivery {
	t.Helper()
	ds, err := s.Lease(context.Background(), consumer, n, -1, reclaim)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	return ds
}

// beginTwo adds announcement "b-1", queues it to chats 1 and 2, and has
// consumer "c1" lease both and begin sending them.
func beginTwo(t *testing.T, s delivery.Store) []delivery.Delivery {
	t.Helper()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2)
	ds := Lease(t, s, "c1", 10, 0)
	if _, _, err := s.Begin(context.Background(), "c1", ds, delivery.Gaps{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return ds
}

// Stats returns announcement id's progress.
func Stats(t *testing.T, s delivery.Store, id string) delivery.Stats {
	t.Helper()
	st, err := s.Announcement(context.Background(), id)
	if err != nil {
		t.Fatalf("Announcement(%s): %v", id, err)
	}
	return st
}

func testDeliveryAnnouncementAndFanout(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	if err := s.AddAnnouncement(ctx, a); !errors.Is(err, delivery.ErrDuplicate) {
		t.Fatalf("second AddAnnouncement: got %v, want ErrDuplicate", err)
	}
	st := Stats(t, s, "b-1")
	if st.State != delivery.StateFanningOut || st.Announcement.Texts["ru"] != "<b>привет</b>" || st.Announcement.Filter.Category != "consular" ||
		!slices.Equal(st.Announcement.Filter.Categories, []string{"press", "statements"}) || !st.Announcement.CreatedAt.Equal(t0) {
		t.Fatalf("got %+v, want the announcement as added, fanning out", st)
	}

	f, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Minute))
	if err != nil || !ok || f.Cursor != "" {
		t.Fatalf("ClaimFanout: got %+v %v %v, want a lease at the start", f, ok, err)
	}
	if _, ok, _ := s.ClaimFanout(ctx, time.Now().Add(time.Minute)); ok {
		t.Fatal("second ClaimFanout: got a lease, want none while the first holds")
	}
	page := []delivery.Delivery{{AnnouncementID: "b-1", ChatID: 1, ChatType: subscriptions.ChatPrivate, Language: "en"}}
	stale := f
	stale.Token = "other"
	if err := s.AddDeliveries(ctx, stale, "1", false, page, time.Now().Add(time.Minute)); !errors.Is(err, delivery.ErrLeaseLost) {
		t.Fatalf("AddDeliveries with a stale token: got %v, want ErrLeaseLost", err)
	}
	if err := s.AddDeliveries(ctx, f, "1", false, page, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("AddDeliveries: %v", err)
	}
	// Replaying the same page (a lost reply, a second replica) changes nothing.
	if err := s.AddDeliveries(ctx, f, "1", false, page, time.Now().Add(time.Minute)); !errors.Is(err, delivery.ErrLeaseLost) {
		t.Fatalf("replayed AddDeliveries: got %v, want ErrLeaseLost", err)
	}
	f.Cursor = "1"
	page2 := []delivery.Delivery{{AnnouncementID: "b-1", ChatID: 2, ChatType: subscriptions.ChatGroup, Language: "ru", Silent: true, Thread: 9}}
	if err := s.AddDeliveries(ctx, f, "", true, page2, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("last AddDeliveries: %v", err)
	}
	if st := Stats(t, s, "b-1"); st.State != delivery.StateSending || st.Targeted != 2 || st.Pending != 2 {
		t.Fatalf("got %+v, want sending with 2 targeted and pending", st)
	}

	// An expired lease is claimed again where it stopped.
	AddAnnouncement(t, s, "b-2")
	f2, ok, err := s.ClaimFanout(ctx, time.Now().Add(-time.Millisecond))
	if err != nil || !ok {
		t.Fatalf("ClaimFanout b-2: %v %v", ok, err)
	}
	if err := s.AddDeliveries(ctx, f2, "10", false, nil, time.Now().Add(-time.Millisecond)); err != nil {
		t.Fatalf("AddDeliveries b-2: %v", err)
	}
	again, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Minute))
	if err != nil || !ok || again.Announcement.ID != "b-2" || again.Cursor != "10" || again.Token == f2.Token {
		t.Fatalf("reclaim: got %+v %v %v, want b-2 at cursor 10 with a new token", again, ok, err)
	}
	if err := s.AddDeliveries(ctx, f2, "20", false, nil, time.Now()); !errors.Is(err, delivery.ErrLeaseLost) {
		t.Fatalf("old holder's AddDeliveries: got %v, want ErrLeaseLost", err)
	}

	ds := Lease(t, s, "c1", 10, 0)
	if len(ds) != 2 || ds[0].ChatID != 1 || ds[1].ChatID != 2 || ds[1].ChatType != subscriptions.ChatGroup || ds[1].Language != "ru" ||
		ds[0].Silent || ds[0].Thread != 0 || !ds[1].Silent || ds[1].Thread != 9 {
		t.Fatalf("Lease: got %+v, want the two queued deliveries", ds)
	}
}

func testDeliverySendLifecycle(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2, 3, 4)
	ds := Lease(t, s, "c1", 10, 0)
	if len(ds) != 4 {
		t.Fatalf("Lease: got %d, want 4", len(ds))
	}
	ready, pause, err := s.Begin(ctx, "c1", ds, Gaps, time.Now())
	if err != nil || pause != 0 || len(ready) != 4 {
		t.Fatalf("Begin: got %d ready, pause %v, %v; want 4", len(ready), pause, err)
	}
	now := time.Now()
	err = s.Finish(ctx, []delivery.Result{
		{Delivery: ds[0], Outcome: delivery.Sent, MessageID: 11},
		{Delivery: ds[1], Outcome: delivery.Removed},
		{Delivery: ds[2], Outcome: delivery.Failed, Error: "boom"},
		{Delivery: ds[3], Outcome: delivery.Requeued, Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: 4, Attempt: 1}, At: now.Add(-time.Second), Retry: true},
	}, now)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	// Recording the same results again (a lost reply) counts nothing twice.
	if err := s.Finish(ctx, []delivery.Result{{Delivery: ds[0], Outcome: delivery.Sent, MessageID: 11}, {Delivery: ds[2], Outcome: delivery.Failed}}, now); err != nil {
		t.Fatalf("second Finish: %v", err)
	}
	st := Stats(t, s, "b-1")
	if st.Delivered != 1 || st.Removed != 1 || st.Failed != 1 || st.Retries != 1 || st.Pending != 1 || st.State != delivery.StateSending {
		t.Fatalf("got %+v, want 1 delivered, removed, failed, retried and pending", st)
	}
	dead, total, err := s.DeadLetters(ctx, 10)
	if err != nil || total != 1 || len(dead) != 1 || dead[0].ChatID != 3 || dead[0].Error != "boom" || dead[0].AnnouncementID != "b-1" {
		t.Fatalf("DeadLetters: got %+v %d %v, want the one failure", dead, total, err)
	}

	retry := Lease(t, s, "c1", 10, 0)
	if len(retry) != 1 || retry[0].ChatID != 4 || retry[0].Attempt != 1 {
		t.Fatalf("Lease after a due retry: got %+v, want chat 4 at attempt 1", retry)
	}
	if _, _, err := s.Begin(ctx, "c1", retry, delivery.Gaps{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, []delivery.Result{{Delivery: retry[0], Outcome: delivery.Sent, MessageID: 12}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if st := Stats(t, s, "b-1"); st.State != delivery.StateDone || st.Delivered != 2 || st.Pending != 0 {
		t.Fatalf("got %+v, want done with 2 delivered", st)
	}
}

func testDeliveryChatGapDefers(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 7)
	b := AddAnnouncement(t, s, "b-2")
	Queue(t, s, b, 7)
	ds := Lease(t, s, "c1", 10, 0)
	if len(ds) != 2 {
		t.Fatalf("Lease: got %d, want 2", len(ds))
	}
	ready, _, err := s.Begin(ctx, "c1", ds, Gaps, time.Now())
	if err != nil || len(ready) != 1 || ready[0].AnnouncementID != "b-1" {
		t.Fatalf("Begin: got %+v, %v; want only b-1 to chat 7 ready", ready, err)
	}
	if got := Lease(t, s, "c1", 10, 0); len(got) != 0 {
		t.Fatalf("Lease within the gap: got %+v, want nothing", got)
	}
	if st := Stats(t, s, "b-2"); st.Pending != 1 {
		t.Fatalf("deferred delivery: got pending %d, want 1", st.Pending)
	}
}

func testDeliveryPause(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2)
	ds := Lease(t, s, "c1", 10, 0)
	ready, _, err := s.Begin(ctx, "c1", ds[:1], Gaps, time.Now())
	if err != nil || len(ready) != 1 {
		t.Fatalf("Begin: %v %v", ready, err)
	}
	now := time.Now()
	if err := s.Finish(ctx, []delivery.Result{{Delivery: ds[0], Outcome: delivery.Requeued, Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: 1}, At: now.Add(5 * time.Second), Pause: 5 * time.Second}}, now); err != nil {
		t.Fatal(err)
	}
	ready, pause, err := s.Begin(ctx, "c2", ds[1:], Gaps, time.Now())
	if err != nil || len(ready) != 0 || pause <= 4*time.Second || pause > 5*time.Second {
		t.Fatalf("Begin during a pause: got %d ready, pause %v, %v; want none and about 5s", len(ready), pause, err)
	}
}

func testDeliveryReclaimAndSentRecord(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2, 3)
	mine := Lease(t, s, "dead", 10, 0)
	if len(mine) != 3 {
		t.Fatalf("Lease: got %d, want 3", len(mine))
	}
	// "dead" sent chat 1 and recorded it, then died before finishing the
	// rest; chat 2 was sent but not recorded.
	if _, _, err := s.Begin(ctx, "dead", mine, Gaps, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, []delivery.Result{{Delivery: mine[0], Outcome: delivery.Sent, MessageID: 1}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := Lease(t, s, "live", 10, 0); len(got) != 0 {
		t.Fatalf("Lease without reclaim: got %+v, want nothing new", got)
	}
	idle()
	got := Lease(t, s, "live", 10, instant)
	if len(got) != 2 || got[0].ChatID != 2 || got[1].ChatID != 3 {
		t.Fatalf("reclaiming Lease: got %+v, want chats 2 and 3", got)
	}
	// The dead consumer's Begin, were it to wake, finds nothing of its own.
	if ready, _, err := s.Begin(ctx, "dead", mine[1:], delivery.Gaps{}, time.Now()); err != nil || len(ready) != 0 {
		t.Fatalf("old holder's Begin: got %+v, %v; want nothing", ready, err)
	}
	// A record of chat 3 (a Finish that did land) screens it out of the
	// next taking over.
	if err := s.Finish(ctx, []delivery.Result{{Delivery: delivery.Delivery{ID: "0-1", AnnouncementID: "b-1", ChatID: 3}, Outcome: delivery.Sent, MessageID: 3}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	idle()
	again := Lease(t, s, "third", 10, instant)
	if len(again) != 1 || again[0].ChatID != 2 {
		t.Fatalf("Lease after a sent record: got %+v, want only chat 2", again)
	}
}

func testDeliveryCancel(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2, 3)
	held := Lease(t, s, "c1", 1, 0)
	ok, err := s.Cancel(ctx, "b-1")
	if err != nil || !ok {
		t.Fatalf("Cancel: got %v %v, want true", ok, err)
	}
	if ok, err := s.Cancel(ctx, "b-1"); err != nil || ok {
		t.Fatalf("second Cancel: got %v %v, want false", ok, err)
	}
	if _, err := s.Cancel(ctx, "nope"); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("Cancel of nothing: got %v, want ErrNotFound", err)
	}
	if got := Lease(t, s, "c1", 10, 0); len(got) != 0 {
		t.Fatalf("Lease after Cancel: got %+v, want nothing", got)
	}
	if ready, _, err := s.Begin(ctx, "c1", held, Gaps, time.Now()); err != nil || len(ready) != 0 {
		t.Fatalf("Begin after Cancel: got %+v %v, want nothing", ready, err)
	}
	if st := Stats(t, s, "b-1"); st.State != delivery.StateCancelled || st.Cancelled != 3 || st.Pending != 0 {
		t.Fatalf("got %+v, want cancelled with 3 cancelled and none pending", st)
	}
}

func testDeliveryAllowSends(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	n, wait, err := s.AllowSends(ctx, 10, 2, 2)
	if err != nil || n != 2 || wait != 0 {
		t.Fatalf("first AllowSends: got %d %v %v, want 2", n, wait, err)
	}
	n, wait, err = s.AllowSends(ctx, 10, 2, 1)
	if err != nil || n != 0 || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("second AllowSends: got %d %v %v, want none and a wait of at most 100ms", n, wait, err)
	}
	// A fractional rate works too.
	n, _, err = s.AllowSends(ctx, 0.5, 1, 1)
	if err != nil || n != 0 {
		t.Fatalf("fractional rate after the bucket drained: got %d %v, want 0 (shared key)", n, err)
	}
}

func testDeliveryIntake(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	src := "https://example.org/feed"
	p := func(id string) poller.Publication {
		return poller.Publication{ID: id, Source: src, Title: id, Category: "consular", SeenAt: t0}
	}
	if _, err := recordPubs(ctx, s, src, []poller.Publication{p("old")}, poller.Validators{}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := recordPubs(ctx, s, src, []poller.Publication{p("old"), p("new1"), p("new2")}, poller.Validators{}, t0); err != nil {
		t.Fatal(err)
	}
	evs, err := s.NextPublications(ctx, "c1", 10, -1, 0)
	// Undated and listed newest first: queued as the page reads bottom-up.
	if err != nil || len(evs) != 2 || evs[0].PublicationID != "new2" || evs[1].PublicationID != "new1" {
		t.Fatalf("NextPublications: got %+v %v, want new2 then new1", evs, err)
	}
	if err := s.AckPublications(ctx, evs[0].ID); err != nil {
		t.Fatal(err)
	}
	idle()
	again, err := s.NextPublications(ctx, "c2", 10, -1, instant)
	if err != nil || len(again) != 1 || again[0].PublicationID != "new1" {
		t.Fatalf("NextPublications taking over: got %+v %v, want the unacknowledged new1", again, err)
	}
}

// testDeliveryFanoutsInCreationOrder: fan-outs are claimed in the order
// their announcements were made, whatever their ids, so that a poll's
// publications reach each chat oldest first.
func testDeliveryFanoutsInCreationOrder(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	ids := []string{"pub-ffff", "pub-0000", "pub-8888"} // made in this order
	for i, id := range ids {
		a := delivery.Announcement{ID: id, Kind: delivery.KindBroadcast, Texts: map[string]string{"": "hi"}, CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
		if err := s.AddAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range ids {
		f, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Minute))
		if err != nil || !ok || f.Announcement.ID != want {
			t.Fatalf("ClaimFanout: got %q %v %v, want %s", f.Announcement.ID, ok, err, want)
		}
	}
}

// testDeliveryReserveChat: a reply's chat reservation and Begin's are one:
// each holds the other back, and replies may burst where deliveries may not.
func testDeliveryReserveChat(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	const gap = time.Second
	if w, err := s.ReserveChat(ctx, 11, gap, 2, time.Now()); err != nil || w != 0 {
		t.Fatalf("first reply to a quiet chat: got wait %v, %v; want none", w, err)
	}
	a := AddAnnouncement(t, s, "ann-reserve")
	Queue(t, s, a, 11, 12)
	ds := Lease(t, s, "c1", 10, 0)
	ready, _, err := s.Begin(ctx, "c1", ds, Gaps, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(ready) != 1 || ready[0].ChatID != 12 {
		t.Fatalf("Begin after a reply to chat 11: got %+v ready, want only chat 12's", ready)
	}
	// Chat 11 has the reply's reservation and the next slot, held by the
	// delivery put aside: another reply waits its turn behind both.
	w, err := s.ReserveChat(ctx, 11, gap, 2, time.Now())
	if err != nil || w <= 0 || w > gap {
		t.Fatalf("reply behind a delivery put aside: got wait %v, %v; want up to %v", w, err, gap)
	}
	// Begin reserved chat 12: a burst of one must wait, of two need not.
	if w, err := s.ReserveChat(ctx, 12, gap, 1, time.Now()); err != nil || w <= 0 {
		t.Fatalf("group-like reply right after a delivery: got wait %v, %v; want some", w, err)
	}
	if w, err := s.ReserveChat(ctx, 12, gap, 2, time.Now()); err != nil || w != 0 {
		t.Fatalf("private reply right after a delivery: got wait %v, %v; want none", w, err)
	}
	if w, err := s.ReserveChat(ctx, 13, 0, 1, time.Now()); err != nil || w != 0 {
		t.Fatalf("no gap: got wait %v, %v; want none", w, err)
	}
}

// testDeliveryChatOrder: deliveries to one busy chat are put aside and go
// in the order they were queued, a gap apart.
func testDeliveryChatOrder(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	const gap = 100 * time.Millisecond
	g := delivery.Gaps{Private: gap, Group: gap}
	var want []string
	for _, id := range []string{"ord-1", "ord-2", "ord-3", "ord-4"} {
		Queue(t, s, AddAnnouncement(t, s, id), 41)
		want = append(want, id)
	}
	start := time.Now()
	var got []string
	var at []time.Duration
	for len(got) < len(want) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("after 10s begun %v, want %v", got, want)
		}
		ds, err := s.Lease(ctx, "c1", 10, 20*time.Millisecond, 0)
		if err != nil {
			t.Fatal(err)
		}
		ready, _, err := s.Begin(ctx, "c1", ds, g, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ready {
			got = append(got, d.AnnouncementID)
			at = append(at, time.Since(start))
			if err := s.Finish(ctx, []delivery.Result{{Delivery: d, Outcome: delivery.Sent, MessageID: len(got)}}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("begun in the order %v, want %v", got, want)
	}
	for i := 1; i < len(at); i++ {
		// Reservations are whole milliseconds on Redis's clock.
		if min := time.Duration(i)*gap - 2*time.Millisecond; at[i] < min {
			t.Errorf("delivery %d begun %v after the start, want at least %v", i+1, at[i], min)
		}
	}
}

func testDeliveryLeaseTakesAtMostN(t *testing.T, s DeliveryStore) {
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2, 3, 4, 5)
	if got := Lease(t, s, "c1", 2, 0); len(got) != 2 || got[0].ChatID != 1 || got[1].ChatID != 2 {
		t.Fatalf("Lease(2): got %+v, want chats 1 and 2", got)
	}
	if got := Lease(t, s, "c2", 10, 0); len(got) != 3 || got[0].ChatID != 3 || got[2].ChatID != 5 {
		t.Fatalf("Lease(10): got %+v, want chats 3 to 5 in order", got)
	}
	if got := Lease(t, s, "c3", 10, 0); len(got) != 0 {
		t.Fatalf("Lease of an empty queue: got %+v, want nothing", got)
	}
}

func testDeliveryLeaseWaitsForNew(t *testing.T, s DeliveryStore) {
	a := AddAnnouncement(t, s, "b-1")
	const block = 10 * time.Second
	type leased struct {
		ds  []delivery.Delivery
		err error
		in  time.Duration
	}
	done := make(chan leased, 1)
	go func() {
		start := time.Now()
		ds, err := s.Lease(context.Background(), "c1", 10, block, 0)
		done <- leased{ds, err, time.Since(start)}
	}()
	Queue(t, s, a, 9)
	got := <-done
	if got.err != nil || len(got.ds) != 1 || got.ds[0].ChatID != 9 || got.in >= block {
		t.Fatalf("blocking Lease: got %+v, %v after %v; want chat 9 before the block ran out", got.ds, got.err, got.in)
	}
}

func testDeliveryRequeueWaitsUntilDue(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	ds := beginTwo(t, s)
	now := time.Now()
	err := s.Finish(ctx, []delivery.Result{
		{Delivery: ds[0], Outcome: delivery.Requeued, Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: 1, Attempt: 1}, At: now.Add(time.Hour), Retry: true},
		{Delivery: ds[1], Outcome: delivery.Requeued, Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: 20, ChatType: subscriptions.ChatSupergroup}, At: now, Moved: true},
	}, now)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	got := Lease(t, s, "c1", 10, 0)
	if len(got) != 1 || got[0].ChatID != 20 || got[0].ChatType != subscriptions.ChatSupergroup {
		t.Fatalf("Lease: got %+v, want only the moved delivery to chat 20; the retry is due in an hour", got)
	}
	if st := Stats(t, s, "b-1"); st.Retries != 1 || st.Moved != 1 || st.Pending != 2 {
		t.Fatalf("got %+v, want 1 retry, 1 moved, 2 pending", st)
	}
}

func testDeliveryShorterPauseKeepsLonger(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2, 3)
	ds := Lease(t, s, "c1", 10, 0)
	if _, _, err := s.Begin(ctx, "c1", ds[:2], Gaps, time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	requeue := func(d delivery.Delivery, pause time.Duration) delivery.Result {
		return delivery.Result{Delivery: d, Outcome: delivery.Requeued, Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: d.ChatID}, At: now.Add(pause), Pause: pause}
	}
	if err := s.Finish(ctx, []delivery.Result{requeue(ds[0], 5*time.Second), requeue(ds[1], time.Second)}, now); err != nil {
		t.Fatal(err)
	}
	ready, pause, err := s.Begin(ctx, "c1", ds[2:], Gaps, time.Now())
	if err != nil || len(ready) != 0 || pause <= 4*time.Second || pause > 5*time.Second {
		t.Fatalf("Begin: got %d ready, pause %v, %v; want none and about 5s", len(ready), pause, err)
	}
}

func testDeliveryDeadLettersNewestFirst(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1, 2, 3)
	ds := Lease(t, s, "c1", 10, 0)
	for i, d := range ds {
		if err := s.Finish(ctx, []delivery.Result{{Delivery: d, Outcome: delivery.Failed, Error: fmt.Sprint("error ", i)}}, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	dead, total, err := s.DeadLetters(ctx, 2)
	if err != nil || total != 3 || len(dead) != 2 || dead[0].ChatID != 3 || dead[1].ChatID != 2 {
		t.Fatalf("DeadLetters(2): got %+v %d %v; want chats 3 then 2 of 3", dead, total, err)
	}
	if d := dead[0]; d.Attempts != 1 || d.Error != "error 2" || !d.At.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("newest dead letter: got %+v, want attempt 1, error 2, at its Finish's time", d)
	}
	if dead, total, err := s.DeadLetters(ctx, 0); err != nil || total != 3 || len(dead) != 0 {
		t.Fatalf("DeadLetters(0): got %d letters, total %d, %v; want only the total 3", len(dead), total, err)
	}
}
