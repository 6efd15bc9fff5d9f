package telegramtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.uber.org/goleak"
)

func TestGetMeThroughTgbotapi(t *testing.T) {
	s := newTestServer(t, Options{})
	bot := newBot(t, s)
	if bot.Self.UserName != "bulletin_test_bot" || bot.Self.ID != 123456 || !bot.Self.IsBot {
		t.Errorf("got bot %+v, want @bulletin_test_bot with id 123456", bot.Self)
	}
	if !bot.Self.CanJoinGroups || bot.Self.CanReadAllGroupMessages {
		t.Errorf("got capabilities %+v, want joins groups under privacy mode", bot.Self)
	}
}

func TestTransportErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name     string
		path     string
		wantCode int
		wantDesc string
	}{
		{"wrong token", "/bot999:WRONG/getMe", 401, "Unauthorized"},
		{"unknown method", "/bot" + s.Token() + "/sendTelepathy", 404, "Not Found"},
		{"no method", "/bot" + s.Token() + "/", 404, "Not Found"},
		{"not the API", "/favicon.ico", 404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(s.URL()+tt.path, "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r apiResponse
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode || r.OK || r.ErrorCode != tt.wantCode || r.Description != tt.wantDesc {
				t.Errorf("got %d %+v, want %d %q", resp.StatusCode, r, tt.wantCode, tt.wantDesc)
			}
		})
	}
}

func TestParameterEncodings(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")

	t.Run("json body with typed values", func(t *testing.T) {
		status, r := callJSON(t, s, "sendMessage",
			`{"chat_id":1001,"text":"<b>hi</b>","parse_mode":"HTML","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}}`)
		if status != 200 || !r.OK {
			t.Fatalf("got %d %+v, want success", status, r)
		}
	})
	t.Run("query string on GET", func(t *testing.T) {
		resp, err := http.Get(s.URL() + "/bot" + s.Token() + "/sendMessage?chat_id=1001&text=hello")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r apiResponse
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			t.Fatalf("got %+v, want success", r)
		}
	})
	t.Run("method names are case-insensitive", func(t *testing.T) {
		if _, r := call(t, s, "SENDMESSAGE", url.Values{"chat_id": {"1001"}, "text": {"x"}}); !r.OK {
			t.Fatalf("got %+v, want success", r)
		}
	})
	msgs := s.Messages(1001)
	if len(msgs) != 3 || msgs[0].Text != "hi" || msgs[1].Text != "hello" {
		t.Fatalf("got messages %+v, want hi, hello, x", msgs)
	}
	if kb := msgs[0].InlineKeyboard(); len(kb) != 1 || kb[0][0].CallbackData != "a" {
		t.Errorf("got keyboard %+v, want one button with data a", kb)
	}
	if got := s.Calls("sendMessage"); got != 3 {
		t.Errorf("got %d sendMessage calls, want 3", got)
	}
}

func TestSendMessageResult(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)

	msg := sendHTML(1001, "  <b>Hello</b>, <i>world</i> &amp; all\n")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("More", "more:1")))
	msg.DisableWebPagePreview = true
	got, err := bot.Send(msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got.MessageID != 1 || got.Chat.ID != 1001 || got.Chat.Type != "private" || got.From == nil || got.From.ID != 123456 {
		t.Errorf("got message %+v, want id 1 in private chat 1001 from the bot", got)
	}
	if got.Text != "Hello, world & all" || len(got.Entities) != 2 || got.Entities[1].Type != "italic" || got.Entities[1].Offset != 7 {
		t.Errorf("got text %q entities %+v, want trimmed plain text with bold and italic", got.Text, got.Entities)
	}
	if !got.Time().Equal(clock.Now()) {
		t.Errorf("got date %v, want %v", got.Time(), clock.Now())
	}
	if got.ReplyMarkup == nil || got.ReplyMarkup.InlineKeyboard[0][0].Text != "More" {
		t.Errorf("got markup %+v, want the inline keyboard back", got.ReplyMarkup)
	}
	second, err := bot.Send(sendText(1001, "again"))
	if err != nil || second.MessageID != 2 {
		t.Fatalf("got id %d, %v, want 2", second.MessageID, err)
	}
	msgs := s.Messages(1001)
	if len(msgs) != 2 || msgs[0].HTML != "  <b>Hello</b>, <i>world</i> &amp; all\n" || msgs[0].ParseMode != "HTML" || !msgs[0].DisableWebPagePreview {
		t.Errorf("got %+v, want the raw HTML, parse mode and preview flag kept", msgs[0])
	}
}

func TestSendMessageErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	s.AddPrivateChat(1002, "Bob", "en")
	s.AddPrivateChat(1003, "Cid", "")
	s.AddUser(1004, "Dee", "")
	s.AddGroup(-501, "Basic", false)
	s.AddGroup(-1000000502, "Super", true)
	s.AddChannel(-1000000503, "News")
	s.SetUsername(-1000000503, "news_channel")
	s.AddGroup(-504, "Old", false)
	s.BlockBot(1002)
	s.DeactivateUser(1003)
	s.RemoveBotFromGroup(-501, 1001)
	s.RemoveBotFromGroup(-1000000502, 1001)
	s.MigrateGroup(-504, -1000000504)
	s.AddGroup(-505, "Gone", false)
	s.DeleteChat(-505)

	long := strings.Repeat("x", 4097)
	button := func(data string) string {
		return `{"inline_keyboard":[[{"text":"b","callback_data":"` + data + `"}]]}`
	}
	tests := []struct {
		name        string
		form        url.Values
		wantCode    int
		wantDesc    string
		wantMigrate int64
	}{
		{"no chat_id", url.Values{"text": {"x"}}, 400, "Bad Request: chat_id is empty", 0},
		{"unknown chat", url.Values{"chat_id": {"777"}, "text": {"x"}}, 400, "Bad Request: chat not found", 0},
		{"garbage chat_id", url.Values{"chat_id": {"abc"}, "text": {"x"}}, 400, "Bad Request: chat not found", 0},
		{"unknown username", url.Values{"chat_id": {"@nobody"}, "text": {"x"}}, 400, "Bad Request: chat not found", 0},
		{"deleted chat", url.Values{"chat_id": {"-505"}, "text": {"x"}}, 400, "Bad Request: chat not found", 0},
		{"blocked", url.Values{"chat_id": {"1002"}, "text": {"x"}}, 403, "Forbidden: bot was blocked by the user", 0},
		{"deactivated", url.Values{"chat_id": {"1003"}, "text": {"x"}}, 403, "Forbidden: user is deactivated", 0},
		{"never started", url.Values{"chat_id": {"1004"}, "text": {"x"}}, 403, "Forbidden: bot can't initiate conversation with a user", 0},
		{"left basic group", url.Values{"chat_id": {"-501"}, "text": {"x"}}, 403, "Forbidden: bot is not a member of the group chat", 0},
		{"kicked from supergroup", url.Values{"chat_id": {"-1000000502"}, "text": {"x"}}, 403, "Forbidden: bot was kicked from the supergroup chat", 0},
		{"migrated group", url.Values{"chat_id": {"-504"}, "text": {"x"}}, 400, "Bad Request: group chat was upgraded to a supergroup chat", -1000000504},
		{"no text", url.Values{"chat_id": {"1001"}}, 400, "Bad Request: message text is empty", 0},
		{"blank text", url.Values{"chat_id": {"1001"}, "text": {" \n "}}, 400, "Bad Request: message text is empty", 0},
		{"only empty tags", url.Values{"chat_id": {"1001"}, "text": {"<b> </b>"}, "parse_mode": {"HTML"}}, 400, "Bad Request: message text is empty", 0},
		{"too long", url.Values{"chat_id": {"1001"}, "text": {long}}, 400, "Bad Request: message is too long", 0},
		{"bad HTML", url.Values{"chat_id": {"1001"}, "text": {"hello <foo>x"}, "parse_mode": {"HTML"}}, 400,
			`Bad Request: can't parse entities: Unsupported start tag "foo" at byte offset 6`, 0},
		{"bad parse mode", url.Values{"chat_id": {"1001"}, "text": {"x"}, "parse_mode": {"BBCode"}}, 400, "Bad Request: unsupported parse_mode", 0},
		{"callback data too long", url.Values{"chat_id": {"1001"}, "text": {"x"}, "reply_markup": {button(strings.Repeat("d", 65))}}, 400, "Bad Request: BUTTON_DATA_INVALID", 0},
		{"empty callback data", url.Values{"chat_id": {"1001"}, "text": {"x"}, "reply_markup": {button("")}}, 400, "Bad Request: BUTTON_DATA_INVALID", 0},
		{"text button in inline keyboard", url.Values{"chat_id": {"1001"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"b"}]]}`}}, 400,
			"Bad Request: text buttons are unallowed in the inline keyboard", 0},
		{"bad button URL", url.Values{"chat_id": {"1001"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"b","url":"notaurl"}]]}`}}, 400, "Bad Request: BUTTON_URL_INVALID", 0},
		{"markup not JSON", url.Values{"chat_id": {"1001"}, "text": {"x"}, "reply_markup": {"{"}}, 400, "Bad Request: can't parse reply keyboard markup JSON object", 0},
		{"reply to missing message", url.Values{"chat_id": {"1001"}, "text": {"x"}, "reply_to_message_id": {"99"}}, 400, "Bad Request: message to be replied not found", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, r := call(t, s, "sendMessage", tt.form)
			if status != tt.wantCode || r.OK || r.ErrorCode != tt.wantCode || r.Description != tt.wantDesc {
				t.Fatalf("got %d %d %q, want %d %q", status, r.ErrorCode, r.Description, tt.wantCode, tt.wantDesc)
			}
			var gotMigrate int64
			if r.Parameters != nil {
				gotMigrate = r.Parameters.MigrateToChatID
			}
			if gotMigrate != tt.wantMigrate {
				t.Errorf("got migrate_to_chat_id %d, want %d", gotMigrate, tt.wantMigrate)
			}
		})
	}
	for _, chatID := range []int64{1001, 1002, 1003, -501, -1000000502, -504} {
		if got := s.Messages(chatID); len(got) != 0 {
			t.Errorf("chat %d got messages %+v, want none from rejected sends", chatID, got)
		}
	}

	t.Run("username and allowed sends", func(t *testing.T) {
		for _, form := range []url.Values{
			{"chat_id": {"@news_channel"}, "text": {"to channel"}},
			{"chat_id": {"-1000000504"}, "text": {"to the new supergroup"}},
			{"chat_id": {"1001"}, "text": {"x"}, "reply_to_message_id": {"99"}, "allow_sending_without_reply": {"true"}},
		} {
			if _, r := call(t, s, "sendMessage", form); !r.OK {
				t.Errorf("send %v: got %+v, want success", form, r)
			}
		}
	})
}

