package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	cfg, rest, err := parseConfig("bulletinbot", nil, env(nil), &bytes.Buffer{}, io.Discard)
	if err != nil || len(rest) != 0 {
		t.Fatalf("parse: %v, %v", rest, err)
	}
	if err := cfg.Validate(false); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if got, want := strings.Join(cfg.Sources, ","), defaultSources; got != want {
		t.Fatalf("sources %q, want %q", got, want)
	}
	if cfg.PollInterval != 5*time.Minute || cfg.SendRate != 25 || cfg.HTTPAddr != "127.0.0.1:8080" || cfg.DataDir != "./data" {
		t.Fatalf("defaults %+v", cfg)
	}
	if err := cfg.Validate(true); err == nil || !strings.Contains(err.Error(), "TELEGRAM_BOT_TOKEN: required") {
		t.Fatalf("Validate(true) without token = %v, want token required", err)
	}
}

func TestConfigFlagsOverrideEnvironment(t *testing.T) {
	e := env(map[string]string{"POLL_INTERVAL": "10m", "ADMIN_IDS": "1, 2", "TELEGRAM_BOT_TOKEN": "1:a"})
	cfg, _, err := parseConfig("bulletinbot", []string{"-poll-interval", "30s", "-send-rate", "5"}, e, &bytes.Buffer{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PollInterval != 30*time.Second || cfg.SendRate != 5 {
		t.Fatalf("interval %v rate %v, want 30s and 5", cfg.PollInterval, cfg.SendRate)
	}
	if fmt.Sprint(cfg.AdminIDs) != "[1 2]" {
		t.Fatalf("admins %v, want [1 2]", cfg.AdminIDs)
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	e := env(map[string]string{
		"TELEGRAM_API_ENDPOINT": "https://api.telegram.org/bot",
		"REDIS_URL":             "http://localhost",
		"SOURCES":               "ftp://x, https://ok.example/",
		"POLL_INTERVAL":         "500ms",
		"ADMIN_IDS":             "12,abc",
		"SEND_RATE":             "fast",
		"WEBHOOK_URL":           "http://insecure.example/hook",
		"WEBHOOK_SECRET":        "has space",
		"LOG_LEVEL":             "loud",
		"LOG_FORMAT":            "xml",
	})
	cfg, _, err := parseConfig("bulletinbot", nil, e, &bytes.Buffer{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate(true)
	if err == nil {
		t.Fatal("Validate accepted a broken configuration")
	}
	for _, want := range []string{
		"ADMIN_IDS: \"abc\"", "SEND_RATE: \"fast\"", "TELEGRAM_BOT_TOKEN: required", "TELEGRAM_API_ENDPOINT",
		"REDIS_URL", "SOURCES: \"ftp://x\"", "POLL_INTERVAL: 500ms is too short", "WEBHOOK_URL", "WEBHOOK_SECRET",
		"LOG_LEVEL", "LOG_FORMAT",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestConfigTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("42:from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := parseConfig("bulletinbot", nil, env(map[string]string{"TELEGRAM_BOT_TOKEN_FILE": path}), &bytes.Buffer{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Token.Reveal() != "42:from-file" {
		t.Fatalf("token %q, want the file's", cfg.Token.Reveal())
	}
	if err := cfg.Validate(true); err != nil {
		t.Fatal(err)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	_, _, err := parseConfig("bulletinbot", []string{"-h"}, env(nil), &out, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	var raw rawConfig
	for _, s := range raw.settings() {
		if !strings.Contains(out.String(), s.env) || !strings.Contains(out.String(), "-"+flagName(s.env)) {
			t.Errorf("help lacks %s", s.env)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const token = "123456:SECRET-token"
	cfg := &Config{Token: Secret(token), LogLevel: "debug", LogFormat: "json"}
	for _, s := range []string{fmt.Sprint(cfg.Token), fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg.Token, cfg.Token)} {
		if strings.Contains(s, "SECRET") {
			t.Fatalf("formatted config holds the token: %s", s)
		}
	}
	var logs bytes.Buffer
	logger, err := newLogger(cfg, &logs)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("config", slog.Any("token", cfg.Token), slog.Any("config", cfg))
	logger.Warn("send failed", slog.Any("error", errors.New(`Post "https://api.telegram.org/bot`+token+`/sendMessage": EOF`)),
		slog.String("url", "https://api.telegram.org/bot"+token+"/getMe"))
	if strings.Contains(logs.String(), "SECRET") {
		t.Fatalf("logs hold the token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "[redacted]") {
		t.Fatalf("logs show no redaction:\n%s", logs.String())
	}
}

func TestConfigFileOverDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	const body = `
sources:
  - url: https://www.rusemb.org.uk/newarh/
    kind: html
health:
  failures_before_alert: 5
  silent_after: 336h
polling:
  burst_limit: 50
consular:
  phone: "+44 (0) 20 0000 0000"
rules:
  - category: consular
    contains: [visa]
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	fc, err := loadFileConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if fc.Health.FailuresBeforeAlert != 5 || fc.Health.SilentAfter != 336*time.Hour {
		t.Fatalf("health %+v, want 5 failures and 336h", fc.Health)
	}
	if fc.Polling.BurstLimit != 50 {
		t.Fatalf("polling %+v, want a burst limit of 50", fc.Polling)
	}
	if fc.Consular.Phone != "+44 (0) 20 0000 0000" || fc.Consular.Email != "info@rusemb.org.uk" {
		t.Fatalf("consular %+v, want the new phone over the default card", fc.Consular)
	}
	srcs := fc.sources([]string{"https://www.rusemb.org.uk/newarh/", "https://example.org/feed"})
	if srcs[0].Kind.String() != "html" || srcs[1].Kind.String() != "auto" {
		t.Fatalf("kinds %v %v, want html and auto", srcs[0].Kind, srcs[1].Kind)
	}
	c, err := fc.categorizer()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Categorize("Press release on visa rules", nil); got != "consular" {
		t.Fatalf("with the file's only rule, got %q, want consular", got)
	}
}

func TestConfigFileErrorsAllAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	const body = `
sources:
  - url: https://x.example/
    kind: xml
rules:
  - category: no-such-category
    contains: [x]
clocks:
  - zone: Mars/Olympus
    label: Mars
health:
  stale_after: -1h
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadFileConfig(path)
	if err == nil {
		t.Fatal("a broken config file loaded")
	}
	for _, want := range []string{"xml", "no-such-category", "Mars/Olympus", "health"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := loadFileConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing config file loaded")
	}
	if err := os.WriteFile(path, []byte("unknown_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFileConfig(path); err == nil || !strings.Contains(err.Error(), "unknown_key") {
		t.Errorf("unknown key: got %v, want an error naming it", err)
	}
}

func TestSendRateAboveTelegramsFreeLimitNeedsPaidBroadcast(t *testing.T) {
	var stderr bytes.Buffer
	code := realMain(t.Context(), []string{"run"}, env(map[string]string{"TELEGRAM_BOT_TOKEN": "1:a", "SEND_RATE": "100"}), io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "paid_broadcast") {
		t.Fatalf("exit %d, stderr %q; want 2 and a word on paid_broadcast", code, stderr.String())
	}
	fc := &FileConfig{Delivery: DeliveryConfig{PaidBroadcast: true}}
	if err := fc.checkWith(&Config{SendRate: 100}); err != nil {
		t.Fatalf("with paid broadcasts: %v", err)
	}
}

func TestRedisLoggerThrottles(t *testing.T) {
	var out bytes.Buffer
	l := newRedisLogger(slog.New(slog.NewTextHandler(&out, nil)))
	for range 50 {
		l.Printf(t.Context(), "redis: connection pool: failed to dial after %d attempts", 5)
	}
	if n := strings.Count(out.String(), "redis client"); n != 1 {
		t.Fatalf("%d lines for 50 messages within ten seconds, want 1:\n%s", n, out.String())
	}
	if l.suppressed.Load() != 49 {
		t.Fatalf("suppressed %d, want 49", l.suppressed.Load())
	}
}

func TestWebhookSettings(t *testing.T) {
	const official = "https://api.telegram.org/bot%s/%s"
	const local = "http://127.0.0.1:8081/bot%s/%s"
	good := strings.Repeat("aZ0_-", 4) // 20 characters
	tests := []struct {
		name, endpoint, url, secret string
		wantErr                     string // empty: valid
	}{
		{"https to telegram", official, "https://bot.example/hook", good, ""},
		{"http to telegram", official, "http://bot.example/hook", good, "WEBHOOK_URL: api.telegram.org only calls https://"},
		{"http to telegram named as a fully qualified name", "https://API.Telegram.org./bot%s/%s", "http://bot.example/hook", good, "WEBHOOK_URL: api.telegram.org only calls https://"},
		{"http to a self-hosted server", local, "http://bot.internal:8443/hook", good, ""},
		{"ftp to a self-hosted server", local, "ftp://bot.internal/hook", good, "WEBHOOK_URL: must be an https:// URL"},
		{"secret of one character", official, "https://bot.example/hook", "a", "WEBHOOK_SECRET: required with WEBHOOK_URL; 16 to 256"},
		{"secret of 15 characters", official, "https://bot.example/hook", good[:15], "WEBHOOK_SECRET"},
		{"secret of 16 characters", official, "https://bot.example/hook", good[:16], ""},
		{"secret of 256 characters", official, "https://bot.example/hook", strings.Repeat("a", 256), ""},
		{"secret of 257 characters", official, "https://bot.example/hook", strings.Repeat("a", 257), "WEBHOOK_SECRET"},
		{"secret outside Telegram's set", official, "https://bot.example/hook", good + "+/=", "WEBHOOK_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := parseConfig("bulletinbot", nil, env(map[string]string{
				"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_API_ENDPOINT": tt.endpoint,
				"WEBHOOK_URL": tt.url, "WEBHOOK_SECRET": tt.secret,
			}), &bytes.Buffer{}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate(true)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate: %v, want an error naming %q", err, tt.wantErr)
			case tt.wantErr != "" && strings.Contains(err.Error(), tt.secret) && len(tt.secret) > 1:
				t.Fatalf("the error %q shows the secret", err)
			}
		})
	}
}
