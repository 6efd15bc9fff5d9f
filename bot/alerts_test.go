package bot_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
)

// alertStore is what alerts need beyond fullStore; both stores have it.
type alertStore interface {
	fullStore
	delivery.Store
	delivery.Publications
	bot.DigestStore
}

// startEngine runs a delivery engine that shapes alerts as b says, until
// the test ends.
func (e *env) startEngine(b *bot.Bot) *delivery.Engine {
	e.t.Helper()
	st := e.store.(alertStore)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	e.t.Cleanup(transport.CloseIdleConnections)
	eng, err := delivery.New(delivery.Params{
		Store: st, Telegram: tg.New(e.tg.Token(), e.tg.Endpoint(), &http.Client{Transport: transport}),
		Subscribers: e.subs, Publications: st, Labels: e.cats.Name, Shape: b.ShapeAlert, AlertMarkup: b.AlertMarkup,
		PollInterval: 20 * time.Millisecond, ReplicaID: "engine-" + e.t.Name(),
		Gaps: &delivery.Gaps{Private: time.Millisecond, Group: time.Millisecond}, // the fake here has no per-chat limit
	})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("engine Run: %v", err)
		}
	})
	return eng
}

func TestAlertsUrgencyMuteAndDigestRedis(t *testing.T) { testAlertsUrgencyMuteAndDigest(t, newEnv(t)) }
func TestAlertsUrgencyMuteAndDigestBolt(t *testing.T) {
	testAlertsUrgencyMuteAndDigest(t, newBoltEnv(t))
}

// testAlertsUrgencyMuteAndDigest: a routine alert is silent and an urgent
// one rings; each carries a Mute button whose Undo restores the category;
// a chat on the daily digest gets no alert but one message at its time.
func testAlertsUrgencyMuteAndDigest(t *testing.T, e *env) {
	ctx := context.Background()
	st := e.store.(alertStore)
	const alerts, digest int64 = 101, 102
	e.tg.AddPrivateChat(alerts, "Ann", "en")
	e.tg.AddPrivateChat(digest, "Bob", "en")
	b := e.start(func(p *bot.Params) { p.Digests = st })
	e.say(alerts, alerts, "/start", 1)
	e.say(digest, digest, "/start", 1)
	set := e.say(digest, digest, "/digest 08:00", 2)
	mustContain(t, "/digest answer", set.Text, "08:00", "Europe/London")
	eng := e.startEngine(b)

	// Seen at 09:32 UTC on 17 October 2017.
	pubs := []poller.Publication{
		{ID: "p-statement", URL: "https://www.rusemb.org.uk/fnapr/1", Title: "Statement on the Salisbury incident", Category: "statements", Date: e.clock.Now(), SeenAt: e.clock.Now()},
		{ID: "p-closure", URL: "https://www.rusemb.org.uk/fnapr/2", Title: "The Consular Section will be closed on 4 November", Category: "consular", Date: e.clock.Now(), SeenAt: e.clock.Now()},
	}
	e.seed(pubs...)
	for _, p := range pubs {
		if err := eng.Enqueue(ctx, delivery.Announcement{ID: delivery.PublicationAnnouncementID(p.ID), Kind: delivery.KindPublication, PublicationID: p.ID}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.waitMessages(alerts, 3)
	silent := map[string]bool{}
	var statement telegramtest.Message
	for _, m := range msgs[1:] {
		switch {
		case strings.Contains(m.Text, "Salisbury"):
			silent["statements"] = m.DisableNotification
			statement = m
			if got := keyboardData(m); len(got) != 2 || got[0] != "mute:statements" || !strings.HasPrefix(got[1], "sim:") {
				t.Errorf("statement's keyboard: got %v, want the mute button, then Similar", got)
			}
		case strings.Contains(m.Text, "Consular Section"):
			silent["consular"] = m.DisableNotification
			if got := keyboardData(m); len(got) != 2 || got[0] != "mute:consular" || !strings.HasPrefix(got[1], "sim:") {
				t.Errorf("closure's keyboard: got %v, want the mute button, then Similar", got)
			}
		}
	}
	if want := map[string]bool{"statements": true, "consular": false}; !mapsEqual(silent, want) {
		t.Errorf("silent by category: got %v, want %v (routine silent, urgent rings)", silent, want)
	}
	for _, p := range pubs {
		s, err := eng.Stats(ctx, delivery.PublicationAnnouncementID(p.ID))
		if err != nil {
			t.Fatal(err)
		}
		if s.Targeted != 1 {
			t.Errorf("%s: %d deliveries queued, want 1 (the digest chat gets none)", p.ID, s.Targeted)
		}
	}

	// Mute from the alert, then undo.
	e.tg.PressButton(alerts, alerts, statement.MessageID, "mute:statements")
	e.waitFor("the undo button", func() bool {
		got := keyboardData(e.message(alerts, statement.MessageID))
		return len(got) == 2 && got[0] == "unmute:statements" && strings.HasPrefix(got[1], "sim:") // Similar kept
	})
	e.waitHandled()
	if s, _ := e.subscriber(alerts); s.Wants("statements") || !s.Wants("consular") {
		t.Fatalf("after mute: categories %v, want statements off and the rest on", s.Categories)
	}
	e.tg.PressButton(alerts, alerts, statement.MessageID, "unmute:statements")
	e.waitFor("the mute button back", func() bool {
		got := keyboardData(e.message(alerts, statement.MessageID))
		return len(got) == 2 && got[0] == "mute:statements"
	})
	e.waitHandled()
	if s, _ := e.subscriber(alerts); !s.Wants("statements") {
		t.Fatalf("after undo: categories %v, want statements on", s.Categories)
	}

	// Not yet due: nothing. At 08:00 London the next morning: one message.
	if err := b.SendDueDigests(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Date(2017, 10, 18, 7, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	if err := b.SendDueDigests(ctx); err != nil {
		t.Fatal(err)
	}
	got := e.waitMessages(digest, 3)
	d := got[2]
	mustContain(t, "digest", d.Text, "Digest for 18.10.2017", "2 new", "Salisbury", "Consular Section will be closed")
	if !strings.Contains(d.HTML, `href="https://www.rusemb.org.uk/fnapr/2"`) {
		t.Errorf("digest without the links: %s", d.HTML)
	}
	// Sent once: asked again the same minute, and by a second replica's
	// bot on the same store, nothing more.
	other, _ := e.newBot(func(p *bot.Params) { p.Digests = st })
	for _, bb := range []*bot.Bot{b, other} {
		if err := bb.SendDueDigests(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.tg.Messages(digest)); n != 3 {
		t.Errorf("digest chat has %d messages, want 3: one digest", n)
	}
}

// message is the current state of one of the bot's messages.
func (e *env) message(chatID int64, id int) telegramtest.Message {
	for _, m := range e.tg.Messages(chatID) {
		if m.MessageID == id {
			return m
		}
	}
	return telegramtest.Message{}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
