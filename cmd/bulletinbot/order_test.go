package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// listPage serves an HTML publication list, newest on top, as the
// embassy's site does; the test puts entries on top of it.
type listPage struct {
	*httptest.Server
	mu      sync.Mutex
	entries []string // "DD.MM.YYYY|id|title", top first
}

func newListPage(t *testing.T, entries ...string) *listPage {
	t.Helper()
	p := &listPage{entries: entries}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		var b strings.Builder
		b.WriteString(`<html><head><meta charset="utf-8"><title>News</title></head><body><div class="content">`)
		for _, e := range p.entries {
			f := strings.SplitN(e, "|", 3)
			fmt.Fprintf(&b, `<p>%s - <a href="/fnapr/%s">%s</a></p>`, f[0], f[1], f[2])
		}
		b.WriteString(`</div></body></html>`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, b.String())
	}))
	t.Cleanup(p.Close)
	return p
}

// listVars are the settings of a bot that polls page every second, talks
// to tgSrv, and listens on addr.
func listVars(tgSrv *telegramtest.Server, page *listPage, addr string) map[string]string {
	return botVars(tgSrv, page.URL+"/newarh/", addr, nil)
}

// botVars are the settings of a bot that polls sources every second, talks
// to tgSrv, and listens on addr, with more set or replaced by extra.
func botVars(tgSrv *telegramtest.Server, sources, addr string, extra map[string]string) map[string]string {
	vars := map[string]string{
		"TELEGRAM_BOT_TOKEN":    tgSrv.Token(),
		"TELEGRAM_API_ENDPOINT": tgSrv.Endpoint(),
		"SOURCES":               sources,
		"POLL_INTERVAL":         "1s",
		"HTTP_ADDR":             addr,
	}
	maps.Copy(vars, extra)
	return vars
}

func (p *listPage) addOnTop(entries ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = append(append([]string(nil), entries...), p.entries...)
}

// TestPollAnnouncedOldestFirst: publications that appear in one poll
// reach a chat in the order they were published, on either store, though
// the chat can take only one a second and the rest wait their turn.
func TestPollAnnouncedOldestFirst(t *testing.T) {
	for _, store := range []string{"embedded", "redis"} {
		t.Run(store, func(t *testing.T) {
			tgSrv := telegramtest.NewServer(telegramtest.Options{})
			defer tgSrv.Close()
			const user = 1001
			tgSrv.AddPrivateChat(user, "Anna", "en")
			page := newListPage(t, "27.11.2026|100|Embassy reception held")
			addr := freeAddr(t)
			vars := listVars(tgSrv, page, addr)
			if store == "redis" {
				vars["REDIS_URL"] = testRedisURL(t)
			} else {
				vars["DATA_DIR"] = t.TempDir()
			}
			logs := &syncBuffer{}
			stop := runBot(t, vars, logs)
			defer stop()

			tgSrv.SendText(user, user, "/start")
			ctx := waitCtx(t)
			if _, err := tgSrv.WaitMessages(ctx, user, 1); err != nil {
				t.Fatalf("no welcome: %v\n%s", err, logs.String())
			}
			waitReady(t, ctx, addr) // the first poll recorded the page silently
			before := len(tgSrv.Messages(user))
			// By date; within a day, the one lower on the page came first.
			page.addOnTop(
				"02.12.2026|104|Statement on the fourth matter",
				"30.11.2026|101|Statement on the first matter",
				"01.12.2026|103|Statement on the third matter",
				"01.12.2026|102|Statement on the second matter",
			)
			msgs, err := tgSrv.WaitMessages(ctx, user, before+4)
			if err != nil {
				t.Fatalf("alerts: %v\n%s", err, logs.String())
			}
			for i, want := range []string{"first matter", "second matter", "third matter", "fourth matter"} {
				if got := msgs[before+i].Text; !strings.Contains(got, want) {
					var all []string
					for _, m := range msgs[before:] {
						all = append(all, m.Text+" @"+m.Date.Format("05.000"))
					}
					t.Fatalf("alert %d is %q, want the %s; all: %q\n%s", i+1, got, want, all, logs.String())
				}
			}
		})
	}
}
