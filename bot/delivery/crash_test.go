package delivery_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
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
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestDeliveryCrashInProcess stops a replica the way a crash would: from
// one instant on, nothing it does reaches the store, so its leases,
// fan-out and the results of its sends in flight stay as they were. A
// second replica must then deliver to everyone, duplicating only sends
// that were in flight.
func TestDeliveryCrashInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, telegramtest.Options{GlobalRate: -1})
	chats := e.privateSubscribers(1, 120)
	e.fake.SetLatency(30 * time.Millisecond)
	const workers = 8
	dying := e.engine(func(p *delivery.Params) {
		p.ReplicaID, p.Workers, p.PageSize, p.DrainTimeout = "dying", workers, 10, 200*time.Millisecond
	})
	stop := e.run(dying)
	if err := dying.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.fake.WaitFor(wctx, func() bool { total, _, _ := e.copies(chats); return total >= 30 }); err != nil {
		t.Fatal(err)
	}
	e.watch.crash()
	crashed := time.Now()
	stop()
	before, _, _ := e.copies(chats)
	if before >= len(chats) {
		t.Fatalf("got all %d sent before the crash, want the crash mid-delivery", before)
	}

	heir := newWatchedStore(e.st)
	e.run(e.engine(func(p *delivery.Params) {
		p.Store, p.ReplicaID, p.ClaimIdle, p.SendTimeout, p.FanoutLease = heir, "heir", time.Second, 500*time.Millisecond, time.Second
	}))
	e.waitEveryChat(chats, 20*time.Second)
	crashedStore := e.watch
	e.watch = heir
	st := e.waitDone("b-1", 20*time.Second)
	total, dup, missing := e.copies(chats)
	crashedStore.mu.Lock()
	unrecorded := len(crashedStore.unrecorded)
	crashedStore.mu.Unlock()
	t.Logf("crash after %d messages; %d sends unrecorded; %d duplicates", before, unrecorded, dup)
	if missing != 0 || st.Delivered != int64(len(chats)) {
		t.Fatalf("got %d chats missing, %+v; want everyone delivered", missing, st)
	}
	if dup > unrecorded {
		t.Errorf("got %d duplicates of %d messages, want at most the %d sends in flight (unrecorded) at the crash", dup, total, unrecorded)
	}
	checkDuplicatesPredate(t, e, chats, crashed.Add(time.Second))
}

// checkDuplicatesPredate checks that every chat that got two copies got
// the first before the crash: only sends in flight may be repeated.
func checkDuplicatesPredate(t *testing.T, e *env, chats []int64, crash time.Time) {
	t.Helper()
	for _, c := range chats {
		msgs := e.fake.Messages(c)
		if len(msgs) > 1 && msgs[0].Date.After(crash) {
			t.Errorf("chat %d: got a duplicate whose first copy (%v) came after the crash (%v)", c, msgs[0].Date, crash)
		}
	}
}

// helperEnv names the environment of TestHelperProcess.
const helperEnv = "BB_DELIVERY_HELPER"

