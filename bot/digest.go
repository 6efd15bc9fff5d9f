package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/terms"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// DigestStore keeps when each chat's daily digest is due, shared by every
// replica. *store.Redis and *store.Bolt implement it.
type DigestStore interface {
	// ScheduleDigest sets when the chat's next digest is due; the zero time
	// drops it.
	ScheduleDigest(ctx context.Context, chatID int64, due time.Time) error
	// ClaimDigests returns up to n chats whose digest is due at now, with
	// the time each was due, and in the same atomic step moves each one's
	// due time to now+lease: one replica gets a chat, and one that dies
	// before rescheduling it leaves it to be claimed again after lease.
	ClaimDigests(ctx context.Context, now time.Time, lease time.Duration, n int) ([]DueDigest, error)
}

// DueDigest is a chat whose digest is due.
type DueDigest struct {
	ChatID int64
	Due    time.Time
}

// Digest tuning.
const (
	// digestEvery is how often due digests are looked for: a digest goes
	// within this of its time.
	digestEvery = 30 * time.Second
	// digestLease is how long a claimed digest is its replica's before
	// another may send it: well over one send.
	digestLease = 5 * time.Minute
	// digestBatch is the most digests claimed at once.
	digestBatch = 50
	// digestRead is how many of the newest publications a digest looks
	// through: a day's worth with a wide margin.
	digestRead = 200
)

// scheduleDigest sets the chat's next digest to match its settings.
func (b *Bot) scheduleDigest(ctx context.Context, sub subscriptions.Subscriber) error {
	if b.p.Digests == nil {
		if sub.Prefs.Digest {
			return errNoDigests
		}
		return nil
	}
	var due time.Time
	if sub.Prefs.Digest {
		due = sub.Prefs.NextDigest(b.p.Now(), b.zone)
	}
	if err := b.p.Digests.ScheduleDigest(ctx, sub.ChatID, due); err != nil {
		return fmt.Errorf("bot: schedule digest of %d: %w", sub.ChatID, err)
	}
	return nil
}

// RunDigests sends the daily digests as they fall due until ctx ends.
// Every replica may run it: the store hands each digest to one.
func (b *Bot) RunDigests(ctx context.Context) error {
	if b.p.Digests == nil {
		return nil
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := b.sendDueDigests(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("send digests", slog.Any("error", err))
		}
		t.Reset(wait.Jitter(digestEvery))
	}
}

// sendDueDigests claims the digests due now and sends each.
func (b *Bot) sendDueDigests(ctx context.Context) error {
	for {
		now := b.p.Now()
		due, err := b.p.Digests.ClaimDigests(ctx, now, digestLease, digestBatch)
		if err != nil {
			return fmt.Errorf("bot: claim digests: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		var pubs []poller.Publication
		for _, d := range due {
			if pubs == nil {
				if pubs, err = b.p.Publications.Latest(ctx, "", digestRead); err != nil {
					return fmt.Errorf("bot: digest publications: %w", err)
				}
			}
			if err := b.sendDigest(ctx, d, pubs); err != nil {
				// Left claimed: it goes again once the lease ends.
				b.log.Warn("digest not sent", slog.Int64("chat_id", d.ChatID), slog.Any("error", err))
			}
		}
		if len(due) < digestBatch {
			return nil
		}
	}
}

// sendDigest sends one chat its digest of the publications first seen in
// the day before it was due, and schedules the next. A chat that left, or
// turned the digest off, is dropped.
func (b *Bot) sendDigest(ctx context.Context, d DueDigest, pubs []poller.Publication) error {
	sub, ok, err := b.p.Subscriptions.Get(ctx, d.ChatID)
	if err != nil {
		return err
	}
	if !ok || !sub.Prefs.Digest {
		return b.p.Digests.ScheduleDigest(ctx, d.ChatID, time.Time{})
	}
	// A digest chat gets no alert, so its digest lists what its topics
	// match too, as alerts would have brought it.
	topics, err := b.p.Subscriptions.Topics(ctx, d.ChatID)
	if err != nil {
		return err
	}
	var items []poller.Publication
	for _, p := range pubs {
		seen := p.SeenAt
		if seen.IsZero() { // stored before the poller kept it
			seen = p.Date
		}
		if seen.After(d.Due.Add(-24*time.Hour)) && !seen.After(d.Due) && (sub.Wants(p.Category) || followsAny(topics, p)) {
			items = append(items, p)
		}
	}
	if len(items) > 0 {
		text := b.digestText(sub.Language, d.Due.In(sub.Prefs.Location(b.zone)), items)
		if _, err := b.sendHTML(ctx, sub.ChatID, text, nil, sub.Prefs.Thread); err != nil {
			return err
		}
		b.log.Info("digest sent", slog.Int64("chat_id", sub.ChatID), slog.Int("items", len(items)))
	}
	// The next one comes after both the due time and now, so that a digest
	// sent late (a long outage) is not followed by a burst of catch-ups.
	next := sub.Prefs.NextDigest(maxTime(d.Due, b.p.Now()), b.zone)
	return b.p.Digests.ScheduleDigest(ctx, sub.ChatID, next)
}

// digestText lists items, newest first, as one message within Telegram's
// length: whole lines only (an item is never cut inside its link), and a
// last line counting those left out.
func (b *Bot) digestText(lang string, day time.Time, items []poller.Publication) string {
	header := b.cat.T(lang, i18n.DigestHeader, "date", day.Format("02.01.2006"), "count", len(items))
	lines := make([]string, 0, len(items))
	for _, p := range items {
		title := truncate(render.Line(p.Title), maxTitleRunes)
		cat := b.p.Categorizer.Name(p.Category, lang)
		if safeURL(p.URL) {
			lines = append(lines, b.cat.T(lang, i18n.DigestItem, "category", cat, "url", p.URL, "title", title))
		} else {
			lines = append(lines, "• "+b.cat.T(lang, i18n.LatestItemNoLink, "date", shownDay(p).Format("02.01.2006"), "category", cat, "title", title))
		}
	}
	var sb strings.Builder
	sb.WriteString(header)
	for i, l := range lines {
		more := ""
		if rest := len(lines) - i - 1; rest > 0 {
			more = "\n" + b.cat.T(lang, i18n.DigestMore, "count", rest)
		}
		if render.Length(sb.String()+"\n"+l+more) > maxMessageLen {
			sb.WriteString("\n" + b.cat.T(lang, i18n.DigestMore, "count", len(lines)-i))
			break
		}
		sb.WriteString("\n" + l)
	}
	return sb.String()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// followsAny reports whether p matches one of topics: all of a topic's
// terms among p's, as the delivery engine matches them.
func followsAny(topics []subscriptions.Topic, p poller.Publication) bool {
	if len(topics) == 0 {
		return false
	}
	have := terms.Of(p.Title+"\n"+p.Summary, terms.MaxPerText)
	for _, t := range topics {
		all := true
		for term := range strings.SplitSeq(t.Key, " ") {
			if !slices.Contains(have, term) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
