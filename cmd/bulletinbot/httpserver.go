package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/poller"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// readiness decides /readyz: the store answers, Telegram accepts the token
// and every source was polled successfully within staleAfter. Health comes from the store, so a replica
// that just started is ready as soon as another one has polled.
type readiness struct {
	ping   func(ctx context.Context) error
	health func(ctx context.Context) (map[string]poller.Health, error)
	// pause, when set, is the pause of all sending: a refused token makes
	// the bot useless until it is fixed, which an operator must see.
	pause      func(ctx context.Context) (delivery.Pause, bool, error)
	sources    []string
	staleAfter time.Duration
	now        func() time.Time
}

// readyPingTimeout bounds the store's answer to a readiness ping: the
// Redis client retries a failed command, which during a Sentinel failover
// would hide the gap behind one slow 200 instead of answering 503.
const readyPingTimeout = time.Second

func (r readiness) check(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
	err := r.ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	all, err := r.health(ctx)
	if err != nil {
		return fmt.Errorf("source health: %w", err)
	}
	var errs []error
	if r.pause != nil {
		p, paused, err := r.pause(ctx)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("pause of sending: %w", err))
		case paused && p.Reason == delivery.PauseUnauthorized:
			errs = append(errs, fmt.Errorf("telegram: the bot token is refused (401) since %s; sending is paused", p.Since.Format(time.RFC3339)))
		}
	}
	for _, s := range r.sources {
		h := all[s]
		switch {
		case h.LastSuccess.IsZero():
			errs = append(errs, fmt.Errorf("source %s: not polled successfully yet", redact.URL(s)))
		case r.now().Sub(h.LastSuccess) > r.staleAfter:
			errs = append(errs, fmt.Errorf("source %s: last successful poll %s ago", redact.URL(s), r.now().Sub(h.LastSuccess).Round(time.Second)))
		}
	}
	return errors.Join(errs...)
}

// httpLimits bound what one client of the listener can hold: a slow or
// idle connection is closed, so a few hundred of them cannot starve it.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

// defaultHTTPLimits fit the listener's clients: probes and scrapes that
// answer in milliseconds and webhook calls of at most 1 MiB, which Telegram
// sends in one go.
func defaultHTTPLimits() httpLimits {
	return httpLimits{
		readHeader:     5 * time.Second,
		read:           15 * time.Second,
		write:          30 * time.Second,
		idle:           60 * time.Second,
		maxHeaderBytes: 16 << 10,
	}
}

// newHTTPServer serves h within l.
func newHTTPServer(h http.Handler, l httpLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeaderBytes,
	}
}

// newHTTPHandler serves /healthz, /readyz, /metrics and, in webhook mode,
// the webhook path.
func newHTTPHandler(m *metrics, ready func(ctx context.Context) error, webhookPath string, webhook http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready:\n"+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	if webhook != nil {
		mux.Handle("POST "+webhookPath, webhook)
	}
	return mux
}