// TestHelperProcess is not a test: run by TestDeliveryKill9Subprocess as a
// child process, it runs one delivery engine until killed or sent SIGTERM,
// printing a line for every batch of results it records.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	err := runHelper()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var st interface {
		delivery.Store
		subscriptions.Store
	}
	var live delivery.Liveness
	if dir := os.Getenv("BB_DATA_DIR"); dir != "" {
		b, err := store.OpenBolt(dir)
		if err != nil {
			return err
		}
		defer b.Close()
		st = b
	} else {
		opts, err := redis.ParseURL(os.Getenv("BB_REDIS_URL"))
		if err != nil {
			return err
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		r := store.NewRedis(rdb)
		st, live = r, r
	}
	dur := func(k string) time.Duration { d, _ := time.ParseDuration(os.Getenv(k)); return d }
	num := func(k string) int { n, _ := strconv.Atoi(os.Getenv(k)); return n }
	out := &lineWriter{w: os.Stdout}
	eng, err := delivery.New(delivery.Params{
		Store:        &printingStore{Store: st, out: out},
		Liveness:     live, // the wrapper hides it
		Telegram:     tg.New(os.Getenv("BB_TG_TOKEN"), os.Getenv("BB_TG_ENDPOINT"), pooledHTTP(num("BB_WORKERS")+8)),
		Subscribers:  &slowSubscribers{Service: subscriptions.NewService(st, categories, "en", nil), delay: dur("BB_PAGE_DELAY")},
		Rate:         float64(num("BB_RATE")),
		Workers:      num("BB_WORKERS"),
		PageSize:     num("BB_PAGE_SIZE"),
		SendTimeout:  time.Second,
		ClaimIdle:    dur("BB_CLAIM_IDLE"),
		FanoutLease:  dur("BB_FANOUT_LEASE"),
		PollInterval: 50 * time.Millisecond,
		DrainTimeout: 2 * time.Second,
		ReplicaID:    os.Getenv("BB_REPLICA"),
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	out.line("ready")
	return eng.Run(ctx)
}

type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

// printingStore tells the parent process of every recorded batch.
type printingStore struct {
	delivery.Store
	out *lineWriter
}

func (p *printingStore) Finish(ctx context.Context, rs []delivery.Result, now time.Time) error {
	err := p.Store.Finish(ctx, rs, now)
	p.out.line("finish")
	if err != nil {
		return err
	}
	// The parent cannot read an embedded store this process holds: tell
	// it when an announcement is done.
	seen := map[string]bool{}
	for _, r := range rs {
		id := r.Delivery.AnnouncementID
		if seen[id] {
			continue
		}
		seen[id] = true
		if st, err := p.Store.Announcement(ctx, id); err == nil && st.State == delivery.StateDone {
			p.out.line("done " + id)
		}
	}
	return nil
}

// slowSubscribers paces fan-out pages, so that a kill lands mid-walk.
type slowSubscribers struct {
	*subscriptions.Service
	delay time.Duration
}

func (s *slowSubscribers) Page(ctx context.Context, f subscriptions.Filter, cursor string, limit int) ([]subscriptions.Subscriber, string, error) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, "", ctx.Err()
	case <-t.C:
	}
	return s.Service.Page(ctx, f, cursor, limit)
}

// child is a running helper process.
type child struct {
	cmd    *exec.Cmd
	events chan struct{} // a token per line the child prints
	ready  chan struct{}
	done   chan string // the announcements the child saw done, in order
	exited chan error
}

func startChild(t testing.TB, e *env, replica string, extra ...string) *child {
	t.Helper()
	o := e.rdb.Options()
	url := fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)
	if o.Password != "" {
		url = fmt.Sprintf("redis://:%s@%s/%d", o.Password, o.Addr, o.DB)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "BB_REDIS_URL="+url, "BB_TG_ENDPOINT="+e.fake.Endpoint(),
		"BB_TG_TOKEN="+e.fake.Token(), "BB_REPLICA="+replica)
	cmd.Env = append(cmd.Env, extra...)
	if v := os.Getenv("BB_CHILD_GODEBUG"); v != "" {
		cmd.Env = append(cmd.Env, "GODEBUG="+v)
	}
	cmd.Stderr = &prefixWriter{prefix: replica}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, events: make(chan struct{}, 1), ready: make(chan struct{}), done: make(chan string, 64), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(c.ready)
			}
			if id, ok := strings.CutPrefix(sc.Text(), "done "); ok {
				select {
				case c.done <- id:
				default:
				}
			}
			select {
			case c.events <- struct{}{}:
			default:
			}
		}
		c.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return c
}

type prefixWriter struct {
	prefix string
	mu     sync.Mutex
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if os.Getenv("BB_TEST_LOGS") != "" {
		fmt.Fprintf(os.Stderr, "[%s] %s", p.prefix, b)
	}
	return len(b), nil
}

