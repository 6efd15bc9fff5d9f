package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Topics: a chat may follow up to MaxTopics topics (/follow visa); a
// publication whose terms hold all of a topic's terms reaches the chat
// whatever its category, once however many of its topics and categories
// match. Terms are made by the bot (poller/terms); this package only
// compares them.

// Topic is one followed topic.
type Topic struct {
	// Key is the topic's terms, sorted, unique and space-separated: its
	// identity. The first is the term it is indexed under.
	Key string
	// Label is the topic as the chat wrote it, for /following.
	Label string
}

// Limits of topics.
const (
	MaxTopics          = 20
	MaxTopicTerms      = 4
	MaxTopicLabelBytes = 200
)

// Errors of topics.
var (
	ErrTooManyTopics = errors.New("subscriptions: too many topics")
	ErrBadTopic      = errors.New("subscriptions: a topic needs 1 to 4 terms")
)

// Follower is a chat whose topic Key is indexed under a term asked for.
type Follower struct {
	ChatID int64
	Key    string
}

// TopicStore keeps topics: per chat, and an index by each topic's first
// term for the fan-out.
type TopicStore interface {
	// AddTopic adds t to the chat's topics atomically unless the chat
	// has it, or max topics already; it reports whether t was added and
	// how many topics the chat has.
	AddTopic(ctx context.Context, chatID int64, t Topic, max int) (added bool, n int, err error)
	// RemoveTopic removes the chat's topic key; it reports whether it
	// was there.
	RemoveTopic(ctx context.Context, chatID int64, key string) (bool, error)
	// Topics returns the chat's topics, by key.
	Topics(ctx context.Context, chatID int64) ([]Topic, error)
	// DeleteTopics removes all of the chat's topics.
	DeleteTopics(ctx context.Context, chatID int64) error
	// TopicFollowers returns the topics indexed under any of terms whose
	// chat id is above after (nil: any) and at most upTo (nil: any).
	// A chat has at most MaxTopics topics, so the answer is bounded by
	// the chats in the range.
	TopicFollowers(ctx context.Context, terms []string, after, upTo *int64) ([]Follower, error)
	// SubscribersByID returns those of ids that are subscribed.
	SubscribersByID(ctx context.Context, ids []int64) ([]Subscriber, error)
}

// TopicKey returns the key of a topic of these terms, or ErrBadTopic.
func TopicKey(terms []string) (string, error) {
	ts := slices.Clone(terms)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	if len(ts) == 0 || len(ts) > MaxTopicTerms || slices.Contains(ts, "") {
		return "", ErrBadTopic
	}
	for _, t := range ts {
		if strings.ContainsAny(t, " |") {
			return "", ErrBadTopic
		}
	}
	return strings.Join(ts, " "), nil
}

// TopicIndexTerm is the term a topic key is indexed under.
func TopicIndexTerm(key string) string {
	first, _, _ := strings.Cut(key, " ")
	return first
}

// WithTopics lets the Service keep topics in ts and Page find the chats
// following a publication's terms (Filter.Terms).
func (s *Service) WithTopics(ts TopicStore) *Service {
	s.topics = ts
	return s
}

// Follow adds a topic of terms to a subscribed chat; label is how the chat
// wrote it. It reports whether the topic is new.
func (s *Service) Follow(ctx context.Context, chatID int64, terms []string, label string) (Topic, bool, error) {
	if s.topics == nil {
		return Topic{}, false, fmt.Errorf("subscriptions: follow: no topic store")
	}
	key, err := TopicKey(terms)
	if err != nil {
		return Topic{}, false, fmt.Errorf("subscriptions: follow for %d: %w", chatID, err)
	}
	if len(label) > MaxTopicLabelBytes {
		label = strings.ToValidUTF8(label[:MaxTopicLabelBytes], "")
	}
	if _, ok, err := s.store.Subscriber(ctx, chatID); err != nil {
		return Topic{}, false, fmt.Errorf("subscriptions: follow for %d: %w", chatID, err)
	} else if !ok {
		return Topic{}, false, fmt.Errorf("subscriptions: follow for %d: %w", chatID, ErrNotSubscribed)
	}
	t := Topic{Key: key, Label: label}
	added, n, err := s.topics.AddTopic(ctx, chatID, t, MaxTopics)
	if err != nil {
		return Topic{}, false, fmt.Errorf("subscriptions: follow for %d: %w", chatID, err)
	}
	if !added && n >= MaxTopics {
		if topics, err := s.topics.Topics(ctx, chatID); err == nil && !slices.ContainsFunc(topics, func(x Topic) bool { return x.Key == key }) {
			return Topic{}, false, fmt.Errorf("subscriptions: follow for %d: %w", chatID, ErrTooManyTopics)
		}
	}
	return t, added, nil
}

// Unfollow removes a chat's topic by key.
func (s *Service) Unfollow(ctx context.Context, chatID int64, key string) (bool, error) {
	if s.topics == nil {
		return false, nil
	}
	ok, err := s.topics.RemoveTopic(ctx, chatID, key)
	if err != nil {
		return false, fmt.Errorf("subscriptions: unfollow for %d: %w", chatID, err)
	}
	return ok, nil
}

// Topics returns the chat's topics.
func (s *Service) Topics(ctx context.Context, chatID int64) ([]Topic, error) {
	if s.topics == nil {
		return nil, nil
	}
	ts, err := s.topics.Topics(ctx, chatID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: topics of %d: %w", chatID, err)
	}
	return ts, nil
}

// withTopics adds to a page of subscribers (chat ids in (cursor, next], or
// above cursor when next is "") the chats of that range following a topic
// whose terms are all among f.Terms, each chat once, in chat id order.
func (s *Service) withTopics(ctx context.Context, f Filter, cursor, next string, subs []Subscriber) ([]Subscriber, error) {
	after, err := ParseCursor(cursor)
	if err != nil {
		return nil, err
	}
	upTo, err := ParseCursor(next)
	if err != nil {
		return nil, err
	}
	followers, err := s.topics.TopicFollowers(ctx, f.Terms, after, upTo)
	if err != nil {
		return nil, err
	}
	have := make(map[int64]bool, len(subs))
	for _, sub := range subs {
		have[sub.ChatID] = true
	}
	var ids []int64
	for _, fl := range followers {
		if have[fl.ChatID] || !topicMatches(fl.Key, f.Terms) {
			continue
		}
		have[fl.ChatID] = true
		ids = append(ids, fl.ChatID)
	}
	if len(ids) == 0 {
		return subs, nil
	}
	more, err := s.topics.SubscribersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, m := range more {
		if f.Language == "" || NormalizeLanguage(m.Language, s.languages, s.defLang) == f.Language {
			subs = append(subs, m)
		}
	}
	slices.SortFunc(subs, func(a, b Subscriber) int {
		switch {
		case a.ChatID < b.ChatID:
			return -1
		case a.ChatID > b.ChatID:
			return 1
		}
		return 0
	})
	return subs, nil
}

// topicMatches reports whether every term of key is among terms.
func topicMatches(key string, terms []string) bool {
	for t := range strings.SplitSeq(key, " ") {
		if !slices.Contains(terms, t) {
			return false
		}
	}
	return true
}

// ParseCursor parses a SubscribersPage cursor: nil for the start (""),
// else the last chat id already seen. Stores read their cursors with it.
func ParseCursor(c string) (*int64, error) {
	if c == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(c, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("cursor %q is not a chat id", c)
	}
	return &id, nil
}
