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
	"github.com/bulletinbot/bulletinbot/subscriptions"
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

// BenchmarkDeliveryPacedCommands counts the Redis commands per message of
// a fan-out to 200 subscribers at the default SEND_RATE, 25 a second, with
// production defaults, on a redis-server of its own: at that pace the
// store's calls carry one or two deliveries each, not a batch.
//
//	go test -run '^$' -bench PacedCommands -benchtime 1x ./bot/delivery/
func BenchmarkDeliveryPacedCommands(b *testing.B) {
	srv := startRedisServer(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr()})
	b.Cleanup(func() { rdb.Close() })
	e := newEnvOn(b, rdb, telegramtest.Options{GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1})
	const n = 200
	chats := e.privateSubscribers(1, n)
	eng := productionEngine(b, e)
	e.run(eng)
	b.ResetTimer()
	var calls int64
	for i := range b.N {
		before := commandCalls(b, rdb)
		id := "paced-" + strconv.Itoa(i)
		if err := eng.Enqueue(context.Background(), broadcast(id, subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			b.Fatal(err)
		}
		polls := int64(0)
		for deadline := time.Now().Add(5 * time.Minute); ; {
			polls++
			st, err := e.st.Announcement(context.Background(), id)
			if err != nil {
				b.Fatal(err)
			}
			if st.State == delivery.StateDone {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("not done after 5 minutes: %+v", st)
			}
			time.Sleep(500 * time.Millisecond)
		}
		// Less the benchmark's reads of the announcement, an HGETALL each.
		calls += commandCalls(b, rdb) - before - polls
	}
	b.StopTimer()
	if total, _, missing := e.copies(chats); total != n*b.N || missing != 0 {
		b.Fatalf("got %d messages, %d chats missing; want %d each", total, missing, b.N)
	}
	b.ReportMetric(float64(calls)/float64(n*b.N), "redis-cmds/msg")
	b.ReportMetric(0, "ns/op")
}
