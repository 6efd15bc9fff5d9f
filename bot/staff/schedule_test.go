package staff_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/staff"
)

// claimCounter counts the schedule's claims, so that a test can wait for
// every replica to have looked several times.
type claimCounter struct {
	staff.Store
	claims atomic.Int64
}

func (c *claimCounter) ClaimDueBroadcast(ctx context.Context, now time.Time) ([]byte, bool, error) {
	c.claims.Add(1)
	return c.Store.ClaimDueBroadcast(ctx, now)
}

// TestStaffScheduledBroadcastSentOnceAtItsTime: "Send at…" keeps the
// broadcast until its time in London; two replicas, one started after it
// was scheduled (the schedule is in the store), look for it many times
// before its time and send it once at its time; a typed time is read in
// London's zone, and a scheduled broadcast cancelled from /broadcasts is
// never sent.
func TestStaffScheduledBroadcastSentOnceAtItsTime(t *testing.T) {
	onBothStores(t, func(t *testing.T, o options) {
		london, err := time.LoadLocation("Europe/London")
		if err != nil {
			t.Fatal(err)
		}
		// 08:00 in London on a summer day: BST, an hour from UTC.
		clock := &fakeClock{now: time.Date(2026, 7, 1, 8, 0, 0, 0, london)}
		var counters []*claimCounter // one per replica
		o.staff = func(p *staff.Params) {
			p.Now, p.ScheduleEvery = clock.Now, 10*time.Millisecond
			c := &claimCounter{Store: p.Store}
			counters = append(counters, c)
			p.Store = c
		}
		e := newEnv(t, o)
		e.start()
		e.subscriber(9101, "en")
		e.subscriber(9102, "ru")

		e.say(admin, "/broadcast The consular section opens at 10:00 today")
		control := e.waitMessage(admin, 2)
		e.press(admin, control, "Send at")
		picker := e.waitText(admin, control.MessageID, "When should the announcement go?")
		mustContain(t, "picker", picker.Text, "08:00 BST now")
		e.press(admin, picker, "Today 09:00")
		scheduled := e.waitText(admin, control.MessageID, "Scheduled")
		mustContain(t, "scheduled", scheduled.Text, "01.07.2026 09:00 BST", "by Ada", "2 subscribers")

		// Another replica starts: it finds the schedule in the store.
		e.replica("staff-2", e.o.admins)
		counter, counter2 := counters[0], counters[1]
		waitClaims := func(what string) {
			from1, from2 := counter.claims.Load(), counter2.claims.Load()
			e.eventually(what, func() bool { return counter.claims.Load() >= from1+20 && counter2.claims.Load() >= from2+20 })
		}
		clock.Advance(59*time.Minute + 59*time.Second) // 08:59:59
		waitClaims("both replicas looking before its time")
		for _, c := range []int64{9101, 9102} {
			if n := len(e.received(c)); n != 0 {
				t.Fatalf("chat %d got %d messages before the time", c, n)
			}
		}
		e.say(admin, "/broadcasts")
		list := e.waitNew(admin, "09:00 BST · Ada · everyone")
		mustContain(t, "/broadcasts", list.Text, "Scheduled", "The consular section opens")

		clock.Advance(time.Second) // 09:00
		e.waitText(admin, control.MessageID, "Delivered: 2")
		waitClaims("both replicas looking after its time")
		for _, c := range []int64{9101, 9102} {
			if m := e.received(c); len(m) != 1 || !strings.Contains(m[0].Text, "opens at 10:00") {
				t.Errorf("chat %d: got %+v, want the announcement once", c, m)
			}
		}
		if n := strings.Count(e.logs.String(), "scheduled broadcast sent"); n != 1 {
			t.Errorf("the replicas logged %d sends, want 1", n)
		}

		// A typed time, then cancelled from /broadcasts.
		e.say(admin, "/broadcast Cancelled before it went")
		control = e.waitNew(admin, "Nothing is sent until")
		e.press(admin, control, "Send at")
		e.press(admin, e.waitText(admin, control.MessageID, "When should"), "Type a time")
		e.waitNew(admin, "Send the time in your next message")
		e.say(admin, "25:99")
		e.waitNew(admin, "I could not read that time")
		e.say(admin, "10:30")
		e.waitText(admin, control.MessageID, "01.07.2026 10:30 BST")
		e.say(admin, "/broadcasts")
		list = e.waitNew(admin, "10:30 BST · Ada · everyone")
		e.press(admin, list, "Cancel the one at 01.07.2026 10:30")
		e.waitText(admin, list.MessageID, "Scheduled announcement cancelled by Ada")
		clock.Advance(2 * time.Hour) // 11:00
		waitClaims("both replicas looking after the cancelled one's time")
		for _, c := range []int64{9101, 9102} {
			if n := len(e.received(c)); n != 1 {
				t.Errorf("chat %d got %d messages, want only the first announcement", c, n)
			}
		}
	})
}
