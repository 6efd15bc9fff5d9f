package subscriptions

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestRemoveAndRestore(t *testing.T) {
	ctx := context.Background()
	st := newFakeStore()
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	svc := NewService(st, []string{"consular", "statements"}, "en", func() time.Time { return now })
	for _, c := range []int64{1, 2, 3} {
		if _, _, err := svc.Subscribe(ctx, c, ChatPrivate, "ru"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.SetCategories(ctx, 1, []string{"consular"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []int64{1, 2, 3} {
		if ok, err := svc.Remove(ctx, c, "Forbidden: bot was blocked by the user"); err != nil || !ok {
			t.Fatalf("Remove %d: got %v, %v", c, ok, err)
		}
		now = now.Add(time.Minute)
	}
	sub, ok, err := svc.Restore(ctx, 1)
	if err != nil || !ok || sub.Language != "ru" || !slices.Equal(sub.Categories, []string{"consular"}) {
		t.Fatalf("Restore: got %+v %v %v, want chat 1 with its settings", sub, ok, err)
	}
	if _, ok, _ := svc.Restore(ctx, 1); ok {
		t.Fatal("a second Restore: got true, want nothing to undo")
	}
	// Chat 2 was removed at 01:01, chat 3 at 01:02.
	n, err := svc.RestoreSince(ctx, time.Date(2026, 12, 2, 1, 2, 0, 0, time.UTC))
	if err != nil || n != 1 {
		t.Fatalf("RestoreSince: got %d, %v; want 1", n, err)
	}
	if _, ok, _ := svc.Get(ctx, 3); !ok {
		t.Error("chat 3: not restored")
	}
	if _, ok, _ := svc.Get(ctx, 2); ok {
		t.Error("chat 2, removed before: restored")
	}
}
