package staff_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// onBothStores runs test on Redis and on the embedded store.
func onBothStores(t *testing.T, test func(t *testing.T, o options)) {
	t.Run("redis", func(t *testing.T) { test(t, options{}) })
	t.Run("embedded", func(t *testing.T) { test(t, options{embedded: true}) })
}

// onEachStore runs test on an env of options o on Redis, then on one on
// the embedded store.
func onEachStore(t *testing.T, o options, test func(t *testing.T, e *env)) {
	t.Helper()
	onBothStores(t, func(t *testing.T, store options) {
		o := o
		o.embedded = store.embedded
		test(t, newEnv(t, o))
	})
}

// answersTo returns the callback answers to queries on a message.
func (e *env) answersTo(messageID int) []string {
	var out []string
	for _, a := range e.fake.CallbackAnswers() {
		if a.MessageID == messageID {
			out = append(out, a.Text)
		}
	}
	return out
}

// deadLetters fails the next n sends for good and broadcasts to f, and
// waits until the broadcast has finished with n dead letters.
func (e *env) deadLetters(id string, f subscriptions.Filter, n int) {
	e.t.Helper()
	ctx := context.Background()
	_, before, err := e.engine.DeadLetters(ctx, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	e.fake.Fail("sendMessage", n, telegramtest.APIError{Code: 400, Description: "Bad Request: something odd"})
	if err := e.engine.Enqueue(ctx, delivery.Announcement{ID: id, Kind: delivery.KindBroadcast, Filter: f,
		Texts: map[string]string{"": "<b>hello</b> " + id, "ru": "<b>привет</b> " + id}}); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("the dead letters", func() bool {
		_, total, err := e.engine.DeadLetters(ctx, 0)
		st, serr := e.engine.Stats(ctx, id)
		return err == nil && total == before+int64(n) && serr == nil && st.State == delivery.StateDone
	})
}

// TestStaffDeadLettersRetryOnce lists dead letters, has a non-admin's
// forged press refused, and retries them with a double press: every chat
// gets the message once, in its language, and nothing is sent twice.
func TestStaffDeadLettersRetryOnce(t *testing.T) { onBothStores(t, testStaffDeadLettersRetryOnce) }

func testStaffDeadLettersRetryOnce(t *testing.T, o options) {
	e := newEnv(t, o)
	e.start()
	ctx := context.Background()
	chats := []int64{9101, 9102, 9103}
	for _, c := range chats {
		e.subscriber(c, "en")
	}
	e.subscriber(9104, "ru")
	chats = append(chats, 9104)

	e.say(admin, "/deadletters")
	e.waitNew(admin, "No dead letters")

	e.deadLetters("b-dead", subscriptions.Filter{}, len(chats))
	for _, c := range chats {
		if got := e.received(c); len(got) != 0 {
			t.Fatalf("chat %d got %d messages before the retry, want none (all dead-lettered)", c, len(got))
		}
	}
	e.say(admin, "/deadletters")
	list := e.waitNew(admin, "Dead letters:")
	mustContain(t, "/deadletters", list.Text, "Dead letters: 4, the oldest from ",
		"• 4 × tg: sendMessage: 400 Bad Request: something odd", "Retry all sends each once more")
	retry := buttonData(list, "Retry all")
	if retry == "" || buttonData(list, "Discard") == "" {
		t.Fatalf("/deadletters buttons: got %+v, want Retry all and Discard", list.InlineKeyboard())
	}

	// Someone not in ADMIN_IDS presses the button in the admin's chat: refused
	// (the chat is not theirs), nothing queued.
	const citizen = 2001
	e.fake.AddPrivateChat(citizen, "Eve", "en")
	e.fake.PressButton(admin, citizen, list.MessageID, retry)
	e.waitFor("the refusal", func() bool { return len(e.answersTo(list.MessageID)) == 1 })
	if got := e.answersTo(list.MessageID); got[0] != "This button belongs to another chat." {
		t.Fatalf("forged press: got answer %q, want the refusal", got[0])
	}
	if sum, err := e.st.DeadLetterSummary(ctx); err != nil || sum.Count != 4 {
		t.Fatalf("after a forged press: got %+v, %v; want the 4 letters untouched", sum, err)
	}

	// The admin presses Retry all twice in a row.
	e.pressData(admin, list, retry)
	e.pressData(admin, list, retry)
	e.waitFor("both answers", func() bool { return len(e.answersTo(list.MessageID)) == 3 })
	answers := e.answersTo(list.MessageID)[1:]
	slices.Sort(answers)
	if answers[0] != "4 queued again" || !strings.HasPrefix(answers[1], "Nothing left to do") {
		t.Fatalf("answers to a double press: got %q, want one retry of 4 and one with nothing left", answers)
	}
	e.waitText(admin, list.MessageID, "Ada queued 4 dead letters again at ")
	e.eventually("the retried letters delivered", func() bool {
		st, err := e.engine.Stats(ctx, "b-dead")
		q, qerr := e.st.QueueDepth(ctx)
		return err == nil && qerr == nil && st.Delivered == 4 && st.Failed == 0 && st.State == delivery.StateDone && q == 0
	})
	for _, c := range chats {
		got := e.received(c)
		want := "hello b-dead"
		if c == 9104 {
			want = "привет b-dead"
		}
		if len(got) != 1 || got[0].Text != want {
			t.Errorf("chat %d: got %d messages %+v, want exactly one %q", c, len(got), got, want)
		}
	}
	if sum, err := e.st.DeadLetterSummary(ctx); err != nil || sum.Count != 0 {
		t.Fatalf("after the retry: got %+v, %v; want no dead letters", sum, err)
	}
	mustContain(t, "logs", e.logs.String(), "dead letters handled by staff", "user_id=1001", "action=retry", "letters=4")
}

// TestStaffDeadLettersDiscard discards what the list showed, and only that:
// a letter dead-lettered after the list was shown stays.
func TestStaffDeadLettersDiscard(t *testing.T) { onBothStores(t, testStaffDeadLettersDiscard) }

func testStaffDeadLettersDiscard(t *testing.T, o options) {
	e := newEnv(t, o)
	e.start()
	ctx := context.Background()
	e.subscriber(9201, "en")
	e.subscriber(9202, "ru")
	e.deadLetters("b-1", subscriptions.Filter{Language: "en"}, 1)

	e.say(admin, "/deadletters")
	list := e.waitNew(admin, "Dead letters:")
	e.deadLetters("b-2", subscriptions.Filter{Language: "ru"}, 1)
	e.press(admin, list, "Discard")
	e.waitText(admin, list.MessageID, "Ada discarded 1 dead letter at ")
	e.waitFor("the answer", func() bool { return slices.Contains(e.answersTo(list.MessageID), "1 discarded") })
	sum, err := e.st.DeadLetterSummary(ctx)
	if err != nil || sum.Count != 1 || sum.Reasons[0].Count != 1 {
		t.Fatalf("after Discard: got %+v, %v; want the later letter kept", sum, err)
	}
	if q, err := e.st.QueueDepth(ctx); err != nil || q != 0 {
		t.Fatalf("queue after Discard: got %d, %v; want nothing queued", q, err)
	}
	e.pressData(admin, list, buttonData(list, "Discard"))
	e.waitFor("the second answer", func() bool { return len(e.answersTo(list.MessageID)) == 2 })
	if got := e.answersTo(list.MessageID)[1]; !strings.HasPrefix(got, "Nothing left to do") {
		t.Fatalf("second Discard: got %q, want nothing left", got)
	}
	if sum, err := e.st.DeadLetterSummary(ctx); err != nil || sum.Count != 1 {
		t.Fatalf("after a second Discard: got %+v, %v; want the later letter still kept", sum, err)
	}
	for _, c := range []int64{9201, 9202} {
		if got := e.received(c); len(got) != 0 {
			t.Errorf("chat %d got %+v, want nothing: its letter was discarded or is still dead", c, got)
		}
	}
}
