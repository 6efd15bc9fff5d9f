package bot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

const (
	refusal  = "Only this group's administrators can change its subscription."
	tryAgain = "Please try again in a minute."
)

// groupEnv is a running bot with a subscribed supergroup, an administrator
// and a plain member who has written there.
type groupEnv struct {
	*env
	group, admin, member int64
}

func newGroupEnv(t *testing.T) *groupEnv {
	t.Helper()
	e := newEnv(t)
	e.start()
	g := &groupEnv{env: e, group: -1000000000900, admin: 901, member: 902}
	e.tg.AddGroup(g.group, "Club", true)
	e.tg.SetChatAdmin(g.group, g.admin)
	// An administrator writing as the group subscribes it, which costs
	// no getChatMember.
	e.tg.SendTextAsAnonymousAdmin(g.group, g.admin, "/start")
	mustContain(t, "anonymous admin's /start", e.waitMessages(g.group, 1)[0].Text, "This chat is now subscribed")
	if got := e.tg.Calls("getChatMember"); got != 0 {
		t.Fatalf("/start asked getChatMember %d times, want 0", got)
	}
	return g
}

// press has user press a button and returns the bot's answer to it.
func (e *env) press(chatID, userID int64, messageID int, data string) telegramtest.CallbackAnswer {
	e.t.Helper()
	n := len(e.tg.CallbackAnswers()) + 1
	e.tg.PressButton(chatID, userID, messageID, data)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	answers, err := e.tg.WaitCallbackAnswers(ctx, n)
	if err != nil {
		e.t.Fatalf("%v\nlogs:\n%s", err, e.logs)
	}
	return answers[n-1]
}

func TestGroupMemberCannotChangeSettings(t *testing.T) {
	g := newGroupEnv(t)
	before, _ := g.subscriber(g.group)
	// A member's /start in a subscribed group changes nothing and is not
	// refused; its keyboard's buttons are guarded.
	keyboard := g.say(g.group, g.member, "/start", 2)
	mustContain(t, "member's second /start", keyboard.Text, "already subscribed")
	n := 2
	for _, cmd := range []string{"/stop", "/categories", "/language", "/stop@" + botName} {
		t.Run(cmd, func(t *testing.T) {
			n++
			if got := g.say(g.group, g.member, cmd, n).Text; got != refusal {
				t.Errorf("got %q, want %q", got, refusal)
			}
		})
	}
	for _, data := range []string{"cat:consular", "cat:*", "cat:+"} {
		t.Run(data, func(t *testing.T) {
			a := g.press(g.group, g.member, keyboard.MessageID, data)
			if a.Text != refusal || !a.ShowAlert || a.FromUserID != g.member {
				t.Errorf("got answer %+v, want the refusal as an alert to the member", a)
			}
		})
	}
	after, ok := g.subscriber(g.group)
	if !ok || !slices.Equal(after.Categories, before.Categories) || after.Language != before.Language {
		t.Errorf("subscription: got %+v, %v, want it unchanged: %+v", after, ok, before)
	}
	for _, m := range g.tg.Messages(g.group) {
		if m.Edits != 0 {
			t.Errorf("message %d edited %d times, want untouched", m.MessageID, m.Edits)
		}
	}
	// The member's answer was cached: one call for all their attempts.
	if got := g.tg.Calls("getChatMember"); got != 1 {
		t.Errorf("getChatMember calls: got %d, want 1", got)
	}
}

func TestGroupAdminChangesSettings(t *testing.T) {
	g := newGroupEnv(t)
	kb := g.say(g.group, g.admin, "/categories", 2)
	if a := g.press(g.group, g.admin, kb.MessageID, "cat:consular"); a.Text == refusal || a.ShowAlert {
		t.Errorf("admin's press: got %+v, want the category switched off", a)
	}
	if s, _ := g.subscriber(g.group); slices.Contains(s.Categories, "consular") {
		t.Errorf("categories: got %v, want consular off", s.Categories)
	}
	lang := g.say(g.group, g.admin, "/language", 3)
	if a := g.press(g.group, g.admin, lang.MessageID, "lang:ru"); a.Text != "Русский" {
		t.Errorf("admin's language press: got %+v, want Русский", a)
	}
	mustContain(t, "admin's /stop", g.say(g.group, g.admin, "/stop", 4).Text, "Вы отписались")
	if _, ok := g.subscriber(g.group); ok {
		t.Error("still subscribed after the admin's /stop")
	}
}

