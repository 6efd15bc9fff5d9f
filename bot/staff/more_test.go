package staff_test

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/staff"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
)

// TestStaffSharesTheRateWithAlerts sends a publication alert and a
// broadcast through one engine at once: together they stay within
// SEND_RATE, and the fake, limiting at that rate, never answers 429.
func TestStaffSharesTheRateWithAlerts(t *testing.T) {
	const rate = 20
	onEachStore(t, options{rate: rate, fake: &telegramtest.Options{GlobalRate: rate, PerChatInterval: -1, GroupPerMinute: -1}}, func(t *testing.T, e *env) {
		e.start()
		const n = 30
		var chats []int64
		for i := range n {
			chats = append(chats, 6001+int64(i))
			e.subscriber(chats[i], "en")
		}
		e.say(admin, "/broadcast Announcement")
		control := e.waitMessage(admin, 2)
		ctx := context.Background()
		err := e.engine.Enqueue(ctx, delivery.Announcement{ID: "pub-1", Kind: delivery.KindPublication,
			Texts: map[string]string{"": "<b>New publication</b>"}})
		if err != nil {
			t.Fatal(err)
		}
		e.press(admin, control, "Send")
		e.waitText(admin, control.MessageID, "Delivered: 30")
		e.waitFor("every alert", func() bool {
			for _, c := range chats {
				if len(e.received(c)) < 2 {
					return false
				}
			}
			return true
		})

		var times []time.Time
		for _, c := range chats {
			msgs := e.received(c)
			if len(msgs) != 2 {
				t.Fatalf("chat %d got %d messages, want the alert and the broadcast", c, len(msgs))
			}
			for _, m := range msgs {
				times = append(times, m.Date)
			}
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		// Any one second holds at most the rate and the engine's burst (and
		// one more for the jitter of requests in flight between the token and
		// the fake).
		most := 0
		for i := range times {
			j := i
			for j < len(times) && times[j].Sub(times[i]) < time.Second {
				j++
			}
			most = max(most, j-i)
		}
		if limit := rate + delivery.RateBurst(rate) + 1; most > limit {
			t.Errorf("%d messages went out within one second, want at most %d", most, limit)
		}
		if got := e.fake.TooManyRequests(); got != 0 {
			t.Errorf("the fake answered %d 429s, want 0", got)
		}
	})
}

// TestStaffRecallTooOld recalls copies Telegram no longer deletes: they
// are reported as too old, not as failures; a 429 on the way is waited out.
func TestStaffRecallTooOld(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	onEachStore(t, options{fake: &telegramtest.Options{GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1, Now: clock.Now}}, func(t *testing.T, e *env) {
		e.start()
		chats := []int64{7001, 7002}
		for _, c := range chats {
			e.subscriber(c, "en")
		}
		e.say(admin, "/broadcast Old news")
		control := e.waitMessage(admin, 2)
		e.press(admin, control, "Send")
		status := e.waitText(admin, control.MessageID, "Delivered: 2")

		clock.Advance(49 * time.Hour) // Telegram's clock: the copies are past 48 hours
		// The first deletion meets a 429: recall waits it out and goes on.
		e.fake.Fail("deleteMessage", 1, telegramtest.APIError{Code: 429, RetryAfter: 1})
		e.press(admin, status, "Recall")
		e.press(admin, e.waitNew(admin, "Delete all 2 delivered copies"), "Yes")
		status = e.waitText(admin, control.MessageID, "Recalled")
		mustContain(t, "report", status.Text, "0 deleted", "2 too old to delete", "0 failed")
		if got := e.fake.Calls("deleteMessage"); got != 3 {
			t.Errorf("got %d deleteMessage calls, want 3: the one refused with 429 tried again", got)
		}
		mustContain(t, "logs", e.logs.String(), "flood limit while recalling")
		for _, c := range chats {
			if m := e.received(c); len(m) != 1 || m[0].Deleted {
				t.Errorf("chat %d: got %+v, want the copy kept", c, m)
			}
		}
	})
}

// TestStaffProgressResumedByAnotherReplica: the replica that sent a
// broadcast is not following it (it died); another takes its lease and
// writes the final report, which /broadcasts shows.
func TestStaffProgressResumedByAnotherReplica(t *testing.T) {
	onEachStore(t, options{noWatch: true}, func(t *testing.T, e *env) {
		e.start()
		for _, c := range []int64{8001, 8002, 8003} {
			e.subscriber(c, "en")
		}
		e.say(admin, "/broadcast Resumed")
		control := e.waitMessage(admin, 2)
		e.press(admin, control, "Send")
		e.waitFor("the copies", func() bool { return len(e.received(8003)) == 1 && len(e.received(8001)) == 1 })
		// The first progress edit takes its turn in the admin's chat, which
		// has just had the preview and the control message: it may come after
		// the copies.
		e.waitText(admin, control.MessageID, "Sending")

		e.replica("staff-2", []int64{admin})
		e.waitText(admin, control.MessageID, "Announcement sent")
		e.say(admin, "/broadcasts")
		mustContain(t, "/broadcasts", e.waitNew(admin, "Recent announcements").Text, "Resumed", "sent", "Delivered 3")
	})
}

func TestStaffStats(t *testing.T) {
	onEachStore(t, options{}, func(t *testing.T, e *env) {
		e.start()
		ctx := context.Background()
		for _, c := range []int64{9001, 9002, 9003} {
			e.subscriber(c, "en")
		}
		e.subscriber(9004, "ru", "consular")
		e.subscriber(9005, "en")
		if _, err := e.subs.Unsubscribe(ctx, 9005); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		e.saveHealth("https://a.example/feed", poller.Health{LastSuccess: now})
		e.saveHealth("https://b.example/list", poller.Health{LastSuccess: now.Add(-time.Hour), LastError: "fetch: 503 <Service Unavailable>", LastErrorAt: now, ConsecutiveFailures: 1})

		counters := staff.NewCounters(e.st, staff.CountersParams{})
		for range 7 {
			counters.SendDone("sent", time.Millisecond)
		}
		counters.SendDone("gone", time.Millisecond)
		counters.Paused(time.Second)
		counters.Paused(time.Second)
		if err := counters.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// One dead letter: a send Telegram refuses for good (of four).
		e.fake.Fail("sendMessage", 1, telegramtest.APIError{Code: 400, Description: "Bad Request: something odd"})
		if err := e.engine.Enqueue(ctx, delivery.Announcement{ID: "pub-dead", Kind: delivery.KindPublication,
			Texts: map[string]string{"": "x"}}); err != nil {
			t.Fatal(err)
		}
		e.eventually("the dead letter, and the rest sent", func() bool {
			_, n, err := e.engine.DeadLetters(ctx, 0)
			st, serr := e.engine.Stats(ctx, "pub-dead")
			return err == nil && n == 1 && serr == nil && st.State == delivery.StateDone
		})

		e.say(admin, "/stats")
		stats := e.waitNew(admin, "Subscribers")
		mustContain(t, "/stats", stats.Text,
			"Subscribers: 4 (last 7 days: 5 joined, 1 left)",
			"• Consular notices: 4", "• Statements: 3",
			"• English: 3", "• Русский: 1",
			"• https://a.example/feed\n  last successful poll: ",
			"• https://b.example/list\n  last successful poll: ", "last error (", "): fetch: 503 <Service Unavailable>",
			"Queue: 0", "Sent today: 7", "429 answers today: 2", "Dead letters: 1")
		if strings.Contains(stats.Text, "a.example/feed\n  last successful poll: never") {
			t.Error("a polled source shows no successful poll")
		}
	})
}

// TestCountersBatchWrites proves that the counters cost one store write
// per flush however many sends they count, and that a failed write loses
// nothing.
func TestCountersBatchWrites(t *testing.T) {
	st := &countingStore{}
	c := staff.NewCounters(st, staff.CountersParams{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				c.SendDone("sent", 0)
			}
			c.Paused(time.Second)
		})
	}
	wg.Wait()
	ctx := context.Background()
	st.fail = true
	if err := c.Flush(ctx); err == nil {
		t.Fatal("Flush with a failing store: got nil error")
	}
	st.fail = false
	c.SendDone("sent", 0)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil { // nothing new: no write
		t.Fatal(err)
	}
	if st.writes != 1 || st.sums["sent"] != 4001 || st.sums["flood"] != 8 {
		t.Fatalf("got %d writes of %v, want 1 write of 4001 sent and 8 floods", st.writes, st.sums)
	}

	// Run writes what is left when it stops.
	c.SendDone("sent", 0)
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Run(ctx2); err != nil {
		t.Fatal(err)
	}
	if st.sums["sent"] != 4002 {
		t.Fatalf("after Run stopped: got %v, want 4002 sent", st.sums)
	}
}

