package telegramtest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestGetChatMember(t *testing.T) {
	const (
		ann, bob, cid, dee, eve, fay, gus, stranger = 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1999
		group, super, gone, left                    = -501, -1000000000502, -503, -1000000000504
	)
	s := newTestServer(t, Options{})
	s.AddPrivateChat(ann, "Ann", "en")
	s.AddUser(bob, "Bob", "")
	s.AddGroup(group, "Basic", false)
	s.AddGroup(super, "Super", true)
	s.AddGroup(gone, "Gone", false)
	s.AddGroup(left, "Left", true)
	s.DeleteChat(gone)
	s.RemoveBotFromGroup(left, ann)

	s.SetChatCreator(super, ann)
	s.SetChatAdmin(super, bob)
	s.SendText(super, cid, "hello") // writing makes a member
	s.SetChatMemberStatus(super, dee, StatusRestricted)
	s.SetChatMemberStatus(super, eve, StatusKicked)
	s.AddUser(fay, "Fay", "") // known, never in the group
	s.SetChatMemberStatus(super, gus, StatusMember)
	s.SetChatMemberStatus(super, gus, StatusLeft)
	s.SendText(group, cid, "/start")

	tests := []struct {
		name       string
		chat, user string
		wantStatus string
		wantErr    int
		wantDesc   string
		check      func(t *testing.T, m tgbotapi.ChatMember)
	}{
		{name: "creator", chat: idStr(super), user: idStr(ann), wantStatus: "creator", check: func(t *testing.T, m tgbotapi.ChatMember) {
			if !m.IsCreator() || m.IsAnonymous {
				t.Errorf("got %+v, want a creator who is not anonymous", m)
			}
		}},
		{name: "administrator", chat: idStr(super), user: idStr(bob), wantStatus: "administrator", check: func(t *testing.T, m tgbotapi.ChatMember) {
			if !m.IsAdministrator() || !m.CanManageChat || m.CanBeEdited {
				t.Errorf("got %+v, want an administrator's rights", m)
			}
		}},
		{name: "wrote in the group", chat: idStr(super), user: idStr(cid), wantStatus: "member"},
		{name: "wrote in another group", chat: idStr(group), user: idStr(cid), wantStatus: "member"},
		{name: "restricted", chat: idStr(super), user: idStr(dee), wantStatus: "restricted", check: func(t *testing.T, m tgbotapi.ChatMember) {
			if !m.IsMember || m.CanSendMessages || m.UntilDate != 0 {
				t.Errorf("got %+v, want a member who may not write, forever", m)
			}
		}},
		{name: "banned", chat: idStr(super), user: idStr(eve), wantStatus: "kicked"},
		{name: "known user never in the group", chat: idStr(super), user: idStr(fay), wantStatus: "left"},
		{name: "joined and left", chat: idStr(super), user: idStr(gus), wantStatus: "left"},
		{name: "creator elsewhere is nobody here", chat: idStr(group), user: idStr(ann), wantStatus: "left"},
		{name: "the bot itself", chat: idStr(super), user: "123456", wantStatus: "member"},
		{name: "user in own private chat", chat: idStr(ann), user: idStr(ann), wantStatus: "member"},
		{name: "by username", chat: "@super_chat", user: idStr(bob), wantStatus: "administrator"},
		{name: "never met", chat: idStr(super), user: idStr(stranger), wantErr: 400, wantDesc: "Bad Request: user not found"},
		{name: "no user_id", chat: idStr(super), wantErr: 400, wantDesc: "Bad Request: invalid user_id specified"},
		{name: "negative user_id", chat: idStr(super), user: idStr(group), wantErr: 400, wantDesc: "Bad Request: invalid user_id specified"},
		{name: "unknown chat", chat: "-777", user: idStr(ann), wantErr: 400, wantDesc: "Bad Request: chat not found"},
		{name: "deleted chat", chat: idStr(gone), user: idStr(ann), wantErr: 400, wantDesc: "Bad Request: chat not found"},
		{name: "no chat_id", user: idStr(ann), wantErr: 400, wantDesc: "Bad Request: chat_id is empty"},
		{name: "bot removed", chat: idStr(left), user: idStr(ann), wantErr: 403, wantDesc: "Forbidden: bot was kicked from the supergroup chat"},
	}
	s.SetUsername(super, "super_chat")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			if tt.chat != "" {
				form.Set("chat_id", tt.chat)
			}
			if tt.user != "" {
				form.Set("user_id", tt.user)
			}
			status, r := call(t, s, "getChatMember", form)
			if tt.wantErr != 0 {
				if status != tt.wantErr || r.OK || r.Description != tt.wantDesc {
					t.Fatalf("got %d %+v, want %d %q", status, r, tt.wantErr, tt.wantDesc)
				}
				return
			}
			if status != 200 || !r.OK {
				t.Fatalf("got %d %+v, want success", status, r)
			}
			var m tgbotapi.ChatMember
			if err := json.Unmarshal(r.Result, &m); err != nil {
				t.Fatal(err)
			}
			if m.Status != tt.wantStatus || m.User == nil || strconv.FormatInt(m.User.ID, 10) != tt.user {
				t.Errorf("got status %q user %+v, want %q for user %s", m.Status, m.User, tt.wantStatus, tt.user)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func idStr(n int64) string { return strconv.FormatInt(n, 10) }

func TestChatMemberHelpers(t *testing.T) {
	const super, ann, bob = -1000000000601, 1001, 1002
	status := func(t *testing.T, s *Server, chat, user int64) string {
		t.Helper()
		_, r := call(t, s, "getChatMember", url.Values{"chat_id": {idStr(chat)}, "user_id": {idStr(user)}})
		var m tgbotapi.ChatMember
		if err := json.Unmarshal(r.Result, &m); err != nil {
			t.Fatalf("decoding %+v: %v", r, err)
		}
		return m.Status
	}
	t.Run("a new creator demotes the old one", func(t *testing.T) {
		s := newTestServer(t, Options{})
		s.AddGroup(super, "Super", true)
		s.SetChatCreator(super, ann)
		s.SetChatCreator(super, bob)
		if got, want := status(t, s, super, ann)+","+status(t, s, super, bob), "administrator,creator"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("a creator is not demoted by SetChatAdmin", func(t *testing.T) {
		s := newTestServer(t, Options{})
		s.AddGroup(super, "Super", true)
		s.SetChatCreator(super, ann)
		s.SetChatAdmin(super, ann)
		if got := status(t, s, super, ann); got != "creator" {
			t.Errorf("got %s, want creator", got)
		}
	})
	t.Run("writing keeps an admin an admin", func(t *testing.T) {
		s := newTestServer(t, Options{})
		s.AddGroup(super, "Super", true)
		s.SetChatAdmin(super, ann)
		s.SendText(super, ann, "/stop")
		if got := status(t, s, super, ann); got != "administrator" {
			t.Errorf("got %s, want administrator", got)
		}
	})
	t.Run("a button press is no sign of membership", func(t *testing.T) {
		s := newTestServer(t, Options{})
		s.AddGroup(super, "Super", true)
		s.AddUser(bob, "Bob", "")
		bot := newBot(t, s)
		msg := sendText(super, "pick")
		msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("A", "a")))
		sent, err := bot.Send(msg)
		if err != nil {
			t.Fatal(err)
		}
		s.PressButton(super, bob, sent.MessageID, "a")
		if got := status(t, s, super, bob); got != "left" {
			t.Errorf("got %s, want left", got)
		}
	})
	t.Run("members follow a migration", func(t *testing.T) {
		const group = -602
		s := newTestServer(t, Options{})
		s.AddGroup(group, "Basic", false)
		s.SetChatAdmin(group, ann)
		s.MigrateGroup(group, super)
		if got := status(t, s, super, ann); got != "administrator" {
			t.Errorf("got %s, want administrator", got)
		}
		_, r := call(t, s, "getChatMember", url.Values{"chat_id": {idStr(group)}, "user_id": {idStr(ann)}})
		if r.OK || r.Description != descMigrated {
			t.Errorf("old group: got %+v, want the migration error", r)
		}
	})
	t.Run("misuse panics", func(t *testing.T) {
		s := newTestServer(t, Options{})
		s.AddGroup(super, "Super", true)
		s.AddGroup(-603, "Basic", false)
		s.AddPrivateChat(ann, "Ann", "en")
		s.SetChatMemberStatus(super, bob, StatusKicked)
		for name, f := range map[string]func(){
			"status in a private chat":       func() { s.SetChatAdmin(ann, bob) },
			"unknown status":                 func() { s.SetChatMemberStatus(super, bob, "owner") },
			"the bot's status":               func() { s.SetChatAdmin(super, s.BotID()) },
			"banned user writes":             func() { s.SendText(super, bob, "hi") },
			"anonymous non-admin":            func() { s.SendTextAsAnonymousAdmin(super, ann, "/stop") },
			"anonymous admin in basic group": func() { s.SendTextAsAnonymousAdmin(-603, ann, "/stop") },
		} {
			t.Run(name, func(t *testing.T) {
				defer func() {
					if recover() == nil {
						t.Errorf("got no panic, want one")
					}
				}()
				f()
			})
		}
	})
}

func TestSendTextAsAnonymousAdmin(t *testing.T) {
	const super, ann = -1000000000701, 1001
	s := newTestServer(t, Options{})
	s.AddGroup(super, "Super", true)
	s.SetChatAdmin(super, ann)
	if got := s.SendTextAsAnonymousAdmin(super, ann, "hello all"); got != 0 {
		t.Errorf("chatter under privacy mode: got update %d, want none", got)
	}
	if got := s.SendTextAsAnonymousAdmin(super, ann, "/stop"); got == 0 {
		t.Fatal("command: got no update, want one")
	}
	_, r := call(t, s, "getUpdates", url.Values{})
	var updates []tgbotapi.Update
	if err := json.Unmarshal(r.Result, &updates); err != nil {
		t.Fatal(err)
	}
	if len(updates) != 1 || updates[0].Message == nil {
		t.Fatalf("got %+v, want one message", updates)
	}
	m := updates[0].Message
	if m.From == nil || m.From.ID != 1087968824 || m.From.UserName != "GroupAnonymousBot" {
		t.Errorf("from: got %+v, want GroupAnonymousBot", m.From)
	}
	if m.SenderChat == nil || m.SenderChat.ID != super || m.Text != "/stop" {
		t.Errorf("got sender_chat %+v text %q, want the supergroup itself and /stop", m.SenderChat, m.Text)
	}
	_, r = call(t, s, "getChatMember", url.Values{"chat_id": {idStr(super)}, "user_id": {idStr(ann)}})
	var cm tgbotapi.ChatMember
	if err := json.Unmarshal(r.Result, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Status != "administrator" || !cm.IsAnonymous {
		t.Errorf("got %+v, want an anonymous administrator", cm)
	}
}
