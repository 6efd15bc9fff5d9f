package telegramtest

import (
	"context"
	"fmt"
)

// WaitFor blocks until cond returns true or ctx ends. cond is checked at
// once and again after every change of the server's state (a request
// handled, an update queued, a message sent), never on a timer. cond may call
// the Server's methods.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("telegramtest: waiting: %w", ctx.Err())
		case <-s.stop:
			return fmt.Errorf("telegramtest: waiting: server closed")
		}
	}
}

// WaitMessages blocks until the bot has sent at least n messages to the
// chat and returns them all.
func (s *Server) WaitMessages(ctx context.Context, chatID int64, n int) ([]Message, error) {
	var msgs []Message
	err := s.WaitFor(ctx, func() bool {
		msgs = s.Messages(chatID)
		return len(msgs) >= n
	})
	if err != nil {
		return msgs, fmt.Errorf("telegramtest: waiting for %d messages in chat %d, have %d: %w", n, chatID, len(msgs), err)
	}
	return msgs, nil
}

// WaitCallbackAnswers blocks until the bot has answered at least n callback
// queries and returns the answers.
func (s *Server) WaitCallbackAnswers(ctx context.Context, n int) ([]CallbackAnswer, error) {
	var answers []CallbackAnswer
	err := s.WaitFor(ctx, func() bool {
		answers = s.CallbackAnswers()
		return len(answers) >= n
	})
	if err != nil {
		return answers, fmt.Errorf("telegramtest: waiting for %d callback answers, have %d: %w", n, len(answers), err)
	}
	return answers, nil
}

// WaitDelivered blocks until no update is pending: the bot confirmed them
// all with getUpdates' offset, or the webhook accepted them.
func (s *Server) WaitDelivered(ctx context.Context) error {
	return s.WaitFor(ctx, func() bool { return s.Pending() == 0 })
}
