package delivery_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// productionEngine is an engine on e with the defaults a deployment runs
// with (SEND_RATE=25), not the tests' quick ones.
func productionEngine(b *testing.B, e *env) *delivery.Engine {
	b.Helper()
	eng, err := delivery.New(delivery.Params{Store: e.st, Intake: e.st, Telegram: e.tg, Subscribers: e.subs, Publications: e.st, Rate: 25})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// BenchmarkDeliveryIdle counts the Redis commands an idle engine issues
// (INFO commandstats, scripts' commands included) over BB_IDLE_SECONDS
// (default 30) on a redis-server of its own, after a few seconds to settle.
//
//	go test -run '^$' -bench Idle -benchtime 1x ./bot/delivery/
func BenchmarkDeliveryIdle(b *testing.B) {
	srv := startRedisServer(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr()})
	b.Cleanup(func() { rdb.Close() })
	e := newEnvOn(b, rdb, telegramtest.Options{})
	e.run(productionEngine(b, e))
	window := 30 * time.Second
	if s, err := strconv.Atoi(os.Getenv("BB_IDLE_SECONDS")); err == nil && s > 0 {
		window = time.Duration(s) * time.Second
	}
	time.Sleep(3 * time.Second) // first beats, group creation
	b.ResetTimer()
	var calls int64
	for range b.N {
		before := commandCalls(b, rdb)
		time.Sleep(window)
		calls += commandCalls(b, rdb) - before
	}
	b.StopTimer()
	b.ReportMetric(float64(calls)/(window.Seconds()*float64(b.N)), "redis-cmds/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDeliveryShutdown measures how long an idle engine's Run takes to
// return once its context ends, its reads blocked in Redis.
//
//	go test -run '^$' -bench Shutdown -benchtime 10x ./bot/delivery/
func BenchmarkDeliveryShutdown(b *testing.B) {
	srv := startRedisServer(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr()})
	b.Cleanup(func() { rdb.Close() })
	e := newEnvOn(b, rdb, telegramtest.Options{})
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		eng := productionEngine(b, e)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()
		time.Sleep(1500 * time.Millisecond) // its loops started and waiting
		b.StartTimer()
		began := time.Now()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		total += time.Since(began)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/shutdown")
	b.ReportMetric(0, "ns/op")
}
