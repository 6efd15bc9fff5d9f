package subscriptions

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"
)

// fakeStore is an in-memory Store for the Service's rules. The behaviour
// of the real stores is checked by the conformance suite in bot/store.
type fakeStore struct {
	mu     sync.Mutex
	subs   map[int64]Subscriber
	joins  []time.Time
	leaves []time.Time
	saves  int
	tombs  map[int64]Tombstone
	err    error // returned by every call when set
}

func newFakeStore() *fakeStore { return &fakeStore{subs: map[int64]Subscriber{}} }

func (f *fakeStore) SaveSubscriber(_ context.Context, s Subscriber) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	f.saves++
	old, ok := f.subs[s.ChatID]
	s.Categories = slices.Clone(s.Categories)
	if ok {
		s.JoinedAt = old.JoinedAt
	} else {
		f.joins = append(f.joins, s.JoinedAt)
	}
	f.subs[s.ChatID] = s
	return !ok, nil
}

func (f *fakeStore) Subscriber(_ context.Context, chatID int64) (Subscriber, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Subscriber{}, false, f.err
	}
	s, ok := f.subs[chatID]
	s.Categories = slices.Clone(s.Categories)
	return s, ok, nil
}

func (f *fakeStore) DeleteSubscriber(_ context.Context, chatID int64, at time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	if _, ok := f.subs[chatID]; !ok {
		return false, nil
	}
	delete(f.subs, chatID)
	f.leaves = append(f.leaves, at)
	return true, nil
}

func (f *fakeStore) MigrateSubscriber(_ context.Context, from, to int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	s, ok := f.subs[from]
	if !ok {
		return false, nil
	}
	delete(f.subs, from)
	if _, exists := f.subs[to]; !exists {
		s.ChatID = to
		f.subs[to] = s
	}
	return true, nil
}

func (f *fakeStore) SubscribersPage(_ context.Context, flt Filter, cursor string, limit int) ([]Subscriber, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, "", f.err
	}
	after := int64(-1 << 63)
	started := cursor == ""
	if !started {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil {
			return nil, "", err
		}
		after = n
	}
	ids := make([]int64, 0, len(f.subs))
	for id := range f.subs {
		if started || id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []Subscriber
	for i, id := range ids {
		if len(out) == limit {
			return out, strconv.FormatInt(ids[i-1], 10), nil
		}
		s := f.subs[id]
		if flt.Matches(s) {
			s.Categories = slices.Clone(s.Categories)
			out = append(out, s)
		}
	}
	return out, "", nil
}

func (f *fakeStore) SubscriberCounts(_ context.Context, since time.Time) (Counts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Counts{}, f.err
	}
	c := Counts{Total: len(f.subs), ByCategory: map[string]int{}, ByLanguage: map[string]int{}}
	for _, s := range f.subs {
		c.ByLanguage[s.Language]++
		for _, cat := range s.Categories {
			c.ByCategory[cat]++
		}
	}
	for _, t := range f.joins {
		if !t.Before(since) {
			c.Joined++
		}
	}
	for _, t := range f.leaves {
		if !t.Before(since) {
			c.Left++
		}
	}
	return c, nil
}

func (f *fakeStore) RemoveSubscriber(ctx context.Context, chatID int64, reason string, at time.Time) (bool, error) {
	f.mu.Lock()
	s, ok := f.subs[chatID]
	f.mu.Unlock()
	if ok, err := f.DeleteSubscriber(ctx, chatID, at); err != nil || !ok {
		return ok, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tombs == nil {
		f.tombs = map[int64]Tombstone{}
	}
	if ok {
		f.tombs[chatID] = Tombstone{Subscriber: s, RemovedAt: at, Reason: reason}
	}
	return true, nil
}

func (f *fakeStore) RestoreSubscriber(ctx context.Context, chatID int64, at time.Time) (Subscriber, bool, error) {
	f.mu.Lock()
	t, ok := f.tombs[chatID]
	delete(f.tombs, chatID)
	_, subscribed := f.subs[chatID]
	f.mu.Unlock()
	if !ok || subscribed {
		return Subscriber{}, false, nil
	}
	s := t.Subscriber
	s.JoinedAt = at
	if _, err := f.SaveSubscriber(ctx, s); err != nil {
		return Subscriber{}, false, err
	}
	return s, true, nil
}

func (f *fakeStore) Tombstones(_ context.Context, since time.Time, n int) ([]Tombstone, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Tombstone
	for _, t := range f.tombs {
		if !t.RemovedAt.Before(since) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Tombstone) int { return a.RemovedAt.Compare(b.RemovedAt) })
	return out[:min(n, len(out))], nil
}