func TestMessageLength(t *testing.T) {
	s := newTestServer(t, Options{GlobalRate: -1, PerChatInterval: -1})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	tests := []struct {
		name    string
		text    string
		html    bool
		wantErr bool
	}{
		{"4096 ASCII", strings.Repeat("a", 4096), false, false},
		{"4097 ASCII", strings.Repeat("a", 4097), false, true},
		{"2048 emoji are 4096 UTF-16 units", strings.Repeat("😀", 2048), false, false},
		{"2048 emoji and one more unit", strings.Repeat("😀", 2048) + "a", false, true},
		{"4096 Cyrillic letters, 8192 bytes", strings.Repeat("я", 4096), false, false},
		{"tags don't count", "<b>" + strings.Repeat("a", 4096) + "</b>", true, false},
		{"entities count once decoded", strings.Repeat("&amp;", 4096), true, false},
		{"decoded entities over the limit", strings.Repeat("&amp;", 4097), true, true},
		{"numeric emoji references count twice", strings.Repeat("&#128512;", 2048) + "x", true, true},
		{"surrounding whitespace is trimmed first", "\n " + strings.Repeat("a", 4096) + " \n", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := sendText(1001, tt.text)
			if tt.html {
				msg = sendHTML(1001, tt.text)
			}
			_, err := bot.Send(msg)
			if tt.wantErr {
				wantAPIError(t, err, 400, "Bad Request: message is too long")
			} else if err != nil {
				t.Fatalf("got %v, want success", err)
			}
		})
	}
}

