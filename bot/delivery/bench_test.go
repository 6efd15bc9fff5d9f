package delivery_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// BenchmarkDeliveryPipeline measures the whole pipeline with the rate limit
// lifted: fan-out from real subscriptions on Redis, leasing, per-chat
// reservations, sends to the fake Telegram (its limits off) and recording.
// The engine runs in a child process, so that its CPU time and peak RSS are
// its own (the fake Telegram runs in the benchmark process); Redis is a
// redis-server of the benchmark's own, so that its memory and CPU figures
// have no neighbours.
//
//	go test -run '^$' -bench Pipeline -benchtime 1x ./bot/delivery/
func BenchmarkDeliveryPipeline(b *testing.B) {
	for _, bc := range []struct {
		subs    int
		latency time.Duration
	}{
		{10000, 0},
		{10000, 50 * time.Millisecond},
		{100000, 0},
		{benchBigAudience(), 0},
	} {
		if bc.subs == 0 {
			continue
		}
		b.Run(fmt.Sprintf("subscribers=%d/latency=%v", bc.subs, bc.latency), func(b *testing.B) {
			benchPipeline(b, bc.subs, bc.latency)
		})
	}
}

func benchPipeline(b *testing.B, n int, latency time.Duration) {
	ctx := context.Background()
	srv := startRedisServer(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr(), PoolSize: 64})
	b.Cleanup(func() { rdb.Close() })
	e := newEnvOn(b, rdb, telegramtest.Options{GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1})
	e.fake.SetLatency(latency)

	before := usedMemory(b, rdb)
	seed(b, e, n)
	perSubscriber := float64(usedMemory(b, rdb)-before) / float64(n)
	perQueued := queuedDeliveryMemory(b, srv, n)

	const workers = 256
	child := startChild(b, e, "bench", "BB_RATE=0", "BB_WORKERS="+strconv.Itoa(workers), "BB_PAGE_SIZE=1000",
		"BB_PAGE_DELAY=0s", "BB_CLAIM_IDLE=60s", "BB_FANOUT_LEASE=30s")
	select {
	case <-child.ready:
	case <-time.After(30 * time.Second):
		b.Fatal("engine process did not start")
	}
	enqueuer := e.engine(nil)
	cpuBefore := redisCPU(b, rdb)
	base := usedMemory(b, rdb)
	peak := sampleMemory(b, rdb)
	var polls int64
	callsBefore := commandCalls(b, rdb)
	b.ResetTimer()
	began := time.Now()
	var sentRecord float64
	for i := range b.N {
		id := "bench-" + strconv.Itoa(i)
		if err := enqueuer.Enqueue(ctx, broadcast(id, subscriptions.Filter{}, map[string]string{"": "<b>Benchmark</b> alert &amp; text"})); err != nil {
			b.Fatal(err)
		}
		polls += waitChildDone(b, e, child, id, 30*time.Minute)
		if i == 0 {
			// Key layout of store: bb:{dlv}:sent:<announcement>.
			bytes, err := rdb.MemoryUsage(ctx, "bb:{dlv}:sent:"+id, 0).Result()
			if err != nil {
				b.Fatal(err)
			}
			sentRecord = float64(bytes) / float64(n)
		}
	}
	elapsed := time.Since(began)
	b.StopTimer()
	// Less the benchmark's polls of the announcement (one HGETALL each)
	// and its MEMORY USAGE; its Enqueue, a score of commands, stays in.
	calls := commandCalls(b, rdb) - callsBefore - polls - 1
	redisCPUms := (redisCPU(b, rdb) - cpuBefore) * 1000
	memPeak, queuePeak := peak()
	memPeak -= base

	// The peak RSS comes from /proc: wait4's ru_maxrss would report the
	// benchmark process's, which the child shares until it execs.
	rssPeak := procStatusKB(b, child.cmd.Process.Pid, "VmHWM")
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	if err := <-child.exited; err != nil {
		b.Fatalf("engine process: %v", err)
	}
	ru := child.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpuMs := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
	msgs := float64(n * b.N)
	b.ReportMetric(msgs/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(cpuMs/msgs*1000, "cpu-ms/1k-msgs")
	b.ReportMetric(redisCPUms/msgs*1000, "redis-cpu-ms/1k-msgs")
	b.ReportMetric(float64(rssPeak)/1024, "rss-peak-MiB")
	b.ReportMetric(float64(memPeak)/(1<<20), "redis-peak-MiB")
	b.ReportMetric(float64(calls)/msgs, "redis-cmds/msg")
	b.ReportMetric(float64(queuePeak), "queue-peak")
	b.ReportMetric(perSubscriber, "redis-B/subscriber")
	b.ReportMetric(perQueued, "redis-B/queued")
	b.ReportMetric(sentRecord, "redis-B/sent-record")
	b.ReportMetric(0, "ns/op") // one op is a whole fan-out: msgs/s says it better
	if total, dup, missing := e.copies(chatRange(n)); total != n*b.N || dup != n*(b.N-1) || missing != 0 {
		b.Errorf("got %d messages, %d chats missing; want %d each", total, missing, b.N)
	}
}