func TestGroupStandings(t *testing.T) {
	// Who may press a category button in a group, by their standing.
	tests := []struct {
		status  string
		allowed bool
	}{
		{telegramtest.StatusCreator, true},
		{telegramtest.StatusAdministrator, true},
		{telegramtest.StatusMember, false},
		{telegramtest.StatusRestricted, false},
		{telegramtest.StatusLeft, false}, // a reader of a public group
	}
	g := newGroupEnv(t)
	kb := g.say(g.group, g.admin, "/categories", 2)
	for i, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			user := int64(950 + i)
			g.tg.SetChatMemberStatus(g.group, user, tt.status)
			a := g.press(g.group, user, kb.MessageID, "cat:briefings")
			if got := a.Text != refusal; got != tt.allowed {
				t.Errorf("got answer %q, want allowed %v", a.Text, tt.allowed)
			}
		})
	}
}

func TestGroupBasicGroupIsGuardedToo(t *testing.T) {
	e := newEnv(t)
	e.start()
	const group, creator, member = -910, 911, 912
	e.tg.AddGroup(group, "Basic", false)
	e.tg.SetChatCreator(group, creator)
	e.say(group, creator, "/start", 1)
	if got := e.say(group, member, "/stop", 2).Text; got != refusal {
		t.Errorf("member's /stop: got %q, want %q", got, refusal)
	}
	mustContain(t, "creator's /stop", e.say(group, creator, "/stop", 3).Text, "You are unsubscribed")
}

// TestGroupMemberCannotResubscribe: once the administrators stopped the
// alerts, a member's /start is answered politely and changes nothing; an
// administrator's subscribes again.
func TestGroupMemberCannotResubscribe(t *testing.T) {
	g := newGroupEnv(t)
	mustContain(t, "admin's /stop", g.say(g.group, g.admin, "/stop", 2).Text, "You are unsubscribed")
	if got := g.say(g.group, g.member, "/start", 3).Text; got != refusal {
		t.Errorf("member's /start: got %q, want %q", got, refusal)
	}
	if _, ok := g.subscriber(g.group); ok {
		t.Fatal("a member's /start subscribed a group its administrators stopped")
	}
	mustContain(t, "admin's /start", g.say(g.group, g.admin, "/start", 4).Text, "This chat is now subscribed")
	if _, ok := g.subscriber(g.group); !ok {
		t.Fatal("the administrator's /start did not subscribe the group")
	}
}

func TestGroupAnonymousAdmin(t *testing.T) {
	g := newGroupEnv(t)
	g.tg.SendTextAsAnonymousAdmin(g.group, g.admin, "/categories")
	kb := g.waitMessages(g.group, 2)[1]
	mustContain(t, "anonymous admin's /categories", kb.Text, "Choose the categories")
	g.tg.SendTextAsAnonymousAdmin(g.group, g.admin, "/stop")
	mustContain(t, "anonymous admin's /stop", g.waitMessages(g.group, 3)[2].Text, "You are unsubscribed")
	if _, ok := g.subscriber(g.group); ok {
		t.Error("still subscribed after the anonymous admin's /stop")
	}
	// The group itself vouches for its anonymous admins: nobody is asked.
	if got := g.tg.Calls("getChatMember"); got != 0 {
		t.Errorf("getChatMember calls: got %d, want 0", got)
	}
}

