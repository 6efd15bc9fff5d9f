package bot_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

func TestRestartNeitherLosesNorRepeats(t *testing.T) {
	e := newEnv(t)
	const user = 71
	e.tg.AddPrivateChat(user, "Kim", "en")

	// /slow blocks until released, so the bot can be stopped while it
	// handles an update: Run must finish it before it returns.
	var slowRuns atomic.Int32
	entered, release := make(chan struct{}, 1), make(chan struct{})
	withSlow := func(b *bot.Bot) {
		b.Handle("slow", func(ctx context.Context, r *bot.Request) error {
			slowRuns.Add(1)
			entered <- struct{}{}
			<-release
			return r.Reply(ctx, "slow done")
		})
	}

	first, _ := e.newBot()
	withSlow(first)
	stop := e.run(first)
	e.waitPolling()
	e.say(user, user, "/start", 1)
	e.tg.SendText(user, user, "/slow")
	<-entered
	stopped := make(chan struct{})
	go func() {
		stop() // Run lets the queued updates finish, then returns
		close(stopped)
	}()
	close(release)
	<-stopped
	if msgs := e.tg.Messages(user); len(msgs) != 2 || !strings.Contains(msgs[1].Text, "slow done") {
		t.Fatalf("after the stop the chat has %d messages, want the welcome and /slow's answer: Run returned before finishing an update", len(msgs))
	}

	// Sent while no bot runs.
	for range 3 {
		e.tg.SendText(user, user, "/consular")
	}
	second, _ := e.newBot()
	withSlow(second)
	stop = e.run(second)
	e.waitMessages(user, 5)
	e.waitHandled()
	stop()

	// A third start with nothing new must not handle anything again.
	third, _ := e.newBot()
	withSlow(third)
	e.run(third)
	e.waitPolling()
	e.waitHandled()
	msgs := e.tg.Messages(user)
	if len(msgs) != 5 || slowRuns.Load() != 1 {
		var texts []string
		for _, m := range msgs {
			texts = append(texts, m.Text[:min(len(m.Text), 30)])
		}
		t.Fatalf("got %d messages %q and /slow ran %d times, want 5 and once: each update handled exactly once", len(msgs), texts, slowRuns.Load())
	}
	mustContain(t, "answer to /slow", msgs[1].Text, "slow done")
	for _, m := range msgs[2:] {
		mustContain(t, "answer to /consular", m.Text, "+44 (0) 203 668 7474")
	}
}

func TestReplicasPollOneAtATime(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := "holder stops"
		if crash {
			name = "holder dies without releasing the lease"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			const user = 81
			e.tg.AddPrivateChat(user, "Lee", "en")
			replica := func(id string) (*bot.Bot, *recorder) {
				return e.newBot(func(p *bot.Params) {
					p.ReplicaID = id
					if crash {
						p.Store = leakyLease{p.Store}
					}
				})
			}
			a, recA := replica("a")
			refused := make(chan struct{})
			var once sync.Once
			b, recB := e.newBot(func(p *bot.Params) {
				p.ReplicaID = "b"
				p.Store = watchedLease{Store: p.Store, refused: func() { once.Do(func() { close(refused) }) }}
				if crash {
					p.Store = leakyLease{p.Store}
				}
			})
			stopA := e.run(a)
			e.waitPolling()
			stopB := e.run(b)
			<-refused // b has asked for the lease and stands by
			for i := range 3 {
				e.say(user, user, "/time", i+1)
			}
			pollsA, _ := recA.counts()
			pollsB, _ := recB.counts()
			if pollsA == 0 || pollsB != 0 {
				t.Fatalf("getUpdates calls: a %d, b %d; want only a (the lease holder) polling", pollsA, pollsB)
			}

			stopA()
			// b takes over: when a released the lease, or once it expired.
			e.say(user, user, "/help", 4)
			e.waitHandled()
			stopB()
			if got := len(e.tg.Messages(user)); got != 4 {
				t.Errorf("got %d messages, want 4", got)
			}
			_, conflictsA := recA.counts()
			pollsB, conflictsB := recB.counts()
			if pollsB == 0 {
				t.Error("b never polled after a stopped")
			}
			if conflictsA+conflictsB != 0 {
				t.Errorf("409 Conflict answers: a %d, b %d, want none: two replicas polled at once", conflictsA, conflictsB)
			}
		})
	}
}

// leakyLease is a store whose lease is never released, as when the holder
// is killed: a stand-by must wait for it to expire.
type leakyLease struct{ bot.Store }

func (leakyLease) ReleaseLease(context.Context, string, string) error { return nil }

// watchedLease calls refused when the store turns down a lease request.
type watchedLease struct {
	bot.Store
	refused func()
}

func (w watchedLease) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	ok, err := w.Store.AcquireLease(ctx, name, holder, ttl)
	if err == nil && !ok {
		w.refused()
	}
	return ok, err
}

