package delivery

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestDeadLetterKeepsHowItWasSent: a retried dead letter goes as silently,
// and to the same forum topic, as the delivery it was; one of the release
// before reads as a loud send to the chat itself.
func TestDeadLetterKeepsHowItWasSent(t *testing.T) {
	d := Delivery{AnnouncementID: "pub-1", ChatID: -100, ChatType: subscriptions.ChatSupergroup, Language: "ru", Silent: true, Thread: 7, Attempt: 3}
	body, err := json.Marshal(NewDeadLetter(d, "boom", time.Unix(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var dl DeadLetter
	if err := json.Unmarshal(body, &dl); err != nil {
		t.Fatal(err)
	}
	want := d
	want.Attempt = 0
	if got := dl.Retry(); got != want {
		t.Errorf("retry: got %+v, want %+v", got, want)
	}
	var old DeadLetter
	if err := json.Unmarshal([]byte(`{"announcement_id":"pub-1","chat_id":5,"chat_type":"private","language":"en","attempts":2,"error":"x","at":"2026-01-01T00:00:00Z"}`), &old); err != nil {
		t.Fatal(err)
	}
	if got := old.Retry(); got.Silent || got.Thread != 0 || got.ChatID != 5 {
		t.Errorf("previous release's letter: got %+v", got)
	}
}
