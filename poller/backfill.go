package poller

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/fetch"
	"github.com/bulletinbot/bulletinbot/poller/parse"
	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// backfill reads a source's older pages once, following its pager, and
// records their publications silently (no alert, no burst), so that
// /search finds what the first page no longer lists. It is polite: one page
// at a time, an Interval (with jitter) before each, a growing backoff after
// a failure, and at most BackfillPages pages beyond the first. Progress is
// saved after every page, so a restart goes on from the next one. Feeds
// have no pager and are skipped.
func (p *Poller) backfill(ctx context.Context, src Source) {
	if p.p.BackfillPages <= 0 || p.p.Archive == nil || src.Kind == parse.Feed {
		return
	}
	failures := 0
	var (
		st     Backfill
		loaded bool
	)
	timer := time.NewTimer(p.nextDelay(src.URL, nil))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		wait, mine := p.backfillTurn(ctx, src)
		if !mine {
			timer.Reset(wait)
			continue
		}
		var err error
		if !loaded || p.p.Turns != nil {
			// With replicas, another may have read the last page: the
			// stored progress is the one to go on from.
			if st, err = p.p.Archive.Backfill(ctx, src.URL); err == nil {
				loaded = true
			}
		}
		if err == nil && !st.Done {
			st, err = p.backfillStep(ctx, src, st)
		}
		if p.p.Turns != nil && ctx.Err() == nil {
			end := p.p.Now()
			if serr := p.p.Turns.SchedulePoll(ctx, backfillTurnKey(src), end, end.Add(p.nextDelay(src.URL, nil))); serr != nil {
				// The claim's hold still keeps the others off for one interval.
				p.p.Logger.Warn("schedule the next backfill page failed", slog.String("source", redact.URL(src.URL)), slog.Any("error", serr))
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			p.p.Logger.Warn("backfill of older pages failed; retrying", slog.String("source", redact.URL(src.URL)), slog.Any("error", err), slog.Int("consecutive_failures", failures))
			retryAfter, _ := fetch.RetryAfter(err)
			timer.Reset(p.p.Backoff.Delay(failures, retryAfter))
			continue
		}
		failures = 0
		if st.Done {
			p.p.Logger.Info("backfill of older pages finished", slog.String("source", redact.URL(src.URL)), slog.Int("pages", max(st.Page-2, 0)))
			return
		}
		timer.Reset(p.nextDelay(src.URL, nil))
	}
}

// backfillStep reads one page: the source's own first (only for its pager),
// then each older one, recording the older ones as an archive. It returns
// the progress, saved.
func (p *Poller) backfillStep(ctx context.Context, src Source, st Backfill) (Backfill, error) {
	page, number := st.Next, st.Page
	if page == "" {
		page, number = src.URL, 1
	}
	now := p.p.Now()
	resp, err := p.p.Fetcher.Fetch(ctx, fetch.Request{URL: page})
	if err != nil {
		return st, fmt.Errorf("poller: backfill: %w", err)
	}
	if resp.NotModified {
		return st, fmt.Errorf("poller: backfill: %s answered 304 to an unconditional request", redact.URL(page))
	}
	pubs, r, err := extract(resp, src, page, p.p.Categorizer, now)
	if err != nil {
		return st, err
	}
	if number > 1 && len(pubs) > 0 {
		if _, err := p.p.Store.RecordPoll(ctx, Recording{Source: src.URL, Pubs: pubs, Now: now, Archive: true}); err != nil {
			return st, fmt.Errorf("poller: backfill: %w", err)
		}
		p.p.Logger.Info("older page recorded", slog.String("source", redact.URL(src.URL)), slog.Int("page", number), slog.Int("publications", len(pubs)))
	}
	next := Backfill{Next: parse.NextPage(r.Pager, number), Page: number + 1}
	next.Done = next.Next == "" || next.Page > 1+p.p.BackfillPages
	if next.Done {
		next.Next = ""
	}
	if err := p.p.Archive.SaveBackfill(ctx, src.URL, next); err != nil {
		return st, fmt.Errorf("poller: backfill: %w", err)
	}
	return next, nil
}

// backfillTurnKey names a source's backfill among the polling turns, so
// that replicas read each older page once between them.
func backfillTurnKey(src Source) string { return "backfill " + src.URL }

// backfillTurn claims the next backfill page of src for this replica when
// replicas share the polling; otherwise the page is always this one's. It
// returns how long to wait when the page is another's (or the store cannot
// say).
func (p *Poller) backfillTurn(ctx context.Context, src Source) (time.Duration, bool) {
	if p.p.Turns == nil {
		return 0, true
	}
	now := p.p.Now()
	mine, due, err := p.p.Turns.ClaimPoll(ctx, backfillTurnKey(src), now, p.p.Interval)
	if err != nil {
		if ctx.Err() == nil {
			p.p.Logger.Warn("claim a backfill turn failed", slog.String("source", redact.URL(src.URL)), slog.Any("error", err))
		}
		return p.spread(min(p.p.Interval, p.p.Backoff.Base)), false
	}
	if !mine {
		return max(due.Sub(now), 0) + p.spread(p.p.Interval/50), false
	}
	return 0, true
}