type countingStore struct {
	mu     sync.Mutex
	fail   bool
	writes int
	sums   map[string]int64
}

func (s *countingStore) AddStaffCounters(_ context.Context, _ string, deltas map[string]int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("store down")
	}
	s.writes++
	if s.sums == nil {
		s.sums = map[string]int64{}
	}
	for k, v := range deltas {
		s.sums[k] += v
	}
	return nil
}

func (s *countingStore) StaffCounters(context.Context, string) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sums, nil
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestStaffRecallWhileSending recalls before sending ends: the rest is
// stopped, and every copy that did go out is deleted.
func TestStaffRecallWhileSending(t *testing.T) {
	const rate = 10
	onEachStore(t, options{rate: rate, fake: &telegramtest.Options{GlobalRate: rate, PerChatInterval: -1, GroupPerMinute: -1}}, func(t *testing.T, e *env) {
		e.start()
		// Enough that the recall, which takes a confirmation in the admin's
		// chat (its messages paced at one a second, behind the status edits),
		// lands well before the end: 10 s of sending at 10 a second.
		var chats []int64
		for i := range 100 {
			chats = append(chats, 10001+int64(i))
			e.subscriber(chats[i], "en")
		}
		e.say(admin, "/broadcast Sent by mistake")
		control := e.waitMessage(admin, 2)
		e.press(admin, control, "Send")
		sent := func() int {
			n := 0
			for _, c := range chats {
				n += len(e.received(c))
			}
			return n
		}
		e.waitFor("a few copies", func() bool { return sent() >= 3 })
		e.press(admin, e.waitText(admin, control.MessageID, "Sending"), "Recall")
		e.press(admin, e.waitNew(admin, "delivered copies"), "Yes")
		status := e.waitText(admin, control.MessageID, "Recalled")
		got := sent()
		if got >= len(chats) {
			t.Fatalf("all %d copies went out: the recall did not stop the rest", got)
		}
		mustContain(t, "report", status.Text, "Announcement stopped", "by Ada", itoa(got)+" deleted", "0 too old", "0 failed")
		for _, c := range chats {
			for _, m := range e.received(c) {
				if !m.Deleted {
					t.Errorf("chat %d: message %d not deleted", c, m.MessageID)
				}
			}
		}
	})
}

