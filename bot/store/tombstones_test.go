package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

func TestTombstonesRedis(t *testing.T) {
	testTombstones(t, func(t *testing.T) subscriptions.Store { return NewRedis(storetest.Redis(t)) })
}

func TestTombstonesBolt(t *testing.T) {
	testTombstones(t, func(t *testing.T) subscriptions.Store { return subOpenBolt(t) })
}

// testTombstones is the conformance suite of subscriptions.TombstoneStore.
// A tombstone is kept TombstoneTTL on the store's clock and restores
// nothing past TombstoneTTL after its removal on the caller's.
func testTombstones(t *testing.T, open func(t *testing.T) subscriptions.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("remove keeps a tombstone; restore undoes it", func(t *testing.T) {
		st := open(t)
		in := subscriptions.Subscriber{ChatID: -100123, Type: subscriptions.ChatSupergroup, Language: "ru", Categories: []string{"consular", "statements"}, JoinedAt: subT0}
		if _, err := st.SaveSubscriber(ctx, in); err != nil {
			t.Fatal(err)
		}
		removedAt := now.Add(-time.Hour)
		if ok, err := st.RemoveSubscriber(ctx, in.ChatID, "Forbidden: bot was kicked from the supergroup chat", removedAt); err != nil || !ok {
			t.Fatalf("RemoveSubscriber: got %v, %v; want true", ok, err)
		}
		if _, ok, _ := st.Subscriber(ctx, in.ChatID); ok {
			t.Fatal("after removal: still subscribed")
		}
		if page, _, err := st.SubscribersPage(ctx, subscriptions.Filter{Category: "consular"}, "", 10); err != nil || len(page) != 0 {
			t.Fatalf("category index after removal: got %v, %v; want empty", page, err)
		}
		c, err := st.SubscriberCounts(ctx, now.Add(-24*time.Hour))
		if err != nil || c.Total != 0 || c.Left != 1 {
			t.Fatalf("counts after removal: got %+v, %v; want none left, one leave", c, err)
		}
		ts, err := st.Tombstones(ctx, now.Add(-2*time.Hour), 10)
		if err != nil || len(ts) != 1 {
			t.Fatalf("Tombstones: got %+v, %v; want one", ts, err)
		}
		got := ts[0]
		if got.Subscriber.ChatID != in.ChatID || got.Subscriber.Type != in.Type || got.Subscriber.Language != "ru" ||
			!slices.Equal(got.Subscriber.Categories, in.Categories) || !got.RemovedAt.Equal(removedAt) || got.Reason != "Forbidden: bot was kicked from the supergroup chat" {
			t.Fatalf("tombstone: got %+v, want %+v removed at %v with Telegram's answer", got, in, removedAt)
		}
		if ts, _ := st.Tombstones(ctx, now.Add(-time.Minute), 10); len(ts) != 0 {
			t.Fatalf("Tombstones since after the removal: got %+v, want none", ts)
		}

		s, ok, err := st.RestoreSubscriber(ctx, in.ChatID, now)
		if err != nil || !ok || s.Language != "ru" || !slices.Equal(s.Categories, in.Categories) {
			t.Fatalf("RestoreSubscriber: got %+v %v %v, want the subscriber as it was", s, ok, err)
		}
		back, ok, err := st.Subscriber(ctx, in.ChatID)
		if err != nil || !ok || back.Type != in.Type || !slices.Equal(back.Categories, in.Categories) {
			t.Fatalf("after restore: got %+v %v %v, want subscribed as before", back, ok, err)
		}
		if page, _, _ := st.SubscribersPage(ctx, subscriptions.Filter{Category: "statements"}, "", 10); len(page) != 1 {
			t.Fatalf("category index after restore: got %v, want the chat", page)
		}
		if ts, _ := st.Tombstones(ctx, time.Time{}, 10); len(ts) != 0 {
			t.Fatalf("after restore: got tombstones %+v, want none", ts)
		}
		if _, ok, err := st.RestoreSubscriber(ctx, in.ChatID, now); err != nil || ok {
			t.Fatalf("a second restore: got %v, %v; want nothing to do", ok, err)
		}
	})

	t.Run("a chat subscribed meanwhile keeps its new settings", func(t *testing.T) {
		st := open(t)
		if _, err := st.SaveSubscriber(ctx, subNew(7, "en", "consular")); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RemoveSubscriber(ctx, 7, "Forbidden: bot was blocked by the user", now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SaveSubscriber(ctx, subNew(7, "ru", "statements")); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := st.RestoreSubscriber(ctx, 7, now); err != nil || ok {
			t.Fatalf("RestoreSubscriber of a subscribed chat: got %v, %v; want false", ok, err)
		}
		if s, _, _ := st.Subscriber(ctx, 7); s.Language != "ru" || !slices.Equal(s.Categories, []string{"statements"}) {
			t.Fatalf("got %+v, want the new settings kept", s)
		}
		if ts, _ := st.Tombstones(ctx, time.Time{}, 10); len(ts) != 0 {
			t.Fatalf("got tombstones %+v, want the stale one dropped", ts)
		}
	})

	t.Run("removing a chat not subscribed keeps nothing", func(t *testing.T) {
		st := open(t)
		if ok, err := st.RemoveSubscriber(ctx, 8, "Forbidden: bot was blocked by the user", now); err != nil || ok {
			t.Fatalf("got %v, %v; want false", ok, err)
		}
		if ts, _ := st.Tombstones(ctx, time.Time{}, 10); len(ts) != 0 {
			t.Fatalf("got tombstones %+v, want none", ts)
		}
	})

	t.Run("listed oldest first, n at most", func(t *testing.T) {
		st := open(t)
		for i := range int64(5) {
			if _, err := st.SaveSubscriber(ctx, subNew(100+i, "en", "consular")); err != nil {
				t.Fatal(err)
			}
			// Removed newest first by chat id: the list must follow time.
			if _, err := st.RemoveSubscriber(ctx, 100+i, "gone", now.Add(-time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := st.Tombstones(ctx, now.Add(-3*time.Minute), 2)
		if err != nil || len(ts) != 2 || ts[0].Subscriber.ChatID != 103 || ts[1].Subscriber.ChatID != 102 {
			t.Fatalf("got %+v, %v; want chats 103 then 102", ts, err)
		}
	})

	t.Run("expired tombstones are not listed or restored", func(t *testing.T) {
		st := open(t)
		if _, err := st.SaveSubscriber(ctx, subNew(9, "en", "consular")); err != nil {
			t.Fatal(err)
		}
		old := now.Add(-subscriptions.TombstoneTTL - time.Hour)
		if _, err := st.RemoveSubscriber(ctx, 9, "gone", old); err != nil {
			t.Fatal(err)
		}
		if ts, _ := st.Tombstones(ctx, now.Add(-subscriptions.TombstoneTTL), 10); len(ts) != 0 {
			t.Fatalf("got %+v, want a tombstone older than its lifetime unlisted", ts)
		}
		if _, ok, err := st.RestoreSubscriber(ctx, 9, now); err != nil || ok {
			t.Fatalf("restore of an expired tombstone: got %v, %v; want false", ok, err)
		}
	})
}
