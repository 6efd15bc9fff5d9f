package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// archiveSite serves an HTML list in two pages with the embassy's pager
// (?start=N&ps=10&ppp=15): page 2 holds a passport notice page 1 does not.
// fresh adds a new entry on top of page 1.
type archiveSite struct {
	*httptest.Server
	fresh atomic.Bool
	page2 atomic.Int32 // requests of page 2
}

func newArchiveSite(t *testing.T) *archiveSite {
	s := &archiveSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		b.WriteString("<html><body>")
		if r.URL.Query().Get("start") == "10" {
			s.page2.Add(1)
			b.WriteString(`<p>02.10.2017 - <a href="/fnapr/102">Новые правила выдачи паспорта</a></p><p>Консульский отдел сообщает.</p>`)
			b.WriteString(`<p>01.10.2017 - <a href="/fnapr/101">Statement on the situation in Catalonia</a></p><p>Text.</p>`)
		} else {
			if s.fresh.Load() {
				b.WriteString(`<p>17.10.2017 - <a href="/fnapr/300">Паспорта: новые сроки оформления</a></p><p>Консульский отдел.</p>`)
			}
			b.WriteString(`<p>16.10.2017 - <a href="/fnapr/201">Briefing by the Foreign Ministry Spokesperson</a></p><p>Text.</p>`)
			b.WriteString(`<p>11.10.2017 - <a href="/fnapr/200">Press release on talks</a></p><p>Text.</p>`)
		}
		b.WriteString(`<p class="pages">Pages: <a href="/newarh/?start=0&amp;ps=10&amp;ppp=15">1</a> <a href="/newarh/?start=10&amp;ps=10&amp;ppp=15">2</a></p></body></html>`)
		fmt.Fprint(w, b.String())
	}))
	t.Cleanup(s.Close)
	return s
}

// TestBackfillThenSearch: with backfill_pages set, the run path reads the
// list's second page once, silently, and /search then finds what only that
// page held; a new publication's alert carries the Similar button. Both
// stores.
func TestBackfillThenSearch(t *testing.T) {
	for _, name := range []string{"bolt", "redis"} {
		t.Run(name, func(t *testing.T) {
			tgSrv := telegramtest.NewServer(telegramtest.Options{})
			defer tgSrv.Close()
			const user = 1001
			tgSrv.AddPrivateChat(user, "Анна", "ru")
			site := newArchiveSite(t)
			cfgPath := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(cfgPath, []byte("polling:\n  backfill_pages: 3\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{
				"TELEGRAM_BOT_TOKEN":    tgSrv.Token(),
				"TELEGRAM_API_ENDPOINT": tgSrv.Endpoint(),
				"DATA_DIR":              t.TempDir(),
				"SOURCES":               site.URL + "/newarh/",
				"POLL_INTERVAL":         "1s",
				"HTTP_ADDR":             freeAddr(t),
				"CONFIG_FILE":           cfgPath,
			}
			if name == "redis" {
				vars["REDIS_URL"] = testRedisURL(t)
			}
			logs := &syncBuffer{}
			stop := runBot(t, vars, logs)
			defer stop()
			ctx := waitCtx(t)
			tgSrv.SendText(user, user, "/start")
			if _, err := tgSrv.WaitMessages(ctx, user, 1); err != nil {
				t.Fatalf("no welcome: %v\n%s", err, logs.String())
			}
			if err := logs.waitFor(ctx, "backfill of older pages finished"); err != nil {
				t.Fatalf("backfill did not finish: %v\n%s", err, logs.String())
			}
			if n := site.page2.Load(); n != 1 {
				t.Errorf("page 2 fetched %d times, want once", n)
			}
			tgSrv.SendText(user, user, "/search паспорт")
			msgs, err := tgSrv.WaitMessages(ctx, user, 2)
			if err != nil {
				t.Fatalf("no search answer: %v\n%s", err, logs.String())
			}
			if got := msgs[1].Text; !strings.Contains(got, "Новые правила выдачи паспорта") || strings.Contains(got, "Catalonia") {
				t.Fatalf("/search паспорт = %q, want the passport notice of page 2", got)
			}

			// user follows "паспорт" too (the item's category already
			// reaches them: sent once); follower wants no category and
			// gets it by the topic alone.
			const follower = 1002
			tgSrv.AddPrivateChat(follower, "Олег", "ru")
			tgSrv.SendText(user, user, "/follow паспорт")
			tgSrv.StartLink(follower, "topic64-0L_QsNGB0L_QvtGA0YI")
			if _, err := tgSrv.WaitMessages(ctx, user, 3); err != nil {
				t.Fatalf("no answer to /follow: %v\n%s", err, logs.String())
			}
			if _, err := tgSrv.WaitMessages(ctx, follower, 1); err != nil {
				t.Fatalf("no answer to the topic link: %v\n%s", err, logs.String())
			}

			// Nothing was announced for the archive; a new item is, with
			// its Similar button.
			site.fresh.Store(true)
			msgs, err = tgSrv.WaitMessages(ctx, user, 4)
			if err != nil {
				t.Fatalf("no alert: %v\n%s", err, logs.String())
			}
			alert := msgs[3]
			if !strings.Contains(alert.Text, "Паспорта: новые сроки") {
				t.Fatalf("third message %q, want the alert of the new item (and none for the archive)", alert.Text)
			}
			kb := alert.InlineKeyboard()
			var similar string
			if len(kb) == 1 {
				for _, btn := range kb[0] {
					if btn.Text == "🔎 Похожие" {
						similar = btn.CallbackData
					}
				}
			}
			if !strings.HasPrefix(similar, "sim:паспорт") {
				t.Fatalf("alert keyboard %+v, want a row with the Similar button", kb)
			}
			tgSrv.PressButton(user, user, alert.MessageID, similar)
			msgs, err = tgSrv.WaitMessages(ctx, user, 5)
			if err != nil {
				t.Fatalf("no answer to Similar: %v\n%s", err, logs.String())
			}
			if got := msgs[4].Text; !strings.Contains(got, "Новые правила выдачи паспорта") || !strings.Contains(got, "Паспорта: новые сроки") {
				t.Errorf("Similar answered %q, want both passport notices", got)
			}
			if got := len(tgSrv.Messages(user)); got != 5 {
				t.Errorf("%d messages, want 5 (no alert for the archive, the new one once)", got)
			}
			fm, err := tgSrv.WaitMessages(ctx, follower, 2)
			if err != nil {
				t.Fatalf("the topic's follower got no alert: %v\n%s", err, logs.String())
			}
			if !strings.Contains(fm[1].Text, "Паспорта: новые сроки") || len(tgSrv.Messages(follower)) != 2 {
				t.Errorf("follower's messages %d, second %q; want the alert once", len(tgSrv.Messages(follower)), fm[1].Text)
			}
		})
	}
}