// TestStaffRecallConfirmation: "No" kills the confirmation, even for a
// client still showing its buttons; after "Yes", the confirmation's
// "Recalling…" becomes the recall's result.
func TestStaffRecallConfirmation(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	onEachStore(t, options{staff: func(p *staff.Params) { p.Location = london }}, func(t *testing.T, e *env) {
		e.start()
		chats := []int64{7101, 7102}
		control, status := e.sendAll("Recall me", chats...)

		e.press(admin, status, "Recall")
		confirm := e.waitNew(admin, "Delete all 2 delivered copies")
		yes := buttonData(confirm, "Yes")
		e.press(admin, confirm, "No")
		e.waitText(admin, confirm.MessageID, "Cancelled")
		// The old keyboard, as a client that has not refreshed shows it.
		q := e.fake.PressButton(admin, admin, confirm.MessageID, yes)
		var answer string
		e.waitFor("the answer to the dead Yes", func() bool {
			for _, a := range e.fake.CallbackAnswers() {
				if a.QueryID == q {
					answer = a.Text
					return true
				}
			}
			return false
		})
		if want := "This button is out of date."; answer != want {
			t.Errorf("Yes after No: answer %q, want %q", answer, want)
		}
		if got := e.message(admin, confirm.MessageID).Text; !strings.Contains(got, "Cancelled") {
			t.Errorf("Yes after No changed the confirmation to %q", got)
		}
		for _, c := range chats {
			if m := e.received(c); len(m) != 1 || m[0].Deleted {
				t.Errorf("chat %d: got %+v, want the copy kept after No", c, m)
			}
		}

		e.press(admin, e.message(admin, control.MessageID), "Recall")
		confirm = e.waitNew(admin, "Delete all 2 delivered copies")
		e.press(admin, confirm, "Yes")
		done := e.waitText(admin, confirm.MessageID, "Recalled")
		mustContain(t, "confirmation after the recall", done.Text, "by Ada", "2 deleted", "0 too old", "0 failed")
		if len(done.InlineKeyboard()) != 0 {
			t.Errorf("the finished confirmation still has buttons: %v", done.InlineKeyboard())
		}
		for _, c := range chats {
			if m := e.received(c); len(m) != 1 || !m[0].Deleted {
				t.Errorf("chat %d: got %+v, want the copy deleted", c, m)
			}
		}
		// Staff times are in the configured zone, named.
		inLondon := regexp.MustCompile(`\d\d:\d\d (GMT|BST)`)
		if !inLondon.MatchString(done.Text) {
			t.Errorf("recall result %q: want the time in London's zone, named", done.Text)
		}
		e.say(admin, "/broadcasts")
		if list := e.waitNew(admin, "Recent announcements"); !inLondon.MatchString(list.Text) {
			t.Errorf("/broadcasts %q: want times in London's zone, named", list.Text)
		}
	})
}
