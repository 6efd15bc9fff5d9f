package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
)

// staffStore is what bot/staff needs of a store beyond the delivery
// engine's part. The tests below are its conformance suite.
type staffStore interface {
	deliveryStore
	SaveDraft(ctx context.Context, id string, body []byte, ttl time.Duration) error
	Draft(ctx context.Context, id string) ([]byte, bool, error)
	DeleteDraft(ctx context.Context, id string) (bool, error)
	SetAwaiting(ctx context.Context, userID int64, body []byte, ttl time.Duration) error
	TakeAwaiting(ctx context.Context, userID int64) ([]byte, bool, error)
	AddBroadcast(ctx context.Context, id string, at time.Time, body []byte) (bool, error)
	Broadcast(ctx context.Context, id string) ([]byte, bool, error)
	UpdateBroadcast(ctx context.Context, id string, fn func([]byte) ([]byte, error)) (bool, error)
	RecentBroadcasts(ctx context.Context, n int) ([][]byte, error)
	ActiveBroadcasts(ctx context.Context) ([]string, error)
	SetBroadcastActive(ctx context.Context, id string, active bool) error
	SwapAlertState(ctx context.Context, key, old, next string, version int64) (bool, error)
	AddStaffCounters(ctx context.Context, day string, deltas map[string]int64) error
	StaffCounters(ctx context.Context, day string) (map[string]int64, error)
	QueueDepth(ctx context.Context) (int64, error)
	SentCopies(ctx context.Context, announcementID, cursor string, n int) ([]delivery.SentCopy, string, error)
	SendPause(ctx context.Context) (time.Duration, error)
	PauseSends(ctx context.Context, d time.Duration) error
	ScheduleBroadcast(ctx context.Context, id string, at time.Time, body []byte) error
	ScheduledBroadcasts(ctx context.Context) ([][]byte, error)
	CancelScheduled(ctx context.Context, id string) (bool, error)
	ClaimDueBroadcast(ctx context.Context, now time.Time) ([]byte, bool, error)
}

var (
	_ staffStore = (*store.Redis)(nil)
	_ staffStore = (*store.Bolt)(nil)
)

func forEachStaffBackend(t *testing.T, test func(t *testing.T, s staffStore)) {
	t.Helper()
	backends := []struct {
		name string
		open func(t *testing.T) staffStore
	}{
		{"redis", func(t *testing.T) staffStore { return openRedis(t) }},
		{"bolt", func(t *testing.T) staffStore { return pubOpenBolt(t, t.TempDir()) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open(t)) })
	}
}

