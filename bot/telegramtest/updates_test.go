package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestSendTextUpdate(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "ru")
	bot := newBot(t, s)
	id := s.SendText(1001, 1001, "/start@bulletin_test_bot payload")
	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 1 || int64(updates[0].UpdateID) != id || updates[0].Message == nil {
		t.Fatalf("got %+v, want one message update %d", updates, id)
	}
	m := updates[0].Message
	if !m.IsCommand() || m.Command() != "start" || m.CommandArguments() != "payload" {
		t.Errorf("got command %q args %q, want start with payload", m.Command(), m.CommandArguments())
	}
	if m.From.ID != 1001 || m.From.LanguageCode != "ru" || m.Chat.ID != 1001 || m.Chat.Type != "private" || m.Chat.FirstName != "Ann" {
		t.Errorf("got from %+v chat %+v, want Ann in her private chat", m.From, m.Chat)
	}
}

func TestLongPollWakesOnUpdate(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	ctx := testContext(t)

	type result struct {
		updates []tgbotapi.Update
		err     error
	}
	done := make(chan result, 1)
	go func() {
		u, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- result{u, err}
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		t.Fatalf("long poll returned %+v before any update", r)
	default:
	}
	s.SendText(1001, 1001, "hello")
	select {
	case r := <-done:
		if r.err != nil || len(r.updates) != 1 || r.updates[0].Message.Text != "hello" {
			t.Fatalf("got %+v, %v, want the hello update", r.updates, r.err)
		}
	case <-ctx.Done():
		t.Fatal("long poll did not wake up on the update")
	}
}

func TestLongPollTimesOut(t *testing.T) {
	s := newTestServer(t, Options{})
	bot := newBot(t, s)
	start := time.Now()
	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 1})
	if err != nil || len(updates) != 0 {
		t.Fatalf("got %+v, %v, want no updates", updates, err)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("returned after %v, want after the 1s timeout", elapsed)
	}
}

func TestLongPollEndsWithRequest(t *testing.T) {
	s := newTestServer(t, Options{})
	ctx := testContext(t)
	reqCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(reqCtx, http.MethodPost, s.URL()+"/bot"+s.Token()+"/getUpdates?timeout=60", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the client's cancellation", err)
	}
	err := s.WaitFor(ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.polling == 0
	})
	if err != nil {
		t.Errorf("the server still polls for a gone client: %v", err)
	}
}

