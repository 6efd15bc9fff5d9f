package staff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/staff"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// What cmd wires must fit the interfaces.
var (
	_ staff.Store       = (*store.Redis)(nil)
	_ staff.Store       = (*store.Bolt)(nil)
	_ staff.Engine      = (*delivery.Engine)(nil)
	_ staff.Subscribers = (*subscriptions.Service)(nil)
	_ staff.Categories  = (*category.Categorizer)(nil)
	_ staff.Telegram    = (*tg.Client)(nil)
)

// TestMain proves that every component, stopped, leaves no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	waitLong = 15 * time.Second
	admin    = int64(1001)
	botName  = "bulletin_test_bot"
)

// env is one test's world: a fake Telegram, a real Redis, the services, a
// delivery engine and a bot in webhook mode (so that tests can post the
// formatted messages the fake cannot write) with the staff tools.
type env struct {
	t      *testing.T
	fake   *telegramtest.Server
	st     testStore
	subs   *subscriptions.Service
	cats   *category.Categorizer
	logs   *logBuffer
	calls  *callRecorder
	engine *delivery.Engine
	bot    *bot.Bot
	staff  *staff.Staff
	hook   *httptest.Server
	nextID atomic.Int64
	o      options
}

// testStore is what an env's store is: *store.Redis, or *store.Bolt with
// options.embedded.
type testStore interface {
	staff.Store
	delivery.Store
	subscriptions.Store
	bot.Store
	bot.PublicationReader
	SaveHealth(ctx context.Context, source string, h poller.Health) error
	poller.Store
	delivery.Intake
	delivery.ReplyStore
}

// options tune one env.
type options struct {
	embedded bool                  // the embedded store instead of Redis
	cluster  bool                  // a Redis Cluster of the test's own instead of a database
	fake     *telegramtest.Options // default: no flood limits
	rate     float64               // SEND_RATE; 0 for none
	admins   []int64
	staff    func(*staff.Params)
	observer delivery.Observer
	noWatch  bool // do not run the staff tools' Run (a replica that died)
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	if o.fake == nil {
		o.fake = &telegramtest.Options{GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1}
	}
	o.fake.BotUsername = botName
	if o.admins == nil {
		o.admins = []int64{admin}
	}
	fake := telegramtest.NewServer(*o.fake)
	t.Cleanup(fake.Close)
	cats, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cats.Categories() {
		ids = append(ids, c.ID)
	}
	var st testStore
	if o.embedded {
		b, err := store.OpenBolt(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		st = b
	} else if o.cluster {
		st = store.NewRedis(storetest.Cluster(t).Client(t))
	} else {
		st = store.NewRedis(storetest.Redis(t))
	}
	e := &env{t: t, fake: fake, st: st, cats: cats, logs: &logBuffer{}, o: o,
		subs: subscriptions.NewService(st, ids, "en", nil)}
	e.nextID.Store(700000000)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	t.Cleanup(transport.CloseIdleConnections)
	e.calls = &callRecorder{base: transport, status: map[string]map[int]int{}}
	client := tg.New(fake.Token(), fake.Endpoint(), &http.Client{Transport: e.calls})

	e.engine, err = delivery.New(delivery.Params{
		Store: st, Telegram: client, Subscribers: e.subs, Rate: o.rate, Workers: 16, PageSize: 20,
		PollInterval: 50 * time.Millisecond, RetryBase: 50 * time.Millisecond, ReplicaID: "engine-" + t.Name(),
		Logger: logger.With("component", "delivery"), Observer: o.observer,
	})
	if err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	e.hook = httptest.NewServer(mux)
	t.Cleanup(e.hook.Close)
	replies, err := delivery.NewReplies(delivery.RepliesParams{Store: st, Rate: o.rate})
	if err != nil {
		t.Fatal(err)
	}
	e.bot, err = bot.New(bot.Params{
		Client: client, Store: st, Subscriptions: e.subs, Publications: st, Categorizer: cats, Budget: replies,
		Admins: o.admins, WebhookURL: e.hook.URL + "/hook", WebhookSecret: "hook_secret",
		Logger: logger.With("component", "bot"), Backoff: 10 * time.Millisecond, UserBurst: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/hook", e.bot.WebhookHandler())

	p := staff.Params{
		Store: st, Engine: e.engine, Subscribers: e.subs, Categories: cats, Telegram: client,
		Admins: o.admins, Rate: o.rate, Budget: replies, ProgressEvery: 150 * time.Millisecond, CheckEvery: 20 * time.Millisecond,
		ReplicaID: "staff-1", Logger: logger.With("component", "staff"),
	}
	if o.staff != nil {
		o.staff(&p)
	}
	e.staff, err = staff.Register(e.bot, p)
	if err != nil {
		t.Fatal(err)
	}
	fake.AddPrivateChat(admin, "Ada", "en")
	return e
}

// start runs the bot, the engine and the staff tools until the test ends.
func (e *env) start() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				e.t.Errorf("%s.Run: %v", name, err)
			}
		})
	}
	run("bot", e.bot.Run)
	run("engine", e.engine.Run)
	if !e.o.noWatch {
		run("staff", e.staff.Run)
	}
	e.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	// The bot receives once it has registered its webhook.
	e.waitFor("the webhook", func() bool { return e.fake.Calls("setWebhook") > 0 })
}