func TestStaffDrafts(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		if _, ok, err := s.Draft(ctx, "d1"); ok || err != nil {
			t.Fatalf("Draft before saving: got %v %v, want none", ok, err)
		}
		if err := s.SaveDraft(ctx, "d1", []byte("one"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveDraft(ctx, "d1", []byte("two"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if body, ok, err := s.Draft(ctx, "d1"); !ok || err != nil || string(body) != "two" {
			t.Fatalf("Draft: got %q %v %v, want the last saved", body, ok, err)
		}
		if existed, err := s.DeleteDraft(ctx, "d1"); !existed || err != nil {
			t.Fatalf("DeleteDraft: got %v %v, want true", existed, err)
		}
		if existed, err := s.DeleteDraft(ctx, "d1"); existed || err != nil {
			t.Fatalf("second DeleteDraft: got %v %v, want false", existed, err)
		}
		if err := s.SaveDraft(ctx, "short", []byte("x"), 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(60 * time.Millisecond) // expiry is a matter of time
		if _, ok, err := s.Draft(ctx, "short"); ok || err != nil {
			t.Fatalf("expired draft: got %v %v, want none", ok, err)
		}
	})
}

func TestStaffAwaiting(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		if err := s.SetAwaiting(ctx, 7, []byte("broadcast"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if body, ok, err := s.TakeAwaiting(ctx, 8); ok || err != nil {
			t.Fatalf("another user's: got %q %v %v, want none", body, ok, err)
		}
		if body, ok, err := s.TakeAwaiting(ctx, 7); !ok || err != nil || string(body) != "broadcast" {
			t.Fatalf("TakeAwaiting: got %q %v %v, want it", body, ok, err)
		}
		if _, ok, err := s.TakeAwaiting(ctx, 7); ok || err != nil {
			t.Fatalf("second TakeAwaiting: got %v %v, want none", ok, err)
		}
		if err := s.SetAwaiting(ctx, 7, []byte("x"), 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(60 * time.Millisecond)
		if _, ok, err := s.TakeAwaiting(ctx, 7); ok || err != nil {
			t.Fatalf("expired: got %v %v, want none", ok, err)
		}
	})
}

func TestStaffBroadcastRecords(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		for i, id := range []string{"bc-a", "bc-b", "bc-c"} {
			added, err := s.AddBroadcast(ctx, id, t0.Add(time.Duration(i)*time.Minute), []byte("0:"+id))
			if !added || err != nil {
				t.Fatalf("AddBroadcast %s: got %v %v, want added", id, added, err)
			}
		}
		if added, err := s.AddBroadcast(ctx, "bc-b", t0, []byte("other")); added || err != nil {
			t.Fatalf("AddBroadcast again: got %v %v, want not added", added, err)
		}
		if body, ok, err := s.Broadcast(ctx, "bc-b"); !ok || err != nil || string(body) != "0:bc-b" {
			t.Fatalf("Broadcast: got %q %v %v, want the first body", body, ok, err)
		}
		recent, err := s.RecentBroadcasts(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := bodies(recent); !slices.Equal(got, []string{"0:bc-c", "0:bc-b"}) {
			t.Fatalf("RecentBroadcasts: got %v, want the two newest, newest first", got)
		}
		active, err := s.ActiveBroadcasts(ctx)
		slices.Sort(active)
		if err != nil || !slices.Equal(active, []string{"bc-a", "bc-b", "bc-c"}) {
			t.Fatalf("ActiveBroadcasts: got %v %v, want all three", active, err)
		}
		if err := s.SetBroadcastActive(ctx, "bc-b", false); err != nil {
			t.Fatal(err)
		}
		active, _ = s.ActiveBroadcasts(ctx)
		slices.Sort(active)
		if !slices.Equal(active, []string{"bc-a", "bc-c"}) {
			t.Fatalf("after deactivating: got %v", active)
		}

		// Updates: applied, refused by fn, missing record.
		found, err := s.UpdateBroadcast(ctx, "bc-a", func(b []byte) ([]byte, error) { return append(b, '!'), nil })
		if !found || err != nil {
			t.Fatalf("UpdateBroadcast: got %v %v", found, err)
		}
		errNo := errors.New("no")
		if _, err := s.UpdateBroadcast(ctx, "bc-a", func([]byte) ([]byte, error) { return nil, errNo }); !errors.Is(err, errNo) {
			t.Fatalf("refused update: got %v, want fn's error", err)
		}
		if body, _, _ := s.Broadcast(ctx, "bc-a"); string(body) != "0:bc-a!" {
			t.Fatalf("after updates: got %q, want the first applied only", body)
		}
		if found, err := s.UpdateBroadcast(ctx, "bc-x", func(b []byte) ([]byte, error) { return b, nil }); found || err != nil {
			t.Fatalf("missing record: got %v %v, want not found", found, err)
		}
	})
}

func bodies(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// TestStaffConcurrentUpdates proves that no update is lost when several
// writers change one record at once.
func TestStaffConcurrentUpdates(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		if _, err := s.AddBroadcast(ctx, "bc-n", t0, []byte("0")); err != nil {
			t.Fatal(err)
		}
		const writers = 10
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				_, err := s.UpdateBroadcast(ctx, "bc-n", func(b []byte) ([]byte, error) {
					n, _ := strconv.Atoi(string(b))
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if body, _, _ := s.Broadcast(ctx, "bc-n"); string(body) != strconv.Itoa(writers) {
			t.Fatalf("got %s, want %d: an update was lost", body, writers)
		}
	})
}

func TestStaffAlertStateHasOneWinner(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for range 8 {
			wg.Go(func() {
				ok, err := s.SwapAlertState(ctx, "failing:x", "", "alerted", 1)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("got %d winners, want 1", wins)
		}
		if ok, _ := s.SwapAlertState(ctx, "failing:x", "", "alerted", 1); ok {
			t.Fatal("swapped from a state that is no longer there")
		}
		if ok, _ := s.SwapAlertState(ctx, "failing:y", "alerted", "", 1); ok {
			t.Fatal("swapped another key's state")
		}
		if ok, err := s.SwapAlertState(ctx, "failing:x", "alerted", "", 1); !ok || err != nil {
			t.Fatalf("back to none: got %v %v", ok, err)
		}
		if ok, _ := s.SwapAlertState(ctx, "failing:x", "", "alerted", 1); !ok {
			t.Fatal("a cleared state cannot be set again")
		}
	})
}

// TestStaffAlertStateRefusesStaleVersions: a replica acting on a health
// snapshot older than the one that made an alert's state cannot move it,
// not even back from none; equal and newer snapshots can.
func TestStaffAlertStateRefusesStaleVersions(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		steps := []struct {
			name      string
			old, next string
			version   int64
			want      bool
		}{
			{"alert on version 5", "", "alerted", 5, true},
			{"older clears", "alerted", "", 4, false},
			{"equal clears", "alerted", "", 5, true},
			{"older raises again the cleared", "", "alerted", 4, false},
			{"newer raises", "", "alerted", 7, true},
			{"older still refused", "alerted", "", 6, false},
			{"newer clears", "alerted", "", 8, true},
		}
		for _, st := range steps {
			got, err := s.SwapAlertState(ctx, "silent:x", st.old, st.next, st.version)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got != st.want {
				t.Fatalf("%s: got %v, want %v", st.name, got, st.want)
			}
		}
		// Versions are per alert key.
		if ok, err := s.SwapAlertState(ctx, "silent:y", "", "alerted", 1); !ok || err != nil {
			t.Fatalf("another key: got %v %v, want true", ok, err)
		}
	})
}

func TestStaffCounters(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		day := time.Now().UTC().Format(time.DateOnly)
		for range 3 {
			if err := s.AddStaffCounters(ctx, day, map[string]int64{"sent": 100, "flood": 1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddStaffCounters(ctx, "2000-01-01", map[string]int64{"sent": 5}); err != nil {
			t.Fatal(err)
		}
		got, err := s.StaffCounters(ctx, day)
		if err != nil || got["sent"] != 300 || got["flood"] != 1*3 || len(got) != 2 {
			t.Fatalf("StaffCounters: got %v %v, want sent 300, flood 3", got, err)
		}
		if got, _ := s.StaffCounters(ctx, "1999-12-31"); len(got) != 0 {
			t.Fatalf("a day with nothing: got %v", got)
		}
	})
}

func TestStaffSentCopiesAndQueueDepth(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		a := addAnnouncement(t, s, "bc-sent")
		chats := []int64{-1001, 5, 6, 7, 8}
		queue(t, s, a, chats...)
		if n, err := s.QueueDepth(ctx); n != int64(len(chats)) || err != nil {
			t.Fatalf("QueueDepth: got %d %v, want %d", n, err, len(chats))
		}
		ds := lease(t, s, "c1", 10, 0)
		ready, _, err := s.Begin(ctx, "c1", ds, delivery.Gaps{}, time.Now())
		if err != nil || len(ready) != len(chats) {
			t.Fatalf("Begin: %d %v", len(ready), err)
		}
		if n, _ := s.QueueDepth(ctx); n != int64(len(chats)) {
			t.Fatalf("QueueDepth while sending: got %d, want %d", n, len(chats))
		}
		var rs []delivery.Result
		for _, d := range ready {
			rs = append(rs, delivery.Result{Delivery: d, Outcome: delivery.Sent, MessageID: int(d.ChatID%1000) + 1000})
		}
		if err := s.Finish(ctx, rs, time.Now()); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.QueueDepth(ctx); n != 0 {
			t.Fatalf("QueueDepth after sending: got %d, want 0", n)
		}

		got := map[int64]int{}
		cursor, pages := "", 0
		for {
			page, next, err := s.SentCopies(ctx, a.ID, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				if _, dup := got[c.ChatID]; dup {
					t.Fatalf("chat %d returned twice", c.ChatID)
				}
				got[c.ChatID] = c.MessageID
			}
			pages++
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("the walk does not end")
			}
			cursor = next
		}
		if len(got) != len(chats) {
			t.Fatalf("SentCopies: got %v, want every chat", got)
		}
		for _, c := range chats {
			if got[c] != int(c%1000)+1000 {
				t.Errorf("chat %d: got message %d, want %d", c, got[c], c%1000+1000)
			}
		}
		if page, next, err := s.SentCopies(ctx, "bc-none", "", 10); len(page) != 0 || next != "" || err != nil {
			t.Fatalf("SentCopies of nothing: got %v %q %v", page, next, err)
		}
	})
}

