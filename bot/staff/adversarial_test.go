package staff_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// TestStaffTypedTimeAnswered: every typed time gets an answer: one passed
// or unreadable asks again, one too far ahead says how far is allowed, and
// one for an audience emptied since the draft says nobody would get it
// (it used to go unanswered).
func TestStaffTypedTimeAnswered(t *testing.T) {
	e := newEnv(t, options{})
	e.start()
	e.subscriber(8101, "en")
	e.say(admin, "/broadcast Typed times")
	control := e.waitMessage(admin, 2)
	e.press(admin, control, "Send at")
	e.press(admin, e.waitText(admin, control.MessageID, "When should"), "Type a time")
	e.waitNew(admin, "Send the time in your next message")
	// answer waits for a message the bot sends after the admin's text.
	answer := func(typed, want string) {
		t.Helper()
		before := len(e.received(admin))
		e.say(admin, typed)
		e.waitFor(fmt.Sprintf("the answer to %q", typed), func() bool {
			msgs := e.received(admin)
			return len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, want)
		})
	}
	for _, c := range []struct{ typed, want string }{
		{"2020-01-01 10:00", "I could not read that time"},
		{"yesterday <b>9</b>", "I could not read that time"},
		{"2099-01-01 10:00", "at most 30 days ahead"},
	} {
		answer(c.typed, c.want)
	}
	// Asked again, the admin types a time after the audience emptied.
	e.press(admin, e.message(admin, control.MessageID), "Type a time")
	e.waitNew(admin, "Send the time in your next message")
	if _, err := e.subs.Unsubscribe(t.Context(), 8101); err != nil {
		t.Fatal(err)
	}
	answer("10:30", "Nobody is in this audience")
	mustContain(t, "control after a time for nobody", e.message(admin, control.MessageID).Text, "When should")
}

// TestStaffBroadcastReplyToServiceMessage: /broadcast replying to a
// service message (here a pin notice, which Telegram cannot copy) answers
// why and makes no draft.
func TestStaffBroadcastReplyToServiceMessage(t *testing.T) {
	e := newEnv(t, options{})
	e.start()
	e.subscriber(8201, "en")
	pin := map[string]any{
		"message_id": 900001, "date": 1,
		"chat":           map[string]any{"id": admin, "type": "private", "first_name": "Ada"},
		"pinned_message": map[string]any{"message_id": 5, "date": 1, "chat": map[string]any{"id": admin, "type": "private"}, "text": "old"},
	}
	before := len(e.received(admin))
	e.post(admin, "/broadcast", []map[string]any{{"type": "bot_command", "offset": 0, "length": 10}}, pin)
	e.waitFor("the answer", func() bool { return len(e.received(admin)) > before })
	msgs := e.received(admin)
	mustContain(t, "answer", msgs[len(msgs)-1].Text, "Telegram cannot copy this message")
	for _, m := range e.received(admin)[before:] {
		if strings.Contains(m.Text, "Nothing is sent until") {
			t.Errorf("a draft was made of a service message: %q", m.Text)
		}
	}
	if n := len(e.received(8201)); n != 0 {
		t.Errorf("the subscriber got %d messages", n)
	}
}

// TestStaffCorrectionRefusedOrLiteral: a caption correction past
// Telegram's 1,024 characters is refused with nothing changed, and a
// correction typed as HTML reaches subscribers as the characters typed.
func TestStaffCorrectionRefusedOrLiteral(t *testing.T) {
	e := newEnv(t, options{})
	e.start()
	e.subscriber(8301, "en")
	e.say(admin, "/broadcast")
	e.waitMessage(admin, 1)
	e.fake.Send(admin, admin, telegramtest.UserMessage{Media: telegramtest.MediaPhoto, Text: "Closed on Tuesdya"})
	control := e.waitMessage(admin, 3)
	e.press(admin, control, "Send")
	var correct string
	e.waitFor("the Correct button", func() bool {
		correct = buttonData(e.message(admin, control.MessageID), "Correct")
		return correct != ""
	})
	e.fake.PressForgedButton(admin, admin, control.MessageID, correct)
	e.waitNew(admin, "corrected caption")
	e.say(admin, strings.Repeat("я", 1025))
	mustContain(t, "too long", e.waitNew(admin, "Nothing was changed").Text, "1,025 characters", "allows 1,024")
	if m := e.received(8301)[0]; m.Edits != 0 {
		t.Fatalf("the copy was edited by a refused correction: %+v", m)
	}

	// The same button again, as a replay would press it: the status may
	// have been redrawn meanwhile.
	e.fake.PressForgedButton(admin, admin, control.MessageID, correct)
	e.waitNew(admin, "corrected caption")
	e.say(admin, `<b>Closed</b> & <a href="https://evil.example">more</a>`)
	e.waitFor("the copy corrected", func() bool { return e.received(8301)[0].Edits == 1 })
	if m := e.received(8301)[0]; m.Text != `<b>Closed</b> & <a href="https://evil.example">more</a>` || len(m.Entities) != 0 {
		t.Errorf("copy after an HTML-looking correction: %q %+v, want the characters typed, unformatted", m.Text, m.Entities)
	}
}

// TestStaffHugeHTMLLookingBroadcast: an announcement of Telegram's full
// length made of characters HTML escapes (four times longer as HTML)
// previews exactly as typed, and makes a draft.
func TestStaffHugeHTMLLookingBroadcast(t *testing.T) {
	e := newEnv(t, options{})
	e.start()
	e.subscriber(8401, "en")
	body := strings.Repeat("<b>&", 4085/4) + "<"
	e.say(admin, "/broadcast "+body)
	control := e.waitMessage(admin, 2)
	mustContain(t, "control", control.Text, "Nothing is sent until")
	if preview := e.received(admin)[0]; preview.Text != body || len(preview.Entities) != 0 {
		t.Errorf("preview: %d characters with %d entities, want the %d typed, unformatted", len(preview.Text), len(preview.Entities), len(body))
	}
}
