package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// TestRunTokenRefusedPausesAndFailsReadiness: Telegram refusing the token
// for a while (a rotation, a proxy glitch) pauses sending, fails /readyz,
// is logged loudly once and shows in the metrics; once the token works
// again the held alert goes out and the bot is ready again.
func TestRunTokenRefusedPausesAndFailsReadiness(t *testing.T) {
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	const user = 1001
	tgSrv.AddPrivateChat(user, "Anna", "en")
	src := newSource(t, 2)
	addr := freeAddr(t)
	logs := &syncBuffer{}
	stop := runBot(t, botVars(tgSrv, src.URL+"/feed", addr, map[string]string{"DATA_DIR": t.TempDir()}), logs)
	defer stop()
	tgSrv.SendText(user, user, "/start")
	ctx := waitCtx(t)
	if _, err := tgSrv.WaitMessages(ctx, user, 1); err != nil {
		t.Fatalf("no welcome: %v\n%s", err, logs.String())
	}
	waitReady(t, ctx, addr)

	tgSrv.FailEvery("", telegramtest.APIError{Code: 401})
	src.items.Store(3)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), "the bot token is refused (401)") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/readyz never failed on the 401: last %d %q\n%s", resp.StatusCode, body, logs.String())
		case <-time.After(50 * time.Millisecond): // the endpoint is all there is to wait on
		}
	}
	waitMetrics(t, ctx, addr, `bulletinbot_send_paused{reason="unauthorized"} 1`)

	tgSrv.StopFailing("")
	if _, err := tgSrv.WaitMessages(ctx, user, 2); err != nil {
		t.Fatalf("no alert after the token works again: %v\n%s", err, logs.String())
	}
	waitReady(t, ctx, addr)
	waitMetrics(t, ctx, addr, `bulletinbot_send_paused{reason="unauthorized"} 0`)
	if n := strings.Count(logs.String(), "TELEGRAM REFUSES THE BOT TOKEN"); n != 1 {
		t.Errorf("got %d loud lines about the token, want 1", n)
	}
	if strings.Contains(logs.String(), tgSrv.Token()) {
		t.Error("the token appears in the logs")
	}
	if n := len(tgSrv.Messages(user)); n != 2 {
		t.Errorf("got %d messages, want the welcome and one alert", n)
	}
}
