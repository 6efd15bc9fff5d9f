package store

import (
	"context"
	"time"
)

// ClaimPoll always grants the turn: the embedded store has one process,
// which polls every source on its own schedule (see poller.Turns).
func (b *Bolt) ClaimPoll(_ context.Context, _ string, now time.Time, hold time.Duration) (bool, time.Time, error) {
	return true, now.Add(hold), nil
}

// SchedulePoll has nothing to share with another process.
func (b *Bolt) SchedulePoll(context.Context, string, time.Time, time.Time) error { return nil }