// killAfter waits, within ctx, until the chats hold n copies of the alert
// and kills c with SIGKILL; it returns, once the process is gone, when it
// was killed.
func (c *child) killAfter(ctx context.Context, t *testing.T, e *env, chats []int64, n int) time.Time {
	t.Helper()
	if err := e.fake.WaitFor(ctx, func() bool { total, _, _ := e.copies(chats); return total >= n }); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-c.exited
	return killed
}

// stop sends c SIGTERM and expects it to exit cleanly.
func (c *child) stop(t *testing.T, name string) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-c.exited; err != nil {
		t.Errorf("%s after SIGTERM: got %v, want a clean exit", name, err)
	}
}

// awaitDone waits up to 30 s for c to finish an announcement: sends in
// flight at a kill go again, and are recorded, after every chat has a copy.
func (c *child) awaitDone(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the announcement was not done within 30s of every chat having it")
	}
}

// lastFirstCopy is when the last of the chats got its first copy.
func (e *env) lastFirstCopy(chats []int64) time.Time {
	var last time.Time
	for _, c := range chats {
		if d := e.fake.Messages(c)[0].Date; d.After(last) {
			last = d
		}
	}
	return last
}

// kill9Fanout sets up what the Redis kill -9 tests share: 300 private
// subscribers, a fake answering after 20 ms, and a broadcast to all of
// them queued.
func kill9Fanout(t *testing.T) (*env, []int64) {
	t.Helper()
	e := newEnv(t, telegramtest.Options{GlobalRate: -1})
	chats := e.privateSubscribers(1, 300)
	e.fake.SetLatency(20 * time.Millisecond)
	if err := e.engine(nil).Enqueue(context.Background(), broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "<b>alert</b>"})); err != nil {
		t.Fatal(err)
	}
	return e, chats
}

// TestDeliveryKill9Subprocess kills a replica process with SIGKILL in the
// middle of a fan-out, starts another, and checks that every subscriber
// got the alert, duplicated only where a send was in flight.
func TestDeliveryKill9Subprocess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	ctx := context.Background()
	e, chats := kill9Fanout(t)
	const workers = 8
	common := []string{"BB_RATE=150", "BB_WORKERS=" + strconv.Itoa(workers), "BB_PAGE_SIZE=10", "BB_PAGE_DELAY=60ms"}

	first := startChild(t, e, "first", append(common, "BB_CLAIM_IDLE=30s", "BB_FANOUT_LEASE=1s")...)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	killed := first.killAfter(wctx, t, e, chats, 60)
	st, err := e.st.Announcement(ctx, "b-1")
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := e.copies(chats)
	if st.State != delivery.StateFanningOut || before >= len(chats) {
		t.Fatalf("at the kill: got state %s and %d messages, want the fan-out and the sending unfinished", st.State, before)
	}
	t.Logf("killed after %d messages, %d recorded, %d of %d subscribers queued", before, st.Delivered, st.Targeted, len(chats))

	second := startChild(t, e, "second", append(common, "BB_CLAIM_IDLE=1500ms", "BB_FANOUT_LEASE=1s", "BB_PAGE_DELAY=1ms")...)
	e.waitEveryChat(chats, 30*time.Second)
	for {
		st, err = e.st.Announcement(ctx, "b-1")
		if err != nil {
			t.Fatal(err)
		}
		if st.State == delivery.StateDone {
			break
		}
		select {
		case <-second.events:
		case <-wctx.Done():
			t.Fatalf("waiting for the announcement to finish: %v; last %+v", wctx.Err(), st)
		}
	}
	second.stop(t, "second replica")
	total, dup, missing := e.copies(chats)
	t.Logf("after restart: %d messages, %d duplicates", total, dup)
	if missing != 0 || st.Delivered != int64(len(chats)) || st.Targeted != int64(len(chats)) {
		t.Fatalf("got %d chats missing and %+v, want every subscriber targeted once and delivered", missing, st)
	}
	// In flight at a kill: up to Workers calls, and the results of calls
	// just finished that await their write, in practice no more than Workers.
	if dup > 2*workers {
		t.Errorf("got %d duplicates, want at most the %d sends that can be in flight", dup, 2*workers)
	}
	checkDuplicatesPredate(t, e, chats, killed.Add(time.Second))
}