func TestOffsetConfirmation(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	ids := []int64{s.SendText(1001, 1001, "a"), s.SendText(1001, 1001, "b"), s.SendText(1001, 1001, "c")}
	if ids[1] != ids[0]+1 || ids[2] != ids[1]+1 {
		t.Fatalf("got ids %v, want consecutive ids", ids)
	}
	get := func(cfg tgbotapi.UpdateConfig) []int64 {
		t.Helper()
		updates, err := bot.GetUpdates(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, u := range updates {
			got = append(got, int64(u.UpdateID))
		}
		return got
	}
	tests := []struct {
		name string
		cfg  tgbotapi.UpdateConfig
		want []int64
	}{
		{"no offset returns all", tgbotapi.UpdateConfig{}, ids},
		{"limit", tgbotapi.UpdateConfig{Limit: 1}, ids[:1]},
		{"offset confirms earlier", tgbotapi.UpdateConfig{Offset: int(ids[1])}, ids[1:]},
		{"confirmed are gone for good", tgbotapi.UpdateConfig{Offset: int(ids[0])}, ids[1:]},
		{"negative offset keeps the last", tgbotapi.UpdateConfig{Offset: -1}, ids[2:]},
		{"past the end", tgbotapi.UpdateConfig{Offset: int(ids[2] + 1)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := get(tt.cfg)
			if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if s.Pending() != 0 {
		t.Errorf("got %d pending, want 0", s.Pending())
	}
}

func TestUpdatesExpireAfterADay(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	s.AddPrivateChat(1001, "Ann", "en")
	s.SendText(1001, 1001, "old")
	clock.Advance(25 * time.Hour)
	s.SendText(1001, 1001, "new")
	if got := s.Pending(); got != 1 {
		t.Errorf("got %d pending, want only the fresh update", got)
	}
}

func TestSecondPollerConflict(t *testing.T) {
	s := newTestServer(t, Options{})
	bot := newBot(t, s)
	ctx := testContext(t)
	first := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		first <- err
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Fatalf("second poller: %v", err)
	}
	select {
	case err := <-first:
		wantAPIError(t, err, 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
	case <-ctx.Done():
		t.Fatal("the first poller was not terminated")
	}
}

func TestAllowedUpdates(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{AllowedUpdates: []string{"callback_query", "my_chat_member"}}); err != nil {
		t.Fatal(err)
	}
	// Later calls without allowed_updates keep the setting (tgbotapi sends "null").
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Fatal(err)
	}
	if id := s.SendText(1001, 1001, "filtered"); id != 0 {
		t.Errorf("got update %d, want none for a filtered message", id)
	}
	s.BlockBot(1001)
	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{AllowedUpdates: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 1 || updates[0].MyChatMember == nil {
		t.Fatalf("got %+v, want the my_chat_member update only", updates)
	}
	// An empty list is the default again: messages pass.
	if id := s.SendText(1001, 1001, "back"); id == 0 {
		t.Errorf("got no update after resetting allowed_updates")
	}
}

func TestBlockBot(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	s.BlockBot(1001)
	_, err := bot.Send(sendText(1001, "x"))
	wantAPIError(t, err, 403, "Forbidden: bot was blocked by the user")

	s.SendText(1001, 1001, "/start") // restarting unblocks
	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 3 {
		t.Fatalf("got %d updates, want block, unblock, message", len(updates))
	}
	block, unblock := updates[0].MyChatMember, updates[1].MyChatMember
	if block == nil || block.OldChatMember.Status != "member" || block.NewChatMember.Status != "kicked" || block.Chat.ID != 1001 || block.From.ID != 1001 {
		t.Errorf("got %+v, want member -> kicked in chat 1001 by the user", block)
	}
	if block.NewChatMember.User == nil || block.NewChatMember.User.ID != s.BotID() {
		t.Errorf("got member %+v, want the bot", block.NewChatMember.User)
	}
	if unblock == nil || unblock.OldChatMember.Status != "kicked" || unblock.NewChatMember.Status != "member" {
		t.Errorf("got %+v, want kicked -> member", unblock)
	}
	if updates[2].Message == nil || updates[2].Message.Text != "/start" {
		t.Errorf("got %+v, want the /start message", updates[2])
	}
	if _, err := bot.Send(sendText(1001, "welcome back")); err != nil {
		t.Errorf("after unblocking: %v", err)
	}
}

func TestGroupMembership(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddGroup(-501, "Basic", false)
	s.AddGroup(-1000000502, "Super", true)
	bot := newBot(t, s)
	s.RemoveBotFromGroup(-501, 1001)
	s.RemoveBotFromGroup(-1000000502, 1001)
	if id := s.SendText(-501, 1001, "/start"); id != 0 {
		t.Errorf("got update %d from a group the bot left, want none", id)
	}
	s.AddBotToGroup(-501, 1001)
	_, err := bot.Send(sendText(-1000000502, "x"))
	wantAPIError(t, err, 403, "Forbidden: bot was kicked from the supergroup chat")
	if _, err := bot.Send(sendText(-501, "back")); err != nil {
		t.Errorf("after re-adding: %v", err)
	}

	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range updates {
		switch {
		case u.MyChatMember != nil:
			got = append(got, strconv.FormatInt(u.MyChatMember.Chat.ID, 10)+":"+u.MyChatMember.OldChatMember.Status+"->"+u.MyChatMember.NewChatMember.Status)
		case u.Message != nil && len(u.Message.NewChatMembers) == 1:
			got = append(got, strconv.FormatInt(u.Message.Chat.ID, 10)+":joined "+u.Message.NewChatMembers[0].UserName)
		default:
			got = append(got, "other")
		}
	}
	want := []string{"-501:member->left", "-1000000502:member->kicked", "-501:left->member", "-501:joined bulletin_test_bot"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("update %d: got %s, want %s", i, got[i], want[i])
		}
	}
}

func TestPrivacyMode(t *testing.T) {
	tests := []struct {
		text    string
		readAll bool
		want    bool
	}{
		{"hello", false, false},
		{"/start", false, true},
		{"/start@bulletin_test_bot", false, true},
		{"/start@other_bot", false, false},
		{"hi @bulletin_test_bot", false, true},
		{"hello", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.text+" readAll="+strconv.FormatBool(tt.readAll), func(t *testing.T) {
			s := newTestServer(t, Options{ReadAllGroupMessages: tt.readAll})
			s.AddGroup(-501, "Basic", false)
			if got := s.SendText(-501, 1001, tt.text) != 0; got != tt.want {
				t.Errorf("got delivered %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMigrateGroup(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddGroup(-501, "Basic", false)
	bot := newBot(t, s)
	s.MigrateGroup(-501, -1000000501)
	_, err := bot.Send(sendText(-501, "x"))
	te := wantAPIError(t, err, 400, "Bad Request: group chat was upgraded to a supergroup chat")
	if te.MigrateToChatID != -1000000501 {
		t.Errorf("got migrate_to_chat_id %d, want -1000000501", te.MigrateToChatID)
	}
	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 2 || updates[0].Message == nil || updates[1].Message == nil {
		t.Fatalf("got %+v, want two service messages", updates)
	}
	to, from := updates[0].Message, updates[1].Message
	if to.Chat.ID != -501 || to.MigrateToChatID != -1000000501 {
		t.Errorf("got %+v, want migrate_to_chat_id in the old group", to)
	}
	if from.Chat.ID != -1000000501 || from.Chat.Type != "supergroup" || from.MigrateFromChatID != -501 {
		t.Errorf("got %+v, want migrate_from_chat_id in the new supergroup", from)
	}
	if _, err := bot.Send(sendText(-1000000501, "hello supergroup")); err != nil {
		t.Errorf("sending to the supergroup: %v", err)
	}
}

// webhookReceiver records the updates and secret headers a webhook gets and
// refuses the first failures of them with 500.
type webhookReceiver struct {
	mu       sync.Mutex
	failures int
	updates  []tgbotapi.Update
	secrets  []string
	answer   string
}

func (wr *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	wr.mu.Lock()
	defer wr.mu.Unlock()
	wr.secrets = append(wr.secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	if wr.failures > 0 {
		wr.failures--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var u tgbotapi.Update
	if err := json.Unmarshal(body, &u); err != nil || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	wr.updates = append(wr.updates, u)
	if wr.answer != "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, wr.answer)
	}
}

func (wr *webhookReceiver) snapshot() ([]tgbotapi.Update, []string) {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return append([]tgbotapi.Update(nil), wr.updates...), append([]string(nil), wr.secrets...)
}

func TestWebhookDelivery(t *testing.T) {
	s := newTestServer(t, Options{WebhookRetryDelay: time.Millisecond})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	ctx := testContext(t)
	recv := &webhookReceiver{failures: 2, answer: `{"method":"sendMessage","chat_id":1001,"text":"answered in the webhook reply"}`}
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)

	wh, err := tgbotapi.NewWebhook(hook.URL + "/tg")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := bot.Request(wh)
	if err != nil || resp.Description != "Webhook was set" {
		t.Fatalf("setWebhook: got %+v, %v", resp, err)
	}
	// tgbotapi's WebhookConfig has no secret_token; set it the raw way.
	if _, r := call(t, s, "setWebhook", url.Values{"url": {hook.URL + "/tg"}, "secret_token": {"s3cr3t_-X"}}); !r.OK {
		t.Fatalf("setWebhook with secret: %+v", r)
	}
	s.SendText(1001, 1001, "pushed")
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	updates, secrets := recv.snapshot()
	if len(updates) != 1 || updates[0].Message == nil || updates[0].Message.Text != "pushed" {
		t.Fatalf("got %+v, want the update delivered once", updates)
	}
	if len(secrets) != 3 || secrets[0] != "s3cr3t_-X" || secrets[2] != "s3cr3t_-X" {
		t.Errorf("got secrets %q, want two refused attempts and one accepted, each with the secret", secrets)
	}
	if _, err := s.WaitMessages(ctx, 1001, 1); err != nil {
		t.Errorf("the method in the webhook's answer was not run: %v", err)
	}

	info, err := bot.GetWebhookInfo()
	if err != nil {
		t.Fatal(err)
	}
	if info.URL != hook.URL+"/tg" || info.PendingUpdateCount != 0 || info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" {
		t.Errorf("got %+v, want the URL, nothing pending and the 500 as last error", info)
	}

	_, err = bot.GetUpdates(tgbotapi.UpdateConfig{})
	wantAPIError(t, err, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")

	s.SendText(1001, 1001, "second")
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if updates, _ := recv.snapshot(); len(updates) != 2 || updates[1].Message.Text != "second" {
		t.Errorf("got %+v, want the second update pushed", updates)
	}

	resp, err = bot.Request(tgbotapi.DeleteWebhookConfig{})
	if err != nil || resp.Description != "Webhook was deleted" {
		t.Fatalf("deleteWebhook: got %+v, %v", resp, err)
	}
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Errorf("getUpdates after deleteWebhook: %v", err)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	s := newTestServer(t, Options{WebhookRetryDelay: time.Millisecond, WebhookAttempts: 3})
	s.AddPrivateChat(1001, "Ann", "en")
	ctx := testContext(t)
	recv := &webhookReceiver{failures: 100}
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)
	if _, r := call(t, s, "setWebhook", url.Values{"url": {hook.URL}}); !r.OK {
		t.Fatalf("setWebhook: %+v", r)
	}
	s.SendText(1001, 1001, "lost")
	if err := s.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	if _, secrets := recv.snapshot(); len(secrets) != 3 || s.WebhookDropped() != 1 {
		t.Errorf("got %d attempts and %d dropped, want 3 and 1", len(secrets), s.WebhookDropped())
	}
}

func TestSetWebhookValidation(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	tests := []struct {
		name     string
		form     url.Values
		wantDesc string
	}{
		{"plain HTTP elsewhere", url.Values{"url": {"http://example.com/hook"}}, "Bad Request: bad webhook: HTTPS url must be provided for webhook"},
		{"odd HTTPS port", url.Values{"url": {"https://example.com:8080/hook"}}, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"},
		{"not a URL", url.Values{"url": {"::"}}, "Bad Request: bad webhook: Failed to resolve host: Name or service not known"},
		{"bad secret", url.Values{"url": {"https://example.com/hook"}, "secret_token": {"no spaces"}}, "Bad Request: secret token contains unallowed characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, r := call(t, s, "setWebhook", tt.form); r.OK || r.Description != tt.wantDesc {
				t.Errorf("got %+v, want %q", r, tt.wantDesc)
			}
		})
	}
	t.Run("drop pending updates", func(t *testing.T) {
		s.SendText(1001, 1001, "x")
		if _, r := call(t, s, "deleteWebhook", url.Values{"drop_pending_updates": {"true"}}); !r.OK || r.Description != "Webhook is already deleted" {
			t.Fatalf("got %+v, want success on an unset webhook", r)
		}
		if got := s.Pending(); got != 0 {
			t.Errorf("got %d pending, want 0", got)
		}
	})
}
