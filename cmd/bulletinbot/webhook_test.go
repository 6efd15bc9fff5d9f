package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// TestRunWebhookMode drives the run path in webhook mode: the bot registers
// WEBHOOK_URL and serves its path on HTTP_ADDR. The test plays Telegram's
// side of the webhook itself; the URL is under .invalid, so nothing ever
// leaves this machine.
func TestRunWebhookMode(t *testing.T) {
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	const user = 1001
	tgSrv.AddPrivateChat(user, "Anna", "en")
	src := newSource(t, 1)
	addr := freeAddr(t)
	const secret = "webhook_Secret-123"
	logs := &syncBuffer{}
	stop := runBot(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tgSrv.Token(), "TELEGRAM_API_ENDPOINT": tgSrv.Endpoint(),
		"DATA_DIR": t.TempDir(), "SOURCES": src.URL + "/feed", "HTTP_ADDR": addr,
		"WEBHOOK_URL": "https://bulletinbot.invalid/tg/hook", "WEBHOOK_SECRET": secret,
	}, logs)
	defer stop()

	ctx := waitCtx(t)
	if err := tgSrv.WaitFor(ctx, func() bool { return tgSrv.Calls("setWebhook") > 0 }); err != nil {
		t.Fatalf("webhook never registered: %v\n%s", err, logs.String())
	}
	update := fmt.Sprintf(`{"update_id":7001,"message":{"message_id":1,"date":%d,
		"chat":{"id":%d,"type":"private","first_name":"Anna"},
		"from":{"id":%d,"is_bot":false,"first_name":"Anna","language_code":"en"},
		"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`, time.Now().Unix(), user, user)
	post := func(token string) int {
		t.Helper()
		// The handler answers 503 until Run is receiving; retry as Telegram would.
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/tg/hook", strings.NewReader(update))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", token)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable {
					return resp.StatusCode
				}
			}
			select {
			case <-ctx.Done():
				t.Fatalf("webhook never accepted an update: %v", ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	if code := post("wrong-secret"); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: status %d, want 401", code)
	}
	if code := post(secret); code != http.StatusOK {
		t.Fatalf("right secret: status %d, want 200", code)
	}
	if code := post(secret); code != http.StatusOK { // Telegram re-sending the same update
		t.Fatalf("repeated update: status %d, want 200", code)
	}
	msgs, err := tgSrv.WaitMessages(ctx, user, 1)
	if err != nil {
		t.Fatalf("no welcome: %v\n%s", err, logs.String())
	}
	if !strings.Contains(msgs[0].Text, "subscribed") {
		t.Fatalf("reply %q, want the welcome", msgs[0].Text)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, logs.String())
	}
	if n := len(tgSrv.Messages(user)); n != 1 {
		t.Fatalf("%d replies to one update sent twice, want 1", n)
	}
	if tgSrv.Calls("getUpdates") != 0 {
		t.Fatal("the bot long-polled in webhook mode")
	}
}

// TestRunWebhookOverHTTPWithSelfHostedAPI: with TELEGRAM_API_ENDPOINT on a
// self-hosted Bot API server (here the fake), WEBHOOK_URL may be http://;
// the bot warns once, registers it, and the server's deliveries over plain
// HTTP are answered.
func TestRunWebhookOverHTTPWithSelfHostedAPI(t *testing.T) {
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	const user = 1001
	tgSrv.AddPrivateChat(user, "Anna", "en")
	src := newSource(t, 1)
	addr := freeAddr(t)
	const secret = "self_hosted-Secret-0123"
	logs := &syncBuffer{}
	stop := runBot(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tgSrv.Token(), "TELEGRAM_API_ENDPOINT": tgSrv.Endpoint(),
		"DATA_DIR": t.TempDir(), "SOURCES": src.URL + "/feed", "HTTP_ADDR": addr,
		"WEBHOOK_URL": "http://" + addr + "/tg/hook", "WEBHOOK_SECRET": secret,
	}, logs)
	defer stop()
	ctx := waitCtx(t)
	if err := tgSrv.WaitFor(ctx, func() bool { return tgSrv.Calls("setWebhook") > 0 }); err != nil {
		t.Fatalf("webhook never registered: %v\n%s", err, logs.String())
	}
	tgSrv.SendText(user, user, "/start")
	msgs, err := tgSrv.WaitMessages(ctx, user, 1)
	if err != nil {
		t.Fatalf("no welcome over the http webhook: %v\n%s", err, logs.String())
	}
	if !strings.Contains(msgs[0].Text, "subscribed") {
		t.Fatalf("reply %q, want the welcome", msgs[0].Text)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d\n%s", code, logs.String())
	}
	out := logs.String()
	if n := strings.Count(out, "WEBHOOK_URL is http://"); n != 1 {
		t.Errorf("the http warning is logged %d times, want once:\n%s", n, out)
	}
	if strings.Contains(out, secret) {
		t.Error("the webhook secret appears in the logs")
	}
}
