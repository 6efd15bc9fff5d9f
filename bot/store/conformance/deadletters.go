package conformance

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// failAll leases every queued delivery and dead-letters each with the
// reason given for its chat, at t0 plus the chat's minutes.
func failAll(t *testing.T, s delivery.Store, reasons map[int64]string) {
	t.Helper()
	for _, d := range Lease(t, s, "c1", 100, 0) {
		reason, ok := reasons[d.ChatID]
		if !ok {
			t.Fatalf("leased chat %d, want only %v", d.ChatID, reasons)
		}
		if err := s.Finish(context.Background(), []delivery.Result{{Delivery: d, Outcome: delivery.Failed, Error: reason}}, t0.Add(time.Duration(d.ChatID)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
}

func summary(t *testing.T, s StaffStore) delivery.DeadLetterSummary {
	t.Helper()
	sum, err := s.DeadLetterSummary(context.Background())
	if err != nil {
		t.Fatalf("DeadLetterSummary: %v", err)
	}
	return sum
}

func testDeadLettersRetryAndDiscard(t *testing.T, s StaffStore) {
	ctx := context.Background()
	if sum := summary(t, s); sum.Count != 0 || len(sum.Reasons) != 0 || !sum.Oldest.IsZero() {
		t.Fatalf("empty store: got %+v, want no dead letters", sum)
	}
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 2, 3, 4)
	failAll(t, s, map[int64]string{2: "tg: sendMessage: 500 down", 3: "tg: sendMessage: 500 down", 4: "tg: sendMessage: 400 odd"})
	if st := Stats(t, s, "b-1"); st.Failed != 3 || st.State != delivery.StateDone {
		t.Fatalf("after the failures: got %+v, want 3 failed and done", st)
	}
	seen := summary(t, s)
	want := []delivery.DeadLetterReason{{Error: "tg: sendMessage: 500 down", Count: 2}, {Error: "tg: sendMessage: 400 odd", Count: 1}}
	if seen.Count != 3 || !slices.Equal(seen.Reasons, want) || !seen.Oldest.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("summary: got %+v, want 3 letters, reasons %v, oldest at %v", seen, want, t0.Add(2*time.Minute))
	}

	// A letter that comes after staff looked is not theirs to retry.
	b := AddAnnouncement(t, s, "b-2")
	Queue(t, s, b, 9)
	failAll(t, s, map[int64]string{9: "later"})
	// Chat 3 got b-1 after all (a copy whose result came late): the
	// retry must not send it again.
	if err := s.Finish(ctx, []delivery.Result{{Delivery: delivery.Delivery{ID: "1-1", AnnouncementID: "b-1", ChatID: 3}, Outcome: delivery.Sent, MessageID: 7}}, t0); err != nil {
		t.Fatal(err)
	}

	if n, err := s.RetryDeadLetters(ctx, seen.Mark); err != nil || n != 3 {
		t.Fatalf("RetryDeadLetters: got %d, %v; want the 3 seen", n, err)
	}
	if n, err := s.RetryDeadLetters(ctx, seen.Mark); err != nil || n != 0 {
		t.Fatalf("RetryDeadLetters pressed twice: got %d, %v; want nothing more", n, err)
	}
	if st := Stats(t, s, "b-1"); st.Failed != 0 || st.Delivered != 1 || st.Pending != 2 || st.State != delivery.StateSending {
		t.Fatalf("after the retry: got %+v, want 0 failed, 1 delivered, 2 pending and sending", st)
	}
	if left := summary(t, s); left.Count != 1 || left.Reasons[0].Error != "later" {
		t.Fatalf("after the retry: got %+v, want only the later letter", left)
	}
	got := Lease(t, s, "c2", 100, 0)
	var chats []int64
	for _, d := range got {
		chats = append(chats, d.ChatID)
		if d.Attempt != 0 || d.ChatType != subscriptions.ChatPrivate || d.Language != "en" || d.AnnouncementID != "b-1" {
			t.Errorf("retried delivery: got %+v, want b-1 in English to a private chat, attempts forgotten", d)
		}
	}
	if !slices.Equal(chats, []int64{2, 4}) {
		t.Fatalf("leased after the retry: got chats %v, want 2 and 4 (3 has a sent record)", chats)
	}

	if n, err := s.DiscardDeadLetters(ctx, seen.Mark+100); err != nil || n != 0 {
		t.Fatalf("DiscardDeadLetters with a mark no one saw: got %d, %v; want nothing", n, err)
	}
	later := summary(t, s)
	if n, err := s.DiscardDeadLetters(ctx, later.Mark); err != nil || n != 1 {
		t.Fatalf("DiscardDeadLetters: got %d, %v; want 1", n, err)
	}
	if n, err := s.DiscardDeadLetters(ctx, later.Mark); err != nil || n != 0 {
		t.Fatalf("DiscardDeadLetters pressed twice: got %d, %v; want 0", n, err)
	}
	if sum := summary(t, s); sum.Count != 0 {
		t.Fatalf("after discarding: got %+v, want none", sum)
	}
	if _, total, err := s.DeadLetters(ctx, 0); err != nil || total != 4 {
		t.Fatalf("all-time dead letters: got %d, %v; want 4, unchanged by retry and discard", total, err)
	}
}

// testDeadLettersRetryRacing retries from two goroutines at once, as two
// admins pressing Retry or one pressing twice on two replicas: every letter
// is queued once.
func testDeadLettersRetryRacing(t *testing.T, s StaffStore) {
	ctx := context.Background()
	a := AddAnnouncement(t, s, "b-1")
	const n = 1200 // more than one batch
	chats := make([]int64, n)
	reasons := map[int64]string{}
	for i := range chats {
		chats[i] = int64(i + 1)
		reasons[chats[i]] = "down"
	}
	Queue(t, s, a, chats...)
	ds := Lease(t, s, "c1", n, 0)
	rs := make([]delivery.Result, len(ds))
	for i, d := range ds {
		rs[i] = delivery.Result{Delivery: d, Outcome: delivery.Failed, Error: "down"}
	}
	if err := s.Finish(ctx, rs, t0); err != nil {
		t.Fatal(err)
	}
	mark := summary(t, s).Mark
	counts := make(chan int, 2)
	for range 2 {
		go func() {
			got, err := s.RetryDeadLetters(ctx, mark)
			if err != nil {
				t.Error(err)
			}
			counts <- got
		}()
	}
	if total := <-counts + <-counts; total != n {
		t.Fatalf("two retries at once queued %d letters between them, want %d", total, n)
	}
	seen := map[int64]int{}
	for {
		ds := Lease(t, s, "c2", 500, 0)
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			seen[d.ChatID]++
		}
	}
	if len(seen) != n {
		t.Fatalf("leased %d chats after the retries, want %d", len(seen), n)
	}
	for c, k := range seen {
		if k != 1 {
			t.Fatalf("chat %d queued %d times, want once", c, k)
		}
	}
}
