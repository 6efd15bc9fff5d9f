// Package subscriptions owns subscribers: which Telegram chats receive
// alerts, in which language, for which categories, and the rules for
// changing that. It declares the Store it needs; bot/store implements it on
// Redis and on the embedded bbolt file.
package subscriptions

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// ChatType is the kind of Telegram chat a subscriber is.
type ChatType string

// The chat types Telegram reports.
const (
	ChatPrivate    ChatType = "private"
	ChatGroup      ChatType = "group"
	ChatSupergroup ChatType = "supergroup"
	ChatChannel    ChatType = "channel"
)

// Subscriber is one chat that receives alerts.
type Subscriber struct {
	ChatID   int64
	Type     ChatType
	Language string    // two-letter code, one of Languages()
	JoinedAt time.Time // when the chat first subscribed, millisecond precision, UTC
	// Categories the chat wants, sorted and unique.
	Categories []string
	// Prefs are its alert settings; records of earlier releases have the
	// defaults.
	Prefs Prefs
}

// Wants reports whether the subscriber wants publications of category.
func (s Subscriber) Wants(category string) bool {
	_, ok := slices.BinarySearch(s.Categories, category)
	return ok
}

// Filter selects subscribers; a zero field matches everyone.
type Filter struct {
	// Category and Categories select the subscribers wanting any of them:
	// their union. Category predates Categories and stays because stored
	// announcements hold filters as JSON.
	Category   string
	Categories []string `json:",omitempty"`
	Language   string
	// Terms, when set, are a publication's terms: Service.Page then also
	// selects the chats following a topic whose terms are all among them,
	// whatever their categories (each chat once). Matches ignores them.
	Terms []string `json:",omitempty"`
}

// AnyOf returns the categories the filter selects, sorted and unique; none
// means every category.
func (f Filter) AnyOf() []string {
	cats := slices.Clone(f.Categories)
	if f.Category != "" {
		cats = append(cats, f.Category)
	}
	slices.Sort(cats)
	return slices.Compact(cats)
}

// Matches reports whether s is among the subscribers f selects.
func (f Filter) Matches(s Subscriber) bool {
	if f.Language != "" && s.Language != f.Language {
		return false
	}
	cats := f.AnyOf()
	if len(cats) == 0 {
		return true
	}
	return slices.ContainsFunc(cats, s.Wants)
}

// Counts summarises the subscribers.
type Counts struct {
	Total      int
	ByCategory map[string]int
	ByLanguage map[string]int
	// Joined and Left count join and leave events since the time asked for,
	// to the minute: a store may count from the first whole minute at or
	// after it (Redis keeps per-minute counters, not events). Stores keep
	// them for 35 days; a chat that joins twice counts twice.
	Joined, Left int
}

// Errors the Service returns, wrapped; test with errors.Is.
var (
	ErrNotSubscribed   = errors.New("subscriptions: chat is not subscribed")
	ErrUnknownCategory = errors.New("subscriptions: unknown category")
	ErrUnknownLanguage = errors.New("subscriptions: unsupported language")
)

// Store is what the Service needs from storage. Implementations keep every
// index consistent with the subscriber records under concurrent use by
// several processes.
type Store interface {
	// SaveSubscriber creates or replaces the subscriber, moving it between
	// category and language indexes atomically. On creation it records a
	// join event at s.JoinedAt; an existing subscriber keeps its JoinedAt.
	SaveSubscriber(ctx context.Context, s Subscriber) (created bool, err error)
	// Subscriber returns the subscriber with this chat id, if any.
	Subscriber(ctx context.Context, chatID int64) (Subscriber, bool, error)
	// DeleteSubscriber removes every piece of the subscriber's data and
	// records a leave event at `at`. It reports whether it existed.
	DeleteSubscriber(ctx context.Context, chatID int64, at time.Time) (bool, error)
	// MigrateSubscriber moves a subscriber to a new chat id (a group
	// upgraded to a supergroup) atomically. When `to` is already subscribed
	// it is kept as it is and `from` is deleted. No join or leave event is
	// recorded. It reports whether `from` existed.
	MigrateSubscriber(ctx context.Context, from, to int64) (bool, error)
	// SubscribersPage returns up to limit subscribers matching f with chat
	// ids above the cursor, in chat id order. Cursor "" starts at the
	// beginning; next "" means there are no more. A non-empty next may be
	// followed by an empty page. The cursor is the last chat id looked at,
	// so a walk visits exactly once every subscriber that exists throughout
	// it, whatever is added or removed meanwhile.
	SubscribersPage(ctx context.Context, f Filter, cursor string, limit int) (subs []Subscriber, next string, err error)
	// SubscriberCounts counts subscribers, and join and leave events since
	// the given time.
	SubscriberCounts(ctx context.Context, since time.Time) (Counts, error)

	TombstoneStore
}

// Languages returns the languages the bot speaks; the first is the fallback
// when a configured default is not among them.
func Languages() []string { return []string{"en", "ru"} }

// NormalizeLanguage reduces a Telegram language code (an IETF tag such as
// "ru-RU" or "pt_BR") to its two-letter base and returns it when it is in
// supported, else def.
func NormalizeLanguage(code string, supported []string, def string) string {
	base, _, _ := strings.Cut(strings.TrimSpace(code), "-")
	base, _, _ = strings.Cut(base, "_")
	base = strings.ToLower(base)
	if base != "" && slices.Contains(supported, base) {
		return base
	}
	return def
}
