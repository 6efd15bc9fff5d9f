package subscriptions

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Page sizes the Service allows: a page of zero or less asks for the
// default, a larger one than the maximum is cut down to it.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Service applies the subscription rules on top of a Store.
//
// Changes to one subscriber read, modify and save it; two changes to the
// same chat at the same instant may lose one of them (never an index:
// the store keeps those consistent). Telegram delivers one chat's updates
// in order, so this only matters for a user pressing two buttons at once.
type Service struct {
	store      Store
	categories []string // sorted, unique
	languages  []string
	defLang    string
	now        func() time.Time
	topics     TopicStore // optional: see WithTopics
}

// NewService returns a Service over store. categories are the known
// category ids; a subscriber's stored categories that are no longer known
// are dropped when it is read. defaultLanguage is given to chats whose
// language is unknown or unsupported; when it is not one of Languages()
// itself, the first of those is used. now defaults to time.Now.
func NewService(store Store, categories []string, defaultLanguage string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	langs := Languages()
	cats := slices.Clone(categories)
	slices.Sort(cats)
	return &Service{
		store:      store,
		categories: slices.Compact(cats),
		languages:  langs,
		defLang:    NormalizeLanguage(defaultLanguage, langs, langs[0]),
		now:        now,
	}
}

// Categories returns the known category ids, sorted.
func (s *Service) Categories() []string { return slices.Clone(s.categories) }

// DefaultLanguage returns the language given to chats whose own is unknown.
func (s *Service) DefaultLanguage() string { return s.defLang }

// Subscribe subscribes a chat. A new subscriber gets every category and the
// chat's language when the bot speaks it, else the default. An existing
// one is returned unchanged, except that its chat type is refreshed.
func (s *Service) Subscribe(ctx context.Context, chatID int64, t ChatType, lang string) (Subscriber, bool, error) {
	existing, ok, err := s.store.Subscriber(ctx, chatID)
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("subscriptions: subscribe %d: %w", chatID, err)
	}
	if ok {
		sub := s.clean(existing)
		if t != "" && sub.Type != t {
			sub.Type = t
			if _, err := s.store.SaveSubscriber(ctx, sub); err != nil {
				return Subscriber{}, false, fmt.Errorf("subscriptions: subscribe %d: %w", chatID, err)
			}
		}
		return sub, false, nil
	}
	sub := Subscriber{
		ChatID:     chatID,
		Type:       t,
		Language:   NormalizeLanguage(lang, s.languages, s.defLang),
		Categories: slices.Clone(s.categories),
		JoinedAt:   time.UnixMilli(s.now().UnixMilli()).UTC(),
	}
	created, err := s.store.SaveSubscriber(ctx, sub)
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("subscriptions: subscribe %d: %w", chatID, err)
	}
	return sub, created, nil
}

// Unsubscribe removes a chat and everything stored about it. It reports
// whether the chat was subscribed.
func (s *Service) Unsubscribe(ctx context.Context, chatID int64) (bool, error) {
	ok, err := s.store.DeleteSubscriber(ctx, chatID, s.now())
	if err != nil {
		return false, fmt.Errorf("subscriptions: unsubscribe %d: %w", chatID, err)
	}
	if s.topics != nil {
		if err := s.topics.DeleteTopics(ctx, chatID); err != nil {
			return ok, fmt.Errorf("subscriptions: unsubscribe %d: topics: %w", chatID, err)
		}
	}
	return ok, nil
}

// Get returns a chat's subscription, if any.
func (s *Service) Get(ctx context.Context, chatID int64) (Subscriber, bool, error) {
	sub, ok, err := s.store.Subscriber(ctx, chatID)
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("subscriptions: get %d: %w", chatID, err)
	}
	if !ok {
		return Subscriber{}, false, nil
	}
	return s.clean(sub), true, nil
}

// Toggle adds category to the chat's categories, or removes it when
// present.
func (s *Service) Toggle(ctx context.Context, chatID int64, category string) (Subscriber, error) {
	if !s.known(category) {
		return Subscriber{}, fmt.Errorf("subscriptions: toggle %q for %d: %w", category, chatID, ErrUnknownCategory)
	}
	return s.update(ctx, chatID, "toggle "+category, func(sub *Subscriber) bool {
		if i, ok := slices.BinarySearch(sub.Categories, category); ok {
			sub.Categories = slices.Delete(sub.Categories, i, i+1)
		} else {
			sub.Categories = slices.Insert(sub.Categories, i, category)
		}
		return true
	})
}

