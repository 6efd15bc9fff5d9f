// Package delivery owns getting announcements to subscribers: it turns each
// new publication, and each staff broadcast, into one message per matching
// subscriber and sends them under Telegram's limits, surviving 429s, crashes,
// restarts of the store and several replicas working at once.
//
// The pipeline, all of whose state lives in the Store so that any replica
// can take over any part of it:
//
//   - intake: new publications (from the poller's queue) and broadcasts
//     (Enqueue) become announcements, each rendered once per language;
//   - fan-out: one replica at a time holds a lease on an announcement and
//     walks its audience page by page, queueing one delivery per subscriber
//     and persisting its cursor with each page, so a crash resumes where it
//     stopped and memory stays flat; it stays at most Params.MaxQueued
//     deliveries (about a minute of sending) ahead of sending, so that the
//     store's memory does not grow with the audience;
//   - sending: replicas lease deliveries from the shared queue (what a
//     replica whose heartbeat lapsed held is put back at once, and a leased
//     delivery that is not finished is reclaimed once idle), take tokens
//     from the shared global rate, reserve the chat (one message a second to
//     a private chat, one every three seconds to a group or channel, which
//     keeps it under 20 a minute), send, and record the outcome; a
//     successful send is recorded, with its message id, in the same step
//     that acknowledges it, and a reclaimed delivery is checked against that
//     record before it is sent, so a duplicate needs a crash mid-send.
//
// Errors follow Telegram's meaning (tg.Classify): 429 pauses every replica
// for retry_after and puts the delivery back; a chat that answers it is
// gone (blocked, kicked, not found) is tried once more Params.GoneHold
// later and then removed; a migrated group moves the subscriber and the
// message follows it; a message Telegram cannot parse is sent once more as
// plain text; transient failures (5xx, timeouts, connection errors) are
// retried with capped backoff for the delivery's Params.Lifetime, and only
// then go to the dead-letter list, from which staff may put them back in
// the queue (each once) or discard them.
//
// Failures of Telegram as a whole are not the deliveries' (pause.go): when
// most of a replica's recent sends fail transiently, or one answers 401,
// all sending pauses for every replica and one replica probes Telegram,
// with a growing wait, until it answers; when most answer "gone", nobody is
// removed and sending pauses for Params.StormPause. Deliveries that fail
// while sending is paused go back as they were, no attempt counted. Every
// replica looks at the pause at least every Params.PauseCheck, so that one
// lifted by staff ends everywhere within it.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Kind tells where an announcement comes from.
type Kind string

// The kinds of announcement.
const (
	KindPublication Kind = "publication"
	KindBroadcast   Kind = "broadcast"
)

// Announcement is one message to be sent to an audience.
type Announcement struct {
	// ID names the announcement: letters, digits and "-_.:", at most 64
	// bytes. Publications get "pub-" and a hash of the publication id.
	ID   string
	Kind Kind
	// PublicationID is the publication announced, for KindPublication.
	PublicationID string
	// Texts are the message in Telegram HTML by language; the key "" is
	// the text for languages without their own. A publication's texts are
	// rendered by the engine when they are not given.
	Texts map[string]string
	// Copies are, by language as Texts, staff messages that subscribers
	// get an exact copy of (copyMessage, or copyMessages for an album)
	// instead of a text: a photo, a document, a formatted text... A
	// language with a copy gets it even when Texts has one too.
	Copies map[string]Copy
	// Filter selects the audience; a publication's is its category.
	Filter    subscriptions.Filter
	CreatedAt time.Time
}

// Text returns the text for a subscriber speaking lang: its own, else the
// one for all languages, else the one of fallback, else any.
func (a Announcement) Text(lang, fallback string) (string, bool) {
	return pick(a.Texts, lang, fallback)
}

