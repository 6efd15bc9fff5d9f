package main

import (
	"context"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// BenchmarkSourceChangeToAlert measures, through the whole run path, the
// time from a source gaining a publication to the first subscriber's alert,
// with POLL_INTERVAL=1s: on the embedded store, and on Redis when
// TEST_REDIS_URL is set. Each iteration makes 10 changes and reports their
// mean and worst latency.
func BenchmarkSourceChangeToAlert(b *testing.B) {
	for _, name := range []string{"embedded", "redis"} {
		b.Run(name, func(b *testing.B) {
			redisURL := ""
			if name == "redis" {
				if os.Getenv("TEST_REDIS_URL") == "" {
					b.Skip("TEST_REDIS_URL is unset")
				}
				redisURL = testRedisURL(b)
			}
			tgSrv := telegramtest.NewServer(telegramtest.Options{})
			defer tgSrv.Close()
			const user = 1001
			tgSrv.AddPrivateChat(user, "Anna", "en")
			src := newSource(b, 1)
			addr := freeAddr(b)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			go func() {
				done <- realMain(ctx, []string{"run"}, env(map[string]string{
					"TELEGRAM_BOT_TOKEN": tgSrv.Token(), "TELEGRAM_API_ENDPOINT": tgSrv.Endpoint(),
					"DATA_DIR": b.TempDir(), "REDIS_URL": redisURL, "SOURCES": src.URL + "/feed",
					"POLL_INTERVAL": "1s", "HTTP_ADDR": addr, "LOG_LEVEL": "error",
				}), io.Discard, io.Discard)
			}()
			defer func() { cancel(); <-done }()
			wait, stop := context.WithTimeout(context.Background(), 5*time.Minute)
			defer stop()
			tgSrv.SendText(user, user, "/start")
			if _, err := tgSrv.WaitMessages(wait, user, 1); err != nil {
				b.Fatal(err)
			}
			waitReady(b, wait, addr)

			var latencies []time.Duration
			b.ResetTimer()
			for b.Loop() {
				for range 10 {
					before := len(tgSrv.Messages(user))
					start := time.Now()
					src.items.Add(1)
					if _, err := tgSrv.WaitMessages(wait, user, before+1); err != nil {
						b.Fatal(err)
					}
					latencies = append(latencies, time.Since(start))
				}
			}
			b.StopTimer()
			var sum time.Duration
			for _, l := range latencies {
				sum += l
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(latencies)), "ms/alert-mean")
			b.ReportMetric(float64(slices.Max(latencies).Milliseconds()), "ms/alert-max")
		})
	}
}
