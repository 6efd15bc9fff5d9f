package staff_test

import (
	"fmt"
	"strings"
	"testing"
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
