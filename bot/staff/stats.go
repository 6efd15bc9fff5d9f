package staff

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/subscriptions"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// Limits of /broadcasts and /stats.
const (
	recentBroadcasts = 10
	snippetRunes     = 80
	errorRunes       = 200
	statsWindow      = 7 * 24 * time.Hour
)

// cmdStats shows subscribers, sources and delivery.
func (s *Staff) cmdStats(ctx context.Context, r *bot.Request) error {
	if r.Chat.Type != subscriptions.ChatPrivate {
		return r.Reply(ctx, r.T(i18n.StaffPrivateOnly))
	}
	lang := r.Lang
	now := s.p.Now()
	counts, err := s.p.Subscribers.Counts(ctx, now.Add(-statsWindow))
	if err != nil {
		return err
	}
	health, err := s.p.Store.SourceHealth(ctx)
	if err != nil {
		return err
	}
	queue, err := s.p.Store.QueueDepth(ctx)
	if err != nil {
		return err
	}
	today, err := s.p.Store.StaffCounters(ctx, day(now, s.p.Location))
	if err != nil {
		return err
	}
	_, dead, err := s.p.Engine.DeadLetters(ctx, 0)
	if err != nil {
		return err
	}

	parts := []string{r.T(i18n.StatsSubscribers, "total", int64(counts.Total), "joined", int64(counts.Joined), "left", int64(counts.Left))}
	lines := []string{r.T(i18n.StatsByCategory)}
	for _, c := range s.p.Categories.Categories() {
		lines = append(lines, r.T(i18n.StatsLine, "name", s.p.Categories.Name(c.ID, lang), "count", int64(counts.ByCategory[c.ID])))
	}
	parts = append(parts, strings.Join(lines, "\n"))
	lines = []string{r.T(i18n.StatsByLanguage)}
	for _, l := range slices.Sorted(maps.Keys(counts.ByLanguage)) {
		lines = append(lines, r.T(i18n.StatsLine, "name", s.cat.Text(l, i18n.LanguageName), "count", int64(counts.ByLanguage[l])))
	}
	parts = append(parts, strings.Join(lines, "\n"))

	lines = []string{r.T(i18n.StatsSources)}
	if len(health) == 0 {
		lines = append(lines, r.T(i18n.StatsNoSources))
	}
	for _, src := range slices.Sorted(maps.Keys(health)) {
		h := health[src]
		line := r.T(i18n.StatsSource, "source", redact.URL(src), "success", s.when(lang, h.LastSuccess))
		if h.LastError != "" {
			line += r.T(i18n.StatsSourceError, "at", s.when(lang, h.LastErrorAt), "error", cut(h.LastError, errorRunes))
		}
		lines = append(lines, line)
	}
	parts = append(parts, strings.Join(lines, "\n"))
	delivery := r.T(i18n.StatsDelivery, "queue", int64(queue), "sent", int64(today[counterSent]),
		"flood", int64(today[counterFlood]), "dead", int64(dead))
	paused, err := s.statsPause(ctx, r)
	if err != nil {
		return err
	}
	if paused != "" {
		delivery += "\n" + paused
	}
	parts = append(parts, delivery)
	return r.Reply(ctx, fit(parts, "\n\n"))
}

// cmdBroadcasts lists the recent broadcasts with their state.
func (s *Staff) cmdBroadcasts(ctx context.Context, r *bot.Request) error {
	if r.Chat.Type != subscriptions.ChatPrivate {
		return r.Reply(ctx, r.T(i18n.StaffPrivateOnly))
	}
	scheduled, kb, err := s.scheduledList(ctx, r)
	if err != nil {
		return err
	}
	if scheduled != "" {
		if err := r.ReplyKeyboard(ctx, scheduled, kb); err != nil {
			return err
		}
	}
	bodies, err := s.p.Store.RecentBroadcasts(ctx, recentBroadcasts)
	if err != nil {
		return err
	}
	if len(bodies) == 0 {
		return r.Reply(ctx, r.T(i18n.BroadcastsEmpty))
	}
	lang := r.Lang
	parts := []string{r.T(i18n.BroadcastsHeader)}
	for _, body := range bodies {
		var b Broadcast
		if err := json.Unmarshal(body, &b); err != nil {
			s.log.Warn("unreadable broadcast record", slog.Any("error", err))
			continue
		}
		delivered, removed, failed, cancelled := b.Delivered, b.Removed, b.Failed, b.Cancelled
		if b.FinishedAt.IsZero() {
			if st, err := s.p.Engine.Stats(ctx, b.ID); err == nil {
				delivered, removed, failed, cancelled = st.Delivered, st.Removed, st.Failed, st.Cancelled
			}
		}
		item := r.T(i18n.BroadcastsItem,
			"date", s.stamp(b.CreatedAt),
			"who", b.AdminName, "audience", s.audienceName(lang, b.Audience), "state", s.stateName(lang, b),
			"text", cut(strings.Join(strings.Fields(firstVersion(versionsOf(b.Versions, b.HTML)).snippet()), " "), snippetRunes),
			"counts", i18n.HTML(r.T(i18n.BroadcastsCounts, "delivered", int64(delivered), "removed", int64(removed), "failed", int64(failed), "cancelled", int64(cancelled))))
		if b.State == StateRecalled && b.Recall != nil {
			item += "\n" + r.T(i18n.BroadcastsRecall, "who", b.Recall.Name, "time", s.stamp(b.RecalledAt),
				"deleted", int64(b.Deleted), "old", int64(b.TooOld), "failed", int64(b.RecallFailed))
		}
		parts = append(parts, item)
	}
	return r.Reply(ctx, fit(parts, "\n\n"))
}

func (s *Staff) stateName(lang string, b Broadcast) string {
	switch b.State {
	case StateDone:
		return s.cat.Text(lang, i18n.StateDone)
	case StateStopped:
		who := ""
		if b.Stop != nil {
			who = b.Stop.Name
		}
		return s.cat.Text(lang, i18n.StateStopped, "who", who)
	case StateRecalling:
		return s.cat.Text(lang, i18n.StateRecalling)
	case StateRecalled:
		return s.cat.Text(lang, i18n.StateRecalled)
	}
	return s.cat.Text(lang, i18n.StateSending)
}

// when formats a moment for staff, or "never" for the zero time.
func (s *Staff) when(lang string, t time.Time) string {
	if t.IsZero() {
		return s.cat.Text(lang, i18n.Never)
	}
	return s.stamp(t)
}

// stamp formats a moment with its zone, for staff who may sit elsewhere:
// "02.12.2026 09:00 GMT". A zone that has no abbreviation (Go writes
// "+04") is named too: "02.12.2026 13:00 +04 (Asia/Dubai)".
func (s *Staff) stamp(t time.Time) string {
	t = t.In(s.p.Location)
	out := t.Format("02.01.2006 15:04 MST")
	if abbr, _ := t.Zone(); strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
		out += " (" + s.p.Location.String() + ")"
	}
	return out
}

// cut shortens s to n runes, ending with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}

// fit joins parts, dropping the last ones that would take the message
// over Telegram's limit: parts are whole lines of escaped HTML.
func fit(parts []string, sep string) string {
	out := parts[0]
	for _, p := range parts[1:] {
		next := out + sep + p
		if render.Length(next) > render.MaxLength {
			break
		}
		out = next
	}
	return out
}
