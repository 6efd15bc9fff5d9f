package bot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

func TestHandlerPanicsAndErrorsAreContained(t *testing.T) {
	e := newEnv(t)
	b, _ := e.newBot()
	b.Handle("boom", func(context.Context, *bot.Request) error { panic("kaboom") })
	b.Handle("fail", func(context.Context, *bot.Request) error { return errors.New("store on fire") })
	e.run(b)
	e.waitPolling()
	const user = 121
	e.tg.AddPrivateChat(user, "Ada", "ru")
	mustContain(t, "/boom", e.say(user, user, "/boom", 1).Text, "что-то пошло не так")
	mustContain(t, "/fail", e.say(user, user, "/fail", 2).Text, "что-то пошло не так")
	// The worker survived the panic.
	mustContain(t, "/time after the panic", e.say(user, user, "/time", 3).Text, "Москва")
	logs := e.logs.String()
	mustContain(t, "logs", logs, "handler panicked", "kaboom", "middleware_test.go", "handler failed", "store on fire", "chat_id=121")
}

func TestFloodIsLimitedPerUser(t *testing.T) {
	e := newEnv(t)
	e.start(func(p *bot.Params) {
		p.UserBurst = 3
		p.UserEvery = time.Second
	})
	const flooder, other = 131, 132
	e.tg.AddPrivateChat(flooder, "Flo", "en")
	e.tg.AddPrivateChat(other, "Oth", "en")
	for range 10 {
		e.tg.SendText(flooder, flooder, "/time")
	}
	e.waitHandled()
	msgs := e.tg.Messages(flooder)
	if len(msgs) != 4 {
		t.Fatalf("flooder got %d messages, want 3 answers and 1 warning", len(msgs))
	}
	mustContain(t, "warning", msgs[3].Text, "Too many requests")
	// Someone else is not affected.
	mustContain(t, "other user", e.say(other, other, "/time", 1).Text, "Moscow")
	// The flooder's budget refills with time (the bot's clock).
	e.clock.Advance(time.Minute)
	mustContain(t, "after a minute", e.say(flooder, flooder, "/time", 5).Text, "Moscow")
}

func TestAdminOnlyCommands(t *testing.T) {
	e := newEnv(t)
	const admin, citizen = 141, 142
	e.tg.AddPrivateChat(admin, "Boss", "en")
	e.tg.AddPrivateChat(citizen, "Joe", "en")
	b, _ := e.newBot(func(p *bot.Params) { p.Admins = []int64{admin} })
	var ran atomic.Int32
	b.Handle("stats", func(ctx context.Context, r *bot.Request) error {
		ran.Add(1)
		return r.Reply(ctx, "<b>42</b> subscribers")
	}, bot.AdminOnly(), bot.Describe(map[string]string{"en": "Subscriber statistics", "ru": "Статистика подписчиков"}))
	e.run(b)
	e.waitPolling()

	mustContain(t, "citizen /stats", e.say(citizen, citizen, "/stats", 1).Text, "not available to you")
	if ran.Load() != 0 {
		t.Fatal("the admin-only handler ran for a citizen")
	}
	mustContain(t, "logs", e.logs.String(), "staff command refused", "user_id=142")
	help := e.say(citizen, citizen, "/help", 2).Text
	if strings.Contains(help, "stats") {
		t.Errorf("citizen /help lists the staff command: %q", help)
	}

	mustContain(t, "admin /stats", e.say(admin, admin, "/stats", 1).Text, "42 subscribers")
	if ran.Load() != 1 {
		t.Fatalf("handler ran %d times, want 1", ran.Load())
	}
	mustContain(t, "admin /help", e.say(admin, admin, "/help", 2).Text, "Staff commands", "/stats — Subscriber statistics")

	// The command menu: public commands for everyone, staff ones in the
	// admin's chat only.
	names := func(cmds []telegramtest.BotCommand) []string {
		var out []string
		for _, c := range cmds {
			out = append(out, c.Command)
		}
		return out
	}
	public := []string{"start", "stop", "help", "time", "consular", "latest", "search", "follow", "following", "categories", "language", "quiet", "digest", "topic"}
	for _, lang := range []string{"", "en", "ru"} {
		if got := names(e.tg.Commands(telegramtest.CommandScope{}, lang)); !slices.Equal(got, public) {
			t.Errorf("default menu %q: got %v, want %v", lang, got, public)
		}
		got := names(e.tg.Commands(telegramtest.CommandScope{Type: "chat", ChatID: admin}, lang))
		if want := append(slices.Clone(public), "stats"); !slices.Equal(got, want) {
			t.Errorf("admin menu %q: got %v, want %v", lang, got, want)
		}
	}
	if got := e.tg.Commands(telegramtest.CommandScope{}, "ru"); len(got) == 0 || got[0].Description != "Подписаться на новые публикации посольства" {
		t.Errorf("Russian menu: got %v", got)
	}
}

func TestCallbackFloodIsStillAnswered(t *testing.T) {
	e := newEnv(t)
	e.start(func(p *bot.Params) { p.UserBurst = 2 })
	const user = 151
	e.tg.AddPrivateChat(user, "Cal", "en")
	m := e.say(user, user, "/start", 1) // uses one of the two
	for range 4 {
		e.tg.PressButton(user, user, m.MessageID, "cat:other")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	answers, err := e.tg.WaitCallbackAnswers(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := answers[0].Text, "▫️ Other: off"; got != want {
		t.Errorf("first press: got %q, want %q", got, want)
	}
	for _, a := range answers[1:] {
		if a.Text != "Too many requests. Please wait a few seconds." {
			t.Errorf("limited press: got %q, want the slow-down notice", a.Text)
		}
	}
}

// TestStaffMenuWhenAdminFirstWrites: an admin with no chat with the bot at
// start-up ("chat not found") gets the staff menu on their first message.
func TestStaffMenuWhenAdminFirstWrites(t *testing.T) {
	e := newEnv(t)
	const admin = 143
	b, _ := e.newBot(func(p *bot.Params) { p.Admins = []int64{admin} })
	b.Handle("stats", func(ctx context.Context, r *bot.Request) error {
		return r.Reply(ctx, "stats")
	}, bot.AdminOnly(), bot.Describe(map[string]string{"en": "Statistics", "ru": "Статистика"}))
	e.run(b)
	e.waitPolling()
	if got := e.tg.Commands(telegramtest.CommandScope{Type: "chat", ChatID: admin}, ""); len(got) != 0 {
		t.Fatalf("staff menu set for a chat that does not exist: %v", got)
	}
	mustContain(t, "start-up log", e.logs.String(), "staff command menu not set yet")

	e.tg.AddPrivateChat(admin, "Boss", "en")
	e.say(admin, admin, "/help", 1)
	e.waitFor("the staff menu", func() bool {
		for _, lang := range []string{"", "en", "ru"} {
			cmds := e.tg.Commands(telegramtest.CommandScope{Type: "chat", ChatID: admin}, lang)
			if len(cmds) == 0 || cmds[len(cmds)-1].Command != "stats" {
				return false
			}
		}
		return true
	})
	// Once set, later messages do not set it again.
	calls := e.tg.Calls("setMyCommands")
	e.say(admin, admin, "/help", 2)
	e.waitHandled()
	if got := e.tg.Calls("setMyCommands"); got != calls {
		t.Errorf("setMyCommands called %d more times for an admin whose menu is set", got-calls)
	}
}
