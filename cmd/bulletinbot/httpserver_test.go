package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/poller"
)

func TestReadiness(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	const a, b = "https://example.org/a", "https://example.org/b"
	fresh := map[string]poller.Health{a: {LastSuccess: now}, b: {LastSuccess: now}}
	tests := []struct {
		name     string
		ping     error
		health   map[string]poller.Health
		pause    *delivery.Pause // in force when set
		pauseErr error
		wantErr  string // empty: ready
	}{
		{"all fresh", nil, map[string]poller.Health{a: {LastSuccess: now.Add(-time.Minute)}, b: {LastSuccess: now.Add(-59 * time.Minute)}}, nil, nil, ""},
		{"store down", errors.New("connection refused"), nil, nil, nil, "store: connection refused"},
		{"never polled", nil, map[string]poller.Health{a: {LastSuccess: now}}, nil, nil, b + ": not polled successfully yet"},
		{"stale", nil, map[string]poller.Health{a: {LastSuccess: now}, b: {LastSuccess: now.Add(-2 * time.Hour)}}, nil, nil, b + ": last successful poll 2h0m0s ago"},
		{"failing but recent success", nil, map[string]poller.Health{a: {LastSuccess: now.Add(-time.Minute), ConsecutiveFailures: 2}, b: {LastSuccess: now}}, nil, nil, ""},
		// A 429 or an outage is no reason to leave the pool (restarting cannot
		// help); a refused token makes the bot useless until someone acts.
		{"a 429", nil, fresh, &delivery.Pause{Reason: delivery.PauseFlood, Since: now, Until: now.Add(time.Hour)}, nil, ""},
		{"an outage", nil, fresh, &delivery.Pause{Reason: delivery.PauseOutage, Since: now, Until: now, Probe: true}, nil, ""},
		{"a refused token", nil, fresh, &delivery.Pause{Reason: delivery.PauseUnauthorized, Since: now, Until: now, Probe: true}, nil, "the bot token is refused (401) since 2026-11-29T12:00:00Z"},
		{"the pause unreadable", nil, fresh, nil, errors.New("connection refused"), "pause of sending: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readiness{
				ping:   func(context.Context) error { return tt.ping },
				health: func(context.Context) (map[string]poller.Health, error) { return tt.health, nil },
				pause: func(context.Context) (delivery.Pause, bool, error) {
					if tt.pause == nil {
						return delivery.Pause{}, false, tt.pauseErr
					}
					return *tt.pause, true, nil
				},
				sources:    []string{a, b},
				staleAfter: time.Hour,
				now:        func() time.Time { return now },
			}
			rec := httptest.NewRecorder()
			newHTTPHandler(newMetrics(), r.check, "", nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if tt.wantErr == "" {
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d (%s), want 200", rec.Code, rec.Body.String())
				}
				return
			}
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), tt.wantErr) {
				t.Fatalf("status %d body %q, want 503 naming %q", rec.Code, rec.Body.String(), tt.wantErr)
			}
		})
	}
}

func TestHealthzAndUnknownPaths(t *testing.T) {
	h := newHTTPHandler(newMetrics(), func(context.Context) error { return errors.New("not ready") }, "/hook", http.NotFoundHandler())
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/readyz", http.StatusServiceUnavailable},
		{http.MethodGet, "/metrics", http.StatusOK},
		{http.MethodGet, "/hook", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nothing", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

// TestHTTPListenerLimits checks that the listener lets go of clients that
// hold it: a silent connection, a trickled body, an idle keep-alive, and a
// header too large. The limits are shortened; the deadlines asserted are
// many times longer than them, and far shorter than what holding the
// connection would take without a limit.
func TestHTTPListenerLimits(t *testing.T) {
	lim := httpLimits{readHeader: 200 * time.Millisecond, read: 300 * time.Millisecond, write: time.Second, idle: 300 * time.Millisecond, maxHeaderBytes: 4 << 10}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := newHTTPServer(mux, lim)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// closed reports whether the server closes conn within d, reading and
	// discarding whatever it answers first.
	closed := func(conn net.Conn, d time.Duration) bool {
		_ = conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, conn)
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("silent connection", func(t *testing.T) {
		if c := dial(); !closed(c, 5*time.Second) {
			t.Fatal("a connection that sent nothing was held for 5 s")
		}
	})
	t.Run("trickled body", func(t *testing.T) {
		c := dial()
		if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one byte every 50 ms: the body would take 50 s
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		if !closed(c, 5*time.Second) {
			t.Fatal("a trickled body held the connection for 5 s")
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c := dial()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		if !closed(c, 5*time.Second) {
			t.Fatal("an idle keep-alive connection was held for 5 s")
		}
	})
	t.Run("header too large", func(t *testing.T) {
		c := dial()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
}

func TestDefaultHTTPLimitsAreSet(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), defaultHTTPLimits())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("a limit is unset: %+v", srv)
	}
	// A webhook body of 1 MiB must fit in ReadTimeout on a slow link
	// (1 Mbit/s takes about 8 s).
	if srv.ReadTimeout < 10*time.Second {
		t.Fatalf("ReadTimeout %v is too short for a 1 MiB webhook call", srv.ReadTimeout)
	}
}
