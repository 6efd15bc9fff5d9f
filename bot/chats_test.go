package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

func TestGroupCommands(t *testing.T) {
	// Privacy mode off, so that the bot sees group chatter and must
	// ignore it itself.
	e := newEnv(t, telegramtest.Options{GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1, ReadAllGroupMessages: true})
	e.start()
	const group, super = -400, -1000000000400
	e.tg.AddUser(21, "Ann", "ru")
	e.tg.AddGroup(group, "Friends", false)
	e.tg.AddGroup(super, "Big friends", true)
	e.tg.SetChatAdmin(group, 21)
	e.tg.SetChatAdmin(super, 22)

	mustContain(t, "/start@bot", e.say(group, 21, "/start@"+botName, 1).Text, "Этот чат подписан")
	if s, ok := e.subscriber(group); !ok || s.Type != subscriptions.ChatGroup || s.Language != "ru" {
		t.Fatalf("group subscriber: got %+v, %v, want a Russian group", s, ok)
	}
	// Ignored: another bot's command, a bare unknown command, chatter.
	e.tg.SendText(group, 21, "/time@other_bot")
	e.tg.SendText(group, 21, "/frobnicate")
	e.tg.SendText(group, 21, "hello everyone")
	// Answered, in order after the ignored ones: the chat's own updates are
	// handled one after another.
	mustContain(t, "/time@BOT", e.say(group, 21, "/time@"+strings.ToUpper(botName), 2).Text, "Москва: 12:32")
	mustContain(t, "/frobnicate@bot", e.say(group, 21, "/frobnicate@"+botName, 3).Text, "Такой команды я не знаю")
	mustContain(t, "/help", e.say(group, 21, "/help", 4).Text, "/latest")
	e.waitHandled()
	if got := len(e.tg.Messages(group)); got != 4 {
		t.Errorf("group got %d messages, want 4: the ignored ones were answered", got)
	}

	mustContain(t, "/start in a supergroup", e.say(super, 22, "/start", 1).Text, "This chat is now subscribed")
	if s, ok := e.subscriber(super); !ok || s.Type != subscriptions.ChatSupergroup {
		t.Fatalf("supergroup subscriber: got %+v, %v", s, ok)
	}
}

func TestMembershipChanges(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user, group, channel = 31, -600, -1000000000600
	e.tg.AddPrivateChat(user, "Max", "en")
	e.tg.AddGroup(group, "Club", true)
	e.tg.AddChannel(channel, "News")

	t.Run("blocking unsubscribes", func(t *testing.T) {
		e.say(user, user, "/start", 1)
		e.tg.BlockBot(user)
		e.waitHandled()
		if _, ok := e.subscriber(user); ok {
			t.Error("still subscribed after blocking the bot")
		}
		// Unblocking does not subscribe: the user sends /start for that.
		e.tg.UnblockBot(user)
		e.waitHandled()
		if _, ok := e.subscriber(user); ok {
			t.Error("subscribed again by unblocking")
		}
	})
	t.Run("group removal and return", func(t *testing.T) {
		e.say(group, user, "/start", 1)
		e.tg.RemoveBotFromGroup(group, user)
		e.waitHandled()
		if _, ok := e.subscriber(group); ok {
			t.Error("group still subscribed after removing the bot")
		}
		e.tg.AddBotToGroup(group, user)
		mustContain(t, "greeting", e.waitMessages(group, 2)[1].Text, "Hello, Club!")
		if s, ok := e.subscriber(group); !ok || s.Type != subscriptions.ChatSupergroup || len(s.Categories) == 0 {
			t.Errorf("after adding the bot: got %+v, %v, want a subscribed supergroup", s, ok)
		}
	})
	t.Run("channel", func(t *testing.T) {
		// An admin posts /start in the channel: the post has no sender.
		mustContain(t, "channel /start", e.say(channel, user, "/start", 1).Text, "This chat is now subscribed")
		if s, ok := e.subscriber(channel); !ok || s.Type != subscriptions.ChatChannel {
			t.Fatalf("channel subscriber: got %+v, %v", s, ok)
		}
		e.tg.RemoveBotFromGroup(channel, user)
		e.waitHandled()
		if _, ok := e.subscriber(channel); ok {
			t.Error("channel still subscribed after removing the bot")
		}
		e.tg.AddBotToGroup(channel, user)
		e.waitHandled()
		if _, ok := e.subscriber(channel); !ok {
			t.Error("channel not subscribed after adding the bot")
		}
		if got := len(e.tg.Messages(channel)); got != 1 {
			t.Errorf("channel got %d messages, want 1: the bot posted to a channel unasked", got)
		}
	})
}

