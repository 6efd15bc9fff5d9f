package staff_test

import (
	"context"
	"testing"
)

func TestStaffRestoreUndoesRemovals(t *testing.T) {
	ctx := context.Background()
	onEachStore(t, options{}, func(t *testing.T, e *env) {
		e.start()
		for _, c := range []int64{2001, 2002, 2003} {
			e.subscriber(c, "ru", "consular")
			if ok, err := e.subs.Remove(ctx, c, "403 Forbidden: bot was blocked by the user"); err != nil || !ok {
				t.Fatalf("Remove %d: %v %v", c, ok, err)
			}
		}
		e.say(admin, "/restore")
		help := e.waitNew(admin, "Undo removals")
		mustContain(t, "/restore", help.Text, "3 in the last 24 hours", "3 in the last 30 days")

		e.say(admin, "/restore 2001")
		e.waitNew(admin, "Chat 2001 is subscribed again")
		if s, ok, err := e.subs.Get(ctx, 2001); err != nil || !ok || s.Language != "ru" || len(s.Categories) != 1 || s.Categories[0] != "consular" {
			t.Fatalf("chat 2001: got %+v %v %v, want subscribed as it was", s, ok, err)
		}
		e.say(admin, "/restore 2001")
		e.waitNew(admin, "Nothing to restore for chat 2001")

		e.say(admin, "/restore 2h")
		e.waitNew(admin, "Restored 2 chats")
		for _, c := range []int64{2002, 2003} {
			if _, ok, err := e.subs.Get(ctx, c); err != nil || !ok {
				t.Errorf("chat %d: got subscribed %v (%v), want restored", c, ok, err)
			}
		}
		e.say(admin, "/restore yesterday")
		e.waitNew(admin, "I don't understand")

		// Not for citizens.
		e.fake.AddPrivateChat(3003, "Eve", "en")
		e.say(3003, "/restore 2h")
		e.waitNew(3003, "not available")
		mustContain(t, "logs", e.logs.String(), "staff command refused to a non-admin")
	})
}
