package poller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
	"github.com/bulletinbot/bulletinbot/poller/parse"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// Source is one watched URL.
type Source struct {
	URL  string
	Kind parse.Kind // parse.Auto detects feed or HTML list from the response
}

// Fetcher gets a source's body, conditionally.
type Fetcher interface {
	Fetch(ctx context.Context, req fetch.Request) (*fetch.Response, error)
}

// Observer is told the outcome of every poll, for metrics. Result is one of
// "new", "unchanged", "not_modified", "burst" or "error".
type Observer interface {
	ObservePoll(source, result string, fresh int, took time.Duration)
}

// Params wires a Poller.
type Params struct {
	Sources     []Source
	Interval    time.Duration // between polls of a healthy source
	Store       Store
	Fetcher     Fetcher
	Categorizer *category.Categorizer
	Logger      *slog.Logger
	Observer    Observer            // optional
	Backoff     fetch.Backoff       // for failing sources; zero value gets defaults
	Now         func() time.Time    // default time.Now
	Jitter      func() float64      // in [0,1); default math/rand
	OnNew       func([]Publication) // optional: called with the publications a poll queued
	// BurstLimit: more new items than this in one poll of an established
	// source are held for staff instead of announced. Default
	// DefaultBurstLimit; negative: no limit.
	BurstLimit int
	// OnBurst (optional) is called with each burst a poll held.
	OnBurst func(Burst)
	// BackfillPages (optional) is how many older pages of each HTML
	// list source are read once, following its pager, and recorded
	// silently; 0 reads none. Archive keeps the progress.
	BackfillPages int
	Archive       ArchiveStore
	// OnContacts (optional) is called with the consular contacts the
	// header of an HTML source's page shows, when it shows any, after each
	// poll that fetched the page.
	OnContacts func(ctx context.Context, source string, c parse.Contacts)
	// Turns (optional) shares each source's polling with the other
	// replicas on the same store; without it this process polls every
	// source every Interval.
	Turns Turns
}

// Defaults of the burst guard and the digest.
const (
	DefaultBurstLimit = 20
	// BurstNewest is how many of a burst's newest items staff may still
	// announce.
	BurstNewest = 5
	// digestRefresh bounds how long an unchanged page skips the diff: a
	// full diff refreshes its ids' last-seen times, which keep them from
	// being forgotten (and announced again) a year on.
	digestRefresh = 24 * time.Hour
)

// Poller polls every source on its own schedule until its context ends.
type Poller struct {
	p Params

	mu     sync.Mutex
	health map[string]Health
}

// New returns a Poller. It does not start polling: call Run.
func New(p Params) *Poller {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Jitter == nil {
		p.Jitter = rand.Float64
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Backoff.Base == 0 {
		p.Backoff.Base = 30 * time.Second
	}
	if p.Backoff.Max == 0 {
		p.Backoff.Max = 30 * time.Minute
	}
	if p.Backoff.Rand == nil {
		p.Backoff.Rand = p.Jitter
	}
	switch {
	case p.BurstLimit == 0:
		p.BurstLimit = DefaultBurstLimit
	case p.BurstLimit < 0:
		p.BurstLimit = 0 // the store's "no limit"
	}
	return &Poller{p: p, health: make(map[string]Health)}
}

// Run polls all sources until ctx ends; a failing source never holds up the
// others. It returns nil on a clean stop.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, src := range p.p.Sources {
		wg.Go(func() { p.loop(ctx, src) })
		wg.Go(func() { p.backfill(ctx, src) })
	}
	wg.Wait()
	return nil
}

// loop polls one source: at once, then every Interval (±10 % jitter so that
// replicas and sources spread out), or after a growing backoff while it
// fails; with Turns, only when it is this replica's turn.
func (p *Poller) loop(ctx context.Context, src Source) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		delay := p.turn(ctx, src)
		if ctx.Err() != nil {
			return
		}
		timer.Reset(delay)
	}
}

func (p *Poller) nextDelay(source string, err error) time.Duration {
	if err == nil {
		spread := 0.9 + 0.2*p.p.Jitter()
		return time.Duration(float64(p.p.Interval) * spread)
	}
	retryAfter, _ := fetch.RetryAfter(err)
	return p.p.Backoff.Delay(p.Health(source).ConsecutiveFailures, retryAfter)
}

// Health returns what this process knows of a source's polling.
func (p *Poller) Health(source string) Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health[source]
}

// Poll polls one source once: fetches it conditionally, extracts and
// categorizes its items and records them. It returns the publications queued
// for announcement.
func (p *Poller) Poll(ctx context.Context, src Source) ([]Publication, error) {
	start := p.p.Now()
	fresh, result, err := p.poll(ctx, src, start)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil, err
	}
	if p.p.Observer != nil {
		p.p.Observer.ObservePoll(src.URL, result, len(fresh), p.p.Now().Sub(start))
	}
	published := len(fresh)
	if result == "burst" {
		published = 1 // held, but the source did publish: it is not silent
	}
	p.saveHealth(ctx, src.URL, start, published, err)
	if err != nil {
		p.p.Logger.Warn("poll failed", slog.String("source", redact.URL(src.URL)), slog.Any("error", err),
			slog.Int("consecutive_failures", p.Health(src.URL).ConsecutiveFailures))
		return nil, err
	}
	if len(fresh) > 0 {
		p.p.Logger.Info("new publications", slog.String("source", redact.URL(src.URL)), slog.Int("count", len(fresh)))
		if p.p.OnNew != nil {
			p.p.OnNew(fresh)
		}
	}
	return fresh, nil
}