func TestWebhook(t *testing.T) {
	e := newEnv(t)
	const user, secret = 91, "s3cret_Token-1"
	e.tg.AddPrivateChat(user, "Sam", "en")

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b, rec := e.newBot(func(p *bot.Params) {
		p.WebhookURL = srv.URL + "/hook"
		p.WebhookSecret = secret
	})
	mux.Handle("/hook", b.WebhookHandler())

	post := func(secretHeader string, body []byte) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/hook", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if secretHeader != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretHeader)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	update := func(id int, text string) []byte {
		body, err := json.Marshal(map[string]any{
			"update_id": id,
			"message": map[string]any{
				"message_id": 9000 + id, "date": 1508232720, "text": text,
				"chat":     map[string]any{"id": user, "type": "private", "first_name": "Sam"},
				"from":     map[string]any{"id": user, "is_bot": false, "first_name": "Sam", "language_code": "en"},
				"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": len(text)}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return body
	}

	if got := post(secret, update(1, "/time")); got != http.StatusServiceUnavailable {
		t.Errorf("before Run: got %d, want 503", got)
	}
	stop := e.run(b)

	// Telegram delivers a user's message through the webhook.
	mustContain(t, "/start by webhook", e.say(user, user, "/start", 1).Text, "subscribed")

	tests := []struct {
		name   string
		secret string
		body   []byte
		want   int
	}{
		{"no secret", "", update(2, "/time"), http.StatusUnauthorized},
		{"wrong secret", "s3cret_Token-2", update(3, "/time"), http.StatusUnauthorized},
		{"secret prefix", secret[:5], update(4, "/time"), http.StatusUnauthorized},
		{"not JSON", secret, []byte("{"), http.StatusBadRequest},
		{"too big", secret, bytes.Repeat([]byte(" "), 2<<20), http.StatusRequestEntityTooLarge},
		{"first delivery", secret, update(5, "/time"), http.StatusOK},
		{"retry of the same update", secret, update(5, "/time"), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.secret, tt.body); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
	// A refused request is answered at once, without waiting for a body
	// that a client without the secret may trickle or never send.
	t.Run("refused before its body", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		status, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.Contains(status, "401") {
			t.Fatalf("got %q, %v; want 401 without the body", status, err)
		}
	})
	mustContain(t, "/time once", e.waitMessages(user, 2)[1].Text, "Moscow")
	// Updates of a chat are handled in order: once /help is answered, a
	// second /time would have been too.
	mustContain(t, "/help", e.say(user, user, "/help", 3).Text, "Commands")
	if got := len(e.tg.Messages(user)); got != 3 {
		t.Errorf("got %d messages, want 3: a retried update was handled twice, or a refused one at all", got)
	}
	mustContain(t, "logs", e.logs.String(), "wrong secret token")

	stop()
	if got := post(secret, update(6, "/time")); got != http.StatusServiceUnavailable {
		t.Errorf("after Run: got %d, want 503", got)
	}
	if polls, _ := rec.counts(); polls != 0 {
		t.Errorf("webhook mode called getUpdates %d times", polls)
	}
}

func TestTelegramFailuresAreRetried(t *testing.T) {
	e := newEnv(t)
	const user = 101
	e.tg.AddPrivateChat(user, "Ray", "en")
	e.tg.Fail("getMe", 2, telegramtest.APIError{Code: 502})
	e.tg.Fail("setMyCommands", 10, telegramtest.APIError{Code: 500})
	e.tg.Fail("getUpdates", 3, telegramtest.APIError{Code: 502})
	e.tg.Fail("getUpdates", 1, telegramtest.APIError{Code: 429, RetryAfter: 1})
	e.tg.SendText(user, user, "/start")
	start := time.Now()
	b, _ := e.newBot()
	e.run(b)
	e.waitMessages(user, 1)
	if took := time.Since(start); took < time.Second {
		t.Errorf("answered after %v: getUpdates' retry_after of 1s was not honoured", took)
	}
	if b.Username() != botName {
		t.Errorf("Username: got %q, want %q", b.Username(), botName)
	}

	// A reply refused by flood control is sent after the pause.
	e.tg.Fail("sendMessage", 1, telegramtest.APIError{Code: 429, RetryAfter: 1})
	mustContain(t, "/time after 429", e.say(user, user, "/time", 2).Text, "Moscow")

	logs := e.logs.String()
	mustContain(t, "logs", logs, "getUpdates failed; retrying", "cannot set the command menu")
	if strings.Contains(logs, e.tg.Token()) || strings.Contains(logs, "TEST-TOKEN") {
		t.Error("the bot token appears in the logs")
	}
}

func TestWrongTokenStopsRun(t *testing.T) {
	e := newEnv(t)
	e.tg.Fail("getMe", 1, telegramtest.APIError{Code: 401})
	b, _ := e.newBot()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	err := b.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("got %v, want an error about the token", err)
	}
}

func TestLeftoverWebhookIsDeletedForPolling(t *testing.T) {
	e := newEnv(t)
	const user = 111
	e.tg.AddPrivateChat(user, "Una", "en")
	c := tg.New(e.tg.Token(), e.tg.Endpoint(), nil)
	if _, err := c.Call(context.Background(), "setWebhook", tgbotapi.Params{"url": "https://example.org/hook"}); err != nil {
		t.Fatal(err)
	}
	e.start()
	mustContain(t, "/time", e.say(user, user, "/time", 1).Text, "Moscow")
	mustContain(t, "logs", e.logs.String(), "deleting it")
}

func TestManyChatsConcurrently(t *testing.T) {
	e := newEnv(t)
	e.start(func(p *bot.Params) { p.Workers = 4 })
	const users = 40
	for i := range users {
		id := int64(2000 + i)
		e.tg.AddPrivateChat(id, fmt.Sprint("U", i), "en")
		e.tg.SendText(id, id, "/start")
		e.tg.SendText(id, id, "/time")
		e.tg.SendText(id, id, "/stop")
	}
	for i := range users {
		id := int64(2000 + i)
		msgs := e.waitMessages(id, 3)
		// One chat's updates are handled in order.
		mustContain(t, "first", msgs[0].Text, "This chat is now subscribed")
		mustContain(t, "second", msgs[1].Text, "Moscow")
		mustContain(t, "third", msgs[2].Text, "You are unsubscribed")
		if _, ok := e.subscriber(id); ok {
			t.Errorf("chat %d: still subscribed after /stop", id)
		}
	}
}
