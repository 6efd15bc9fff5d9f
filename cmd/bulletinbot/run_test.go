package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// source serves an RSS feed whose item count the test raises.
type source struct {
	*httptest.Server
	items atomic.Int32
}

func newSource(t testing.TB, items int) *source {
	t.Helper()
	s := &source{}
	s.items.Store(int32(items))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Embassy</title><link>https://www.rusemb.org.uk/</link>`)
		for i := s.items.Load(); i >= 1; i-- {
			fmt.Fprintf(&b, `<item><title>Press release on talks &lt;%d&gt; &amp; more</title><link>https://www.rusemb.org.uk/fnapr/%d</link><description>Teaser %d</description><pubDate>Mon, 16 Oct 2017 10:00:00 GMT</pubDate></item>`, i, i, i)
		}
		b.WriteString(`</channel></rss>`)
		_, _ = io.WriteString(w, b.String())
	}))
	t.Cleanup(s.Close)
	return s
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects the process's log output from several goroutines
// and lets a test wait for a line.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor blocks until the output holds text or ctx ends.
func (s *syncBuffer) waitFor(ctx context.Context, text string) error {
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), text) {
			s.mu.Unlock()
			return nil
		}
		if s.written == nil {
			s.written = make(chan struct{})
		}
		ch := s.written
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q in the logs: %w", text, ctx.Err())
		}
	}
}

// runBot starts realMain's run path and returns a function that stops it
// and returns its exit code; calling it again returns the same code.
func runBot(t *testing.T, vars map[string]string, logs io.Writer) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- realMain(ctx, []string{"run"}, env(vars), io.Discard, logs) }()
	var once sync.Once
	code := -1
	return func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				var stacks strings.Builder
				_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
				t.Errorf("bulletinbot did not stop within 30s of its context ending; goroutines:\n%s", stacks.String())
			}
		})
		return code
	}
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRunEmbeddedEndToEnd is the "from a fresh clone with no Redis"
// check: the binary's run path against the fake Telegram subscribes a user,
// alerts them, and after a restart still knows them.
func TestRunEmbeddedEndToEnd(t *testing.T) {
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	const user = 1001
	tgSrv.AddPrivateChat(user, "Anna", "en")
	src := newSource(t, 2)
	addr := freeAddr(t)
	vars := map[string]string{
		"TELEGRAM_BOT_TOKEN":    tgSrv.Token(),
		"TELEGRAM_API_ENDPOINT": tgSrv.Endpoint(),
		"DATA_DIR":              t.TempDir(),
		"SOURCES":               src.URL + "/feed",
		"POLL_INTERVAL":         "1s",
		"HTTP_ADDR":             addr,
		"LOG_LEVEL":             "debug",
	}
	logs := &syncBuffer{}
	stop := runBot(t, vars, logs)

	tgSrv.SendText(user, user, "/start")
	ctx := waitCtx(t)
	if _, err := tgSrv.WaitMessages(ctx, user, 1); err != nil {
		t.Fatalf("no welcome: %v\n%s", err, logs.String())
	}
	// The first poll of the source must have finished silently before a
	// new item appears; readiness says so.
	waitReady(t, ctx, addr)
	before := len(tgSrv.Messages(user))
	src.items.Store(3)
	msgs, err := tgSrv.WaitMessages(ctx, user, before+1)
	if err != nil {
		t.Fatalf("no alert: %v\n%s", err, logs.String())
	}
	alert := msgs[before]
	if !strings.Contains(alert.Text, "Press release on talks <3> & more") || !strings.Contains(alert.HTML, "https://www.rusemb.org.uk/fnapr/3") {
		t.Fatalf("alert %q (html %q), want the new press release with its link", alert.Text, alert.HTML)
	}

	// The engine counts a send when Telegram's answer is back, just after
	// the fake has shown the message: scrape until the count is there.
	metrics := waitMetrics(t, ctx, addr, `bulletinbot_sends_total{result="sent"} 1`)
	for _, series := range []string{"bulletinbot_polls_total", "bulletinbot_new_publications_total", "bulletinbot_queue_depth", "bulletinbot_subscribers 1"} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", code, logs.String())
	}

	// After a restart the subscriber is still known and alerted once more.
	stop = runBot(t, vars, logs)
	defer stop()
	ctx = waitCtx(t)
	waitReady(t, ctx, addr)
	before = len(tgSrv.Messages(user))
	src.items.Store(4)
	msgs, err = tgSrv.WaitMessages(ctx, user, before+1)
	if err != nil {
		t.Fatalf("no alert after restart: %v\n%s", err, logs.String())
	}
	if !strings.Contains(msgs[before].Text, "<4>") {
		t.Fatalf("alert after restart %q, want item 4", msgs[before].Text)
	}
	for _, m := range msgs {
		if strings.Contains(m.Text, "<1>") || strings.Contains(m.Text, "<2>") {
			t.Fatalf("old item re-sent: %q", m.Text)
		}
	}
	if strings.Contains(logs.String(), tgSrv.Token()) || strings.Contains(metrics, tgSrv.Token()) {
		t.Fatal("the token appears in logs or metrics")
	}
}

func waitReady(t testing.TB, ctx context.Context, addr string) {
	t.Helper()
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("never ready: %v", ctx.Err())
		case <-time.After(50 * time.Millisecond): // readiness has no signal to wait on but the endpoint itself
		}
	}
}

// waitMetrics scrapes /metrics until it holds series, and returns it.
func waitMetrics(t testing.TB, ctx context.Context, addr, series string) string {
	t.Helper()
	for {
		metrics := get(t, "http://"+addr+"/metrics")
		if strings.Contains(metrics, series) {
			return metrics
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/metrics never showed %s:\n%s", series, metrics)
		case <-time.After(20 * time.Millisecond): // a scrape is all there is to wait on
		}
	}
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testRedisURL returns the URL of an empty database of its own on the
// server of TEST_REDIS_URL.
func testRedisURL(t testing.TB) string {
	t.Helper()
	rdb := storetest.Redis(t)
	o := rdb.Options()
	return fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)
}

// TestTokenNeverLoggedOnTransportErrors: failed HTTP requests to the Bot API
// embed the request URL, which holds the token, in their errors.
func TestTokenNeverLoggedOnTransportErrors(t *testing.T) {
	const token = "987654:NEVER-LOG-THIS-token"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there: every call fails with the URL in the error
	logs := &syncBuffer{}
	addr := freeAddr(t)
	stop := runBot(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_ENDPOINT": "http://" + closed + "/bot%s/%s",
		"DATA_DIR": t.TempDir(), "SOURCES": "http://" + closed + "/feed", "HTTP_ADDR": addr, "LOG_LEVEL": "debug",
	}, logs)
	defer stop()
	ctx := waitCtx(t)
	if err := logs.waitFor(ctx, "connection refused"); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	metrics := get(t, "http://"+addr+"/metrics")
	readyz := get(t, "http://"+addr+"/readyz")
	stop()
	for name, text := range map[string]string{"logs": logs.String(), "metrics": metrics, "readyz": readyz} {
		if strings.Contains(text, token) || strings.Contains(text, "NEVER-LOG") {
			t.Errorf("the token appears in %s:\n%s", name, text)
		}
	}
}
