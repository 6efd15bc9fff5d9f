package telegramtest

import (
	"strconv"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// step is one send in a rate-limit scenario: advance the clock, send to the
// chat, expect success or a 429 with retry_after.
type step struct {
	advance    time.Duration
	chatID     int64
	wantRetry  int // 0: the send succeeds
	paid       bool
	repeatSame int // send this many times (default 1)
}

func runSteps(t *testing.T, s *Server, clock *manualClock, steps []step) {
	t.Helper()
	bot := newBot(t, s)
	for i, st := range steps {
		clock.Advance(st.advance)
		for n := max(st.repeatSame, 1); n > 0; n-- {
			msg := sendText(st.chatID, "m"+strconv.Itoa(i))
			var err error
			if st.paid {
				_, r := call(t, s, "sendMessage", map[string][]string{"chat_id": {strconv.FormatInt(st.chatID, 10)}, "text": {"paid"}, "allow_paid_broadcast": {"true"}})
				if !r.OK {
					err = &tgbotapi.Error{Code: r.ErrorCode, Message: r.Description}
				}
			} else {
				_, err = bot.Send(msg)
			}
			if st.wantRetry == 0 {
				if err != nil {
					t.Fatalf("step %d: got %v, want success", i, err)
				}
				continue
			}
			te := wantAPIError(t, err, 429, "Too Many Requests: retry after "+strconv.Itoa(st.wantRetry))
			if te.RetryAfter != st.wantRetry {
				t.Fatalf("step %d: got retry_after %d, want %d", i, te.RetryAfter, st.wantRetry)
			}
		}
	}
}

func TestPrivateChatLimit(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	s.AddPrivateChat(1001, "Ann", "en")
	s.AddPrivateChat(1002, "Bob", "en")
	runSteps(t, s, clock, []step{
		{chatID: 1001, repeatSame: 3}, // the burst
		{chatID: 1001, wantRetry: 1},  // fourth at once
		{chatID: 1002},                // other chats are not affected
		{advance: 500 * time.Millisecond, chatID: 1001, wantRetry: 1}, // half a token
		{advance: 500 * time.Millisecond, chatID: 1001},               // a whole one
		{chatID: 1001, wantRetry: 1},
	})
	if got := len(s.Messages(1001)); got != 4 {
		t.Errorf("got %d messages delivered, want 4: refused sends deliver nothing", got)
	}
	if got := s.TooManyRequests(); got != 3 {
		t.Errorf("got %d 429s, want 3", got)
	}
}

func TestGroupLimit(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	s.AddGroup(-501, "Basic", false)
	s.AddChannel(-1000000503, "News")
	runSteps(t, s, clock, []step{
		{chatID: -501, repeatSame: 20},
		{chatID: -501, wantRetry: 60},
		{advance: 30 * time.Second, chatID: -501, wantRetry: 30},
		{advance: 29*time.Second + 500*time.Millisecond, chatID: -501, wantRetry: 1}, // rounds up
		{chatID: -1000000503, repeatSame: 20},                                        // channels have their own minute
		{advance: 500 * time.Millisecond, chatID: -501, repeatSame: 20},              // the first 20 left the window together
		{chatID: -501, wantRetry: 60},
	})
}

func TestGlobalLimit(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now, GlobalRate: 5})
	var steps []step
	for i := int64(0); i < 6; i++ {
		s.AddPrivateChat(2000+i, "U", "")
		steps = append(steps, step{chatID: 2000 + i})
	}
	steps[5].wantRetry = 1
	steps = append(steps,
		step{chatID: 2005, paid: true},                      // paid broadcasts have their own 1000/s
		step{advance: 200 * time.Millisecond, chatID: 2005}, // one token back
		step{chatID: 2004, wantRetry: 1},
	)
	runSteps(t, s, clock, steps)
}

func TestEditsCountTowardsLimits(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now, PerChatBurst: 2})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	sent, err := bot.Send(sendText(1001, "v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bot.Send(tgbotapi.NewEditMessageText(1001, sent.MessageID, "v2")); err != nil {
		t.Fatal(err)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(1001, sent.MessageID, "v3"))
	wantAPIError(t, err, 429, "Too Many Requests: retry after 1")
	if got := s.Messages(1001)[0].Text; got != "v2" {
		t.Errorf("got %q, want the refused edit not applied", got)
	}
}

func TestLimitsDisabled(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now, GlobalRate: -1, PerChatInterval: -1, GroupPerMinute: -1})
	s.AddPrivateChat(1001, "Ann", "en")
	s.AddGroup(-501, "Basic", false)
	runSteps(t, s, clock, []step{{chatID: 1001, repeatSame: 50}, {chatID: -501, repeatSame: 50}})
}
