package conformance

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// testStaffCopiesAndAlbumRecords: an announcement that copies staff
// messages keeps them by language, an announcement of the previous
// release (texts only) has none, and an album copy's sent record keeps
// every part's id for a recall.
func testStaffCopiesAndAlbumRecords(t *testing.T, s StaffStore) {
	{
		ctx := context.Background()
		a := delivery.Announcement{ID: "bc-copy", Kind: delivery.KindBroadcast, CreatedAt: t0,
			Copies: map[string]delivery.Copy{
				"en": {FromChatID: 1001, MessageIDs: []int{7}},
				"ru": {FromChatID: 1001, MessageIDs: []int{9, 10, 11}, Media: true},
			}}
		if err := s.AddAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
		got := Stats(t, s, a.ID).Announcement
		if !reflect.DeepEqual(got.Copies, a.Copies) || len(got.Texts) != 0 {
			t.Fatalf("copies: got %+v and texts %v, want %+v", got.Copies, got.Texts, a.Copies)
		}
		if c, _, isCopy, ok := got.Content("de", "en"); !ok || !isCopy || c.MessageIDs[0] != 7 {
			t.Errorf("fallback copy: got %+v %v, want the English one", c, ok)
		}
		if old := AddAnnouncement(t, s, "bc-old"); Stats(t, s, old.ID).Announcement.Copies != nil {
			t.Errorf("an announcement of texts has copies")
		}

		Queue(t, s, a, 5, 6)
		ds := Lease(t, s, "c1", 10, 0)
		ready, _, err := s.Begin(ctx, "c1", ds, delivery.Gaps{}, time.Now())
		if err != nil || len(ready) != 2 {
			t.Fatalf("Begin: %d %v", len(ready), err)
		}
		rs := []delivery.Result{
			{Delivery: ready[0], Outcome: delivery.Sent, MessageID: 40, MessageIDs: []int{40, 41, 42}},
			{Delivery: ready[1], Outcome: delivery.Sent, MessageID: 50},
		}
		if err := s.Finish(ctx, rs, time.Now()); err != nil {
			t.Fatal(err)
		}
		copies, _, err := s.SentCopies(ctx, a.ID, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		byChat := map[int64][]int{}
		for _, c := range copies {
			byChat[c.ChatID] = c.IDs()
		}
		want := map[int64][]int{ready[0].ChatID: {40, 41, 42}, ready[1].ChatID: {50}}
		if !reflect.DeepEqual(byChat, want) {
			t.Errorf("sent copies: got %v, want %v", byChat, want)
		}
	}
}

// testStaffSchedule: scheduled broadcasts are listed earliest first, a
// cancelled one is never claimed, and a due one moves into the audit log,
// active, exactly once however many replicas claim at once.
func testStaffSchedule(t *testing.T, s StaffStore) {
	{
		ctx := context.Background()
		at := t0.Add(time.Hour)
		for _, x := range []struct {
			id string
			at time.Time
		}{{"bc-late", at.Add(time.Hour)}, {"bc-soon", at}, {"bc-cancel", at.Add(-time.Minute)}} {
			if err := s.ScheduleBroadcast(ctx, x.id, x.at, []byte("body of "+x.id)); err != nil {
				t.Fatal(err)
			}
		}
		// Rescheduling replaces.
		if err := s.ScheduleBroadcast(ctx, "bc-late", at.Add(2*time.Hour), []byte("body of bc-late")); err != nil {
			t.Fatal(err)
		}
		list, err := s.ScheduledBroadcasts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%s", list); got != "[body of bc-cancel body of bc-soon body of bc-late]" {
			t.Fatalf("scheduled: got %s, want earliest first", got)
		}
		if ok, err := s.CancelScheduled(ctx, "bc-cancel"); !ok || err != nil {
			t.Fatalf("cancel: got %v %v", ok, err)
		}
		if ok, _ := s.CancelScheduled(ctx, "bc-cancel"); ok {
			t.Fatal("cancelled twice")
		}
		if _, ok, err := s.ClaimDueBroadcast(ctx, at.Add(-time.Second)); ok || err != nil {
			t.Fatalf("claim before it is due: got %v %v", ok, err)
		}

		// Eight replicas claim at once, twice each: one gets it.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var got [][]byte
		for range 8 {
			wg.Go(func() {
				for range 2 {
					body, ok, err := s.ClaimDueBroadcast(ctx, at)
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						got = append(got, body)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if len(got) != 1 || string(got[0]) != "body of bc-soon" {
			t.Fatalf("claims: got %q, want bc-soon once", got)
		}
		if body, ok, _ := s.Broadcast(ctx, "bc-soon"); !ok || string(body) != "body of bc-soon" {
			t.Errorf("the claimed broadcast is not in the audit log: %q %v", body, ok)
		}
		if active, _ := s.ActiveBroadcasts(ctx); !slices.Contains(active, "bc-soon") {
			t.Errorf("active: got %v, want bc-soon", active)
		}
		if list, _ := s.ScheduledBroadcasts(ctx); len(list) != 1 {
			t.Errorf("scheduled after the claim: got %s, want bc-late alone", list)
		}
		if ok, _ := s.CancelScheduled(ctx, "bc-soon"); ok {
			t.Error("a claimed broadcast was cancelled")
		}
	}
}