func TestEditMessageText(t *testing.T) {
	s := newTestServer(t, Options{GlobalRate: -1, PerChatInterval: -1})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Go", "go")))
	first := sendHTML(1001, "<b>v1</b>")
	first.ReplyMarkup = kb
	sent, err := bot.Send(first)
	if err != nil {
		t.Fatal(err)
	}

	edit := tgbotapi.NewEditMessageTextAndMarkup(1001, sent.MessageID, "<b>v1</b>", kb)
	edit.ParseMode = tgbotapi.ModeHTML
	_, err = bot.Send(edit)
	wantAPIError(t, err, 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")

	// Same text in another spelling is still the same content.
	edit.Text = "<strong>v1</strong>"
	_, err = bot.Send(edit)
	wantAPIError(t, err, 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")

	// An edit without reply_markup drops the keyboard, as in Telegram.
	plain := tgbotapi.NewEditMessageText(1001, sent.MessageID, "<b>v1</b>")
	plain.ParseMode = tgbotapi.ModeHTML
	if _, err := bot.Send(plain); err != nil {
		t.Fatalf("edit dropping the keyboard: %v", err)
	}
	edited, err := bot.Send(tgbotapi.NewEditMessageText(1001, sent.MessageID, "v2"))
	if err != nil {
		t.Fatal(err)
	}
	if edited.Text != "v2" || edited.EditDate == 0 {
		t.Errorf("got %+v, want text v2 with an edit date", edited)
	}
	msgs := s.Messages(1001)
	if len(msgs) != 1 || msgs[0].Text != "v2" || msgs[0].Edits != 2 || msgs[0].ReplyMarkup != nil {
		t.Errorf("got %+v, want one message v2, edited twice, without keyboard", msgs)
	}

	_, err = bot.Send(tgbotapi.NewEditMessageText(1001, 42, "x"))
	wantAPIError(t, err, 400, "Bad Request: message to edit not found")
	_, err = bot.Send(tgbotapi.NewEditMessageText(1001, sent.MessageID, "<i>x"+"</b>"))
	if err != nil {
		t.Fatalf("plain text edit with tag-like text: %v", err)
	}
	bad := tgbotapi.NewEditMessageText(1001, sent.MessageID, "<i>x</b>")
	bad.ParseMode = tgbotapi.ModeHTML
	_, err = bot.Send(bad)
	wantAPIError(t, err, 400, `Bad Request: can't parse entities: Unmatched end tag at byte offset 4, expected "</i>", found "</b>"`)

	s.SendText(1001, 1001, "user text")
	userMsgID := 2
	_, err = bot.Send(tgbotapi.NewEditMessageText(1001, userMsgID, "hijack"))
	wantAPIError(t, err, 400, "Bad Request: message can't be edited")
}

func TestEditMessageReplyMarkup(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	sent, err := bot.Send(sendText(1001, "pick"))
	if err != nil {
		t.Fatal(err)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("A", "a")))
	if _, err := bot.Send(tgbotapi.NewEditMessageReplyMarkup(1001, sent.MessageID, kb)); err != nil {
		t.Fatalf("adding a keyboard: %v", err)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageReplyMarkup(1001, sent.MessageID, kb))
	wantAPIError(t, err, 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	if got := s.Messages(1001)[0].InlineKeyboard(); len(got) != 1 || got[0][0].Text != "A" {
		t.Errorf("got keyboard %+v, want button A", got)
	}
}

func TestDeleteMessage(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	a, err := bot.Send(sendText(1001, "a"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := bot.Request(tgbotapi.NewDeleteMessage(1001, a.MessageID))
	if err != nil || string(resp.Result) != "true" {
		t.Fatalf("got %s, %v, want true", resp.Result, err)
	}
	_, err = bot.Request(tgbotapi.NewDeleteMessage(1001, a.MessageID))
	wantAPIError(t, err, 400, "Bad Request: message to delete not found")
	_, err = bot.Request(tgbotapi.NewDeleteMessage(1001, 99))
	wantAPIError(t, err, 400, "Bad Request: message to delete not found")

	b, err := bot.Send(sendText(1001, "b"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(48 * time.Hour)
	_, err = bot.Request(tgbotapi.NewDeleteMessage(1001, b.MessageID))
	wantAPIError(t, err, 400, "Bad Request: message can't be deleted for everyone")

	msgs := s.Messages(1001)
	if len(msgs) != 2 || !msgs[0].Deleted || msgs[1].Deleted {
		t.Errorf("got %+v, want the first deleted, the second kept", msgs)
	}
}

func TestCallbackQueries(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	msg := sendText(1001, "choose")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Yes", "yes")))
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	id := s.PressButton(1001, 1001, sent.MessageID, "yes")

	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 1 || updates[0].CallbackQuery == nil {
		t.Fatalf("got %+v, want one callback query", updates)
	}
	q := updates[0].CallbackQuery
	if q.ID != id || q.Data != "yes" || q.From.ID != 1001 || q.Message == nil || q.Message.MessageID != sent.MessageID || q.Message.Text != "choose" {
		t.Errorf("got query %+v, want id %s with data yes on message %d", q, id, sent.MessageID)
	}

	if _, err := bot.Request(tgbotapi.NewCallbackWithAlert(id, "Done")); err != nil {
		t.Fatalf("answering: %v", err)
	}
	_, err = bot.Request(tgbotapi.NewCallback(id, ""))
	wantAPIError(t, err, 400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
	_, err = bot.Request(tgbotapi.NewCallback("12345", ""))
	wantAPIError(t, err, 400, "Bad Request: query is too old and response timeout expired or query ID is invalid")

	answers := s.CallbackAnswers()
	want := CallbackAnswer{QueryID: id, ChatID: 1001, MessageID: sent.MessageID, FromUserID: 1001, Data: "yes", Text: "Done", ShowAlert: true}
	if len(answers) != 1 || answers[0] != want {
		t.Errorf("got %+v, want [%+v]", answers, want)
	}
}

func TestPressButtonRejectsUnknownData(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	sent, err := bot.Send(sendText(1001, "no buttons"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("got no panic, want one for a button the message never had")
		}
	}()
	s.PressButton(1001, 1001, sent.MessageID, "ghost")
}

func TestMyCommands(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	s.AddGroup(-1000000502, "Super", true)
	s.AddChannel(-1000000503, "News")
	bot := newBot(t, s)

	cmds := []tgbotapi.BotCommand{{Command: "start", Description: "Subscribe"}, {Command: "/latest", Description: " Latest news "}}
	if _, err := bot.Request(tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeAllPrivateChats(), "ru", cmds...)); err != nil {
		t.Fatalf("setMyCommands: %v", err)
	}
	want := []BotCommand{{"start", "Subscribe"}, {"latest", "Latest news"}}
	got := s.Commands(CommandScope{Type: "all_private_chats"}, "ru")
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if other := s.Commands(CommandScope{}, ""); len(other) != 0 {
		t.Errorf("default scope got %+v, want nothing", other)
	}
	fetched, err := bot.GetMyCommandsWithConfig(tgbotapi.NewGetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeAllPrivateChats(), "ru"))
	if err != nil || len(fetched) != 2 || fetched[1].Command != "latest" {
		t.Errorf("getMyCommands: got %+v, %v, want the two commands", fetched, err)
	}
	if _, err := bot.Request(tgbotapi.NewDeleteMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeAllPrivateChats(), "ru")); err != nil {
		t.Fatalf("deleteMyCommands: %v", err)
	}
	if got := s.Commands(CommandScope{Type: "all_private_chats"}, "ru"); len(got) != 0 {
		t.Errorf("after delete got %+v, want nothing", got)
	}
	if _, err := bot.Request(tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChatAdministrators(-1000000502), cmds[0])); err != nil {
		t.Fatalf("chat administrators scope: %v", err)
	}
	if got := s.CommandSets(); len(got) != 1 || got[0].Scope != (CommandScope{Type: "chat_administrators", ChatID: -1000000502}) {
		t.Errorf("got sets %+v, want one for the supergroup's administrators", got)
	}

	many := make([]tgbotapi.BotCommand, 101)
	for i := range many {
		many[i] = tgbotapi.BotCommand{Command: "c", Description: "d"}
	}
	tests := []struct {
		name     string
		cfg      tgbotapi.SetMyCommandsConfig
		wantDesc string
	}{
		{"too many", tgbotapi.NewSetMyCommands(many...), "Bad Request: BOT_COMMANDS_TOO_MUCH"},
		{"upper case", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Start", Description: "d"}), "Bad Request: BOT_COMMAND_INVALID"},
		{"hyphen", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "file-issue", Description: "d"}), "Bad Request: BOT_COMMAND_INVALID"},
		{"empty command", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: " / ", Description: "d"}), "Bad Request: command must be non-empty"},
		{"long command", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: strings.Repeat("a", 33), Description: "d"}), "Bad Request: command length must not exceed 32"},
		{"empty description", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "a", Description: "  "}), "Bad Request: command description must be non-empty"},
		{"long description", tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "a", Description: strings.Repeat("d", 257)}), "Bad Request: command description length must not exceed 256"},
		{"bad language", tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), "rus", cmds[0]), "Bad Request: invalid language code specified"},
		{"bad scope type", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.BotCommandScope{Type: "everyone"}, cmds[0]), "Bad Request: can't parse BotCommandScope: Unsupported type specified"},
		{"chat scope without chat", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.BotCommandScope{Type: "chat"}, cmds[0]), `Bad Request: can't parse BotCommandScope: Can't find field "chat_id"`},
		{"chat scope, unknown chat", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(-42), cmds[0]), "Bad Request: chat not found"},
		{"administrators of a private chat", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChatAdministrators(1001), cmds[0]), "Bad Request: can't use specified scope in private chats"},
		{"channel scope", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(-1000000503), cmds[0]), "Bad Request: can't change commands in channel chats"},
		{"member scope, bad user", tgbotapi.NewSetMyCommandsWithScope(tgbotapi.BotCommandScope{Type: "chat_member", ChatID: -1000000502, UserID: -5}, cmds[0]), "Bad Request: can't parse BotCommandScope: Invalid user_id specified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bot.Request(tt.cfg)
			wantAPIError(t, err, 400, tt.wantDesc)
		})
	}
	t.Run("scope that is not an object", func(t *testing.T) {
		_, r := call(t, s, "setMyCommands", url.Values{"commands": {`[{"command":"a","description":"b"}]`}, "scope": {`"default"`}})
		if r.Description != "Bad Request: can't parse BotCommandScope: BotCommandScope must be an Object" {
			t.Errorf("got %q, want the must-be-an-Object error", r.Description)
		}
	})
}

