package bot_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// budgetLog is a SendBudget that lets everything go and records what it
// was asked.
type budgetLog struct {
	mu     sync.Mutex
	takes  []int64
	paused []time.Duration
}

func (b *budgetLog) Take(_ context.Context, chatID int64, _ bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.takes = append(b.takes, chatID)
	return nil
}

func (b *budgetLog) Paused(_ context.Context, d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused = append(b.paused, d)
	return nil
}

func (b *budgetLog) snapshot() ([]int64, []time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.takes), slices.Clone(b.paused)
}

// TestRepliesTakeTheBudget: every message and edit the bot makes, and each
// retry, takes its turn in the send budget for its chat; answering a
// button press does not; a 429 is shared with every sender.
func TestRepliesTakeTheBudget(t *testing.T) {
	e := newEnv(t)
	budget := &budgetLog{}
	e.start(func(p *bot.Params) { p.Budget = budget })
	const user = 31
	e.tg.AddPrivateChat(user, "Olga", "en")

	// The first try meets a 429 and is retried after it: two turns.
	e.tg.Fail("sendMessage", 1, telegramtest.APIError{Code: 429, RetryAfter: 1})
	welcome := e.say(user, user, "/start", 1)
	takes, paused := budget.snapshot()
	if !slices.Equal(takes, []int64{user, user}) {
		t.Fatalf("after /start and a 429: budget taken for %v, want chat %d twice", takes, user)
	}
	if !slices.Equal(paused, []time.Duration{time.Second}) {
		t.Fatalf("pauses shared: got %v, want the 429's 1s", paused)
	}

	// A button press edits the message in place: one turn for the edit,
	// none for the answer to the press.
	e.tg.PressButton(user, user, welcome.MessageID, "cat:statements")
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if _, err := e.tg.WaitCallbackAnswers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	e.waitHandled()
	if takes, _ := budget.snapshot(); !slices.Equal(takes, []int64{user, user, user}) {
		t.Fatalf("after a button press: budget taken for %v, want chat %d three times", takes, user)
	}
}
