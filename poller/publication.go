// Package poller watches bulletin sources (feeds and HTML publication lists),
// assigns each item a category and records every new publication exactly
// once, even when several processes poll the same source at the same time.
package poller

import (
	"context"
	"slices"
	"time"
)

// Publication is one item of a source as it is stored and announced.
type Publication struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	URL      string    `json:"url"`
	Title    string    `json:"title"`
	Date     time.Time `json:"date"` // publication day; zero when the source gives none
	Category string    `json:"category"`
	Summary  string    `json:"summary"`
	SeenAt   time.Time `json:"seen_at"`
}

// Validators are the HTTP cache validators a source sent with its last full
// response; they are stored with the items so that a 304 never hides items
// that were not recorded.
type Validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Health is what is known about the polling of one source.
type Health struct {
	LastSuccess         time.Time `json:"last_success"`
	LastAttempt         time.Time `json:"last_attempt"`
	LastError           string    `json:"last_error,omitempty"`
	LastErrorAt         time.Time `json:"last_error_at"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastNewItem         time.Time `json:"last_new_item"`
	// Version counts the saves of this health; the store fills it on read
	// and increments it on every SaveHealth.
	Version int64 `json:"-"`
}

// Store keeps what the poller has seen. Implementations must make Record
// atomic: concurrent calls for the same source return each new publication
// from exactly one of them.
type Store interface {
	// Validators returns the cache validators stored for source.
	Validators(ctx context.Context, source string) (Validators, error)
	// Record diffs pubs against everything source has yielded before and
	// stores v. It stores the unseen publications, indexes them for "latest"
	// and queues them for announcement in publication order (OldestFirst),
	// returning them in that order. pubs are in the source's order, newest
	// first, which also orders "latest" within a day. The first Record of a
	// source stores and indexes its publications silently: none is queued or
	// returned.
	Record(ctx context.Context, source string, pubs []Publication, v Validators, now time.Time) ([]Publication, error)
	// SaveHealth stores the polling health of source.
	SaveHealth(ctx context.Context, source string, h Health) error
}

// OldestFirst returns the positions of pubs, given in a source's order
// (newest first, as lists and feeds show them), in the order they were
// published: by date, then as the page reads bottom-up. Undated items come
// after dated ones: a source that dates some items and not others is most
// likely adding the undated ones now. Announcing in this order lets every
// chat read a poll's publications in the order they appeared.
func OldestFirst(pubs []Publication) []int {
	order := make([]int, len(pubs))
	for i := range order {
		order[i] = len(pubs) - 1 - i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		da, db := pubs[a].Date, pubs[b].Date
		switch {
		case da.IsZero() && db.IsZero():
			return 0
		case da.IsZero():
			return 1
		case db.IsZero():
			return -1
		}
		return da.Compare(db)
	})
	return order
}
