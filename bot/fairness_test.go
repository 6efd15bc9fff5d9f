package bot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// TestFloodDoesNotDelayOtherChats floods the bot with 200 /time from one
// chat, against the fake's real limits (one message a second per chat, a
// burst of 3, 30 a second overall) and the bot's default flood limit, then
// times another chat's /time: it must be answered within 2 s, in polling
// and in webhook mode, on both stores. The flooder gets its burst of answers and one
// notice; the rest of its flood is dropped.
func TestFloodDoesNotDelayOtherChats(t *testing.T) {
	const floods, within = 200, 2 * time.Second
	for _, tc := range []struct{ mode, store string }{
		{"polling", "redis"}, {"webhook", "redis"}, {"polling", "embedded"}, {"webhook", "embedded"},
	} {
		mode := tc.mode
		t.Run(tc.mode+"/"+tc.store, func(t *testing.T) {
			t.Parallel()
			var e *env
			if tc.store == "redis" {
				e = newEnv(t, telegramtest.Options{})
			} else {
				st, err := store.OpenBolt(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				e = newEnvOn(t, st, telegramtest.Options{})
			}
			change := func(p *bot.Params) { p.UserBurst, p.UserEvery = 0, 0 } // the defaults: 10, then one a second
			var b *bot.Bot
			if mode == "webhook" {
				mux := http.NewServeMux()
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				b, _ = e.newBot(change, func(p *bot.Params) {
					p.WebhookURL, p.WebhookSecret = srv.URL+"/hook", "fairness_webhook_secret"
				})
				mux.Handle("/hook", b.WebhookHandler())
				e.run(b)
				e.waitFor("the webhook", func() bool { return e.tg.Calls("setWebhook") > 0 })
			} else {
				b, _ = e.newBot(change)
				e.run(b)
				e.waitPolling()
			}
			const flooder, other = 4001, 4002
			e.tg.AddPrivateChat(flooder, "Flo", "en")
			e.tg.AddPrivateChat(other, "Oth", "en")
			for range floods {
				e.tg.SendText(flooder, flooder, "/time")
			}
			start := time.Now()
			e.tg.SendText(other, other, "/time")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			msgs, err := e.tg.WaitMessages(ctx, other, 1)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("the other chat's /time was never answered: %v\nlogs:\n%s", err, e.logs)
			}
			t.Logf("%s on %s: the other chat's /time answered in %v during a flood of %d", mode, tc.store, took.Round(time.Millisecond), floods)
			mustContain(t, "other chat's answer", msgs[0].Text, "Moscow")
			if took > within {
				t.Errorf("the other chat waited %v for /time, want at most %v", took, within)
			}

			// The flooder: 10 answers (the burst), then one notice, in
			// order; the other 189 commands are dropped at intake.
			const answered = 10
			got, err := e.tg.WaitMessages(ctx, flooder, answered+1)
			if err != nil {
				t.Fatalf("%v\nlogs:\n%s", err, e.logs)
			}
			e.waitHandled()
			got = e.tg.Messages(flooder)
			if len(got) != answered+1 {
				t.Fatalf("the flooder got %d messages, want %d answers and one notice", len(got), answered)
			}
			for _, m := range got[:answered] {
				mustContain(t, "flooder's answer", m.Text, "Moscow")
			}
			mustContain(t, "flooder's notice", got[answered].Text, "Too many requests")
		})
	}
}