// subscribers subscribes each of chats in lang, to every category.
func (e *env) subscribers(lang string, chats []int64) {
	e.t.Helper()
	for _, c := range chats {
		e.subscriber(c, lang)
	}
}

// subscriber adds a private chat subscribed to cats (every one when none
// are given) in lang.
func (e *env) subscriber(chat int64, lang string, cats ...string) {
	e.t.Helper()
	ctx := context.Background()
	e.fake.AddPrivateChat(chat, fmt.Sprintf("user%d", chat), lang)
	if _, _, err := e.subs.Subscribe(ctx, chat, subscriptions.ChatPrivate, lang); err != nil {
		e.t.Fatal(err)
	}
	if len(cats) > 0 {
		if _, err := e.subs.SetCategories(ctx, chat, cats); err != nil {
			e.t.Fatal(err)
		}
	}
}

// say has the admin (or anyone) write a plain or command text.
func (e *env) say(user int64, text string) { e.fake.SendText(user, user, text) }

// post delivers a message the fake cannot write, with entities and a
// reply, straight to the bot's webhook.
func (e *env) post(user int64, text string, entities []map[string]any, replyTo map[string]any) {
	e.t.Helper()
	id := e.nextID.Add(1)
	m := map[string]any{
		"message_id": id, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": user, "type": "private", "first_name": "Ada"},
		"from": map[string]any{"id": user, "is_bot": false, "first_name": "Ada", "language_code": "en"},
	}
	if entities != nil {
		m["entities"] = entities
	}
	if replyTo != nil {
		m["reply_to_message"] = replyTo
	}
	e.deliver(map[string]any{"update_id": id, "message": m})
}

// forgePress delivers a button press Telegram's apps cannot make (data the
// message does not carry, or a chat the presser cannot see) straight to the
// bot's webhook, as a forged request would.
func (e *env) forgePress(chat int64, chatType string, from int64, messageID int, data string) {
	e.t.Helper()
	id := e.nextID.Add(1)
	e.deliver(map[string]any{"update_id": id, "callback_query": map[string]any{
		"id":   strconv.FormatInt(id, 10),
		"from": map[string]any{"id": from, "is_bot": false, "first_name": "Forger", "language_code": "en"},
		"message": map[string]any{
			"message_id": messageID, "date": time.Now().Unix(), "text": "…",
			"chat": map[string]any{"id": chat, "type": chatType, "title": "Somewhere"},
		},
		"chat_instance": "1", "data": data,
	}})
}

// deliver posts one update to the bot's webhook.
func (e *env) deliver(update map[string]any) {
	e.t.Helper()
	body, err := json.Marshal(update)
	if err != nil {
		e.t.Fatal(err)
	}
	// The bot answers 503 until Run receives, and signals nothing when it
	// starts to: the post is retried every few milliseconds.
	deadline := time.Now().Add(waitLong)
	for {
		req, err := http.NewRequest(http.MethodPost, e.hook.URL+"/hook", bytes.NewReader(body))
		if err != nil {
			e.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "hook_secret")
		resp, err := e.hook.Client().Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the webhook still answers %d", resp.StatusCode)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := e.fake.WaitFor(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v\nlogs:\n%s", what, err, e.logs)
	}
}

