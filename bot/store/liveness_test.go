package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller"
)

// recordNew records two new publications of one source, for the intake.
func recordNew(t *testing.T, s poller.Store, ids ...string) {
	t.Helper()
	ctx := context.Background()
	src := "https://example.org/feed"
	p := func(id string) poller.Publication {
		return poller.Publication{ID: id, Source: src, Title: id, Category: "consular", SeenAt: t0}
	}
	if _, err := s.RecordPoll(ctx, poller.Recording{Source: src, Pubs: []poller.Publication{p("old")}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	pubs := []poller.Publication{p("old")}
	for _, id := range ids {
		pubs = append(pubs, p(id))
	}
	if _, err := s.RecordPoll(ctx, poller.Recording{Source: src, Pubs: pubs, Now: t0}); err != nil {
		t.Fatal(err)
	}
}

func chatsOf(ds []delivery.Delivery) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ChatID)
	}
	slices.Sort(out)
	return out
}

// TestRedisTakeOver: the deliveries and new publications a replica held
// are put back, once, as soon as its heartbeat lapses, and a live
// replica's are left alone.
func TestRedisTakeOver(t *testing.T) {
	ctx := context.Background()
	rdb := storetest.Redis(t)
	s := store.NewRedis(rdb)
	a := conformance.AddAnnouncement(t, s, "b-1")
	conformance.Queue(t, s, a, 1, 2, 3)
	recordNew(t, s, "new1", "new2")
	if err := s.Heartbeat(ctx, "alive", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "dying", time.Hour); err != nil {
		t.Fatal(err)
	}
	held := conformance.Lease(t, s, "alive", 1, 0)
	dying := conformance.Lease(t, s, "dying", 2, 0)
	if len(held) != 1 || len(dying) != 2 {
		t.Fatalf("leases: got %d and %d, want 1 and 2", len(held), len(dying))
	}
	evs, err := s.NextPublications(ctx, "dying", 10, -1, 0)
	if err != nil || len(evs) != 2 {
		t.Fatalf("NextPublications: got %+v, %v; want 2", evs, err)
	}
	if to, err := s.TakeOver(ctx); err != nil || to.Deliveries != 0 || to.Publications != 0 || len(to.Replicas) != 0 {
		t.Fatalf("TakeOver while every replica beats: got %+v, %v; want nothing", to, err)
	} else if to.Quiet <= 59*time.Minute || to.Quiet > time.Hour {
		// Both beat for an hour: none can lapse for about that long.
		t.Fatalf("TakeOver while every replica beats: quiet for %v, want about an hour", to.Quiet)
	}

	// "dying" beats one last time, for a millisecond.
	if err := s.Heartbeat(ctx, "dying", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var to delivery.Takeover
	deadline := time.Now().Add(5 * time.Second)
	for to.Deliveries == 0 && time.Now().Before(deadline) {
		if to, err = s.TakeOver(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if to.Deliveries != 2 || to.Publications != 2 || !slices.Equal(to.Replicas, []string{"dying"}) {
		t.Fatalf("TakeOver after the heartbeat lapsed: got %+v, want 2 deliveries and 2 publications of dying", to)
	}
	if again, err := s.TakeOver(ctx); err != nil || again.Deliveries != 0 || again.Publications != 0 || len(again.Replicas) != 0 {
		t.Fatalf("a second TakeOver: got %+v, %v; want nothing left", again, err)
	}
	// Replicas come and go with new ids: the dead one leaves the groups.
	for stream, group := range map[string]string{"bb:{dlv}:queue": "senders", "bb:{pub}:announce": "delivery"} {
		consumers, err := rdb.XInfoConsumers(ctx, stream, group).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range consumers {
			if c.Name == "dying" {
				t.Errorf("%s group %s: the dead replica is still a consumer", stream, group)
			}
		}
	}
	// The heir takes them as new work, with no idle time to wait out.
	if got := chatsOf(conformance.Lease(t, s, "heir", 10, 0)); !slices.Equal(got, chatsOf(dying)) {
		t.Fatalf("heir's lease: got chats %v, want the dead replica's %v only", got, chatsOf(dying))
	}
	pubs, err := s.NextPublications(ctx, "heir", 10, -1, 0)
	// recordNew lists them newest first, so they were queued new2, new1.
	if err != nil || len(pubs) != 2 || pubs[0].PublicationID != "new2" || pubs[1].PublicationID != "new1" {
		t.Fatalf("heir's publications: got %+v, %v; want new1 and new2", pubs, err)
	}
	// The dead replica's late result counts nothing: its entries are gone.
	if err := s.Finish(ctx, []delivery.Result{{Delivery: dying[0], Outcome: delivery.Failed, Error: "late"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, total, err := s.DeadLetters(ctx, 0); err != nil || total != 0 {
		t.Fatalf("a late result of the dead replica: got %d dead letters, %v; want 0", total, err)
	}

	// A clean stop: whatever is left of "alive" is taken over at once.
	if err := s.Depart(ctx, "alive"); err != nil {
		t.Fatal(err)
	}
	if to, err := s.TakeOver(ctx); err != nil || to.Deliveries != 1 || !slices.Equal(to.Replicas, []string{"alive"}) {
		t.Fatalf("TakeOver after Depart: got %+v, %v; want alive's one delivery", to, err)
	}
	if got := chatsOf(conformance.Lease(t, s, "heir", 10, 0)); !slices.Equal(got, chatsOf(held)) {
		t.Fatalf("heir's lease after Depart: got %v, want %v", got, chatsOf(held))
	}
}

// TestBoltReopenReleasesHeldWork: opening the embedded store hands back at
// once what the process before held: leased deliveries, leased new
// publications and a fan-out lease.
func TestBoltReopenReleasesHeldWork(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := reopenableBolt(t, dir)
	a := conformance.AddAnnouncement(t, s, "b-1")
	conformance.Queue(t, s, a, 1, 2, 3)
	conformance.AddAnnouncement(t, s, "b-2")
	f, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Hour))
	if err != nil || !ok || f.Announcement.ID != "b-2" {
		t.Fatalf("ClaimFanout: got %+v %v %v, want b-2", f, ok, err)
	}
	if err := s.AddDeliveries(ctx, f, "cursor-1", false, nil, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	recordNew(t, s, "new1")
	held := conformance.Lease(t, s, "before", 2, 0)
	if evs, err := s.NextPublications(ctx, "before", 10, -1, 0); err != nil || len(evs) != 1 {
		t.Fatalf("NextPublications: got %+v, %v; want new1", evs, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = reopenableBolt(t, dir)
	got := conformance.Lease(t, s, "after", 10, 0)
	if len(got) != 3 || got[0].ID != held[0].ID || got[1].ID != held[1].ID || !slices.Equal(chatsOf(got), []int64{1, 2, 3}) {
		t.Fatalf("first lease after reopening: got %+v, want the 2 held, in their place, and the third", got)
	}
	// The intake's first read reclaims (the engine passes ClaimIdle).
	evs, err := s.NextPublications(ctx, "after", 10, -1, time.Minute)
	if err != nil || len(evs) != 1 || evs[0].PublicationID != "new1" {
		t.Fatalf("NextPublications after reopening: got %+v, %v; want new1 at once", evs, err)
	}
	f2, ok, err := s.ClaimFanout(ctx, time.Now().Add(time.Minute))
	if err != nil || !ok || f2.Announcement.ID != "b-2" || f2.Cursor != "cursor-1" {
		t.Fatalf("ClaimFanout after reopening: got %+v %v %v, want b-2 at cursor-1 at once", f2, ok, err)
	}
	if err := s.AddDeliveries(ctx, f, "cursor-2", true, nil, time.Now()); err == nil {
		t.Fatal("the dead process's fan-out token still works, want ErrLeaseLost")
	}
}
