package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.yaml.in/yaml/v3"

	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller/category"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text string
		want command
		ok   bool
	}{
		{"/start", command{Name: "start"}, true},
		{"/Start payload", command{Name: "start", Args: "payload"}, true},
		{"/latest 5 press-releases", command{Name: "latest", Args: "5 press-releases"}, true},
		{"/latest@bulletin_bot  3  ", command{Name: "latest", Mention: "bulletin_bot", Args: "3"}, true},
		{"/time@Other_Bot", command{Name: "time", Mention: "Other_Bot"}, true},
		{"/help\nmore lines", command{Name: "help", Args: "more lines"}, true},
		{"/a_1", command{Name: "a_1"}, true},
		{"/" + strings.Repeat("x", 32), command{Name: strings.Repeat("x", 32)}, true},
		{"/" + strings.Repeat("x", 33), command{}, false},
		{"hello", command{}, false},
		{"", command{}, false},
		{"/", command{}, false},
		{"/ start", command{}, false},
		{"/старт", command{}, false},
		{"/start@", command{}, false},
		{"/start@bot@bot", command{}, false},
		{"/start-now", command{}, false},
		{" /start", command{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, ok := parseCommand(tt.text)
			if ok != tt.ok || got != tt.want {
				t.Errorf("got %+v, %v, want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/start", "/latest@bot 5 x", "/", "/a@", "/x\u00a0y", "hi", "/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, ok := parseCommand(text)
		if !ok {
			return
		}
		if c.Name == "" || len(c.Name) > 32 || c.Name != strings.ToLower(c.Name) || !isCommandWord(c.Name) {
			t.Fatalf("parseCommand(%q) gave bad name %q", text, c.Name)
		}
		if !strings.HasPrefix(strings.ToLower(text), "/"+c.Name) {
			t.Fatalf("parseCommand(%q) gave a name %q not at the start", text, c.Name)
		}
		if c.Args != strings.TrimSpace(c.Args) {
			t.Fatalf("parseCommand(%q) gave untrimmed args %q", text, c.Args)
		}
	})
}

func testBot(t *testing.T) *Bot {
	t.Helper()
	cats, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	return &Bot{p: Params{Categorizer: cats}}
}

func TestParseLatest(t *testing.T) {
	b := testBot(t)
	tests := []struct {
		args    string
		want    latestQuery
		unknown string
		wantErr error
	}{
		{"", latestQuery{n: 5}, "", nil},
		{"7", latestQuery{n: 7}, "", nil},
		{"+7", latestQuery{n: 7}, "", nil},
		{"20", latestQuery{n: 20}, "", nil},
		{"21", latestQuery{n: 21}, "", errBadCount},
		{"0", latestQuery{n: 0}, "", errBadCount},
		{"-1 statements", latestQuery{n: -1}, "", errBadCount},
		{"statements", latestQuery{n: 5, category: "statements"}, "", nil},
		{"STATEMENTS 2", latestQuery{n: 2, category: "statements"}, "", nil},
		{"2 Comments and answers to media questions", latestQuery{n: 2, category: "comments"}, "", nil},
		{"встречи, переговоры и телефонные разговоры", latestQuery{n: 5, category: "meetings"}, "", nil},
		{"3 nonsense words", latestQuery{n: 3}, "nonsense words", errUnknownCategory},
		{"3 4", latestQuery{n: 3}, "4", errUnknownCategory},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			got, unknown, err := b.parseLatest(tt.args)
			if !errors.Is(err, tt.wantErr) || got != tt.want || unknown != tt.unknown {
				t.Errorf("got %+v, %q, %v, want %+v, %q, %v", got, unknown, err, tt.want, tt.unknown, tt.wantErr)
			}
		})
	}
}