// TestDeliveryKill9RestartResumesWithinSeconds kills a replica with
// SIGKILL while it holds leased deliveries and is walking a fan-out, with
// the production defaults for every takeover setting (ClaimIdle 1 min,
// FanoutLease 10 s, heartbeat every 2 s with a TTL of 10 s), restarts one,
// and checks that every subscriber has the alert within 15 s of the
// restart. The design's bound is the TTL plus one beat, 12 s, plus the
// sending of what is left, well under a second here.
func TestDeliveryKill9RestartResumesWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	ctx := context.Background()
	e, chats := kill9Fanout(t)
	const workers = 8
	first := startChild(t, e, "first", "BB_RATE=150", "BB_WORKERS="+strconv.Itoa(workers), "BB_PAGE_SIZE=10", "BB_PAGE_DELAY=60ms")
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	killed := first.killAfter(wctx, t, e, chats, 60)
	held, err := e.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "bb:{dlv}:queue", Group: "senders", Start: "-", End: "+", Count: 1000, Consumer: "first"}).Result()
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.st.Announcement(ctx, "b-1")
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := e.copies(chats)
	if len(held) == 0 || st.State != delivery.StateFanningOut || before >= len(chats) {
		t.Fatalf("at the kill: got %d deliveries held, state %s, %d messages; want held deliveries and the fan-out unfinished", len(held), st.State, before)
	}
	t.Logf("killed after %d messages, holding %d deliveries, %d of %d subscribers queued", before, len(held), st.Targeted, len(chats))

	restarted := time.Now()
	second := startChild(t, e, "second", "BB_RATE=1000", "BB_WORKERS="+strconv.Itoa(workers), "BB_PAGE_SIZE=10", "BB_PAGE_DELAY=1ms")
	e.waitEveryChat(chats, 30*time.Second)
	last := e.lastFirstCopy(chats)
	took := last.Sub(restarted)
	t.Logf("every subscriber had the alert %v after the restart (%v after the kill)", took.Round(time.Millisecond), last.Sub(killed).Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("the last subscriber got the alert %v after the restart, want within 15s", took)
	}
	second.awaitDone(t)
	second.stop(t, "second replica")
	total, dup, missing := e.copies(chats)
	st, err = e.st.Announcement(ctx, "b-1")
	if err != nil {
		t.Fatal(err)
	}
	if missing != 0 || st.State != delivery.StateDone || st.Delivered != int64(len(chats)) || st.Targeted != int64(len(chats)) {
		t.Fatalf("got %d chats missing and %+v, want every subscriber targeted once and delivered", missing, st)
	}
	if dup > 2*workers {
		t.Errorf("got %d duplicates of %d messages, want at most the %d sends that can be in flight", dup, total, 2*workers)
	}
	checkDuplicatesPredate(t, e, chats, killed.Add(time.Second))
	// A clean stop leaves no heartbeat to wait for.
	if n, err := e.rdb.ZScore(ctx, "bb:{dlv}:replicas", "second").Result(); err != nil || n != 0 {
		t.Errorf("second replica's heartbeat after SIGTERM: got %v, %v; want it ended (0)", n, err)
	}
}