// Content returns what a subscriber speaking lang gets, chosen as Text
// chooses among the languages that have a copy or a text: a copy (isCopy)
// or a text. ok is false for an announcement with neither.
func (a Announcement) Content(lang, fallback string) (c Copy, text string, isCopy, ok bool) {
	has := func(l string) bool {
		_, t := a.Texts[l]
		_, c := a.Copies[l]
		return t || c
	}
	key, found := "", false
	for _, l := range []string{lang, "", fallback} {
		if has(l) {
			key, found = l, true
			break
		}
	}
	if !found {
		all := slices.Concat(slices.Collect(maps.Keys(a.Texts)), slices.Collect(maps.Keys(a.Copies)))
		if len(all) == 0 {
			return Copy{}, "", false, false
		}
		key = slices.Min(all)
	}
	if c, ok := a.Copies[key]; ok {
		return c, "", true, true
	}
	return Copy{}, a.Texts[key], false, true
}

func pick[V any](m map[string]V, lang, fallback string) (V, bool) {
	for _, l := range []string{lang, "", fallback} {
		if v, ok := m[l]; ok {
			return v, true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		return m[k], true
	}
	var zero V
	return zero, false
}

// Copy is a message of staff's to copy: one message, or an album's parts.
type Copy struct {
	FromChatID int64 `json:"from"`
	MessageIDs []int `json:"ids"`
	// Media marks a photo, document, video, audio or voice message, whose
	// caption (not text) a correction edits.
	Media bool `json:"media,omitempty"`
}

// Valid reports whether c names something to copy: 1 to 10 messages (an
// album's most), in increasing order as copyMessages wants them.
func (c Copy) Valid() bool {
	if c.FromChatID == 0 || len(c.MessageIDs) == 0 || len(c.MessageIDs) > 10 {
		return false
	}
	for i, id := range c.MessageIDs {
		if id <= 0 || (i > 0 && id <= c.MessageIDs[i-1]) {
			return false
		}
	}
	return true
}

// Delivery is one message to one chat, as queued.
type Delivery struct {
	// ID is the store's id of this queue entry; it changes when the
	// delivery is put back for a retry.
	ID             string
	AnnouncementID string
	ChatID         int64
	ChatType       subscriptions.ChatType
	Language       string
	// Attempt counts failed sends that are worth retrying.
	Attempt int
	// Plain sends the text without markup, after Telegram failed to parse it.
	Plain bool
	// Silent sends it with disable_notification: a routine alert, or one
	// in the chat's quiet hours.
	Silent bool
	// Thread is the forum topic it goes to (message_thread_id); 0 is the
	// chat itself.
	Thread int64
	// Slot is the time its chat was reserved for it when Begin found the
	// chat busy and put it aside; zero for a delivery never put aside. The
	// chat's later messages queue behind the slot, so that a chat gets its
	// messages in the order they were queued.
	Slot time.Time
}

// Outcome is what became of a send.
type Outcome int

// The outcomes a Result records.
const (
	// Sent: Telegram accepted the message; MessageID is recorded.
	Sent Outcome = iota + 1
	// Removed: the chat is gone and the subscriber was removed.
	Removed
	// Failed: given up on; the delivery goes to the dead-letter list.
	Failed
	// Requeued: Next goes back in the queue, at At: a retry, a message
	// following a migrated group, a plain-text resend, or a delivery
	// handed back at shutdown.
	Requeued
)

// Result is the outcome of one leased delivery, recorded by Store.Finish.
type Result struct {
	Delivery  Delivery
	Outcome   Outcome
	MessageID int // Sent
	// MessageIDs, when a copy of an album was sent, are all of its parts'
	// ids (MessageID the first).
	MessageIDs []int
	Next       Delivery  // Requeued
	At         time.Time // Requeued: not before
	// Pause, with a 429, stops every replica's sending for that long.
	Pause time.Duration
	// Error is the last error, for the dead-letter list (Failed).
	Error string
	// Retry marks a requeue that counts as a retry in the statistics.
	Retry bool
	// Moved marks a requeue to a migrated group's new id.
	Moved bool
}

// Gaps are the least intervals between two messages to one chat.
type Gaps struct {
	Private time.Duration
	Group   time.Duration // groups, supergroups and channels
}

// Of returns the gap for a chat type.
func (g Gaps) Of(t subscriptions.ChatType) time.Duration {
	if t == subscriptions.ChatPrivate || t == "" {
		return g.Private
	}
	return g.Group
}

// Fanout is a leased fan-out: an announcement and where its walk is.
type Fanout struct {
	Announcement Announcement
	Cursor       string
	// Token proves the lease; a later lease of the same fan-out has another.
	Token string
}

// State is where an announcement stands.
type State string

// The states of an announcement.
const (
	StateFanningOut State = "fanning_out" // subscribers are still being queued
	StateSending    State = "sending"     // all queued; deliveries pending
	StateDone       State = "done"
	StateCancelled  State = "cancelled"
)

// Stats is an announcement's progress.
type Stats struct {
	Announcement Announcement
	State        State
	// Targeted counts the deliveries queued so far (each subscriber once).
	Targeted  int64
	Delivered int64
	Removed   int64 // chats gone: subscriber removed
	Failed    int64 // given up on: dead-lettered
	Cancelled int64 // not sent because the announcement was cancelled
	Retries   int64 // transient failures retried
	Moved     int64 // deliveries that followed a migrated group
	// Pending is Targeted less every final outcome.
	Pending int64
}

// DeadLetter is a delivery given up on, for staff to look at.
type DeadLetter struct {
	AnnouncementID string `json:"announcement_id"`
	ChatID         int64  `json:"chat_id"`
	// ChatType, Language and Plain let a retry send what the delivery
	// would have sent; dead letters of earlier releases lack them.
	ChatType string `json:"chat_type,omitempty"`
	Language string `json:"language,omitempty"`
	Plain    bool   `json:"plain,omitempty"`
	// Silent and Thread keep how it was to be sent; letters of earlier
	// releases lack them (a loud send to the chat itself).
	Silent   bool      `json:"silent,omitempty"`
	Thread   int64     `json:"thread,omitempty"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
}

// PublicationEvent is a new publication in the poller's queue.
type PublicationEvent struct {
	// ID is the queue's id of the event, for AckPublications.
	ID            string
	PublicationID string
}

// Errors of the package; test with errors.Is.
var (
	// ErrLeaseLost: another replica took over a fan-out.
	ErrLeaseLost = errors.New("delivery: fan-out lease lost")
	// ErrDuplicate: an announcement with this id exists.
	ErrDuplicate = errors.New("delivery: announcement already exists")
	// ErrNotFound: no announcement with this id.
	ErrNotFound = errors.New("delivery: no such announcement")
	// ErrInvalid: an announcement that cannot be sent as given.
	ErrInvalid = errors.New("delivery: invalid announcement")
)

// Store is the state the engine shares between replicas. Every method must
// be atomic: a replica may die between any two calls. The Redis
// implementation is *store.Redis.
type Store interface {
	// AddAnnouncement stores a and queues its fan-out. It returns
	// ErrDuplicate, changing nothing, when a.ID exists.
	AddAnnouncement(ctx context.Context, a Announcement) error
	// Announcement returns a stored announcement and its progress.
	Announcement(ctx context.Context, id string) (Stats, error)
	// Cancel stops an announcement: its fan-out ends and its queued
	// deliveries are dropped, counted as cancelled, when leased. It reports
	// whether the announcement was still active.
	Cancel(ctx context.Context, id string) (bool, error)

	// ClaimFanout leases, until `until`, one announcement whose fan-out is
	// unfinished and not leased. ok is false when there is none.
	ClaimFanout(ctx context.Context, until time.Time) (f Fanout, ok bool, err error)
	// AddDeliveries queues one page of a leased fan-out's deliveries,
	// moves its cursor from f.Cursor to next and extends the lease to
	// until, all at once; done finishes the fan-out. It returns
	// ErrLeaseLost, changing nothing, when the lease or cursor moved on.
	AddDeliveries(ctx context.Context, f Fanout, next string, done bool, ds []Delivery, until time.Time) error
	// Backlog returns how many deliveries are queued or leased, all
	// announcements together: what the fan-out keeps under
	// Params.MaxQueued. Those put aside for later (retries, deliveries
	// waiting for their chat) are not counted: a few chats failing for
	// hours must not hold up everybody else's fan-out. It is cheap (O(1)
	// on Redis).
	Backlog(ctx context.Context) (int64, error)

	// Lease gives consumer up to n deliveries: due retries are moved into
	// the queue first, then deliveries leased by any consumer and idle for
	// longer than reclaim are taken over, then new ones, waiting up to
	// block for some. Deliveries already sent or of cancelled announcements
	// are dropped on the way and not returned.
	Lease(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]Delivery, error)
	// Begin is called right before sending ds. It returns those the
	// consumer still holds and may send now, having reserved their chat
	// for gaps; the rest are dropped (sent, cancelled, or leased by another
	// consumer) or put back. One whose chat is busy is put back with the
	// chat's next slot (Delivery.Slot), behind those put back before it;
	// one with a slot goes once its slot has come and a gap has passed
	// since the chat's last message. While a pause is in force it changes
	// nothing and returns the pause's remaining time.
	Begin(ctx context.Context, consumer string, ds []Delivery, gaps Gaps, now time.Time) (ready []Delivery, pause time.Duration, err error)
	// Finish records results and acknowledges their deliveries, at once.
	// A Sent result records its message id before, or with, the
	// acknowledgement. A result for a delivery no longer held (taken over
	// and finished elsewhere) changes no counter twice.
	Finish(ctx context.Context, rs []Result, now time.Time) error
	// AllowSends takes up to n tokens, all or none, from the global rate
	// shared by every replica (rate per second, burst at most). With none
	// it returns how long to wait.
	AllowSends(ctx context.Context, rate float64, burst, n int) (allowed int, wait time.Duration, err error)
	// DeadLetters returns the n most recent dead letters, newest first,
	// and how many there have been in all.
	DeadLetters(ctx context.Context, n int) ([]DeadLetter, int64, error)

	PauseStore
}

// Intake is the poller's queue of new publications.
type Intake interface {
	// NextPublications leases up to n new publications to consumer, taking
	// over those leased elsewhere and idle longer than reclaim, waiting up
	// to block for some.
	NextPublications(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]PublicationEvent, error)
	// AckPublications marks events handled.
	AckPublications(ctx context.Context, ids ...string) error
}

// Telegram is the part of *tg.Client the engine uses.
type Telegram interface {
	Call(ctx context.Context, method string, params tgbotapi.Params) (json.RawMessage, error)
}

// Subscribers is the part of *subscriptions.Service the engine uses.
type Subscribers interface {
	Page(ctx context.Context, f subscriptions.Filter, cursor string, limit int) ([]subscriptions.Subscriber, string, error)
	// Remove removes a gone chat, keeping a tombstone so that a mistaken
	// removal can be undone; reason is Telegram's answer.
	Remove(ctx context.Context, chatID int64, reason string) (bool, error)
	Migrate(ctx context.Context, from, to int64) error
}

// Publications loads stored publications (*store.Redis does).
type Publications interface {
	Publication(ctx context.Context, id string) (poller.Publication, bool, error)
}

// Observer is told what the engine does, for metrics. Methods must be
// safe for concurrent use and return quickly.
type Observer interface {
	// SendDone reports one sendMessage call: result is "sent" or a
	// tg.Kind name ("retry_after", "gone", "migrated", "bad_markup",
	// "transient", "permanent", "too_long"); latency is the call's.
	SendDone(result string, latency time.Duration)
	// Paused reports a 429 that paused all sending for d.
	Paused(d time.Duration)
	// Retried reports a delivery put back after a transient failure.
	Retried()
	// DeadLettered reports a delivery given up on.
	DeadLettered()
}

type nopObserver struct{}

func (nopObserver) SendDone(string, time.Duration) {}
func (nopObserver) Paused(time.Duration)           {}
func (nopObserver) Retried()                       {}
func (nopObserver) DeadLettered()                  {}
