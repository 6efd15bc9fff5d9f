package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// TestSourceSecretsNeverShow runs the service with two sources whose URLs
// carry credentials and secret query values, one of them failing, and
// scrapes every place a source URL shows: the logs, /metrics, /readyz,
// the /stats message and the staff's health alert. None may show a secret;
// each must still name the source.
func TestSourceSecretsNeverShow(t *testing.T) {
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	const admin = 1001
	tgSrv.AddPrivateChat(admin, "Anna", "en")
	good := newSource(t, 2)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	secrets := []string{"TIGERPASSWORD9", "GOODSECRETKEY1", "FAILPASS123", "FAILTOKEN456", "SIGNATURE789"}
	goodURL := strings.Replace(good.URL, "http://", "http://scott:TIGERPASSWORD9@", 1) + "/feed?apikey=GOODSECRETKEY1&page=1"
	brokenURL := strings.Replace(broken.URL, "http://", "http://ops:FAILPASS123@", 1) + "/broken?access_token=FAILTOKEN456&sig=SIGNATURE789"

	cfgFile := filepath.Join(t.TempDir(), "bulletinbot.yaml")
	if err := os.WriteFile(cfgFile, []byte("health:\n  failures_before_alert: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	vars := map[string]string{
		"TELEGRAM_BOT_TOKEN": tgSrv.Token(), "TELEGRAM_API_ENDPOINT": tgSrv.Endpoint(),
		"DATA_DIR": t.TempDir(), "SOURCES": goodURL + "," + brokenURL, "POLL_INTERVAL": "1s",
		"HTTP_ADDR": addr, "LOG_LEVEL": "debug", "ADMIN_IDS": "1001", "CONFIG_FILE": cfgFile,
	}
	logs := &syncBuffer{}
	stop := runBot(t, vars, logs)
	ctx := waitCtx(t)
	if err := logs.waitFor(ctx, "poll failed"); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	goodShown := strings.TrimPrefix(good.URL, "http://") + "/feed?apikey=REDACTED&page=1"
	waitMetrics(t, ctx, addr, `result="error"`)
	metrics := waitMetrics(t, ctx, addr, goodShown)
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	readyz := get(t, "http://"+addr+"/readyz")
	tgSrv.SendText(admin, admin, "/stats")
	statsMsgs, err := tgSrv.WaitMessages(ctx, admin, 1)
	if err != nil {
		t.Fatalf("no /stats: %v\n%s", err, logs.String())
	}
	stats := statsMsgs[0].Text
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d\n%s", code, logs.String())
	}
	// Health is checked when the staff tools start: a restart alerts the
	// failure the first run recorded.
	stop = runBot(t, vars, logs)
	defer stop()
	alert := ""
	if err := tgSrv.WaitFor(ctx, func() bool {
		for _, m := range tgSrv.Messages(admin) {
			if strings.Contains(m.Text, "Source failing") {
				alert = m.Text
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no health alert: %v\n%s", err, logs.String())
	}
	stop()

	brokenShown := strings.TrimPrefix(broken.URL, "http://") + "/broken?access_token=REDACTED&sig=REDACTED"
	for _, surface := range []struct{ name, text, want string }{
		{"logs", logs.String(), brokenShown},
		{"/metrics", metrics, goodShown},
		{"/readyz", readyz, brokenShown},
		{"/stats", stats, brokenShown},
		{"health alert", alert, brokenShown},
	} {
		for _, s := range append(secrets, "scott", "ops:") {
			if strings.Contains(surface.text, s) {
				t.Errorf("%s shows %q:\n%s", surface.name, s, surface.text)
			}
		}
		if !strings.Contains(surface.text, surface.want) {
			t.Errorf("%s does not name the source as %q:\n%s", surface.name, surface.want, surface.text)
		}
	}
}