// procStatusKB reads a kB field of /proc/<pid>/status.
func procStatusKB(b *testing.B, pid int, field string) int64 {
	b.Helper()
	body, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatalf("read process status (Linux only): %v", err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func chatRange(n int) []int64 {
	chats := make([]int64, n)
	for i := range chats {
		chats[i] = int64(i + 1)
	}
	return chats
}

// seed subscribes private chats 1..n to everything, in Redis and in the
// fake, from several goroutines.
func seed(b *testing.B, e *env, n int) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const parallel = 32
	for w := range parallel {
		wg.Go(func() {
			for c := w + 1; c <= n; c += parallel {
				e.fake.AddPrivateChat(int64(c), "u", "en")
				if _, _, err := e.subs.Subscribe(ctx, int64(c), subscriptions.ChatPrivate, "en"); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// queuedDeliveryMemory queues n deliveries, as a fan-out does, on another
// database of the same server and returns Redis's memory per delivery.
func queuedDeliveryMemory(b *testing.B, srv *redisServer, n int) float64 {
	b.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr(), DB: 1})
	defer rdb.Close()
	defer rdb.FlushDB(ctx)
	st := store.NewRedis(rdb)
	before := usedMemory(b, rdb)
	a := broadcast("mem", subscriptions.Filter{}, map[string]string{"": "x"})
	if err := st.AddAnnouncement(ctx, a); err != nil {
		b.Fatal(err)
	}
	f, ok, err := st.ClaimFanout(ctx, time.Now().Add(time.Minute))
	if err != nil || !ok {
		b.Fatalf("claim: %v %v", ok, err)
	}
	const page = 1000
	for first := 1; first <= n; first += page {
		ds := make([]delivery.Delivery, 0, page)
		for c := first; c < first+page && c <= n; c++ {
			ds = append(ds, delivery.Delivery{AnnouncementID: "mem", ChatID: int64(c), ChatType: subscriptions.ChatPrivate, Language: "en"})
		}
		next := strconv.Itoa(first + page - 1)
		done := first+page > n
		if done {
			next = ""
		}
		if err := st.AddDeliveries(ctx, f, next, done, ds, time.Now().Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		f.Cursor = next
	}
	return float64(usedMemory(b, rdb)-before) / float64(n)
}

// waitChildDone waits for the child to finish an announcement and returns
// how many times it read the announcement.
func waitChildDone(b *testing.B, e *env, c *child, id string, timeout time.Duration) int64 {
	b.Helper()
	ctx := context.Background()
	deadline := time.After(timeout)
	// Not every line the child prints: a reader of every one would add
	// thousands of commands to what the engine issues.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for polls := int64(1); ; polls++ {
		st, err := e.st.Announcement(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if st.State == delivery.StateDone {
			return polls
		}
		select {
		case <-tick.C:
		case err := <-c.exited:
			b.Fatalf("engine process exited: %v", err)
		case <-deadline:
			b.Fatalf("announcement %s not done after %v: %+v", id, timeout, st)
		}
	}
}

// benchBigAudience is the audience of the largest pipeline case,
// BB_BENCH_SUBSCRIBERS (e.g. 1000000); none by default, as seeding and
// sending a million take minutes.
func benchBigAudience() int {
	n, _ := strconv.Atoi(os.Getenv("BB_BENCH_SUBSCRIBERS"))
	return n
}

// commandCalls is the number of commands the server has run, those run by
// scripts included (INFO commandstats), but for INFO, which only the
// benchmark sends.
func commandCalls(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, line := range strings.Split(info, "\r\n") {
		name, stats, ok := strings.Cut(line, ":calls=")
		if !ok || name == "cmdstat_info" {
			continue
		}
		n, err := strconv.ParseInt(strings.SplitN(stats, ",", 2)[0], 10, 64)
		if err != nil {
			b.Fatalf("commandstats line %q: %v", line, err)
		}
		total += n
	}
	return total
}

// sampleMemory samples used_memory and the delivery queue's length (key
// layout of store: bb:{dlv}:queue) every 20 ms until the benchmark ends
// and returns a function giving the highest samples so far.
func sampleMemory(b *testing.B, rdb *redis.Client) func() (memory, queued int64) {
	b.Helper()
	var mu sync.Mutex
	var peak, queued int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := rdb.XLen(ctx, "bb:{dlv}:queue").Result(); err == nil {
				mu.Lock()
				queued = max(queued, n)
				mu.Unlock()
			}
			info, err := rdb.Info(ctx, "memory").Result()
			if err == nil {
				for _, line := range strings.Split(info, "\r\n") {
					if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
						n, _ := strconv.ParseInt(v, 10, 64)
						mu.Lock()
						peak = max(peak, n)
						mu.Unlock()
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return func() (int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		return peak, queued
	}
}

func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	b.Helper()
	return infoField(b, rdb, "memory", "used_memory")
}

// redisCPU is the server's user and system CPU time, in seconds.
func redisCPU(b *testing.B, rdb *redis.Client) float64 {
	b.Helper()
	user := infoFloat(b, rdb, "cpu", "used_cpu_user")
	sys := infoFloat(b, rdb, "cpu", "used_cpu_sys")
	return user + sys
}

func infoField(b *testing.B, rdb *redis.Client, section, field string) int64 {
	b.Helper()
	n, err := strconv.ParseInt(infoValue(b, rdb, section, field), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func infoFloat(b *testing.B, rdb *redis.Client, section, field string) float64 {
	b.Helper()
	f, err := strconv.ParseFloat(infoValue(b, rdb, section, field), 64)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func infoValue(b *testing.B, rdb *redis.Client, section, field string) string {
	b.Helper()
	info, err := rdb.Info(context.Background(), section).Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	b.Fatalf("INFO %s has no %s", section, field)
	return ""
}

// BenchmarkDeliveryRate30 sends with SEND_RATE=30 to a fake Telegram with
// Telegram's own limits (30 a second overall): the achieved rate, from the
// first message to the last, and the 429s the fake answered.
//
//	go test -run '^$' -bench Rate30 -benchtime 1x ./bot/delivery/
func BenchmarkDeliveryRate30(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, telegramtest.Options{})
	const n = 300
	chats := e.privateSubscribers(1, n)
	eng := e.engine(func(p *delivery.Params) { p.Rate, p.PageSize, p.Workers = 30, 100, 16 })
	e.run(eng)
	b.ResetTimer()
	for i := range b.N {
		id := "rate-" + strconv.Itoa(i)
		if err := eng.Enqueue(ctx, broadcast(id, subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			b.Fatal(err)
		}
		e.waitDone(id, 10*time.Minute)
	}
	b.StopTimer()
	var dates []time.Time
	for _, c := range chats {
		for _, m := range e.fake.Messages(c) {
			dates = append(dates, m.Date)
		}
	}
	if len(dates) != n*b.N {
		b.Fatalf("got %d messages, want %d", len(dates), n*b.N)
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i].Before(dates[j]) })
	span := dates[len(dates)-1].Sub(dates[0])
	b.ReportMetric(float64(len(dates)-1)/span.Seconds(), "msgs/s")
	b.ReportMetric(float64(e.fake.TooManyRequests()), "429s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDeliveryFirstAlert measures the delivery side of "a source
// changes → first alert sent": from the poller recording a new publication
// to the first subscriber's message, for a 100-subscriber audience. The
// poller's own delay (up to POLL_INTERVAL) comes on top.
//
//	go test -run '^$' -bench FirstAlert -benchtime 20x ./bot/delivery/
func BenchmarkDeliveryFirstAlert(b *testing.B) {
	e := newEnv(b, telegramtest.Options{GlobalRate: -1, PerChatInterval: -1})
	e.privateSubscribers(1, 100)
	// No per-chat gaps: each iteration's chats got the previous one's
	// alert a moment ago, and waiting out their gap is not what this
	// measures.
	eng := e.engine(func(p *delivery.Params) { p.PollInterval, p.Gaps = time.Second, &delivery.Gaps{} })
	e.run(eng)
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		before := e.fake.Calls("sendMessage")
		pub := poller.Publication{ID: "https://example.org/p/" + strconv.Itoa(i), URL: "https://example.org/p/" + strconv.Itoa(i),
			Title: "Publication " + strconv.Itoa(i), Category: "consular", SeenAt: time.Now()}
		began := time.Now()
		e.publish(pub)
		wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := e.fake.WaitFor(wctx, func() bool { return e.fake.Calls("sendMessage") > before })
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(began)
		b.StopTimer()
		e.waitDone(delivery.PublicationAnnouncementID(pub.ID), time.Minute)
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/first-alert")
}