func TestGroupMigrationMovesTheSubscription(t *testing.T) {
	e := newEnv(t)
	e.start()
	const group, super = -700, -1000000000700
	e.tg.AddGroup(group, "Old", false)
	e.tg.SetChatAdmin(group, 41)
	e.say(group, 41, "/start", 1)
	if _, err := e.subs.SetCategories(context.Background(), group, []string{"consular"}); err != nil {
		t.Fatal(err)
	}
	e.tg.MigrateGroup(group, super)
	e.waitHandled()
	if _, ok := e.subscriber(group); ok {
		t.Error("old group id still subscribed")
	}
	s, ok := e.subscriber(super)
	if !ok || len(s.Categories) != 1 || s.Categories[0] != "consular" {
		t.Fatalf("supergroup: got %+v, %v, want the group's subscription with its categories", s, ok)
	}
	mustContain(t, "/time in the supergroup", e.say(super, 41, "/time", 1).Text, "Moscow")
}

func TestReplyToAMigratedGroupFollowsIt(t *testing.T) {
	e := newEnv(t)
	e.start()
	const group, super = -800, -1000000000800
	e.tg.AddGroup(group, "Old", false)
	e.tg.AddGroup(super, "Old", true)
	e.tg.SetChatAdmin(group, 51)
	e.say(group, 51, "/start", 1)
	// Telegram refuses the reply: the group moved (its service message is
	// still on the way).
	e.tg.Fail("sendMessage", 1, telegramtest.APIError{Code: 400, MigrateToChatID: super})
	e.tg.SendText(group, 51, "/time")
	mustContain(t, "reply in the supergroup", e.waitMessages(super, 1)[0].Text, "Moscow")
	if _, ok := e.subscriber(group); ok {
		t.Error("old group id still subscribed")
	}
	if _, ok := e.subscriber(super); !ok {
		t.Error("supergroup not subscribed")
	}
}

func TestReplyToABlockedChatUnsubscribes(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user = 61
	e.tg.AddPrivateChat(user, "Zoe", "en")
	e.say(user, user, "/start", 1)
	e.tg.Fail("sendMessage", 1, telegramtest.APIError{Code: 403})
	e.tg.SendText(user, user, "/time")
	e.waitHandled()
	if _, ok := e.subscriber(user); ok {
		t.Error("still subscribed after Telegram said the bot is blocked")
	}
	mustContain(t, "logs", e.logs.String(), "chat is gone; unsubscribed")
}

func TestOnTheEmbeddedStore(t *testing.T) {
	e := newBoltEnv(t)
	e.seed(poller.Publication{ID: "e1", URL: "https://www.rusemb.org.uk/fnapr/9", Title: "Embassy statement", Date: day(9), Category: "statements"})
	const user = 161
	e.tg.AddPrivateChat(user, "Bo", "ru")
	first, _ := e.newBot()
	stop := e.run(first)
	e.waitPolling()
	mustContain(t, "/start", e.say(user, user, "/start", 1).Text, "Этот чат подписан")
	mustContain(t, "/latest", e.say(user, user, "/latest", 2).Text, "Embassy statement", "09.10.2017")
	stop()
	e.tg.SendText(user, user, "/time")
	second, _ := e.newBot()
	e.run(second)
	mustContain(t, "/time after restart", e.waitMessages(user, 3)[2].Text, "Москва")
	e.waitHandled()
	if got := len(e.tg.Messages(user)); got != 3 {
		t.Errorf("got %d messages, want 3", got)
	}
	if s, ok := e.subscriber(user); !ok || s.Language != "ru" {
		t.Errorf("subscriber: got %+v, %v", s, ok)
	}
}

// TestRemovedChatThatWritesAgainIsRestored: a chat removed because
// Telegram said it was gone gets its subscription back, settings and all,
// as soon as it writes to the bot again.
func TestRemovedChatThatWritesAgainIsRestored(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user = 62
	e.tg.AddPrivateChat(user, "Yan", "ru")
	e.say(user, user, "/start", 1)
	e.tg.Fail("sendMessage", 1, telegramtest.APIError{Code: 403})
	e.tg.SendText(user, user, "/time")
	e.waitHandled()
	if _, ok := e.subscriber(user); ok {
		t.Fatal("still subscribed after Telegram said the bot is blocked")
	}
	reply := e.say(user, user, "/time", 2)
	mustContain(t, "the reply to the chat's next message", reply.Text, "Москва")
	if s, ok := e.subscriber(user); !ok || s.Language != "ru" {
		t.Fatalf("after writing again: got %+v %v, want subscribed in Russian again\n%s", s, ok, e.logs.String())
	}
	mustContain(t, "logs", e.logs.String(), "subscription restored")
}
