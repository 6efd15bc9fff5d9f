package staff_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/staff"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
)

// replica builds a second process's staff tools on the same store and
// Telegram: a bot of its own (not running: alerts need no intake) and a
// Staff running until the test ends.
func (e *env) replica(id string, admins []int64) *staff.Staff {
	e.t.Helper()
	client := tg.New(e.fake.Token(), e.fake.Endpoint(), nil)
	b, err := bot.New(bot.Params{Client: client, Store: e.st, Subscriptions: e.subs, Publications: e.st,
		Categorizer: e.cats, Admins: admins})
	if err != nil {
		e.t.Fatal(err)
	}
	p := staff.Params{
		Store: e.st, Engine: e.engine, Subscribers: e.subs, Categories: e.cats, Telegram: client,
		Admins: admins, ProgressEvery: 150 * time.Millisecond, CheckEvery: 20 * time.Millisecond, ReplicaID: id,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)).With("replica", id),
	}
	if e.o.staff != nil {
		e.o.staff(&p)
	}
	s, err := staff.Register(b, p)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx) })
	e.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return s
}

// TestStaffHealthAlertsOnce runs two replicas' watchers on one store: each
// change of a source's health reaches the admin exactly once, and an
// admin who never started the bot is skipped and logged.
func TestStaffHealthAlertsOnce(t *testing.T) {
	const stranger = 1002 // an admin who never started the bot
	admins := []int64{admin, stranger}
	onEachStore(t, options{admins: admins}, func(t *testing.T, e *env) {
		e.fake.AddUser(stranger, "Stan", "en")
		e.start()
		second := e.replica("staff-2", admins)
		const src = "https://www.rusemb.org.uk/newarh/"
		now := time.Now()

		// checkAll runs a few more checks on both replicas at once, so that a
		// repeat, if there were one, would have been sent.
		checkAll := func() {
			t.Helper()
			var wg sync.WaitGroup
			for _, s := range []*staff.Staff{e.staff, second} {
				for range 3 {
					wg.Go(func() {
						if err := s.CheckHealth(context.Background()); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
		}
		alerts := func(want int) []string {
			t.Helper()
			checkAll()
			var texts []string
			for _, m := range e.received(admin) {
				texts = append(texts, m.Text)
			}
			if len(texts) != want {
				t.Fatalf("got %d alerts, want %d: %q", len(texts), want, texts)
			}
			return texts
		}

		e.saveHealth(src, poller.Health{LastSuccess: now.Add(-time.Hour), ConsecutiveFailures: 2, LastError: "fetch: 503", LastNewItem: now.Add(-time.Hour)})
		alerts(0)

		e.saveHealth(src, poller.Health{LastSuccess: now.Add(-time.Hour), ConsecutiveFailures: 3, LastError: "fetch: <503> Service Unavailable", LastNewItem: now.Add(-time.Hour)})
		first := e.waitNew(admin, "Source failing")
		mustContain(t, "failing alert", first.Text, src, "The last 3 polls failed", "fetch: <503> Service Unavailable")
		alerts(1)
		e.saveHealth(src, poller.Health{LastSuccess: now.Add(-time.Hour), ConsecutiveFailures: 7, LastError: "fetch: 503", LastNewItem: now.Add(-time.Hour)})
		alerts(1)

		e.saveHealth(src, poller.Health{LastSuccess: now, LastNewItem: now.Add(-time.Hour)})
		e.waitNew(admin, "Source works again")
		alerts(2)

		e.saveHealth(src, poller.Health{LastSuccess: now, LastNewItem: now.Add(-15 * 24 * time.Hour)})
		silent := e.waitNew(admin, "Source silent")
		mustContain(t, "silence alert", silent.Text, "No new publication for 15 days")
		alerts(3)
		e.saveHealth(src, poller.Health{LastSuccess: now, LastNewItem: now})
		e.waitNew(admin, "Source has new publications again")
		texts := alerts(4)

		// A source that never had a new item is not "silent".
		e.saveHealth("https://example.org/empty", poller.Health{LastSuccess: now})
		alerts(4)
		if !strings.Contains(texts[0], "failing") {
			t.Errorf("first alert: got %q", texts[0])
		}
		mustContain(t, "logs", e.logs.String(), "admin cannot get alerts", "user_id=1002")
		if n := len(e.received(stranger)); n != 0 {
			t.Errorf("the stranger got %d messages", n)
		}
	})
}

// TestStaffHealthStaleSnapshot replays the race of two replicas' watchers
// in its bad order: replica A checks a fresh health and alerts, then
// replica B acts on the snapshot it read before the change. B must not
// undo A's alert (no "has new publications again", no "works again"), nor
// raise again an alert A cleared.
func TestStaffHealthStaleSnapshot(t *testing.T) {
	onEachStore(t, options{noWatch: true}, func(t *testing.T, e *env) {
		e.start()
		b := e.replica("staff-b", []int64{admin})
		const src = "https://www.rusemb.org.uk/newarh/"
		now := time.Now()
		ctx := context.Background()
		snapshot := func() map[string]poller.Health {
			t.Helper()
			h, err := e.st.SourceHealth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		steps := []struct {
			name   string
			health poller.Health
			alert  string // what A's fresh check alerts
		}{
			{"falls silent", poller.Health{LastSuccess: now, LastNewItem: now.Add(-15 * 24 * time.Hour)}, "Source silent"},
			{"publishes again", poller.Health{LastSuccess: now, LastNewItem: now}, "Source has new publications again"},
			{"fails", poller.Health{LastSuccess: now, ConsecutiveFailures: 3, LastError: "fetch: 503", LastNewItem: now}, "Source failing"},
			{"works again", poller.Health{LastSuccess: now, LastNewItem: now}, "Source works again"},
		}
		e.saveHealth(src, poller.Health{LastSuccess: now, LastNewItem: now})
		for i, st := range steps {
			stale := snapshot()
			e.saveHealth(src, st.health)
			if err := e.staff.CheckHealth(ctx); err != nil {
				t.Fatal(err)
			}
			e.waitNew(admin, st.alert)
			if err := b.ApplyHealth(ctx, stale); err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, m := range e.received(admin) {
				texts = append(texts, m.Text)
			}
			if len(texts) != i+1 {
				t.Fatalf("%s: got %d alerts, want %d: %q", st.name, len(texts), i+1, texts)
			}
		}
	})
}
