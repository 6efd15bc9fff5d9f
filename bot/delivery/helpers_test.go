package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

var categories = []string{"comments", "consular", "other", "statements"}

// env is one test's world: a Redis database, the fake Telegram, the
// subscriptions service on that Redis, and a watched delivery store.
type env struct {
	t     testing.TB
	rdb   *redis.Client // nil on the embedded store
	st    backend
	fake  *telegramtest.Server
	tg    *tg.Client
	subs  *subscriptions.Service
	watch *watchedStore
	logs  *syncBuffer
}

// backend is a store as the engine and these tests use it: *store.Redis
// or *store.Bolt.
type backend interface {
	delivery.Store
	delivery.Intake
	delivery.Publications
	subscriptions.Store
	poller.Store
	// Record is RecordPoll without its bounds, as tests call it.
	Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error)
}

func newEnv(t testing.TB, opts telegramtest.Options) *env {
	t.Helper()
	return newEnvOn(t, storetest.Redis(t), opts)
}

func newEnvOn(t testing.TB, rdb *redis.Client, opts telegramtest.Options) *env {
	t.Helper()
	e := newEnvWith(t, store.NewRedis(rdb), opts)
	e.rdb = rdb
	return e
}

// newBoltEnv is newEnv on the embedded store.
func newBoltEnv(t testing.TB, opts telegramtest.Options) *env {
	t.Helper()
	st, err := store.OpenBolt(t.TempDir())
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return newEnvWith(t, st, opts)
}

// forEachStore runs test on Redis and on the embedded store.
func forEachStore(t *testing.T, opts telegramtest.Options, test func(t *testing.T, e *env)) {
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		test(t, newEnv(t, opts))
	})
	t.Run("bolt", func(t *testing.T) {
		t.Parallel()
		test(t, newBoltEnv(t, opts))
	})
}

func newEnvWith(t testing.TB, st backend, opts telegramtest.Options) *env {
	t.Helper()
	fake := telegramtest.NewServer(opts)
	t.Cleanup(fake.Close)
	hc := pooledHTTP(512)
	t.Cleanup(hc.CloseIdleConnections)
	return &env{
		t:     t,
		st:    st,
		fake:  fake,
		tg:    tg.New(fake.Token(), fake.Endpoint(), hc),
		subs:  subscriptions.NewService(st, categories, "en", nil),
		watch: newWatchedStore(st),
		logs:  &syncBuffer{},
	}
}

// pooledHTTP keeps enough idle connections for every concurrent send; the
// default of two per host would open and close one connection per message.
func pooledHTTP(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = conns, conns, conns
	return &http.Client{Transport: tr}
}

// subscriber adds a chat to the fake and subscribes it to cats (all when
// none are given) in lang.
func (e *env) subscriber(chat int64, typ subscriptions.ChatType, lang string, cats ...string) {
	e.t.Helper()
	ctx := context.Background()
	switch typ {
	case subscriptions.ChatPrivate:
		e.fake.AddPrivateChat(chat, fmt.Sprintf("user%d", chat), lang)
	case subscriptions.ChatChannel:
		e.fake.AddChannel(chat, fmt.Sprintf("channel%d", chat))
	default:
		e.fake.AddGroup(chat, fmt.Sprintf("group%d", chat), typ == subscriptions.ChatSupergroup)
	}
	if _, _, err := e.subs.Subscribe(ctx, chat, typ, lang); err != nil {
		e.t.Fatalf("subscribe %d: %v", chat, err)
	}
	if len(cats) > 0 {
		if _, err := e.subs.SetCategories(ctx, chat, cats); err != nil {
			e.t.Fatalf("set categories of %d: %v", chat, err)
		}
	}
}

// privateSubscribers subscribes private chats first..first+n-1 to everything.
func (e *env) privateSubscribers(first int64, n int) []int64 {
	e.t.Helper()
	chats := make([]int64, n)
	for i := range chats {
		chats[i] = first + int64(i)
		e.subscriber(chats[i], subscriptions.ChatPrivate, "en")
	}
	return chats
}

