package main

import (
	"context"
	"errors"
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
