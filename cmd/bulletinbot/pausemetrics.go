package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// pauseReasons are the values of the reason label, every one always
// present, so that a query sees 0 rather than nothing.
var pauseReasons = []delivery.PauseReason{delivery.PauseFlood, delivery.PauseOutage, delivery.PauseUnauthorized, delivery.PauseGoneStorm}

// pauseCollector reports the pause of all sending, read from the store at
// scrape time so that every replica shows the one they share.
type pauseCollector struct {
	paused, left *prometheus.Desc
	read         func(ctx context.Context) (delivery.Pause, bool, error)
	logger       *slog.Logger
}

// pauseGauges registers bulletinbot_send_paused{reason} (1 for the reason
// in force) and bulletinbot_send_pause_seconds (the timed part left).
func (m *metrics) pauseGauges(logger *slog.Logger, read func(ctx context.Context) (delivery.Pause, bool, error)) {
	m.registry.MustRegister(&pauseCollector{
		paused: prometheus.NewDesc("bulletinbot_send_paused", "1 while all sending is paused for this reason (flood, outage, unauthorized, gone_storm).", []string{"reason"}, nil),
		left:   prometheus.NewDesc("bulletinbot_send_pause_seconds", "Seconds left of the timed part of the pause of all sending; 0 when none.", nil, nil),
		read:   read,
		logger: logger,
	})
}

func (c *pauseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.paused
	ch <- c.left
}

func (c *pauseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, ok, err := c.read(ctx)
	if err != nil {
		c.logger.Warn("metric read failed", slog.String("metric", "bulletinbot_send_paused"), slog.Any("error", err))
		return
	}
	for _, r := range pauseReasons {
		v := 0.0
		if ok && p.Reason == r {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, v, string(r))
	}
	left := 0.0
	if ok {
		left = max(0, time.Until(p.Until).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.left, prometheus.GaugeValue, left)
}
