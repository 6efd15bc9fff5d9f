package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
)

// Replies is the bot's way into the send budget the engine shares with
// every replica: command replies, edits and staff messages take their
// tokens from the same SEND_RATE, ahead of fan-outs, and respect the same
// per-chat gaps and 429 pauses.
//
// Priority needs no coordination between replicas: the engine takes
// tokens only while the limiter holds more than a small reserve
// (burstFor), and replies may take that reserve too (replyBurst). A reply
// therefore gets a token as soon as one accrues, before any fan-out can,
// and a fan-out is left whatever replies do not use. Both kinds of call
// stay within one GCRA limiter, so the total in any second stays under
// SEND_RATE plus the larger burst.
type Replies struct {
	p RepliesParams
}

// ReplyStore is what pacing replies needs of the store; *store.Redis and
// *store.Bolt implement it.
type ReplyStore interface {
	// AllowSends is Store.AllowSends.
	AllowSends(ctx context.Context, rate float64, burst, n int) (int, time.Duration, error)
	// ReserveChat reserves the chat's next message when it conforms to
	// one every gap with bursts of burst, counting the reservations Begin
	// makes, and returns 0; otherwise it reserves nothing and returns the
	// wait until it would conform. Begin puts a delivery aside while a
	// reservation is in force.
	ReserveChat(ctx context.Context, chatID int64, gap time.Duration, burst int, now time.Time) (time.Duration, error)
	// SendPause is how long to wait before looking at the pause of all
	// sending again (zero: none in force), whatever its reason.
	SendPause(ctx context.Context) (time.Duration, error)
	// PauseSends pauses all sending, by every replica, for d.
	PauseSends(ctx context.Context, d time.Duration) error
}

// RepliesParams configure Replies. Store is required.
type RepliesParams struct {
	Store ReplyStore
	// Rate is SEND_RATE, as given to the engine; zero or less lifts the
	// global limit.
	Rate float64
	// Gaps are the engine's (default 1 s private, 3 s groups and channels).
	Gaps *Gaps
	// MaxWait is the longest 429 pause a reply waits out; past it the
	// reply is given up with ErrPaused (default 10 s: the person has moved
	// on).
	MaxWait time.Duration
	Now     func() time.Time
}

// ErrPaused means all sending is paused for longer than a reply waits.
var ErrPaused = errors.New("delivery: sending is paused")

// replyChatBurst is how many messages a reply may find a chat's reservation
// ahead of it and still go at once: none. One message a second to a
// private chat is what we promise (Telegram's own limit allows short
// bursts, which we leave to absorb the jitter of arrival), and one every
// 3 s to a group is what keeps any minute at Telegram's 20.
const replyChatBurst = 1

// replyPauseRecheck is how often a reply waiting out a pause looks at it
// again.
const replyPauseRecheck = 500 * time.Millisecond

// DefaultReplyMaxWait is RepliesParams.MaxWait's default.
const DefaultReplyMaxWait = 10 * time.Second

// NewReplies returns the pacer of the bot's own messages.
func NewReplies(p RepliesParams) (*Replies, error) {
	if p.Store == nil {
		return nil, errors.New("delivery: replies need a Store")
	}
	if p.Gaps == nil {
		g := defaultGaps
		p.Gaps = &g
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultReplyMaxWait
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &Replies{p: p}, nil
}

// replyBurst is the burst replies take tokens with: the engine's and a
// reserve that only replies may use.
func replyBurst(rate float64) int {
	b := burstFor(rate)
	return b + max(1, b/2)
}

// ReplyBurst is the most tokens the shared limiter hands out at once, to a
// reply: with it, no second holds more than rate + ReplyBurst(rate) - 1
// messages from every replica together.
func ReplyBurst(rate float64) int { return replyBurst(rate) }

// Take waits until one message to chatID may be sent: no pause of all
// sending in force (a 429, an outage, a refused token, a storm), a token of the shared rate, and the chat's own limit (a chat id
// above zero is a person's private chat, as Telegram numbers them; below
// is a group or channel). It returns ErrPaused, or ctx's error, when the
// message should not be sent.
//
// With throughPause the message goes while sending is paused: for staff,
// who must be able to see the pause and lift it.
func (r *Replies) Take(ctx context.Context, chatID int64, throughPause bool) error {
	gap := r.p.Gaps.Private
	if chatID < 0 {
		gap = r.p.Gaps.Group
	}
	var paused time.Duration // waited so far for pauses
	for {
		var pause time.Duration
		if !throughPause {
			var err error
			if pause, err = r.p.Store.SendPause(ctx); err != nil {
				return fmt.Errorf("delivery: reply: %w", err)
			}
		}
		if paused+pause > r.p.MaxWait {
			return fmt.Errorf("%w for %v", ErrPaused, pause.Round(time.Second))
		}
		if pause > 0 {
			// Looked at again every replyPauseRecheck, so that a pause
			// lifted (by staff, by a probe) frees the reply at once.
			step := min(pause, replyPauseRecheck)
			if !wait.Sleep(ctx, step) {
				return ctx.Err()
			}
			paused += step
			continue
		}
		if r.p.Rate > 0 {
			n, retryIn, err := r.p.Store.AllowSends(ctx, r.p.Rate, replyBurst(r.p.Rate), 1)
			if err != nil {
				return fmt.Errorf("delivery: reply: %w", err)
			}
			if n == 0 {
				if !wait.Sleep(ctx, retryIn) {
					return ctx.Err()
				}
				continue
			}
		}
		// The chat comes after the token, so that the message goes when
		// both are granted: a token held while waiting for the chat would
		// be spent late, in someone else's second. A token taken for a
		// chat that is not free is left unused, which is always safe.
		busy, err := r.p.Store.ReserveChat(ctx, chatID, gap, replyChatBurst, r.p.Now())
		if err != nil {
			return fmt.Errorf("delivery: reply: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if !wait.Sleep(ctx, busy) {
			return ctx.Err()
		}
	}
}

// Paused shares a 429 that a reply got: every replica's sending pauses
// for d, as for a delivery's.
func (r *Replies) Paused(ctx context.Context, d time.Duration) error {
	if err := r.p.Store.PauseSends(ctx, d); err != nil {
		return fmt.Errorf("delivery: reply: %w", err)
	}
	return nil
}