// TestDeliveryKill9RestartEmbedded kills the one process of an embedded
// store with SIGKILL mid-delivery and starts another on the same file:
// opening it hands back what the dead process held, so the rest goes out
// at once, well before the 10 s fan-out lease or the minute of ClaimIdle
// the held work would otherwise wait for.
func TestDeliveryKill9RestartEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, telegramtest.Options{GlobalRate: -1})
	e.fake.SetLatency(20 * time.Millisecond)
	dir := t.TempDir()
	b, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	subs := subscriptions.NewService(b, categories, "en", nil)
	chats := make([]int64, 200)
	for i := range chats {
		chats[i] = int64(i + 1)
		e.fake.AddPrivateChat(chats[i], "user", "en")
		if _, _, err := subs.Subscribe(ctx, chats[i], subscriptions.ChatPrivate, "en"); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := delivery.New(delivery.Params{Store: b, Telegram: e.tg, Subscribers: subs})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "<b>alert</b>"})); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	const workers = 8
	common := []string{"BB_DATA_DIR=" + dir, "BB_WORKERS=" + strconv.Itoa(workers), "BB_PAGE_SIZE=10"}
	first := startChild(t, e, "first", append(common, "BB_RATE=100", "BB_PAGE_DELAY=60ms")...)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	killed := first.killAfter(wctx, t, e, chats, 40)
	before, _, _ := e.copies(chats)
	if before >= len(chats) {
		t.Fatalf("got all %d sent before the kill, want the kill mid-delivery", before)
	}

	restarted := time.Now()
	second := startChild(t, e, "second", append(common, "BB_RATE=1000", "BB_PAGE_DELAY=1ms")...)
	e.waitEveryChat(chats, 30*time.Second)
	last := e.lastFirstCopy(chats)
	took := last.Sub(restarted)
	t.Logf("killed after %d messages; every subscriber had the alert %v after the restart", before, took.Round(time.Millisecond))
	// Held work waiting for its lease would take 10 s at least.
	if took > 8*time.Second {
		t.Errorf("the last subscriber got the alert %v after the restart, want it at once (well under the 10s fan-out lease)", took)
	}
	second.awaitDone(t)
	second.stop(t, "second process")
	b, err = store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.Announcement(ctx, "b-1")
	if err != nil {
		t.Fatal(err)
	}
	total, dup, missing := e.copies(chats)
	if missing != 0 || st.State != delivery.StateDone || st.Delivered != int64(len(chats)) || st.Targeted != int64(len(chats)) {
		t.Fatalf("got %d chats missing and %+v, want every subscriber targeted once and delivered", missing, st)
	}
	if dup > 2*workers {
		t.Errorf("got %d duplicates of %d messages, want at most the %d sends that can be in flight", dup, total, 2*workers)
	}
	checkDuplicatesPredate(t, e, chats, killed.Add(time.Second))
}

// TestDeliveryThreeReplicas runs three engines on one Redis: each
// subscriber gets exactly one copy, the work is shared, and together they
// stay under the global rate.
func TestDeliveryThreeReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const rate = 50
	e := newEnv(t, telegramtest.Options{GlobalRate: rate})
	chats := e.privateSubscribers(1, 150)
	e.fake.SetLatency(10 * time.Millisecond)
	observers := make([]*observer, 3)
	for i := range observers {
		observers[i] = newObserver()
		e.run(e.engine(func(p *delivery.Params) {
			p.Rate, p.Observer, p.ReplicaID, p.PageSize = rate, observers[i], "replica-"+strconv.Itoa(i), 20
		}))
	}
	began := time.Now()
	if err := e.engine(nil).Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
		t.Fatal(err)
	}
	e.waitDone("b-1", 20*time.Second)
	elapsed := time.Since(began)
	total, dup, missing := e.copies(chats)
	if total != len(chats) || dup != 0 || missing != 0 {
		t.Fatalf("got %d messages, %d duplicates, %d missing; want exactly one each", total, dup, missing)
	}
	for i, o := range observers {
		if res, _, _, _ := o.counts(); res["sent"] == 0 {
			t.Errorf("replica %d sent nothing, want the work shared", i)
		}
	}
	if n := e.fake.TooManyRequests(); n != 0 {
		t.Errorf("got %d 429s from the fake, want 0", n)
	}
	// The limiter promises that tokens granted in any second number at
	// most the rate plus its burst (GCRA: fewer than rate+burst), judged at
	// the moment it grants. Arrival times at the fake are not what it
	// promises: a send that waited for the CPU arrives late and crowds the
	// next second, which Telegram's own burst absorbs (the fake's 429
	// count above is that check).
	burst := delivery.RateBurst(rate)
	most, at := e.watch.mostGrantedWithin(time.Second)
	t.Logf("most tokens granted within one second: %d (rate %d, burst %d)", most, rate, burst)
	if most > rate+burst {
		t.Fatalf("the limiter granted %d tokens within one second from %v, want at most %d", most, at, rate+burst)
	}
	if got := e.watch.granted(); got < total {
		t.Fatalf("the limiter granted %d tokens for %d messages, want one per message at least", got, total)
	}
	// Over the whole run the rate holds up to one burst.
	if most := rate*elapsed.Seconds() + float64(burst); float64(total) > most {
		t.Errorf("got %d messages in %v, want at most %.0f at %d a second", total, elapsed, most, rate)
	}
}

