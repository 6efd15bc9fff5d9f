package render

import (
	"context"
	"strconv"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// TestAlertsAcceptedByTelegram sends every golden alert to the fake
// Telegram, whose HTML parser follows Telegram's own (and is stricter
// about "&"): each must be accepted, and show the text PlainText predicts.
func TestAlertsAcceptedByTelegram(t *testing.T) {
	fake := telegramtest.NewServer(telegramtest.Options{GlobalRate: -1, PerChatInterval: -1})
	defer fake.Close()
	client := tg.New(fake.Token(), fake.Endpoint(), nil)
	for i, c := range alertCases() {
		t.Run(c.name, func(t *testing.T) {
			chat := int64(i + 1)
			fake.AddPrivateChat(chat, "u", c.lang)
			html := Alert(c.pub, c.label, c.lang, c.opts)
			_, err := client.Call(context.Background(), "sendMessage", tgbotapi.Params{
				"chat_id": strconv.FormatInt(chat, 10), "text": html, "parse_mode": "HTML"})
			if err != nil {
				t.Fatalf("sendMessage: got %v, want it accepted", err)
			}
			msgs := fake.Messages(chat)
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			if want := strings.TrimSpace(PlainText(html)); msgs[0].Text != want {
				t.Errorf("got text %q, want %q", msgs[0].Text, want)
			}
			if c.pub.URL != "" && linkURL(c.pub.URL) != "" {
				found := false
				for _, e := range msgs[0].Entities {
					found = found || e.Type == "text_link"
				}
				if !found {
					t.Errorf("got entities %+v, want a text_link for the title", msgs[0].Entities)
				}
			}
		})
	}
}