// Want adds category to the chat's categories (on) or removes it (off);
// unlike Toggle, doing it twice changes nothing more, so that a button
// pressed twice (a mute and its undo) cannot undo itself.
func (s *Service) Want(ctx context.Context, chatID int64, category string, on bool) (Subscriber, error) {
	if !s.known(category) {
		return Subscriber{}, fmt.Errorf("subscriptions: want %q for %d: %w", category, chatID, ErrUnknownCategory)
	}
	return s.update(ctx, chatID, "want "+category, func(sub *Subscriber) bool {
		i, ok := slices.BinarySearch(sub.Categories, category)
		switch {
		case ok && !on:
			sub.Categories = slices.Delete(sub.Categories, i, i+1)
		case !ok && on:
			sub.Categories = slices.Insert(sub.Categories, i, category)
		default:
			return false
		}
		return true
	})
}

// SetCategories replaces the chat's categories; an empty list is allowed
// (the chat stays subscribed and can still ask for /latest).
func (s *Service) SetCategories(ctx context.Context, chatID int64, cats []string) (Subscriber, error) {
	for _, c := range cats {
		if !s.known(c) {
			return Subscriber{}, fmt.Errorf("subscriptions: set categories for %d: %q: %w", chatID, c, ErrUnknownCategory)
		}
	}
	want := slices.Clone(cats)
	slices.Sort(want)
	want = slices.Compact(want)
	return s.update(ctx, chatID, "set categories", func(sub *Subscriber) bool { sub.Categories = want; return true })
}

// SetLanguage sets the chat's language. Unlike Subscribe, which falls back
// to the default, an unsupported language is an error (ErrUnknownLanguage):
// the user asked for it explicitly.
func (s *Service) SetLanguage(ctx context.Context, chatID int64, lang string) (Subscriber, error) {
	base := NormalizeLanguage(lang, s.languages, "")
	if base == "" {
		return Subscriber{}, fmt.Errorf("subscriptions: set language %q for %d: %w", lang, chatID, ErrUnknownLanguage)
	}
	return s.update(ctx, chatID, "set language", func(sub *Subscriber) bool { sub.Language = base; return true })
}

// SetPrefs changes the chat's alert settings with change; a result that
// fails Prefs.Check is refused (ErrBadPrefs) and nothing is saved.
func (s *Service) SetPrefs(ctx context.Context, chatID int64, change func(*Prefs)) (Subscriber, error) {
	var bad error
	sub, err := s.update(ctx, chatID, "set alert settings", func(sub *Subscriber) bool {
		p := sub.Prefs
		change(&p)
		if bad = p.Check(); bad != nil {
			return false
		}
		sub.Prefs = p
		return true
	})
	if bad != nil {
		return Subscriber{}, fmt.Errorf("subscriptions: set alert settings for %d: %w", chatID, bad)
	}
	return sub, err
}

// Migrate moves a subscription to a chat's new id when Telegram upgrades a
// group to a supergroup. A chat that was not subscribed is not an error;
// when the new id is already subscribed, its settings win.
func (s *Service) Migrate(ctx context.Context, from, to int64) error {
	if from == to {
		return nil
	}
	if _, err := s.store.MigrateSubscriber(ctx, from, to); err != nil {
		return fmt.Errorf("subscriptions: migrate %d to %d: %w", from, to, err)
	}
	if s.topics == nil {
		return nil
	}
	// The topics follow the chat; a topic the new id has already stays.
	topics, err := s.topics.Topics(ctx, from)
	if err != nil {
		return fmt.Errorf("subscriptions: migrate %d to %d: topics: %w", from, to, err)
	}
	for _, t := range topics {
		if _, _, err := s.topics.AddTopic(ctx, to, t, MaxTopics); err != nil {
			return fmt.Errorf("subscriptions: migrate %d to %d: topics: %w", from, to, err)
		}
	}
	if err := s.topics.DeleteTopics(ctx, from); err != nil {
		return fmt.Errorf("subscriptions: migrate %d to %d: topics: %w", from, to, err)
	}
	return nil
}