// eventually waits for a condition on the store, which signals nothing:
// it is polled, every few milliseconds, until waitLong.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("waiting for %s: gave up after %v\nlogs:\n%s", what, waitLong, e.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitMessages waits for the bot's n-th message in a chat and returns it.
func (e *env) waitMessage(chat int64, n int) telegramtest.Message {
	e.t.Helper()
	var msgs []telegramtest.Message
	e.waitFor(fmt.Sprintf("message %d in chat %d", n, chat), func() bool {
		msgs = e.fake.Messages(chat)
		return len(msgs) >= n
	})
	return msgs[n-1]
}

// message returns the current state of a message.
func (e *env) message(chat int64, id int) telegramtest.Message {
	e.t.Helper()
	for _, m := range e.fake.Messages(chat) {
		if m.MessageID == id {
			return m
		}
	}
	e.t.Fatalf("no message %d in chat %d", id, chat)
	return telegramtest.Message{}
}

// waitText waits until a message's text contains want and returns it.
func (e *env) waitText(chat int64, id int, want string) telegramtest.Message {
	e.t.Helper()
	var m telegramtest.Message
	e.waitFor(fmt.Sprintf("message %d to say %q", id, want), func() bool {
		m = e.message(chat, id)
		return strings.Contains(m.Text, want)
	})
	return m
}

// waitNew waits for a message of the bot containing want, and returns
// the latest such.
func (e *env) waitNew(chat int64, want string) telegramtest.Message {
	e.t.Helper()
	var m telegramtest.Message
	e.waitFor(fmt.Sprintf("a message saying %q", want), func() bool {
		msgs := e.fake.Messages(chat)
		for i := len(msgs) - 1; i >= 0; i-- {
			if strings.Contains(msgs[i].Text, want) {
				m = msgs[i]
				return true
			}
		}
		return false
	})
	return m
}

// sendAll subscribes chats in English, has the admin broadcast text to
// everyone, and waits for the report of its delivery to them all; it
// returns the control message and its final state.
func (e *env) sendAll(text string, chats ...int64) (control, status telegramtest.Message) {
	e.t.Helper()
	for _, c := range chats {
		e.subscriber(c, "en")
	}
	e.say(admin, "/broadcast "+text)
	control = e.waitMessage(admin, 2)
	e.press(admin, control, "Send")
	return control, e.waitText(admin, control.MessageID, "Delivered: "+strconv.Itoa(len(chats)))
}

// press presses a button on a message by the start of its label.
func (e *env) press(chat int64, m telegramtest.Message, label string) {
	e.t.Helper()
	for _, row := range m.InlineKeyboard() {
		for _, b := range row {
			if strings.HasPrefix(b.Text, label) || strings.Contains(b.Text, label) {
				e.fake.PressButton(chat, chat, m.MessageID, b.CallbackData)
				return
			}
		}
	}
	e.t.Fatalf("message %d has no button %q: %+v", m.MessageID, label, m.InlineKeyboard())
}

// pressData presses a button by its callback data.
func (e *env) pressData(chat int64, m telegramtest.Message, data string) {
	e.t.Helper()
	e.fake.PressButton(chat, chat, m.MessageID, data)
}

func buttonData(m telegramtest.Message, label string) string {
	for _, row := range m.InlineKeyboard() {
		for _, b := range row {
			if strings.Contains(b.Text, label) {
				return b.CallbackData
			}
		}
	}
	return ""
}

// received returns the texts of the bot's messages in a chat.
func (e *env) received(chat int64) []telegramtest.Message { return e.fake.Messages(chat) }

// saveHealth stores a source's health as the poller does.
func (e *env) saveHealth(src string, h poller.Health) {
	e.t.Helper()
	if err := e.st.SaveHealth(context.Background(), src, h); err != nil {
		e.t.Fatal(err)
	}
}

// callRecorder counts the Bot API's answers by method and status.
type callRecorder struct {
	base   http.RoundTripper
	mu     sync.Mutex
	status map[string]map[int]int
}

func (c *callRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil {
		method := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
		c.mu.Lock()
		if c.status[method] == nil {
			c.status[method] = map[int]int{}
		}
		c.status[method][resp.StatusCode]++
		c.mu.Unlock()
	}
	return resp, err
}

func (c *callRecorder) count(method string, status int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status[method][status]
}

// logBuffer collects logs for failure messages and assertions.
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

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: got %q, want it to contain %q", what, got, w)
		}
	}
}
