package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// metrics are bulletinbot's Prometheus series. Labels never carry the
// token or a chat id: sources are the configured URLs, results a small set.
type metrics struct {
	registry   *prometheus.Registry
	polls      *prometheus.CounterVec
	fetchErrs  *prometheus.CounterVec
	newItems   *prometheus.CounterVec
	pollTime   *prometheus.HistogramVec
	sends      *prometheus.CounterVec
	flood      prometheus.Counter
	retries    prometheus.Counter
	deadLetter prometheus.Counter
	sendTime   prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulletinbot_polls_total", Help: "Polls of a source by result (new, unchanged, not_modified, error).",
		}, []string{"source", "result"}),
		fetchErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulletinbot_fetch_errors_total", Help: "Failed polls of a source.",
		}, []string{"source"}),
		newItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulletinbot_new_publications_total", Help: "Publications queued for announcement.",
		}, []string{"source"}),
		pollTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bulletinbot_poll_duration_seconds", Help: "Time to fetch, parse and record a source.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}, []string{"source"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulletinbot_sends_total", Help: "Messages sent to subscribers by result.",
		}, []string{"result"}),
		flood: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulletinbot_telegram_429_total", Help: "Too Many Requests answers from Telegram.",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulletinbot_send_retries_total", Help: "Sends retried after a transient failure.",
		}),
		deadLetter: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulletinbot_dead_letters_total", Help: "Deliveries given up after every retry.",
		}),
		sendTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bulletinbot_send_duration_seconds", Help: "Latency of sendMessage calls.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	m.registry.MustRegister(m.polls, m.fetchErrs, m.newItems, m.pollTime, m.sends, m.flood, m.retries, m.deadLetter, m.sendTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObservePoll implements poller.Observer.
func (m *metrics) ObservePoll(source, result string, fresh int, took time.Duration) {
	source = redact.URL(source) // /metrics is unauthenticated
	m.polls.WithLabelValues(source, result).Inc()
	if result == "error" {
		m.fetchErrs.WithLabelValues(source).Inc()
	}
	m.newItems.WithLabelValues(source).Add(float64(fresh))
	m.pollTime.WithLabelValues(source).Observe(took.Seconds())
}

// gauge registers a value read from the store at scrape time; a failed read
// is logged and reported as no sample rather than a stale number.
func (m *metrics) gauge(name, help string, logger *slog.Logger, read func(ctx context.Context) (float64, error)) {
	m.registry.MustRegister(&storeGauge{desc: prometheus.NewDesc(name, help, nil, nil), read: read, logger: logger})
}

type storeGauge struct {
	desc   *prometheus.Desc
	read   func(ctx context.Context) (float64, error)
	logger *slog.Logger
}

func (g *storeGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *storeGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := g.read(ctx)
	if err != nil {
		g.logger.Warn("metric read failed", slog.String("metric", g.desc.String()), slog.Any("error", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v)
}

// SendDone implements delivery.Observer.
func (m *metrics) SendDone(result string, latency time.Duration) {
	m.sends.WithLabelValues(result).Inc()
	m.sendTime.Observe(latency.Seconds())
}

// Paused implements delivery.Observer.
func (m *metrics) Paused(time.Duration) { m.flood.Inc() }

// Retried implements delivery.Observer.
func (m *metrics) Retried() { m.retries.Inc() }

// DeadLettered implements delivery.Observer.
func (m *metrics) DeadLettered() { m.deadLetter.Inc() }
