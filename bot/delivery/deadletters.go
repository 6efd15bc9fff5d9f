package delivery

import (
	"time"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// DeadLetterSummary describes the dead letters kept now, for staff.
type DeadLetterSummary struct {
	// Count is how many dead letters are kept (at most the store's cap).
	Count int64
	// Reasons counts them by error, the most frequent first.
	Reasons []DeadLetterReason
	// Oldest is when the oldest kept dead letter was given up on.
	Oldest time.Time
	// Mark names the newest dead letter counted: RetryDeadLetters and
	// DiscardDeadLetters up to Mark act on what staff saw, and on nothing
	// that was dead-lettered after.
	Mark int64
}

// DeadLetterReason is one error and how many dead letters it caused.
type DeadLetterReason struct {
	Error string
	Count int64
}

// Retry turns a dead letter back into a delivery due at once, with its
// attempts forgotten. Dead letters written before they kept the chat's type
// and language get the type the chat id implies (a negative id is a group
// or channel, which gets the longer gap) and the announcement's default text.
func (d DeadLetter) Retry() Delivery {
	t := subscriptions.ChatType(d.ChatType)
	if t == "" {
		t = subscriptions.ChatPrivate
		if d.ChatID < 0 {
			t = subscriptions.ChatGroup
		}
	}
	return Delivery{AnnouncementID: d.AnnouncementID, ChatID: d.ChatID, ChatType: t, Language: d.Language, Plain: d.Plain,
		Silent: d.Silent, Thread: d.Thread}
}

// NewDeadLetter is the dead letter of a delivery given up on at now.
func NewDeadLetter(d Delivery, reason string, now time.Time) DeadLetter {
	return DeadLetter{AnnouncementID: d.AnnouncementID, ChatID: d.ChatID, ChatType: string(d.ChatType), Language: d.Language,
		Plain: d.Plain, Silent: d.Silent, Thread: d.Thread, Attempts: d.Attempt + 1, Error: reason, At: now.UTC()}
}