func TestStaffPauseIsShared(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		if d, err := s.SendPause(ctx); d != 0 || err != nil {
			t.Fatalf("SendPause at rest: got %v %v, want 0", d, err)
		}
		if err := s.PauseSends(ctx, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := s.PauseSends(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
		if d, err := s.SendPause(ctx); d <= 4*time.Second || d > 5*time.Second || err != nil {
			t.Fatalf("SendPause: got %v %v, want the longer pause", d, err)
		}
		// The engine's Begin sees the same pause.
		a := addAnnouncement(t, s, "bc-pause")
		queue(t, s, a, 1)
		ds := lease(t, s, "c1", 10, 0)
		if _, pause, err := s.Begin(ctx, "c1", ds, delivery.Gaps{}, time.Now()); pause <= 4*time.Second || err != nil {
			t.Fatalf("Begin: got pause %v %v, want the staff pause", pause, err)
		}
	})
}

// TestStaffCopiesAndAlbumRecords: an announcement that copies staff
// messages keeps them by language, an announcement of the previous
// release (texts only) has none, and an album copy's sent record keeps
// every part's id for a recall.
func TestStaffCopiesAndAlbumRecords(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
		ctx := context.Background()
		a := delivery.Announcement{ID: "bc-copy", Kind: delivery.KindBroadcast, CreatedAt: t0,
			Copies: map[string]delivery.Copy{
				"en": {FromChatID: 1001, MessageIDs: []int{7}},
				"ru": {FromChatID: 1001, MessageIDs: []int{9, 10, 11}, Media: true},
			}}
		if err := s.AddAnnouncement(ctx, a); err != nil {
			t.Fatal(err)
		}
		got := stats(t, s, a.ID).Announcement
		if !reflect.DeepEqual(got.Copies, a.Copies) || len(got.Texts) != 0 {
			t.Fatalf("copies: got %+v and texts %v, want %+v", got.Copies, got.Texts, a.Copies)
		}
		if c, _, isCopy, ok := got.Content("de", "en"); !ok || !isCopy || c.MessageIDs[0] != 7 {
			t.Errorf("fallback copy: got %+v %v, want the English one", c, ok)
		}
		if old := addAnnouncement(t, s, "bc-old"); stats(t, s, old.ID).Announcement.Copies != nil {
			t.Errorf("an announcement of texts has copies")
		}

		queue(t, s, a, 5, 6)
		ds := lease(t, s, "c1", 10, 0)
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
	})
}

// TestStaffSchedule: scheduled broadcasts are listed earliest first, a
// cancelled one is never claimed, and a due one moves into the audit log,
// active, exactly once however many replicas claim at once.
func TestStaffSchedule(t *testing.T) {
	forEachStaffBackend(t, func(t *testing.T, s staffStore) {
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
	})
}
