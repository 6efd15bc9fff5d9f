package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

func TestPauseMetrics(t *testing.T) {
	var (
		p  delivery.Pause
		ok bool
	)
	m := newMetrics()
	m.pauseGauges(slog.New(slog.DiscardHandler), func(context.Context) (delivery.Pause, bool, error) { return p, ok, nil })
	scrape := func() string {
		rec := httptest.NewRecorder()
		newHTTPHandler(m, func(context.Context) error { return nil }, "", nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return rec.Body.String()
	}
	body := scrape()
	for _, want := range []string{`bulletinbot_send_paused{reason="flood"} 0`, `bulletinbot_send_paused{reason="gone_storm"} 0`, "bulletinbot_send_pause_seconds 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("not paused: metrics lack %q", want)
		}
	}
	p, ok = delivery.Pause{Reason: delivery.PauseFlood, Since: time.Now(), Until: time.Now().Add(time.Hour)}, true
	body = scrape()
	if !strings.Contains(body, `bulletinbot_send_paused{reason="flood"} 1`) || !strings.Contains(body, `bulletinbot_send_paused{reason="outage"} 0`) {
		t.Errorf("during a 429: got\n%s\nwant flood 1, outage 0", grepLines(body, "send_paused"))
	}
	if !strings.Contains(body, "bulletinbot_send_pause_seconds 3599") && !strings.Contains(body, "bulletinbot_send_pause_seconds 3600") {
		t.Errorf("during a 429 of an hour: got %q, want about 3600 seconds left", grepLines(body, "pause_seconds"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestConfigFileDeliveryLifetime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("delivery:\n  lifetime: 48h\n")
	fc, err := loadFileConfig(path)
	if err != nil || fc.Delivery.Lifetime != 48*time.Hour {
		t.Fatalf("got %v, %v; want a lifetime of 48h", fc, err)
	}
	write("delivery:\n  lifetime: 10s\n")
	if _, err := loadFileConfig(path); err == nil || !strings.Contains(err.Error(), "lifetime") {
		t.Fatalf("a 10s lifetime: got %v, want an error naming it", err)
	}
}
