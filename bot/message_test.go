package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
)

// webhookEnv runs a bot in webhook mode so that a test can post updates
// the fake cannot make: formatted text, replies.
type webhookEnv struct {
	*env
	srv    *httptest.Server
	secret string
}

func newWebhookEnv(t *testing.T, change ...func(*bot.Params)) (*webhookEnv, *bot.Bot) {
	t.Helper()
	e := newEnv(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	const secret = "hook_Secret-1"
	b, _ := e.newBot(append([]func(*bot.Params){func(p *bot.Params) {
		p.WebhookURL = srv.URL + "/hook"
		p.WebhookSecret = secret
	}}, change...)...)
	mux.Handle("/hook", b.WebhookHandler())
	return &webhookEnv{env: e, srv: srv, secret: secret}, b
}

// post delivers an update until the bot takes it. The bot answers 503
// until Run receives, and signals nothing when it starts to: the post is
// retried every few milliseconds.
func (w *webhookEnv) post(update map[string]any) {
	w.t.Helper()
	body, err := json.Marshal(update)
	if err != nil {
		w.t.Fatal(err)
	}
	deadline := time.Now().Add(waitLong)
	for {
		req, err := http.NewRequest(http.MethodPost, w.srv.URL+"/hook", bytes.NewReader(body))
		if err != nil {
			w.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", w.secret)
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			w.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the webhook still answers %d", resp.StatusCode)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func privateMessage(updateID int, user int64, text string, entities []map[string]any, replyTo map[string]any) map[string]any {
	m := map[string]any{
		"message_id": 5000 + updateID, "date": 1508232720, "text": text,
		"chat": map[string]any{"id": user, "type": "private", "first_name": "Ada"},
		"from": map[string]any{"id": user, "is_bot": false, "first_name": "Ada", "language_code": "en"},
	}
	if entities != nil {
		m["entities"] = entities
	}
	if replyTo != nil {
		m["reply_to_message"] = replyTo
	}
	return map[string]any{"update_id": updateID, "message": m}
}

func TestRequestCarriesFormattingAndReply(t *testing.T) {
	const admin = 171
	w, b := newWebhookEnv(t, func(p *bot.Params) { p.Admins = []int64{admin} })
	w.tg.AddPrivateChat(admin, "Ada", "en")
	var (
		mu  sync.Mutex
		got *bot.Message
	)
	b.Handle("echo", func(ctx context.Context, r *bot.Request) error {
		mu.Lock()
		got = r.Message
		mu.Unlock()
		return r.Reply(ctx, "ok")
	})
	w.run(b)

	reply := map[string]any{
		"message_id": 77, "date": 1508232000, "caption": "photo caption",
		"chat":             map[string]any{"id": admin, "type": "private"},
		"caption_entities": []map[string]any{{"type": "italic", "offset": 0, "length": 5}},
	}
	w.post(privateMessage(1, admin, "/echo bold", []map[string]any{
		{"type": "bot_command", "offset": 0, "length": 5},
		{"type": "text_link", "offset": 6, "length": 4, "url": "https://example.org/"},
		{"type": "text_mention", "offset": 6, "length": 4, "user": map[string]any{"id": 5, "is_bot": false, "first_name": "U"}},
	}, reply))
	w.waitMessages(admin, 1)

	mu.Lock()
	defer mu.Unlock()
	if got == nil {
		t.Fatal("the handler got no message")
	}
	if got.Text != "/echo bold" {
		t.Errorf("text: got %q, want %q", got.Text, "/echo bold")
	}
	want := []bot.Entity{
		{Type: "bot_command", Offset: 0, Length: 5},
		{Type: "text_link", Offset: 6, Length: 4, URL: "https://example.org/"},
		{Type: "text_mention", Offset: 6, Length: 4, UserID: 5},
	}
	if len(got.Entities) != len(want) {
		t.Fatalf("entities: got %+v, want %+v", got.Entities, want)
	}
	for i := range want {
		if got.Entities[i] != want[i] {
			t.Errorf("entity %d: got %+v, want %+v", i, got.Entities[i], want[i])
		}
	}
	if got.ReplyTo == nil || got.ReplyTo.Text != "photo caption" || len(got.ReplyTo.Entities) != 1 || got.ReplyTo.Entities[0].Type != "italic" {
		t.Errorf("reply: got %+v, want the caption with its italic entity", got.ReplyTo)
	}
}

func TestTextHandlers(t *testing.T) {
	const admin, citizen = 181, 182
	w, b := newWebhookEnv(t, func(p *bot.Params) { p.Admins = []int64{admin} })
	w.tg.AddPrivateChat(admin, "Ada", "en")
	w.tg.AddPrivateChat(citizen, "Joe", "en")
	var (
		mu   sync.Mutex
		seen []string
	)
	b.HandleText(func(ctx context.Context, r *bot.Request) (bool, error) {
		mu.Lock()
		seen = append(seen, r.Message.Text)
		mu.Unlock()
		if !strings.HasPrefix(r.Message.Text, "take") {
			return false, nil
		}
		return true, r.Reply(ctx, "taken: <b>"+r.Message.Text+"</b>")
	}, bot.AdminOnly())
	w.run(b)

	mustContain(t, "admin's text taken", w.say(admin, admin, "take this", 1).Text, "taken: take this")
	mustContain(t, "admin's text left", w.say(admin, admin, "something else", 2).Text, "I answer commands")
	mustContain(t, "citizen's text", w.say(citizen, citizen, "take that", 1).Text, "I answer commands")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"take this", "something else"}; strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("the admin-only text handler saw %q, want %q", seen, want)
	}
	if strings.Contains(w.logs.String(), "refused") {
		t.Error("a citizen's plain text was logged as a refused staff command")
	}
}

func TestAdminOnlyButtonRefused(t *testing.T) {
	const admin, citizen = 191, 192
	e := newEnv(t)
	e.tg.AddPrivateChat(admin, "Ada", "en")
	e.tg.AddPrivateChat(citizen, "Joe", "en")
	b, _ := e.newBot(func(p *bot.Params) { p.Admins = []int64{admin} })
	pressed := 0
	var mu sync.Mutex
	b.Handle("panel", func(ctx context.Context, r *bot.Request) error {
		return r.ReplyKeyboard(ctx, "panel", bot.Keyboard{{{Text: "Go", Data: "panel:go"}}})
	})
	b.HandleCallback("panel", func(ctx context.Context, r *bot.Request) error {
		mu.Lock()
		pressed++
		mu.Unlock()
		return r.Answer(ctx, "done")
	}, bot.AdminOnly())
	e.run(b)
	e.waitPolling()

	m := e.say(citizen, citizen, "/panel", 1)
	e.tg.PressButton(citizen, citizen, m.MessageID, "panel:go")
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	answers, err := e.tg.WaitCallbackAnswers(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := answers[0].Text, "Sorry, this command is not available to you."; got != want {
		t.Errorf("citizen's press: got %q, want %q", got, want)
	}
	mustContain(t, "logs", e.logs.String(), "staff command refused", "user_id=192", "callback=panel")

	m = e.say(admin, admin, "/panel", 1)
	e.tg.PressButton(admin, admin, m.MessageID, "panel:go")
	answers, err = e.tg.WaitCallbackAnswers(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := answers[1].Text, "done"; got != want {
		t.Errorf("admin's press: got %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if pressed != 1 {
		t.Errorf("the admin-only button ran %d times, want 1 (the admin's press)", pressed)
	}
}

func TestSendAndEditCountParsedLength(t *testing.T) {
	const user = 195
	e := newEnv(t)
	e.tg.AddPrivateChat(user, "Ada", "en")
	b, _ := e.newBot()
	e.run(b)
	e.waitPolling()
	ctx := context.Background()
	// 4000 characters of text in 2000 bold tags: 11,000 characters of
	// markup that Telegram shows as 4000.
	long := strings.Repeat("<b>ab</b>", 2000)
	id, err := b.SendHTML(ctx, user, long, nil)
	if err != nil {
		t.Fatalf("SendHTML of long markup with short text: %v", err)
	}
	if err := b.EditHTML(ctx, user, id, long+"<i>c</i>", bot.Keyboard{{{Text: "x", Data: "x:y"}}}); err != nil {
		t.Fatalf("EditHTML: %v", err)
	}
	msgs := e.tg.Messages(user)
	if len(msgs) != 1 || msgs[0].Edits != 1 || len(msgs[0].Text) != 4001 {
		t.Fatalf("got %+v, want one message edited once to 4001 characters", msgs)
	}
	if _, err := b.SendHTML(ctx, user, strings.Repeat("a", 4097), nil); err == nil {
		t.Error("SendHTML of 4097 characters: got nil error, want one")
	}
}
