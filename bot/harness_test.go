package bot_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestMain proves that every Bot.Run, stopped, leaves no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	botName  = "bulletin_test_bot"
	waitLong = 10 * time.Second
)

// clock is a settable time source shared by the bot and the services.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one test's world: a fake Telegram, a real Redis, the services.
type env struct {
	t     *testing.T
	tg    *telegramtest.Server
	store fullStore
	subs  *subscriptions.Service
	cats  *category.Categorizer
	clock *clock
	logs  *logBuffer

	mu   sync.Mutex
	bots []*bot.Bot // every bot run, for waitHandled
}

// fullStore is everything the bot and its services keep: both stores have
// it all.
type fullStore interface {
	bot.Store
	bot.PublicationReader
	subscriptions.Store
	subscriptions.TopicStore
	Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error)
}

var (
	_ fullStore = (*store.Redis)(nil)
	_ fullStore = (*store.Bolt)(nil)
)

// newEnv starts a fake Telegram without flood limits (tests that want them
// pass their own options) and an empty Redis database.
func newEnv(t *testing.T, opts ...telegramtest.Options) *env {
	t.Helper()
	return newEnvOn(t, store.NewRedis(storetest.Redis(t)), opts...)
}

// newBoltEnv is newEnv on the embedded store.
func newBoltEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return newEnvOn(t, st)
}

func newEnvOn(t *testing.T, st fullStore, opts ...telegramtest.Options) *env {
	t.Helper()
	o := telegramtest.Options{BotUsername: botName, GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1}
	if len(opts) > 0 {
		o = opts[0]
		o.BotUsername = botName
	}
	fake := telegramtest.NewServer(o)
	t.Cleanup(fake.Close)
	cats, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cats.Categories() {
		ids = append(ids, c.ID)
	}
	clk := &clock{now: time.Date(2017, time.October, 17, 9, 32, 0, 0, time.UTC)}
	return &env{
		t: t, tg: fake, store: st, cats: cats, clock: clk, logs: &logBuffer{},
		subs: subscriptions.NewService(st, ids, "en", clk.Now).WithTopics(st),
	}
}

// recorder is an http.RoundTripper that remembers what a bot's client saw.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	// polls counts getUpdates requests; conflicts the 409 answers.
	polls, conflicts int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if strings.HasSuffix(req.URL.Path, "/getUpdates") {
		r.mu.Lock()
		r.polls++
		if err == nil && resp.StatusCode == http.StatusConflict {
			r.conflicts++
		}
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recorder) counts() (polls, conflicts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.polls, r.conflicts
}

// newBot builds a bot on the env with test tuning; change adjusts Params.
func (e *env) newBot(change ...func(*bot.Params)) (*bot.Bot, *recorder) {
	e.t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	e.t.Cleanup(transport.CloseIdleConnections)
	rec := &recorder{base: transport}
	p := bot.Params{
		Client:        tg.New(e.tg.Token(), e.tg.Endpoint(), &http.Client{Transport: rec}),
		Store:         e.store,
		Subscriptions: e.subs,
		Publications:  e.store,
		Categorizer:   e.cats,
		Logger:        slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:           e.clock.Now,
		PollTimeout:   2 * time.Second,
		LeaseTTL:      1500 * time.Millisecond,
		Backoff:       10 * time.Millisecond,
		UserBurst:     1000,
	}
	for _, c := range change {
		c(&p)
	}
	b, err := bot.New(p)
	if err != nil {
		e.t.Fatalf("bot.New: %v", err)
	}
	return b, rec
}