func TestPackKeepsMessagesWithinTheLimit(t *testing.T) {
	parts := []string{"header", strings.Repeat("a", 40), strings.Repeat("б", 40), strings.Repeat("😀", 24), "tail"}
	got := pack(parts, "\n\n", 50)
	want := []string{"header\n\n" + strings.Repeat("a", 40), strings.Repeat("б", 40), strings.Repeat("😀", 24), "tail"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, m := range got {
		if utf16Len(m) > 50 {
			t.Errorf("message %q is %d UTF-16 units, over 50", m, utf16Len(m))
		}
	}
	if got := pack(nil, "\n", 10); len(got) != 0 {
		t.Errorf("pack(nil): got %q, want none", got)
	}
}

func TestTruncate(t *testing.T) {
	if got, want := truncate("Заявление МИД", 5), "Заяв…"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := truncate("short", 5), "short"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUserLimiterStaysBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newUserLimiter(time.Second, 2, 100)
	for id := range int64(1000) {
		if ok, _ := l.allow(id, now); !ok {
			t.Fatalf("user %d refused on first request", id)
		}
		if n := l.len(); n > 100 {
			t.Fatalf("limiter holds %d users, want at most 100", n)
		}
	}
	// A user's budget: burst, then one warning, then silence, then refill.
	steps := []struct {
		after    time.Duration
		ok, warn bool
	}{{0, true, false}, {0, true, false}, {0, false, true}, {0, false, false}, {time.Second, true, false}, {0, false, true}}
	at := now
	for i, s := range steps {
		at = at.Add(s.after)
		ok, warn := l.allow(-5, at)
		if ok != s.ok || warn != s.warn {
			t.Fatalf("step %d: got %v, %v, want %v, %v", i, ok, warn, s.ok, s.warn)
		}
	}
}

func TestSettingsYAML(t *testing.T) {
	const doc = `
default_language: ru
clocks:
  - zone: Asia/Vladivostok
    label: {en: Vladivostok, ru: Владивосток}
  - zone: UTC
    label: UTC
consular:
  phone: "+44 1"
  address: "Somewhere 1"
  last_checked: 2025-02-03
texts:
  en:
    text_hint: "Commands only."
`
	s := DefaultSettings()
	if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if s.DefaultLanguage != "ru" || len(s.Clocks) != 2 || s.Clocks[1].Label.In("ru", "en") != "UTC" {
		t.Errorf("clocks: got %+v", s.Clocks)
	}
	if got := s.Consular.Address.In("ru", "en"); got != "Somewhere 1" {
		t.Errorf("a plain address replaces every language's: got %q", got)
	}
	if s.Consular.Email != "info@rusemb.org.uk" {
		t.Errorf("fields left out keep their default: email %q", s.Consular.Email)
	}
}

func TestSettingsValidate(t *testing.T) {
	bad := DefaultSettings()
	bad.DefaultLanguage = "de"
	bad.Clocks = append(bad.Clocks, Clock{Zone: "Mars/Olympus"}, Clock{Zone: "UTC"})
	bad.Consular.Link = "ftp://x"
	bad.Consular.LastChecked = "yesterday"
	bad.Texts = map[string]map[string]string{"en": {"no_such_text": "x"}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("got nil, want every problem")
	}
	for _, want := range []string{`default_language "de"`, `clocks[2].zone "Mars/Olympus"`, "clocks[2].label is empty", "clocks[3].label is empty", `consular.link "ftp://x"`, `consular.last_checked "yesterday"`, "no_such_text"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := DefaultSettings().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	// Empty parts get the defaults.
	s := Settings{Consular: Consular{Phone: "1"}}.withDefaults()
	if len(s.Clocks) != 2 || s.DefaultLanguage != "en" || s.Consular.Email != "" {
		t.Errorf("withDefaults: got %+v", s)
	}
}

func TestKeyboardRefusesLongData(t *testing.T) {
	if _, err := (Keyboard{{{Text: "x", Data: strings.Repeat("d", 65)}}}).markup(); err == nil {
		t.Error("65-byte callback data accepted")
	}
	got, err := (Keyboard{{{Text: "a&b", Data: "cat:x"}, {Text: "site", URL: "https://x"}}}).markup()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"inline_keyboard":[[{"text":"a\u0026b","callback_data":"cat:x"},{"text":"site","url":"https://x"}]]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestDispatcherQueuesPerChat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var order []int
		handled := map[int64]int{}
		d := newDispatcher(t.Context(), 2, func(_ context.Context, j job) {
			chat := j.update.Message.Chat.ID
			if chat == 1 {
				<-release // chat 1's handler is slow
			}
			mu.Lock()
			defer mu.Unlock()
			handled[chat]++
			if chat == 1 {
				order = append(order, j.update.UpdateID)
			}
		})
		update := func(id int, chat int64) job {
			return job{update: tg.Update{Update: tgbotapi.Update{UpdateID: id, Message: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: chat}}}}}
		}
		// One handler of chat 1 runs and chatQueueLimit more wait; the
		// next is refused.
		for i := range chatQueueLimit + 1 {
			if err := d.submit(t.Context(), 1, update(i, 1)); err != nil {
				t.Fatalf("update %d of chat 1: %v", i, err)
			}
			synctest.Wait()
		}
		if err := d.submit(t.Context(), 1, update(999, 1)); !errors.Is(err, errChatQueueFull) {
			t.Fatalf("past the chat's limit: got %v, want errChatQueueFull", err)
		}
		// Another chat is handled while chat 1 waits.
		if err := d.submit(t.Context(), 2, update(1000, 2)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		mu.Lock()
		if handled[2] != 1 || handled[1] != 0 {
			t.Fatalf("handled %v, want chat 2's update while chat 1's first is still running", handled)
		}
		mu.Unlock()
		if got, want := d.busy(), chatQueueLimit+1; got != want {
			t.Fatalf("busy %d, want %d", got, want)
		}
		close(release)
		d.close()
		d.wait()
		if err := d.submit(t.Context(), 3, update(1001, 3)); err == nil {
			t.Fatal("a closed dispatcher took an update")
		}
		if len(order) != chatQueueLimit+1 || !slices.IsSorted(order) {
			t.Fatalf("chat 1's updates handled %v, want all %d in order", order, chatQueueLimit+1)
		}
		if d.busy() != 0 {
			t.Fatalf("busy %d after wait, want 0", d.busy())
		}
	})
}

