package subscriptions

import (
	"context"
	"fmt"
	"time"
)

// TombstoneTTL is how long a removal by the bot can be undone.
const TombstoneTTL = 30 * 24 * time.Hour

// Tombstone is what is kept of a subscriber the bot removed because its
// chat answered that it is gone (blocked, kicked, not found): everything
// needed to undo the removal if it was a mistake, for TombstoneTTL. A
// chat that leaves of its own accord (/stop) leaves none.
type Tombstone struct {
	Subscriber Subscriber
	RemovedAt  time.Time
	// Reason is why the chat was taken for gone: Telegram's answer.
	Reason string
}

// TombstoneStore keeps tombstones. Its methods are atomic.
type TombstoneStore interface {
	// RemoveSubscriber deletes the subscriber as DeleteSubscriber does and
	// keeps its tombstone, at once. It reports whether it existed.
	RemoveSubscriber(ctx context.Context, chatID int64, reason string, at time.Time) (bool, error)
	// RestoreSubscriber subscribes a chat again as its tombstone has it,
	// recording a join at `at`, and drops the tombstone. A chat subscribed
	// meanwhile keeps its new settings (its tombstone is dropped all the
	// same); ok is false then, and when there is no tombstone.
	RestoreSubscriber(ctx context.Context, chatID int64, at time.Time) (s Subscriber, ok bool, err error)
	// Tombstones returns up to n tombstones of removals at or after since,
	// oldest first.
	Tombstones(ctx context.Context, since time.Time, n int) ([]Tombstone, error)
}

// Remove removes a chat that Telegram says is gone, keeping a tombstone
// so that the removal can be undone for TombstoneTTL. reason is
// Telegram's answer. It reports whether the chat was subscribed.
func (s *Service) Remove(ctx context.Context, chatID int64, reason string) (bool, error) {
	ok, err := s.store.RemoveSubscriber(ctx, chatID, reason, s.now())
	if err != nil {
		return false, fmt.Errorf("subscriptions: remove %d: %w", chatID, err)
	}
	return ok, nil
}

// Restore undoes the removal of a chat, with its settings as they were.
// ok is false when there is nothing to undo, or the chat has subscribed
// again meanwhile.
func (s *Service) Restore(ctx context.Context, chatID int64) (Subscriber, bool, error) {
	sub, ok, err := s.store.RestoreSubscriber(ctx, chatID, s.now())
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("subscriptions: restore %d: %w", chatID, err)
	}
	if !ok {
		return Subscriber{}, false, nil
	}
	return s.clean(sub), true, nil
}

// restorePage is how many tombstones RestoreSince handles per store call.
const restorePage = 200

// RestoreSince undoes every removal at or after since and returns how
// many chats it subscribed again.
func (s *Service) RestoreSince(ctx context.Context, since time.Time) (int, error) {
	restored := 0
	for {
		ts, err := s.store.Tombstones(ctx, since, restorePage)
		if err != nil {
			return restored, fmt.Errorf("subscriptions: restore since %v: %w", since, err)
		}
		for _, t := range ts {
			// Each restore drops its tombstone, so the next page starts
			// after it.
			_, ok, err := s.store.RestoreSubscriber(ctx, t.Subscriber.ChatID, s.now())
			if err != nil {
				return restored, fmt.Errorf("subscriptions: restore %d: %w", t.Subscriber.ChatID, err)
			}
			if ok {
				restored++
			}
		}
		if len(ts) < restorePage {
			return restored, nil
		}
	}
}

// Removed lists up to n removals at or after since, oldest first.
func (s *Service) Removed(ctx context.Context, since time.Time, n int) ([]Tombstone, error) {
	ts, err := s.store.Tombstones(ctx, since, n)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: removed since %v: %w", since, err)
	}
	return ts, nil
}