// run starts b.Run and returns a function that stops it and checks that it
// returned nil. The stop also runs at cleanup.
func (e *env) run(b *bot.Bot) (stop func()) {
	e.t.Helper()
	e.mu.Lock()
	e.bots = append(e.bots, b)
	e.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(waitLong):
				e.t.Error("Run did not return after its context ended")
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// start builds a bot, runs it and waits until it long-polls.
func (e *env) start(change ...func(*bot.Params)) *bot.Bot {
	e.t.Helper()
	b, _ := e.newBot(change...)
	e.run(b)
	e.waitPolling()
	return b
}

func (e *env) waitPolling() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := e.tg.WaitPolling(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// say has a user write in a chat and waits until the bot has sent want
// messages there in all; it returns the last.
func (e *env) say(chatID, userID int64, text string, want int) telegramtest.Message {
	e.t.Helper()
	e.tg.SendText(chatID, userID, text)
	msgs := e.waitMessages(chatID, want)
	return msgs[want-1]
}

// dialog is a user writing in their private chat, one message at a time,
// keeping count of the bot's messages there so that each say waits for
// the next answer.
type dialog struct {
	t    *testing.T
	e    *env
	user int64
	n    int // the bot's messages in the chat so far
}

// dialog starts counting user's chat with the bot from no message.
func (e *env) dialog(t *testing.T, user int64) *dialog {
	return &dialog{t: t, e: e, user: user}
}

// say has the user write text and returns the bot's next message.
func (d *dialog) say(text string) telegramtest.Message {
	d.t.Helper()
	d.n++
	return d.e.say(d.user, d.user, text, d.n)
}

// next has the user write text and returns the text of the bot's answer.
func (d *dialog) next(text string) string {
	d.t.Helper()
	return d.say(text).Text
}

func (e *env) waitMessages(chatID int64, n int) []telegramtest.Message {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	msgs, err := e.tg.WaitMessages(ctx, chatID, n)
	if err != nil {
		e.t.Fatalf("%v\nlogs:\n%s", err, e.logs)
	}
	return msgs
}

// waitHandled waits until every update was confirmed to Telegram (the bot
// does so on its next getUpdates, once it has queued them) and every bot
// has handled all it queued. A handler may finish without a call to the
// fake, which would wake WaitFor, so idleness is checked every few
// milliseconds.
func (e *env) waitHandled() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := e.tg.WaitDelivered(ctx); err != nil {
		e.t.Fatal(err)
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		e.mu.Lock()
		idle := true
		for _, b := range e.bots {
			idle = idle && b.Idle()
		}
		e.mu.Unlock()
		if idle {
			return
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("updates still being handled after %v\nlogs:\n%s", waitLong, e.logs)
		case <-tick.C:
		}
	}
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := e.tg.WaitFor(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v\nlogs:\n%s", what, err, e.logs)
	}
}

func (e *env) subscriber(chatID int64) (subscriptions.Subscriber, bool) {
	e.t.Helper()
	s, ok, err := e.subs.Get(context.Background(), chatID)
	if err != nil {
		e.t.Fatal(err)
	}
	return s, ok
}

// seed records publications as the poller would.
func (e *env) seed(pubs ...poller.Publication) {
	e.t.Helper()
	if _, err := e.store.Record(context.Background(), "https://www.rusemb.org.uk/newarh/", pubs, poller.Validators{}, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// logBuffer collects a bot's logs for failure messages and assertions.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func keyboardData(m telegramtest.Message) []string {
	var out []string
	for _, row := range m.InlineKeyboard() {
		for _, b := range row {
			out = append(out, b.CallbackData)
		}
	}
	return out
}

// pressAnswer has the chat's owner press a button and returns the bot's
// answer to that press.
func (e *env) pressAnswer(chat int64, msgID int, data string) string {
	e.t.Helper()
	q := e.tg.PressButton(chat, chat, msgID, data)
	var answer string
	e.waitFor("the answer to "+data, func() bool {
		for _, a := range e.tg.CallbackAnswers() {
			if a.QueryID == q {
				answer = a.Text
				return true
			}
		}
		return false
	})
	return answer
}

func keyboardTexts(m telegramtest.Message) []string {
	var out []string
	for _, row := range m.InlineKeyboard() {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: got %q, want it to contain %q", what, got, w)
		}
	}
}