// params are fast defaults for tests; mutate adjusts them.
func (e *env) params(mutate func(*delivery.Params)) delivery.Params {
	p := delivery.Params{
		Store:        e.watch,
		Intake:       e.st,
		Telegram:     e.tg,
		Subscribers:  e.subs,
		Publications: e.st,
		Workers:      16,
		PageSize:     50,
		RetryBase:    20 * time.Millisecond,
		RetryMax:     100 * time.Millisecond,
		SendTimeout:  2 * time.Second,
		ClaimIdle:    3 * time.Second,
		FanoutLease:  2 * time.Second,
		PollInterval: 50 * time.Millisecond,
		DrainTimeout: 3 * time.Second,
		PauseCheck:   100 * time.Millisecond,
		ProbeEvery:   50 * time.Millisecond,
		ProbeMax:     200 * time.Millisecond,
		StormPause:   300 * time.Millisecond,
		GoneHold:     100 * time.Millisecond,
		Gaps:         &delivery.Gaps{Private: time.Second, Group: 3 * time.Second},
		Logger:       slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&p)
	}
	return p
}

func (e *env) engine(mutate func(*delivery.Params)) *delivery.Engine {
	e.t.Helper()
	eng, err := delivery.New(e.params(mutate))
	if err != nil {
		e.t.Fatalf("delivery.New: %v", err)
	}
	return eng
}

// run starts eng and returns a stop function that cancels it and waits for
// Run to return; the test's cleanup stops it too.
func (e *env) run(eng *delivery.Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("Run: got %v, want nil", err)
				}
			case <-time.After(20 * time.Second):
				e.t.Errorf("Run did not return 20s after its context ended")
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// publish records a publication as the poller would, which queues it for
// announcement; the source is initialised first so that it is not silent.
func (e *env) publish(p poller.Publication) {
	e.t.Helper()
	ctx := context.Background()
	if p.Source == "" {
		p.Source = "https://www.rusemb.org.uk/newarh/"
	}
	if _, err := e.st.Record(ctx, p.Source, nil, poller.Validators{}, time.Now()); err != nil {
		e.t.Fatalf("initialise source: %v", err)
	}
	fresh, err := e.st.Record(ctx, p.Source, []poller.Publication{p}, poller.Validators{}, time.Now())
	if err != nil || len(fresh) != 1 {
		e.t.Fatalf("record publication: got %d fresh, %v; want 1", len(fresh), err)
	}
}

// waitStats waits, on every result the engines record, until cond holds
// for the announcement's stats.
func (e *env) waitStats(id string, timeout time.Duration, cond func(delivery.Stats) bool) delivery.Stats {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var st delivery.Stats
	err := e.watch.waitFor(ctx, func() bool {
		var err error
		st, err = e.st.Announcement(ctx, id)
		return err == nil && cond(st)
	})
	if err != nil {
		e.t.Fatalf("waiting for stats of %s: %v; last %+v", id, err, st)
	}
	return st
}

func (e *env) waitDone(id string, timeout time.Duration) delivery.Stats {
	e.t.Helper()
	return e.waitStats(id, timeout, func(s delivery.Stats) bool { return s.State == delivery.StateDone })
}

// waitEveryChat waits until each chat has at least one message from the bot.
func (e *env) waitEveryChat(chats []int64, timeout time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	missing := 0
	err := e.fake.WaitFor(ctx, func() bool {
		missing = 0
		for _, c := range chats {
			if len(e.fake.Messages(c)) == 0 {
				missing++
			}
		}
		return missing == 0
	})
	if err != nil {
		e.t.Fatalf("waiting for every chat: %d of %d have no message: %v", missing, len(chats), err)
	}
}

// copies counts messages per chat.
func (e *env) copies(chats []int64) (total, duplicates, missing int) {
	for _, c := range chats {
		n := len(e.fake.Messages(c))
		total += n
		if n == 0 {
			missing++
		}
		if n > 1 {
			duplicates += n - 1
		}
	}
	return total, duplicates, missing
}

func broadcast(id string, f subscriptions.Filter, texts map[string]string) delivery.Announcement {
	return delivery.Announcement{ID: id, Kind: delivery.KindBroadcast, Filter: f, Texts: texts}
}

