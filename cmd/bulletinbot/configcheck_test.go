package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryProblemAtOnce: settings, flags, the file's YAML and DATA_DIR
// are all reported in one go, in a user's words, and nothing starts.
func TestEveryProblemAtOnce(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	const body = "consular:\n  phone: \"1\"\nsorces:\n  - url: x\nhealth:\n  silent_after: soon\n  failures_before_alert: [1]\ndelivery:\n  paid_broadcast: maybe\n"
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "afile")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := realMain(t.Context(), []string{"run", "-admin-ids", "a"}, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": "1:x", "SEND_RATE": "0", "HTTP_ADDR": "bad", "DATA_DIR": notDir, "CONFIG_FILE": cfgPath,
	}), &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
	}
	got := stderr.String()
	for _, want := range []string{
		`ADMIN_IDS: "a" is not a Telegram user id`,
		"SEND_RATE: 0 would send nothing; give the messages per second to send, more than 0 (default 25)",
		`HTTP_ADDR: "bad" is not host:port`,
		cfgPath + ` line 3: unknown key "sorces" (did you mean "sources"?)`,
		cfgPath + ` line 6: health.silent_after: "soon" is not a duration such as 90s, 5m or 24h`,
		cfgPath + " line 7: health.failures_before_alert: a list is not a whole number",
		cfgPath + ` line 9: delivery.paid_broadcast: "maybe" is not true or false`,
		"DATA_DIR: " + notDir + " is a file, not a directory",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	for _, internal := range []string{"main.", "FileConfig", "!!str", "unmarshal", "out of range"} {
		if strings.Contains(got, internal) {
			t.Errorf("stderr shows Go internals (%q):\n%s", internal, got)
		}
	}
}

func TestYAMLProblemsInWords(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"nested key", "consular:\n  phnoe: x\n", `line 2: unknown key "consular.phnoe" (did you mean "consular.phone"?)`},
		{"no suggestion", "zzzzzzzz: 1\n", `line 1: unknown key "zzzzzzzz"`},
		{"in a list", "sources:\n  - url: x\n    knd: html\n", `line 3: unknown key "sources[0].knd" (did you mean "sources[0].kind"?)`},
		{"syntax", "a: [\n", "config.yaml line 1: did not find expected node content"},
		{"a list for a mapping", "health: [1]\n", "line 1: health: a list is not a mapping"},
		{"empty file", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeYAML("config.yaml", []byte(tt.body), &FileConfig{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "main.") || strings.Contains(err.Error(), "yaml:") {
				t.Errorf("Go internals in %q", err)
			}
		})
	}
}

// TestHelpToStdout: -h, of run and of preview, goes to stdout with exit 0,
// each with its own usage line.
func TestHelpToStdout(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"Usage: bulletinbot [run] [flags]\n       bulletinbot preview [-json] [flags] [URL...]", "-send-rate, SEND_RATE"}},
		{[]string{"help"}, []string{"Usage: bulletinbot [run] [flags]"}},
		{[]string{"preview", "-h"}, []string{"Usage: bulletinbot preview [-json] [flags] [URL...]\n", "Flags:\n  -json\n", "-sources, SOURCES"}},
	} {
		var stdout, stderr bytes.Buffer
		if code := realMain(t.Context(), tt.args, env(nil), &stdout, &stderr); code != 0 || stderr.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 0 and nothing", tt.args, code, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
		if strings.Contains(stdout.String(), "preview [run") {
			t.Errorf("%v: garbled usage:\n%s", tt.args, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := realMain(t.Context(), []string{"-nope"}, env(nil), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "-nope") || stdout.Len() != 0 {
		t.Errorf("unknown flag: exit %d, stdout %q, stderr %q; want 2 and the flag named on stderr", code, stdout.String(), stderr.String())
	}
}

func TestSendRateInWords(t *testing.T) {
	for _, tt := range []struct{ rate, want string }{
		{"0", "SEND_RATE: 0 would send nothing"},
		{"-3", "SEND_RATE: -3 would send nothing"},
		{"1001", "SEND_RATE: 1001 is more than Telegram lets any bot send, 1000 messages per second"},
		{"fast", `SEND_RATE: "fast" is not a number`},
	} {
		cfg, _, err := parseConfig("bulletinbot", nil, env(map[string]string{"TELEGRAM_BOT_TOKEN": "1:x", "SEND_RATE": tt.rate}), &bytes.Buffer{}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.Validate(true)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SEND_RATE=%s: got %v, want %q", tt.rate, err, tt.want)
		}
		if strings.Count(err.Error(), "SEND_RATE") != 1 {
			t.Errorf("SEND_RATE=%s: said more than once: %v", tt.rate, err)
		}
	}
}

// TestTakenHTTPAddrBeforeTheStore: a port in use stops run before the
// embedded store is created.
func TestTakenHTTPAddrBeforeTheStore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dataDir := filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	code := realMain(t.Context(), []string{"run"}, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": "1:x", "HTTP_ADDR": ln.Addr().String(), "DATA_DIR": dataDir,
		"TELEGRAM_API_ENDPOINT": "http://127.0.0.1:1/bot%s/%s",
	}), &bytes.Buffer{}, &logs)
	if code != 1 || !strings.Contains(logs.String(), "listen on HTTP_ADDR") {
		t.Fatalf("exit %d, want 1 and the listener named:\n%s", code, logs.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "bulletinbot.db")); !os.IsNotExist(err) {
		t.Errorf("the store was opened before the listener failed (stat: %v)", err)
	}
}

// TestReplacedCategoriesDropTheirDefaults: a file that replaces only the
// categories loads, keeps the default rules naming its categories, and
// warns once about the rest.
func TestReplacedCategoriesDropTheirDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	const body = "categories:\n  - id: consular\n    names: {en: Consular, ru: Консульские вопросы}\n  - id: other\n    names: {en: Other, ru: Другие публикации}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	fc, err := loadFileConfig(path)
	if err != nil {
		t.Fatalf("got %v, want the file to load", err)
	}
	c, err := fc.categorizer()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Categorize("Visa application centre closed", nil); got != "consular" {
		t.Errorf("a consular title: got %q, want consular (the default rule kept)", got)
	}
	if got := c.Categorize("Press release on talks", nil); got != "other" {
		t.Errorf("a press release: got %q, want other", got)
	}
	var logs bytes.Buffer
	fc.warnDropped(slog.New(slog.NewTextHandler(&logs, nil)))
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "rules_dropped=") {
		t.Errorf("got %d warnings, want one naming the dropped rules:\n%s", n, logs.String())
	}
	// Rules the file writes itself are checked, not dropped.
	if err := os.WriteFile(path, []byte(body+"rules:\n  - category: statements\n    contains: [statement]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFileConfig(path); err == nil || !strings.Contains(err.Error(), "statements") {
		t.Errorf("a rule the file wrote for a category it removed: got %v, want an error naming it", err)
	}
}