func TestGroupStandingIsCached(t *testing.T) {
	g := newGroupEnv(t)
	kb := g.say(g.group, g.admin, "/categories", 2)
	for _, data := range []string{"cat:consular", "cat:consular", "cat:*", "cat:+"} {
		if a := g.press(g.group, g.admin, kb.MessageID, data); a.Text == refusal {
			t.Fatalf("admin's press %s refused", data)
		}
	}
	if got := g.tg.Calls("getChatMember"); got != 1 {
		t.Errorf("within the cache's minute: got %d getChatMember calls, want 1", got)
	}
	// A demotion is noticed once the cached answer is stale.
	g.tg.SetChatMemberStatus(g.group, g.admin, telegramtest.StatusMember)
	g.clock.Advance(59 * time.Second)
	if a := g.press(g.group, g.admin, kb.MessageID, "cat:consular"); a.Text == refusal {
		t.Error("refused within the minute: the cached answer was not used")
	}
	g.clock.Advance(2 * time.Second)
	if a := g.press(g.group, g.admin, kb.MessageID, "cat:consular"); a.Text != refusal || !a.ShowAlert {
		t.Errorf("after the minute: got %+v, want the demoted admin refused", a)
	}
	if got := g.tg.Calls("getChatMember"); got != 2 {
		t.Errorf("after the minute: got %d getChatMember calls, want 2", got)
	}
}

func TestGroupStandingUnknownRefusesForNow(t *testing.T) {
	g := newGroupEnv(t)
	g.tg.Fail("getChatMember", 1, telegramtest.APIError{Code: 502})
	mustContain(t, "/stop while Telegram fails", g.say(g.group, g.admin, "/stop", 2).Text, tryAgain)
	if _, ok := g.subscriber(g.group); !ok {
		t.Fatal("unsubscribed although the sender's standing was unknown")
	}
	// The failure is not cached: the next try asks again and succeeds.
	mustContain(t, "/stop again", g.say(g.group, g.admin, "/stop", 3).Text, "You are unsubscribed")
	if got := g.tg.Calls("getChatMember"); got != 2 {
		t.Errorf("getChatMember calls: got %d, want 2", got)
	}

	// A button press gets the same as an alert.
	g.say(g.group, g.admin, "/start", 4)
	kb := g.say(g.group, g.admin, "/categories", 5)
	g.clock.Advance(2 * time.Minute)
	g.tg.Fail("getChatMember", 1, telegramtest.APIError{Code: 500})
	a := g.press(g.group, g.admin, kb.MessageID, "cat:consular")
	if !a.ShowAlert {
		t.Errorf("got answer %+v, want an alert", a)
	}
	mustContain(t, "press while Telegram fails", a.Text, tryAgain)
	if s, _ := g.subscriber(g.group); !slices.Contains(s.Categories, "consular") {
		t.Errorf("categories: got %v, want consular still on", s.Categories)
	}
}

func TestGroupUserTelegramDoesNotKnowIsRefused(t *testing.T) {
	g := newGroupEnv(t)
	g.tg.Fail("getChatMember", 1, telegramtest.APIError{Code: 400, Description: "Bad Request: user not found"})
	if got := g.say(g.group, g.admin, "/stop", 2).Text; got != refusal {
		t.Errorf("got %q, want %q", got, refusal)
	}
	if _, ok := g.subscriber(g.group); !ok {
		t.Error("unsubscribed by a user Telegram did not know")
	}
}

func TestPrivateChatsAndChannelPostsAreNotChecked(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user, channel = 921, -1000000000922
	e.tg.AddPrivateChat(user, "Ida", "en")
	e.tg.AddChannel(channel, "News")
	welcome := e.say(user, user, "/start", 1)
	e.press(user, user, welcome.MessageID, "cat:consular")
	e.say(user, user, "/categories", 2)
	lang := e.say(user, user, "/language", 3)
	e.press(user, user, lang.MessageID, "lang:en")
	mustContain(t, "private /stop", e.say(user, user, "/stop", 4).Text, "You are unsubscribed")

	e.say(channel, user, "/start", 1)
	mustContain(t, "channel /stop", e.say(channel, user, "/stop", 2).Text, "You are unsubscribed")
	if got := e.tg.Calls("getChatMember"); got != 0 {
		t.Errorf("getChatMember calls: got %d, want 0", got)
	}
}