// watchedStore is the real store with a signal on every change the engine
// makes, so that tests wait for events instead of sleeping.
type watchedStore struct {
	delivery.Store
	mu      sync.Mutex
	changed chan struct{}
	// failing makes every call fail, as if the process had died: nothing
	// more reaches the store.
	failing bool
	// unrecorded holds the deliveries whose sends may have reached
	// Telegram and whose results could not be recorded because of failing:
	// those answered, and those cut off by the drain deadline (a retry),
	// which Telegram may have taken before the answer was cut.
	unrecorded map[string]bool
	// pauseReads counts CurrentPause calls.
	pauseReads atomic.Int64
	// mostQueued is the deepest queue seen right after a fan-out's page.
	mostQueued atomic.Int64
	// grants are the send tokens the shared limiter gave, with the
	// interval within which each was given.
	grants []grant
	// begun holds, per chat, the times Begin was called with for the
	// deliveries it let go: the times its chat gaps are kept at.
	begun map[int64][]time.Time
}

func (w *watchedStore) CurrentPause(ctx context.Context, now time.Time) (delivery.Pause, bool, error) {
	w.pauseReads.Add(1)
	return w.Store.CurrentPause(ctx, now)
}

// grant is tokens taken from the shared limiter somewhere between before
// (the call began) and after (it returned): the limiter's guarantee holds
// at the moment it decides, which the caller only knows to lie in there.
type grant struct {
	before, after time.Time
	n             int
}

var errCrashed = errors.New("test: store unreachable (simulated crash)")

func newWatchedStore(s delivery.Store) *watchedStore {
	return &watchedStore{Store: s, changed: make(chan struct{}), unrecorded: map[string]bool{}}
}

func (w *watchedStore) notify() {
	w.mu.Lock()
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

func (w *watchedStore) down() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failing
}

func (w *watchedStore) crash() {
	w.mu.Lock()
	w.failing = true
	w.mu.Unlock()
}

func (w *watchedStore) waitFor(ctx context.Context, cond func() bool) error {
	for {
		w.mu.Lock()
		ch := w.changed
		w.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *watchedStore) Finish(ctx context.Context, rs []delivery.Result, now time.Time) error {
	if w.down() {
		w.mu.Lock()
		for _, r := range rs {
			if r.Outcome == delivery.Sent || r.Retry {
				w.unrecorded[r.Delivery.ID] = true
			}
		}
		w.mu.Unlock()
		return errCrashed
	}
	err := w.Store.Finish(ctx, rs, now)
	w.notify()
	return err
}

func (w *watchedStore) AddDeliveries(ctx context.Context, f delivery.Fanout, next string, done bool, ds []delivery.Delivery, until time.Time) error {
	if w.down() {
		return errCrashed
	}
	err := w.Store.AddDeliveries(ctx, f, next, done, ds, until)
	if err == nil && len(ds) > 0 {
		// Right after a page is queued: the most the queue holds.
		if n, qerr := w.Store.Backlog(ctx); qerr == nil {
			for {
				most := w.mostQueued.Load()
				if n <= most || w.mostQueued.CompareAndSwap(most, n) {
					break
				}
			}
		}
	}
	w.notify()
	return err
}

func (w *watchedStore) Lease(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]delivery.Delivery, error) {
	if w.down() {
		return nil, errCrashed
	}
	ds, err := w.Store.Lease(ctx, consumer, n, block, reclaim)
	w.notify() // leasing drops cancelled deliveries
	return ds, err
}

func (w *watchedStore) Begin(ctx context.Context, consumer string, ds []delivery.Delivery, g delivery.Gaps, now time.Time) ([]delivery.Delivery, time.Duration, error) {
	if w.down() {
		return nil, 0, errCrashed
	}
	ready, pause, err := w.Store.Begin(ctx, consumer, ds, g, now)
	w.mu.Lock()
	if w.begun == nil {
		w.begun = map[int64][]time.Time{}
	}
	for _, d := range ready {
		w.begun[d.ChatID] = append(w.begun[d.ChatID], now)
	}
	w.mu.Unlock()
	w.notify() // beginning drops cancelled deliveries
	return ready, pause, err
}

