package staff

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// burstPrefix is the callback prefix of the burst notice's button; the data
// is "burst:<burst id>".
const burstPrefix = "burst"

// burstTitleRunes bounds each title the notice quotes.
const burstTitleRunes = 120

// burstNoticeQuiet is how long after a burst notice further bursts of the
// same source are only logged: a feed that changes every id on every poll
// holds a burst each poll, and staff need one notice of it, not one a poll.
const burstNoticeQuiet = 24 * time.Hour

// BurstStore keeps the bursts the poller held back: a source showing more
// new items at once than its limit, which more likely means a broken feed
// or a redesigned site than news. *store.Redis and *store.Bolt implement it.
type BurstStore interface {
	// Bursts lists the bursts no replica has told staff of yet.
	Bursts(ctx context.Context) ([]poller.Burst, error)
	// ClaimBurstNotice marks a burst told of; it is true for the one caller
	// that is to tell staff, and for none when staff were told of another
	// burst of the same source within quiet.
	ClaimBurstNotice(ctx context.Context, id string, quiet time.Duration) (bool, error)
	// ReleaseBurst queues a burst's newest items for announcement once;
	// ok is false when the burst expired, released when this call queued.
	ReleaseBurst(ctx context.Context, id string) (b poller.Burst, ok, released bool, err error)
	// Publication loads an item, for its title.
	Publication(ctx context.Context, id string) (poller.Publication, bool, error)
}

// watchBursts tells the admins of each held burst, now and every
// CheckEvery until ctx ends.
func (s *Staff) watchBursts(ctx context.Context) {
	s.every(ctx, "cannot check held bursts", s.CheckBursts)
}

// CheckBursts sends every admin one message per burst not yet told of, with
// a button to announce its newest items after all. Of several replicas, the
// one whose claim wins sends it.
func (s *Staff) CheckBursts(ctx context.Context) error {
	bursts, err := s.p.Bursts.Bursts(ctx)
	if err != nil {
		return err
	}
	for _, b := range bursts {
		won, err := s.p.Bursts.ClaimBurstNotice(ctx, b.ID, burstNoticeQuiet)
		if err != nil {
			return err
		}
		if !won {
			// Another replica told staff of it, or of an earlier burst of
			// its source; the poller logged it when it held it.
			continue
		}
		s.log.Warn("burst held for staff", slog.String("source", redact.URL(b.Source)), slog.Int("count", b.Count),
			slog.String("burst", b.ID))
		s.sendToAdmins(ctx, func(lang string) (string, bot.Keyboard) {
			return s.burstNotice(ctx, lang, b), bot.Keyboard{{{
				Text: s.cat.Text(lang, i18n.ButtonBurstAnnounce, "count", len(b.Newest)),
				Data: burstPrefix + ":" + b.ID,
			}}}
		})
	}
	return nil
}

// burstNotice is the message about burst b: its source, size, when, and
// the titles of the items the button would announce.
func (s *Staff) burstNotice(ctx context.Context, lang string, b poller.Burst) string {
	var titles []string
	for _, id := range b.Newest {
		title := id
		if p, ok, err := s.p.Bursts.Publication(ctx, id); err == nil && ok {
			title = p.Title
		}
		titles = append(titles, s.cat.T(lang, i18n.BurstItem, "title", cut(title, burstTitleRunes)))
	}
	return s.cat.T(lang, i18n.BurstHeld, "source", redact.URL(b.Source), "count", b.Count,
		"time", s.stamp(b.At), "newest", len(b.Newest)) + "\n" + strings.Join(titles, "\n")
}

// onBurstButton announces a burst's newest items, once however many admins
// press, and marks the notice with who did.
func (s *Staff) onBurstButton(ctx context.Context, r *bot.Request) error {
	b, ok, released, err := s.p.Bursts.ReleaseBurst(ctx, r.Data)
	if err != nil {
		return err
	}
	if !ok {
		if err := r.EditKeyboard(ctx, nil); err != nil && !stale(err) {
			return err
		}
		return r.Answer(ctx, r.Text(i18n.AnswerBurstGone))
	}
	if !released {
		return r.Answer(ctx, r.Text(i18n.AnswerBurstDone))
	}
	s.log.Info("burst released by staff", slog.Int64("user_id", r.UserID), slog.String("source", redact.URL(b.Source)),
		slog.String("burst", b.ID), slog.Int("count", len(b.Newest)))
	text := s.burstNotice(ctx, r.Lang, b) + "\n\n" + r.T(i18n.BurstReleased, "count", len(b.Newest),
		"who", r.FirstName, "time", s.clock(s.p.Now()))
	if err := r.Edit(ctx, text, nil); err != nil && !stale(err) {
		return err
	}
	return r.Answer(ctx, r.Text(i18n.AnswerBurstReleased, "count", len(b.Newest)))
}
