package staff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// countTexts counts the bot's messages in chat containing want.
func (e *env) countTexts(chat int64, want string) int {
	n := 0
	for _, m := range e.fake.Messages(chat) {
		if strings.Contains(m.Text, want) {
			n++
		}
	}
	return n
}

// TestStaffResumeLiftsADayLongPause: a 429 with retry_after of a day
// tells staff once, however many replicas watch; a non-admin's press of a
// forged button changes nothing; the admin's press lifts it, and every
// subscriber gets the broadcast within a second or so.
func TestStaffResumeLiftsADayLongPause(t *testing.T) {
	ctx := context.Background()
	const stranger = int64(3003)
	onEachStore(t, options{}, func(t *testing.T, e *env) {
		e.fake.AddPrivateChat(stranger, "Eve", "en")
		e.start()
		e.replica("staff-2", []int64{admin})
		chats := []int64{2001, 2002, 2003, 2004, 2005}
		for _, c := range chats {
			e.subscriber(c, "en")
		}
		e.fake.Fail("sendMessage", 1, telegramtest.APIError{Code: 429, RetryAfter: 86400})
		if err := e.engine.Enqueue(ctx, delivery.Announcement{ID: "b-long", Kind: delivery.KindBroadcast,
			Texts: map[string]string{"": "news"}, Filter: subscriptions.Filter{}}); err != nil {
			t.Fatal(err)
		}
		notice := e.waitNew(admin, "Sending is paused")
		mustContain(t, "the notice", notice.Text, "flood limit (429)", "Until ")
		p, ok, err := e.engine.Paused(ctx)
		if err != nil || !ok || p.Reason != delivery.PauseFlood {
			t.Fatalf("Paused: got %+v %v %v, want the 429's pause", p, ok, err)
		}

		// A stranger given the same button by hand is refused.
		forged := notice.InlineKeyboard()[0][0].CallbackData
		msgID, err := e.bot.SendHTML(bot.Unpaced(ctx), stranger, "press me", bot.Keyboard{{{Text: "Resume", Data: forged}}})
		if err != nil {
			t.Fatal(err)
		}
		e.fake.PressButton(stranger, stranger, msgID, forged)
		e.waitFor("the stranger's press answered", func() bool { return len(e.fake.CallbackAnswers()) > 0 })
		if still, ok, _ := e.engine.Paused(ctx); !ok || still.ID() != p.ID() {
			t.Fatalf("after a stranger's press: got %+v %v, want the pause in force", still, ok)
		}

		// /stats shows it.
		e.say(admin, "/stats")
		stats := e.waitNew(admin, "Sending paused")
		mustContain(t, "/stats", stats.Text, "flood limit (429)")

		lifted := time.Now()
		e.press(admin, notice, "Resume now")
		e.waitText(admin, notice.MessageID, "Sending resumed")
		e.waitFor("every subscriber's copy", func() bool {
			for _, c := range chats {
				if len(e.fake.Messages(c)) == 0 {
					return false
				}
			}
			return true
		})
		// Within PauseCheck (500ms) of the lift the engine sends again; the
		// rest is the webhook's and the fake's own time.
		if took := time.Since(lifted); took > 2*time.Second {
			t.Errorf("delivered %v after the press, want about a second", took)
		}
		if _, ok, _ := e.engine.Paused(ctx); ok {
			t.Error("after Resume: still paused")
		}
		// The notice now says it was resumed; no other came.
		if n := e.countTexts(admin, "Sending is paused") + e.countTexts(admin, "Sending resumed by"); n != 1 {
			t.Errorf("got %d notices of the pause, want one across both replicas", n)
		}
		for _, c := range chats {
			if n := len(e.fake.Messages(c)); n != 1 {
				t.Errorf("chat %d: got %d messages, want 1", c, n)
			}
		}
		// The pressed button, pressed again, finds the pause over.
		e.press(admin, notice, "Resume now")
		e.waitFor("the second press answered", func() bool {
			for _, a := range e.fake.CallbackAnswers() {
				if strings.Contains(a.Text, "already over") {
					return true
				}
			}
			return false
		})
	})
}
