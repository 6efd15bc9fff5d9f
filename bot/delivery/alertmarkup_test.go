package delivery_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestDeliveryAlertCarriesItsButtons: a publication's alert goes with the
// keyboard AlertMarkup gives in the subscriber's language, built once per
// announcement and language, not once per subscriber.
func TestDeliveryAlertCarriesItsButtons(t *testing.T) {
	t.Parallel()
	e := newEnv(t, telegramtest.Options{})
	for chat := int64(1); chat <= 6; chat++ {
		lang := "en"
		if chat > 4 {
			lang = "ru"
		}
		e.subscriber(chat, subscriptions.ChatPrivate, lang)
	}
	var built atomic.Int32
	eng := e.engine(func(p *delivery.Params) {
		p.AlertMarkup = func(p poller.Publication, lang string) string {
			built.Add(1)
			return `{"inline_keyboard":[[{"text":"Similar ` + lang + `","callback_data":"sim:` + strings.ToLower(strings.Fields(p.Title)[0]) + `"}]]}`
		}
	})
	e.run(eng)
	pub := poller.Publication{ID: "https://www.rusemb.org.uk/fnapr/7002", URL: "https://www.rusemb.org.uk/fnapr/7002",
		Title: "Visa centre closed", Date: time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), Category: "consular", SeenAt: time.Now()}
	e.publish(pub)
	e.waitDone(delivery.PublicationAnnouncementID(pub.ID), 10*time.Second)
	for chat := int64(1); chat <= 6; chat++ {
		msgs := e.fake.Messages(chat)
		if len(msgs) != 1 {
			t.Fatalf("chat %d: %d messages, want 1", chat, len(msgs))
		}
		kb := msgs[0].InlineKeyboard()
		want := "Similar en"
		if chat > 4 {
			want = "Similar ru"
		}
		if len(kb) != 1 || kb[0][0].Text != want || kb[0][0].CallbackData != "sim:visa" {
			t.Errorf("chat %d: keyboard %+v, want %q with sim:visa", chat, kb, want)
		}
	}
	if n := built.Load(); n != 2 {
		t.Errorf("keyboards built %d times, want 2 (one per language)", n)
	}
}