// Page returns up to limit subscribers matching f after cursor, in chat id
// order, and the cursor of the next page ("" when there is none). A page
// may be short, or even empty, while next is not "": walk until next is "".
// limit <= 0 means DefaultPageSize; more than MaxPageSize is cut to it.
func (s *Service) Page(ctx context.Context, f Filter, cursor string, limit int) ([]Subscriber, string, error) {
	f, err := s.checkFilter(f)
	if err != nil {
		return nil, "", fmt.Errorf("subscriptions: page: %w", err)
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	subs, next, err := s.store.SubscribersPage(ctx, f, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("subscriptions: page: %w", err)
	}
	if s.topics != nil && len(f.Terms) > 0 {
		if subs, err = s.withTopics(ctx, f, cursor, next, subs); err != nil {
			return nil, "", fmt.Errorf("subscriptions: page: %w", err)
		}
	}
	for i := range subs {
		subs[i] = s.clean(subs[i])
	}
	return subs, next, nil
}

// Count counts the subscribers f selects, each once however many of its
// categories they want. It walks them page by page: Counts has the size
// of one category or language, not of a union.
func (s *Service) Count(ctx context.Context, f Filter) (int, error) {
	f, err := s.checkFilter(f)
	if err != nil {
		return 0, fmt.Errorf("subscriptions: count: %w", err)
	}
	n, cursor := 0, ""
	for {
		subs, next, err := s.store.SubscribersPage(ctx, f, cursor, MaxPageSize)
		if err != nil {
			return 0, fmt.Errorf("subscriptions: count: %w", err)
		}
		n += len(subs)
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}

// checkFilter rejects unknown categories and languages and returns f with
// its categories as one sorted list and its language normalised.
func (s *Service) checkFilter(f Filter) (Filter, error) {
	cats := f.AnyOf()
	for _, c := range cats {
		if !s.known(c) {
			return Filter{}, fmt.Errorf("category %q: %w", c, ErrUnknownCategory)
		}
	}
	f.Category, f.Categories = "", nil
	switch len(cats) {
	case 0:
	case 1:
		f.Category = cats[0]
	default:
		f.Categories = cats
	}
	if f.Language != "" {
		lang := NormalizeLanguage(f.Language, s.languages, "")
		if lang == "" {
			return Filter{}, fmt.Errorf("language %q: %w", f.Language, ErrUnknownLanguage)
		}
		f.Language = lang
	}
	return f, nil
}

// Counts counts subscribers, and joins and leaves since the given time
// (stores keep 35 days of events). Every known category and supported
// language is present, with zero when nobody has it; categories no longer
// known are left out.
func (s *Service) Counts(ctx context.Context, since time.Time) (Counts, error) {
	c, err := s.store.SubscriberCounts(ctx, since)
	if err != nil {
		return Counts{}, fmt.Errorf("subscriptions: counts: %w", err)
	}
	byCat := make(map[string]int, len(s.categories))
	for _, cat := range s.categories {
		byCat[cat] = c.ByCategory[cat]
	}
	byLang := make(map[string]int, len(s.languages))
	for _, l := range s.languages {
		byLang[l] = 0
	}
	for l, n := range c.ByLanguage {
		byLang[l] += n
	}
	c.ByCategory, c.ByLanguage = byCat, byLang
	return c, nil
}

// update reads, changes and saves one subscriber.
// change reports whether to save; a change that declines saves nothing.
func (s *Service) update(ctx context.Context, chatID int64, op string, change func(*Subscriber) bool) (Subscriber, error) {
	sub, ok, err := s.store.Subscriber(ctx, chatID)
	if err != nil {
		return Subscriber{}, fmt.Errorf("subscriptions: %s for %d: %w", op, chatID, err)
	}
	if !ok {
		return Subscriber{}, fmt.Errorf("subscriptions: %s for %d: %w", op, chatID, ErrNotSubscribed)
	}
	sub = s.clean(sub)
	if !change(&sub) {
		return sub, nil
	}
	if _, err := s.store.SaveSubscriber(ctx, sub); err != nil {
		return Subscriber{}, fmt.Errorf("subscriptions: %s for %d: %w", op, chatID, err)
	}
	return sub, nil
}

// clean drops categories that are no longer configured and replaces a
// language the bot does not speak with the default.
func (s *Service) clean(sub Subscriber) Subscriber {
	cats := make([]string, 0, len(sub.Categories))
	for _, c := range sub.Categories {
		if s.known(c) {
			cats = append(cats, c)
		}
	}
	slices.Sort(cats)
	sub.Categories = slices.Compact(cats)
	sub.Language = NormalizeLanguage(sub.Language, s.languages, s.defLang)
	return sub
}

func (s *Service) known(category string) bool {
	_, ok := slices.BinarySearch(s.categories, category)
	return ok
}