func TestAnonymousAdminsOfDifferentGroupsHaveTheirOwnFloodBudget(t *testing.T) {
	e := newEnv(t)
	// One command per user per hour: a second from the same sender is
	// told to slow down.
	e.start(func(p *bot.Params) { p.UserBurst, p.UserEvery = 1, time.Hour })
	const a, b, admin = -1000000000931, -1000000000932, 933
	for _, g := range []int64{a, b} {
		e.tg.AddGroup(g, "Group", true)
		e.tg.SetChatAdmin(g, admin)
		// Both come from GroupAnonymousBot; only sender_chat tells them apart.
		e.tg.SendTextAsAnonymousAdmin(g, admin, "/time")
		mustContain(t, "anonymous /time", e.waitMessages(g, 1)[0].Text, "Moscow")
	}
	e.tg.SendTextAsAnonymousAdmin(a, admin, "/time")
	mustContain(t, "second anonymous /time in one group", e.waitMessages(a, 2)[1].Text, "Too many requests")
}

// TestChannelSettingsAreAdminsOnly: anyone who reads a channel can press
// the buttons under the bot's posts there; only its administrators change
// anything.
func TestChannelSettingsAreAdminsOnly(t *testing.T) {
	e := newEnv(t)
	e.start()
	const channel, admin, reader = -1000000000960, 961, 962
	e.tg.AddChannel(channel, "News")
	e.tg.SetChatAdmin(channel, admin)
	e.tg.AddUser(reader, "Rex", "en")
	e.say(channel, admin, "/start", 1)
	kb := e.say(channel, admin, "/categories", 2)
	lang := e.say(channel, admin, "/language", 3)
	before, _ := e.subscriber(channel)

	const channelRefusal = "Only this channel's administrators can change its subscription."
	for _, press := range []struct {
		msg  int
		data string
	}{
		{kb.MessageID, "cat:consular"}, {kb.MessageID, "cat:*"}, {lang.MessageID, "lang:ru"},
	} {
		if a := e.press(channel, reader, press.msg, press.data); a.Text != channelRefusal || !a.ShowAlert {
			t.Errorf("reader's press %s: got %+v, want the refusal as an alert", press.data, a)
		}
	}
	if after, _ := e.subscriber(channel); !slices.Equal(after.Categories, before.Categories) || after.Language != before.Language {
		t.Fatalf("a reader changed the channel's subscription: %+v, was %+v", after, before)
	}
	if a := e.press(channel, admin, kb.MessageID, "cat:consular"); a.Text == channelRefusal {
		t.Fatalf("the channel's administrator was refused: %+v", a)
	}
	if after, _ := e.subscriber(channel); slices.Contains(after.Categories, "consular") {
		t.Errorf("categories: got %v, want consular off after the administrator's press", after.Categories)
	}
	// The channel's own posts need no check; the two pressers one each.
	if got := e.tg.Calls("getChatMember"); got != 2 {
		t.Errorf("getChatMember calls: got %d, want 2", got)
	}
}

// TestForgedPressForAnotherPrivateChatIsRefused: a private chat's buttons
// are its owner's; a press by anyone else (which Telegram's apps cannot
// make, but a forged request can) changes nothing.
func TestForgedPressForAnotherPrivateChatIsRefused(t *testing.T) {
	e := newEnv(t)
	e.start()
	const victim, attacker = 971, 972
	e.tg.AddPrivateChat(victim, "Vic", "en")
	e.tg.AddPrivateChat(attacker, "Mal", "en")
	welcome := e.say(victim, victim, "/start", 1)
	lang := e.say(victim, victim, "/language", 2)
	before, _ := e.subscriber(victim)
	for _, press := range []struct {
		msg  int
		data string
	}{
		{welcome.MessageID, "cat:consular"}, {welcome.MessageID, "cat:*"}, {lang.MessageID, "lang:ru"},
	} {
		a := e.press(victim, attacker, press.msg, press.data)
		if a.Text != "This button belongs to another chat." || !a.ShowAlert || a.FromUserID != attacker {
			t.Errorf("forged press %s: got %+v, want the refusal as an alert to the presser", press.data, a)
		}
	}
	if after, _ := e.subscriber(victim); !slices.Equal(after.Categories, before.Categories) || after.Language != before.Language {
		t.Fatalf("a forged press changed the victim's subscription: %+v, was %+v", after, before)
	}
	mustContain(t, "logs", e.logs.String(), "button press for another user's private chat refused", "user_id=972")
	// The owner's own press still works.
	if a := e.press(victim, victim, welcome.MessageID, "cat:consular"); a.Text != "▫️ Consular notices: off" {
		t.Errorf("owner's press: got %+v", a)
	}
}