// begunAt returns the times deliveries to chat were let go, in order.
func (w *watchedStore) begunAt(chat int64) []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.begun[chat])
}

func (w *watchedStore) AllowSends(ctx context.Context, rate float64, burst, n int) (int, time.Duration, error) {
	if w.down() {
		return 0, 0, errCrashed
	}
	before := time.Now()
	got, retry, err := w.Store.AllowSends(ctx, rate, burst, n)
	if got > 0 && err == nil {
		g := grant{before: before, after: time.Now(), n: got}
		w.mu.Lock()
		w.grants = append(w.grants, g)
		w.mu.Unlock()
	}
	return got, retry, err
}

// mostGrantedWithin returns the most tokens granted in any window of
// length d, counting only grants certainly made inside it (called and
// returned within it): a late wake-up of the caller never makes the limiter
// look as if it granted too much.
func (w *watchedStore) mostGrantedWithin(d time.Duration) (most int, at time.Time) {
	w.mu.Lock()
	gs := append([]grant(nil), w.grants...)
	w.mu.Unlock()
	for _, from := range gs {
		n := 0
		for _, g := range gs {
			if !g.before.Before(from.before) && g.after.Before(from.before.Add(d)) {
				n += g.n
			}
		}
		if n > most {
			most, at = n, from.before
		}
	}
	return most, at
}

// granted is how many tokens the limiter gave in all.
func (w *watchedStore) granted() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, g := range w.grants {
		n += g.n
	}
	return n
}

func (w *watchedStore) ClaimFanout(ctx context.Context, until time.Time) (delivery.Fanout, bool, error) {
	if w.down() {
		return delivery.Fanout{}, false, errCrashed
	}
	return w.Store.ClaimFanout(ctx, until)
}

// recordingTelegram wraps the client and logs every sendMessage call's
// start, end and result, and can fail calls or hold them.
type recordingTelegram struct {
	inner delivery.Telegram
	mu    sync.Mutex
	calls []call
	// fail, when set, answers a call instead of Telegram.
	fail func(params tgbotapi.Params) error
}

type call struct {
	method     string
	chat       string
	start, end time.Time
	err        error
}

func (r *recordingTelegram) Call(ctx context.Context, method string, params tgbotapi.Params) (json.RawMessage, error) {
	start := time.Now()
	var raw json.RawMessage
	var err error
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		err = fail(params)
	}
	if err == nil {
		raw, err = r.inner.Call(ctx, method, params)
	}
	r.mu.Lock()
	r.calls = append(r.calls, call{method: method, chat: params["chat_id"], start: start, end: time.Now(), err: err})
	r.mu.Unlock()
	return raw, err
}

func (r *recordingTelegram) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// observer counts what the engine reports and signals each report.
type observer struct {
	mu      sync.Mutex
	results map[string]int
	paused  int
	retried int
	dead    int
	events  chan string
}

func newObserver() *observer {
	return &observer{results: map[string]int{}, events: make(chan string, 10000)}
}

func (o *observer) SendDone(result string, _ time.Duration) {
	o.mu.Lock()
	o.results[result]++
	o.mu.Unlock()
	select {
	case o.events <- result:
	default: // nobody listening
	}
}

func (o *observer) Paused(time.Duration) {
	o.mu.Lock()
	o.paused++
	o.mu.Unlock()
}

func (o *observer) Retried() {
	o.mu.Lock()
	o.retried++
	o.mu.Unlock()
}

func (o *observer) DeadLettered() {
	o.mu.Lock()
	o.dead++
	o.mu.Unlock()
}

func (o *observer) counts() (results map[string]int, paused, retried, dead int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := make(map[string]int, len(o.results))
	for k, v := range o.results {
		r[k] = v
	}
	return r, o.paused, o.retried, o.dead
}

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if os.Getenv("BB_TEST_LOGS") != "" {
		_, _ = io.MultiWriter(os.Stderr).Write(p)
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) lines(substr string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}
