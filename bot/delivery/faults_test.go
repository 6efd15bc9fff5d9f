package delivery_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// These tests play Telegram's failures against the engine on both stores.
// Time is compressed through Params (probes every 50-200ms, a storm pause
// of 300ms, a hold of 100ms, see env.params) rather than slept through:
// what is checked is what the engine does at each step, which does not
// depend on how long a step lasts, while each delivery's 24h lifetime is
// left as it is, so that a wrong dead letter would show.

// noLimits lifts the fake's rate limits, which these tests do not exercise.
var noLimits = telegramtest.Options{GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1}

// waitPause waits until the shared pause satisfies cond and returns it.
func (e *env) waitPause(what string, cond func(p delivery.Pause, ok bool) bool) delivery.Pause {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		p, ok, err := e.st.CurrentPause(context.Background(), time.Now())
		if err == nil && cond(p, ok) {
			return p
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("waiting for %s: last pause %+v %v, %v", what, p, ok, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func reason(r delivery.PauseReason) func(delivery.Pause, bool) bool {
	return func(p delivery.Pause, ok bool) bool { return ok && p.Reason == r }
}

// waitCalls waits until rec has seen n more calls of method than from.
func waitCalls(t *testing.T, rec *recordingTelegram, method string, from, n int) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := countCalls(rec.snapshot(), method)
		if got >= from+n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d %s calls: got %d", from+n, method, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func countCalls(calls []call, method string) int {
	n := 0
	for _, c := range calls {
		if c.method == method {
			n++
		}
	}
	return n
}

// everyoneOnce checks that each chat got the broadcast exactly once, that
// nothing was dead-lettered or removed, and that every chat is still
// subscribed.
func (e *env) everyoneOnce(eng *delivery.Engine, id string, chats []int64) {
	e.t.Helper()
	ctx := context.Background()
	st := e.waitDone(id, 20*time.Second)
	if st.Delivered != int64(len(chats)) || st.Failed != 0 || st.Removed != 0 {
		e.t.Errorf("got %+v, want all %d delivered, none failed or removed", st, len(chats))
	}
	if total, dup, missing := e.copies(chats); total != len(chats) || dup != 0 || missing != 0 {
		e.t.Errorf("got %d messages, %d duplicates, %d chats missing; want %d, 0, 0", total, dup, missing, len(chats))
	}
	if _, dead, err := eng.DeadLetters(ctx, 0); err != nil || dead != 0 {
		e.t.Errorf("got %d dead letters (%v), want none", dead, err)
	}
	for _, c := range chats {
		if _, ok, err := e.subs.Get(ctx, c); err != nil || !ok {
			e.t.Errorf("chat %d: got subscribed %v (%v), want still subscribed", c, ok, err)
		}
	}
	if p, ok, err := eng.Paused(ctx); err != nil || ok {
		e.t.Errorf("after delivery: got pause %+v %v (%v), want none", p, ok, err)
	}
}

// enqueueNews broadcasts "news" to every subscriber.
func (e *env) enqueueNews(eng *delivery.Engine, id string) {
	e.t.Helper()
	if err := eng.Enqueue(context.Background(), broadcast(id, subscriptions.Filter{}, map[string]string{"": "news"})); err != nil {
		e.t.Fatal(err)
	}
}

// noSendsBetween fails when a sendMessage call started in (from, to).
func noSendsBetween(t *testing.T, calls []call, from, to time.Time) {
	t.Helper()
	for _, c := range calls {
		if c.method == "sendMessage" && c.start.After(from) && c.start.Before(to) {
			t.Errorf("a send to %s started %v into the pause, want none while paused", c.chat, c.start.Sub(from))
		}
	}
}

// firstOK returns the first successful call of method after from.
func firstOK(calls []call, method string, from time.Time) (call, bool) {
	for _, c := range calls {
		if c.method == method && c.err == nil && c.start.After(from) {
			return c, true
		}
	}
	return call{}, false
}

func TestDeliverySurvivesATelegramOutage(t *testing.T) {
	t.Parallel()
	forEachStore(t, noLimits, func(t *testing.T, e *env) {
		ctx := context.Background()
		chats := e.privateSubscribers(1, 30)
		rec := &recordingTelegram{inner: e.tg}
		obs := newObserver()
		// Every method: the probes fail as the sends do.
		e.fake.FailEvery("", telegramtest.APIError{Code: 500})
		eng := e.engine(func(p *delivery.Params) {
			p.Telegram, p.Observer, p.Gaps = rec, obs, &delivery.Gaps{}
		})
		e.run(eng)
		e.enqueueNews(eng, "b-1")
		p := e.waitPause("an outage", reason(delivery.PauseOutage))
		if !p.Probe {
			t.Errorf("got %+v, want a pause that waits for a probe", p)
		}
		paused := time.Now()
		// Down with 500s for a few probes, then unreachable for a few.
		probes := waitCalls(t, rec, "getMe", 0, 3)
		e.fake.DropConnections(true)
		e.fake.StopFailing("")
		waitCalls(t, rec, "getMe", probes, 3)
		if got := e.waitPause("the outage to go on", func(delivery.Pause, bool) bool { return true }); got.ID() != p.ID() {
			t.Errorf("while unreachable: got pause %s, want the same episode %s", got.ID(), p.ID())
		}
		e.fake.DropConnections(false)
		e.everyoneOnce(eng, "b-1", chats)

		calls := rec.snapshot()
		ok, found := firstOK(calls, "getMe", paused)
		if !found {
			t.Fatal("got no successful probe, want one to end the outage")
		}
		// Nothing begins once the pause is written; a send begun just
		// before may start its call a little later on a loaded machine.
		noSendsBetween(t, calls, paused.Add(500*time.Millisecond), ok.start)
		t.Logf("%d sendMessage calls for %d chats, %d getMe probes, resumed %v after the outage was seen",
			countCalls(calls, "sendMessage"), len(chats), countCalls(calls, "getMe"), ok.end.Sub(paused).Round(time.Millisecond))
		st, _ := e.st.Announcement(ctx, "b-1")
		if st.Retries >= 5 {
			t.Errorf("got %d retries counted, want fewer than the 5 failures that make an outage: nothing counts while paused", st.Retries)
		}
		if res, _, _, dead := obs.counts(); dead != 0 || res["sent"] != len(chats) {
			t.Errorf("observed %v and %d dead letters, want %d sent and none dead", res, dead, len(chats))
		}
		if n := len(e.logs.lines("Telegram looks down")); n != 1 {
			t.Errorf("got %d outage warnings, want 1", n)
		}
		if n := len(e.logs.lines("sending resumed")); n != 1 {
			t.Errorf("got %d resume lines, want 1", n)
		}
	})
}

func TestDelivery401PausesUntilTheTokenWorks(t *testing.T) {
	t.Parallel()
	forEachStore(t, noLimits, func(t *testing.T, e *env) {
		ctx := context.Background()
		chats := e.privateSubscribers(1, 10)
		rec := &recordingTelegram{inner: e.tg}
		e.fake.FailEvery("", telegramtest.APIError{Code: 401})
		eng := e.engine(func(p *delivery.Params) { p.Telegram, p.Gaps = rec, &delivery.Gaps{} })
		e.run(eng)
		e.enqueueNews(eng, "b-1")
		p := e.waitPause("a 401 pause", reason(delivery.PauseUnauthorized))
		paused := time.Now()
		reads := e.watch.pauseReads.Load()
		waitCalls(t, rec, "getMe", 0, 3)
		// Waiting out a pause, or a probe owed, reads the store about
		// every PauseCheck (100ms here) per loop, not in a spin.
		if n, took := e.watch.pauseReads.Load()-reads, time.Since(paused); float64(n) > 5*took.Seconds()/0.1+5 {
			t.Errorf("the pause was read %d times in %v, want about one per PauseCheck and loop", n, took)
		}
		if got, ok, err := eng.Paused(ctx); err != nil || !ok || got.ID() != p.ID() {
			t.Fatalf("after 3 refused probes: got %+v %v (%v), want %s still in force", got, ok, err, p.ID())
		}
		e.fake.StopFailing("")
		e.everyoneOnce(eng, "b-1", chats)
		calls := rec.snapshot()
		if ok, found := firstOK(calls, "getMe", paused); !found {
			t.Error("got no successful probe, want one to end the pause")
		} else {
			noSendsBetween(t, calls, paused.Add(500*time.Millisecond), ok.start)
		}
		loud := e.logs.lines("REFUSES THE BOT TOKEN")
		if len(loud) != 1 || !strings.Contains(loud[0], "level=ERROR") {
			t.Errorf("got %q, want one loud error about the token", loud)
		}
		if strings.Contains(e.logs.String(), e.fake.Token()) {
			t.Error("the token appears in the logs")
		}
	})
}

func TestDeliveryGoneStormRemovesNobody(t *testing.T) {
	t.Parallel()
	forEachStore(t, noLimits, func(t *testing.T, e *env) {
		chats := e.privateSubscribers(1, 40)
		e.fake.FailEvery("sendMessage", telegramtest.APIError{Code: 403})
		eng := e.engine(func(p *delivery.Params) { p.Gaps = &delivery.Gaps{} })
		e.run(eng)
		e.enqueueNews(eng, "b-1")
		first := e.waitPause("a gone storm", reason(delivery.PauseGoneStorm))
		// The storm outlasts the first pause: a second one follows, and
		// the second answers after it remove nobody either.
		e.waitPause("a second storm", func(p delivery.Pause, ok bool) bool {
			return ok && p.Reason == delivery.PauseGoneStorm && p.ID() != first.ID()
		})
		e.fake.StopFailing("sendMessage")
		e.everyoneOnce(eng, "b-1", chats)
		if got := e.logs.lines("subscriber removed"); len(got) != 0 {
			t.Errorf("got %d removals, want none: %q", len(got), got)
		}
	})
}

func TestDeliveryHugeRetryAfterIsLiftedWithinASecond(t *testing.T) {
	t.Parallel()
	forEachStore(t, noLimits, func(t *testing.T, e *env) {
		ctx := context.Background()
		chats := e.privateSubscribers(1, 10)
		rec := &recordingTelegram{inner: e.tg}
		e.fake.Fail("sendMessage", 1, telegramtest.APIError{Code: 429, RetryAfter: 86400})
		// The default PauseCheck, as in production.
		replicas := 2
		if e.rdb == nil {
			replicas = 1 // the embedded store is one process's
		}
		for i := range replicas {
			e.run(e.engine(func(p *delivery.Params) {
				// One send at a time, so that the 429 meets the first and
				// the rest wait.
				p.Telegram, p.Gaps, p.PauseCheck, p.Workers = rec, &delivery.Gaps{}, 0, 1
				p.ReplicaID = "replica-" + string(rune('a'+i))
			}))
		}
		staffSide := e.engine(nil)
		e.enqueueNews(staffSide, "b-1")
		p := e.waitPause("a day-long 429", reason(delivery.PauseFlood))
		if left := time.Until(p.Until); left < 23*time.Hour {
			t.Fatalf("got a pause of %v left, want about a day", left)
		}
		// Let the replicas settle into waiting out the pause.
		waitCalls(t, rec, "sendMessage", 0, 1)
		time.Sleep(1200 * time.Millisecond)
		before := countCalls(rec.snapshot(), "sendMessage")
		lifted := time.Now()
		if ok, err := staffSide.Resume(ctx, p.ID()); err != nil || !ok {
			t.Fatalf("Resume: got %v, %v; want true", ok, err)
		}
		e.everyoneOnce(staffSide, "b-1", chats)
		calls := rec.snapshot()
		if before != 1 {
			t.Errorf("got %d sends before the lift, want only the one that met the 429", before)
		}
		sent, found := firstOK(calls, "sendMessage", lifted)
		if !found {
			t.Fatal("no send after the lift")
		}
		wait := sent.start.Sub(lifted)
		if wait > time.Second {
			t.Errorf("first send %v after the lift, want within a second", wait)
		}
		t.Logf("first send %v after the lift", wait.Round(time.Millisecond))
	})
}