func TestDispatcherWaitsForRoomOverall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		d := newDispatcher(t.Context(), 1, func(context.Context, job) { <-release })
		// Fill the room with chats of one update each.
		for i := range queueLimit {
			if err := d.submit(t.Context(), int64(i+1), job{update: tg.Update{Update: tgbotapi.Update{UpdateID: i}}}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := d.submit(ctx, -1, job{}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("with no room: got %v, want to wait until the context ends", err)
		}
		close(release)
		d.close()
		d.wait()
	})
}

func TestFloodKeyCountsOnlyWhatTheBotAnswers(t *testing.T) {
	b := &Bot{commands: map[string]*entry{"time": {name: "time"}}}
	name := "bulletin_bot"
	b.username.Store(&name)
	user := &tgbotapi.User{ID: 7}
	msg := func(chatType, text string) tgbotapi.Update {
		return tgbotapi.Update{Message: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: -5, Type: chatType}, From: user, Text: text}}
	}
	anonymous := msg("supergroup", "/time")
	anonymous.Message.SenderChat = &tgbotapi.Chat{ID: -5}
	migrated := msg("group", "")
	migrated.Message.MigrateToChatID = -1005
	tests := []struct {
		name    string
		u       tgbotapi.Update
		key     int64
		limited bool
	}{
		{"private text", msg("private", "hello"), 7, true},
		{"private command", msg("private", "/time"), 7, true},
		{"group command for this bot", msg("group", "/time"), 7, true},
		{"group command naming this bot", msg("group", "/frobnicate@bulletin_bot"), 7, true},
		{"group command for another bot", msg("group", "/time@other_bot"), 0, false},
		{"group unknown bare command", msg("group", "/frobnicate"), 0, false},
		{"group chatter", msg("group", "hello everyone"), 0, false},
		{"service message", migrated, 0, false},
		{"anonymous admin", anonymous, -5, true},
		{"button press", tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{From: user, Data: "cat:x"}}, 7, true},
		{"membership change", tgbotapi.Update{MyChatMember: &tgbotapi.ChatMemberUpdated{Chat: tgbotapi.Chat{ID: -5}}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, limited := b.floodKey(tg.Update{Update: tt.u})
			if key != tt.key || limited != tt.limited {
				t.Errorf("got %d, %v; want %d, %v", key, limited, tt.key, tt.limited)
			}
		})
	}
}