func TestSendChatAction(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	s.AddPrivateChat(1002, "Bob", "en")
	s.BlockBot(1002)
	bot := newBot(t, s)
	if _, err := bot.Request(tgbotapi.NewChatAction(1001, tgbotapi.ChatTyping)); err != nil {
		t.Fatalf("typing: %v", err)
	}
	_, err := bot.Request(tgbotapi.NewChatAction(1001, "dancing"))
	wantAPIError(t, err, 400, "Bad Request: wrong parameter action in request")
	_, err = bot.Request(tgbotapi.NewChatAction(1002, tgbotapi.ChatTyping))
	wantAPIError(t, err, 403, "Forbidden: bot was blocked by the user")
}

func TestFaultInjection(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	s.Fail("sendMessage", 2, APIError{Code: 429, RetryAfter: 7})
	s.Fail("sendMessage", 1, APIError{Code: 400, MigrateToChatID: -100999})
	s.Fail("SendMessage", 1, APIError{Code: 502, Description: "Bad Gateway"})

	for i := 0; i < 2; i++ {
		_, err := bot.Send(sendText(1001, "x"))
		te := wantAPIError(t, err, 429, "Too Many Requests: retry after 7")
		if te.RetryAfter != 7 {
			t.Errorf("got retry_after %d, want 7", te.RetryAfter)
		}
	}
	_, err := bot.Send(sendText(1001, "x"))
	if te := wantAPIError(t, err, 400, "Bad Request: group chat was upgraded to a supergroup chat"); te.MigrateToChatID != -100999 {
		t.Errorf("got migrate_to_chat_id %d, want -100999", te.MigrateToChatID)
	}
	_, err = bot.Send(sendText(1001, "x"))
	wantAPIError(t, err, 502, "Bad Gateway")
	if _, err := bot.Send(sendText(1001, "finally")); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
	if got := s.Messages(1001); len(got) != 1 || got[0].Text != "finally" {
		t.Errorf("got %+v, want only the message after the faults", got)
	}
	if got := s.Calls("sendMessage"); got != 5 {
		t.Errorf("got %d calls, want 5", got)
	}
	if got := s.TooManyRequests(); got != 2 {
		t.Errorf("got %d 429s, want 2", got)
	}
}

func TestLatency(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SetLatency(30 * time.Millisecond)
	start := time.Now()
	if _, r := call(t, s, "getMe", nil); !r.OK {
		t.Fatalf("got %+v, want success", r)
	}
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Errorf("got a reply after %v, want at least 30ms", elapsed)
	}
}

func TestResponsesKeepHTMLCharacters(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	_, r := call(t, s, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"a & <b>"}})
	if !r.OK || !strings.Contains(string(r.Result), `"text":"a & <b>"`) {
		t.Errorf("got result %s, want the text unescaped as Telegram sends it", r.Result)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := NewServer(Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	ctx := testContext(t)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	polled := make(chan error, 1)
	go func() {
		resp, err := client.Get(s.URL() + "/bot" + s.Token() + "/getUpdates?timeout=60")
		if err == nil {
			resp.Body.Close()
		}
		polled <- err
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := <-polled; err != nil {
		t.Errorf("got %v, want the long poll answered at Close", err)
	}
	if err := s.WaitFor(ctx, func() bool { return false }); err == nil {
		t.Errorf("got no error from WaitFor on a closed server")
	}
}
