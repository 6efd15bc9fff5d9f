package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// output is a concurrency-safe buffer that signals every write.
type output struct {
	mu      sync.Mutex
	b       strings.Builder
	written chan struct{}
}

func newOutput() *output { return &output{written: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.written)
	o.written = make(chan struct{})
	return o.b.Write(p)
}

// waitFor blocks until the output matches re and returns the match.
func (o *output) waitFor(t *testing.T, ctx context.Context, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for {
		o.mu.Lock()
		text, ch := o.b.String(), o.written
		o.mu.Unlock()
		if m := rx.FindStringSubmatch(text); m != nil {
			return m
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("output never matched %q; got:\n%s", re, text)
		}
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConsole(t *testing.T) {
	srv := telegramtest.NewServer(telegramtest.Options{})
	t.Cleanup(srv.Close)
	ctx := testContext(t)
	out := newOutput()
	c := newConsole(srv, out, 1001)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		c.watch(watchCtx)
	}()
	t.Cleanup(func() { stopWatch(); <-watched })

	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(srv.Token(), srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	c.handle("/start")
	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(updates) != 1 || updates[0].Message.Command() != "start" {
		t.Fatalf("got %+v, %v, want the /start command", updates, err)
	}
	reply := tgbotapi.NewMessage(1001, "Welcome")
	reply.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("Yes", "yes"), tgbotapi.NewInlineKeyboardButtonURL("Site", "https://example.com/")))
	sent, err := bot.Send(reply)
	if err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, ctx, `\[chat 1001\] #2 bot: Welcome\n    \[Yes → yes\] \[Site → https://example.com/\]\n`)

	c.handle(":press 2 yes")
	updates, err = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: updates[0].UpdateID + 1})
	if err != nil || len(updates) != 1 || updates[0].CallbackQuery == nil || updates[0].CallbackQuery.Data != "yes" {
		t.Fatalf("got %+v, %v, want the button press", updates, err)
	}
	if _, err := bot.Request(tgbotapi.NewCallback(updates[0].CallbackQuery.ID, "Saved")); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, ctx, `answer to "yes": "Saved"`)

	if _, err := bot.Send(tgbotapi.NewEditMessageText(1001, sent.MessageID, "Welcome back")); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, ctx, `#2 edited: Welcome back\n`)

	tests := []struct {
		line string
		want string
	}{
		{":group -5 hello", `\(the bot gets no update for this\)`},
		{":press 99 x", `! telegramtest: PressButton: no message 99`},
		{":bogus", `! unknown command :bogus`},
		{":block", `> you blocked the bot`},
		{":migrate -5 -1000000000005", `> group -5 is now supergroup -1000000000005`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if quit := c.handle(tt.line); quit {
				t.Fatalf("%s quit the console", tt.line)
			}
			out.waitFor(t, ctx, tt.want)
		})
	}
	c.handle(":as 2002 hi")
	rest, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: updates[0].UpdateID + 1})
	if err != nil {
		t.Fatal(err)
	}
	// The block, the two migration messages, then the new user's text.
	if len(rest) != 4 || rest[3].Message == nil || rest[3].Message.From.ID != 2002 || rest[3].Message.Chat.ID != 2002 || rest[3].Message.Text != "hi" {
		t.Errorf("got %d updates, last %+v, want 4 ending with hi from 2002", len(rest), rest[len(rest)-1])
	}
	if !c.handle(":quit") {
		t.Errorf("got no quit from :quit")
	}
}

func TestRun(t *testing.T) {
	ctx := testContext(t)
	in, stdin := io.Pipe()
	out := newOutput()
	done := make(chan error, 1)
	go func() { done <- run(ctx, config{addr: "127.0.0.1:0", token: "42:T", userID: 1001}, in, out) }()

	m := out.waitFor(t, ctx, `TELEGRAM_API_ENDPOINT=(http://127\.0\.0\.1:\d+/bot%s/%s)\nTELEGRAM_BOT_TOKEN=42:T\n`)
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint("42:T", m[1])
	if err != nil {
		t.Fatalf("the printed endpoint does not work: %v", err)
	}
	if _, err := bot.Send(tgbotapi.NewMessage(1001, "hi there")); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, ctx, `\[chat 1001\] #1 bot: hi there`)

	// A long poll that may be in flight must not hold up the shutdown.
	polled := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		polled <- err
	}()
	if _, err := io.WriteString(stdin, ":quit\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("run did not stop on :quit")
	}
	<-polled
}