func (p *Poller) poll(ctx context.Context, src Source, now time.Time) ([]Publication, string, error) {
	v, err := p.p.Store.Validators(ctx, src.URL)
	if err != nil {
		return nil, "error", fmt.Errorf("poller: %w", err)
	}
	resp, err := p.p.Fetcher.Fetch(ctx, fetch.Request{URL: src.URL, ETag: v.ETag, LastModified: v.LastModified})
	if err != nil {
		return nil, "error", fmt.Errorf("poller: %w", err)
	}
	if resp.NotModified {
		return nil, "not_modified", nil
	}
	if p.p.OnContacts != nil && src.Kind != parse.Feed {
		if c := parse.ReadContacts(resp.Body, resp.ContentType); c != (parse.Contacts{}) {
			p.p.OnContacts(ctx, src.URL, c)
		}
	}
	pubs, cut, err := Extract(resp, src, p.p.Categorizer, now)
	if err != nil {
		return nil, "error", err
	}
	if cut > 0 {
		p.p.Logger.Warn("source lists more entries than are read; the rest are ignored",
			slog.String("source", redact.URL(src.URL)), slog.Int("read", len(pubs)), slog.Int("ignored", cut))
	}
	rec := Recording{
		Source:      src.URL,
		Pubs:        pubs,
		Validators:  Validators{ETag: resp.ETag, LastModified: resp.LastModified, Digest: digest(pubs), DigestAt: now},
		Now:         now,
		BurstLimit:  p.p.BurstLimit,
		BurstNewest: BurstNewest,
	}
	if rec.Validators.Digest == v.Digest && now.Sub(v.DigestAt) < digestRefresh {
		// The same entries as last time: only the validators change, at
		// the cost of a 304.
		rec.Pubs, rec.Validators.DigestAt = nil, v.DigestAt
	}
	done, err := p.p.Store.RecordPoll(ctx, rec)
	if err != nil {
		return nil, "error", fmt.Errorf("poller: %w", err)
	}
	if b := done.Burst; b != nil {
		p.p.Logger.Warn("too many new items at once: recorded as seen, not announced; staff are asked",
			slog.String("source", redact.URL(src.URL)), slog.Int("count", b.Count), slog.Int("limit", p.p.BurstLimit))
		if p.p.OnBurst != nil {
			p.p.OnBurst(*b)
		}
		return done.Queued, "burst", nil
	}
	if len(done.Queued) == 0 {
		return nil, "unchanged", nil
	}
	return done.Queued, "new", nil
}

// digest names a poll's entries, in order, by their ids.
func digest(pubs []Publication) string {
	h := sha256.New()
	for _, p := range pubs {
		h.Write([]byte(p.ID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (p *Poller) saveHealth(ctx context.Context, source string, at time.Time, fresh int, pollErr error) {
	p.mu.Lock()
	h := p.health[source]
	h.LastAttempt = at
	if pollErr != nil {
		h.LastError = pollErr.Error()
		h.LastErrorAt = at
		h.ConsecutiveFailures++
	} else {
		h.LastSuccess = at
		h.ConsecutiveFailures = 0
		if fresh > 0 {
			h.LastNewItem = at
		}
	}
	p.health[source] = h
	p.mu.Unlock()
	if err := p.p.Store.SaveHealth(ctx, source, h); err != nil && ctx.Err() == nil {
		p.p.Logger.Warn("save source health failed", slog.String("source", redact.URL(source)), slog.Any("error", err))
	}
}

// Extract turns a fetched response into categorized publications, in the
// source's order, without touching any store. Items repeated within one
// response are kept once. At most parse.MaxEntries are read; cut counts the
// entries left out.
func Extract(resp *fetch.Response, src Source, c *category.Categorizer, now time.Time) (pubs []Publication, cut int, err error) {
	pubs, r, err := extract(resp, src, src.URL, c, now)
	return pubs, r.Cut, err
}

// extract is Extract of one page of the source (its own URL, or an older
// page of its list), also returning what the parser read.
func extract(resp *fetch.Response, src Source, page string, c *category.Categorizer, now time.Time) ([]Publication, parse.Result, error) {
	base := resp.FinalURL
	if base == "" {
		base = page
	}
	r, err := parse.Read(resp.Body, resp.ContentType, base, src.Kind)
	if err != nil {
		return nil, r, fmt.Errorf("poller: %s: %w", redact.URL(page), err)
	}
	entries := r.Entries
	pubs := make([]Publication, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		id, legacy := publicationID(src.URL, e.GUID, e.Link, e.Title, e.Date)
		if seen[id] {
			continue
		}
		seen[id] = true
		pubs = append(pubs, Publication{
			ID:       id,
			LegacyID: legacy,
			Source:   src.URL,
			URL:      e.Link,
			Title:    e.Title,
			Date:     ClampDate(e.Date, now.UTC()),
			Category: c.Categorize(e.Title, e.Categories),
			Summary:  e.Summary,
			SeenAt:   now.UTC(),
		})
	}
	return pubs, r, nil
}
