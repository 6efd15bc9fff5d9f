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
	ID string `json:"id"`
	// LegacyID is the id the release before per-source identity gave this
	// publication, when it differs: a store that saw either counts it seen.
	LegacyID string    `json:"-"`
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
// that were not recorded. Digest names the entries of the last response
// recorded in full, at DigestAt: a response with the same entries needs no
// diff.
type Validators struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Digest       string    `json:"digest,omitempty"`
	DigestAt     time.Time `json:"digest_at,omitzero"`
}

// Recording is one poll's publications, to record.
type Recording struct {
	Source string
	// Pubs are the source's publications in its order; empty when the
	// poll found the entries already recorded (same Digest).
	Pubs       []Publication
	Validators Validators
	Now        time.Time
	// BurstLimit: when an established source shows more new publications
	// than this (counting any left from an interrupted recording), none
	// is queued; they are recorded as seen and held as a Burst. Zero: no
	// limit.
	BurstLimit int
	// BurstNewest is how many of a burst's newest publications staff may
	// still announce.
	BurstNewest int
	// Archive marks an older page of the source read by the backfill: its
	// unseen publications are stored and indexed silently, never queued
	// or held, and the source's validators and digest are left alone.
	Archive bool
}

// Recorded is what a recording did.
type Recorded struct {
	Queued []Publication // queued for announcement, newest first
	Burst  *Burst        // set when the new publications were held
}

// Burst is a poll's new publications held back because there were too many
// of them: a broken feed or a redesigned site, more likely than news.
type Burst struct {
	ID     string
	Source string
	Count  int       // publications held
	At     time.Time // when the poll was recorded
	// Newest are the ids staff may announce after all, newest first.
	Newest []string
	// Released is set once staff announced Newest.
	Released bool
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

// Store keeps what the poller has seen.
type Store interface {
	// Validators returns the cache validators and digest stored for
	// source.
	Validators(ctx context.Context, source string) (Validators, error)
	// RecordPoll diffs r.Pubs against everything seen before (under their
	// ID or LegacyID) and stores r.Validators. The unseen publications are
	// stored and indexed for "latest"; those of an established source are
	// queued for announcement in publication order
	// (as OldestFirst orders them, which the latest index's scores agree
	// with), or held as a Burst when more than
	// r.BurstLimit. The first recording of a source stores and indexes its
	// publications silently. Implementations record big polls in chunks,
	// each atomic, and queue at the end, also what an earlier call left
	// unqueued by failing midway: concurrent calls for one source queue
	// each publication from exactly one of them, and a failure loses none.
	RecordPoll(ctx context.Context, r Recording) (Recorded, error)
	// SaveHealth stores the polling health of source.
	SaveHealth(ctx context.Context, source string, h Health) error
}

// Backfill is how far the archive backfill of one source has got.
type Backfill struct {
	// Next is the URL of the next older page to read; "" before the
	// first step, which reads the pager of the source's own page.
	Next string `json:"next,omitempty"`
	// Page is the number of the page Next is (2: the list's second page).
	Page int `json:"page,omitempty"`
	// Done: no older page is left to read, or the configured number of
	// pages was read.
	Done bool `json:"done,omitempty"`
}

// ArchiveStore keeps each source's backfill progress, so that a restart
// goes on where the last process stopped and a finished backfill is never
// run again.
type ArchiveStore interface {
	// Backfill returns the source's progress; the zero Backfill when none
	// was saved.
	Backfill(ctx context.Context, source string) (Backfill, error)
	// SaveBackfill stores the source's progress.
	SaveBackfill(ctx context.Context, source string, b Backfill) error
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