// redisServer is a redis-server of the test's own, which can be restarted
// with its data (append-only persistence), or measured without
// neighbours.
type redisServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
}

func startRedisServer(t testing.TB, args ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("BULLETINBOT_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server not found: %v", err)
		}
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: port, args: args}
	s.start()
	t.Cleanup(func() {
		if s.cmd != nil && s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

// start runs the server and returns once it accepts connections, which it
// says on its log.
func (s *redisServer) start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--logfile", ""}, s.args...)
	cmd := exec.Command(s.bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				signalled = true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		s.t.Fatal("redis-server did not start")
	}
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// restart shuts the server down cleanly (SHUTDOWN writes the append-only
// file) and starts it again on the same port and directory.
func (s *redisServer) restart() {
	s.t.Helper()
	admin := redis.NewClient(&redis.Options{Addr: s.addr()})
	_ = admin.Shutdown(context.Background()).Err() // the connection closes: an error is expected
	admin.Close()
	_ = s.cmd.Wait()
	s.start()
}

// TestDeliveryRedisRestart restarts Redis, with persistence on, in the
// middle of a fan-out: the engine rides out the outage and nothing is lost.
func TestDeliveryRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a redis-server")
	}
	t.Parallel()
	ctx := context.Background()
	srv := startRedisServer(t, "--appendonly", "yes", "--appendfsync", "always")
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	e := newEnvOn(t, rdb, telegramtest.Options{GlobalRate: -1})
	chats := e.privateSubscribers(1, 300)
	e.fake.SetLatency(10 * time.Millisecond)
	const workers = 8
	eng := e.engine(func(p *delivery.Params) { p.Rate, p.Workers, p.PageSize = 150, workers, 20 })
	e.run(eng)
	if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := e.fake.WaitFor(wctx, func() bool { total, _, _ := e.copies(chats); return total >= 60 }); err != nil {
		t.Fatal(err)
	}
	srv.restart()
	restarted := time.Now()
	e.waitEveryChat(chats, 30*time.Second)
	st := e.waitDone("b-1", 30*time.Second)
	total, dup, missing := e.copies(chats)
	t.Logf("after the restart: %d messages, %d duplicates, %+v", total, dup, st)
	if missing != 0 || st.Delivered != int64(len(chats)) || st.Targeted != int64(len(chats)) {
		t.Fatalf("got %d missing and %+v, want every subscriber targeted once and delivered", missing, st)
	}
	if dup > 2*workers {
		t.Errorf("got %d duplicates, want at most the %d sends that can be in flight", dup, 2*workers)
	}
	checkDuplicatesPredate(t, e, chats, restarted.Add(time.Second))
	if errs := e.logs.lines("level=ERROR"); len(errs) == 0 {
		t.Error("got no error logged while Redis was down, want the outage noticed")
	}
}
