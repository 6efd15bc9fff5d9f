package staff

import (
	"context"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/parse"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// Alert states in the store: "" (none, the zero state) or alerted.
const alerted = "alerted"

// watchHealth checks the sources now and every CheckEvery until ctx ends.
func (s *Staff) watchHealth(ctx context.Context) {
	s.every(ctx, "cannot check source health", s.CheckHealth)
}

// every runs check now and every CheckEvery until ctx ends, logging its
// failures (the first and every 60th of a run) under msg.
func (s *Staff) every(ctx context.Context, msg string, check func(context.Context) error) {
	failures := 0
	for {
		if err := check(ctx); err != nil && ctx.Err() == nil {
			failures++
			if failures == 1 || failures%60 == 0 {
				s.log.Error(msg, slog.Any("error", err), slog.Int("failures", failures))
			}
		} else {
			failures = 0
		}
		// Jitter keeps replicas from checking in step.
		pause := time.Duration(float64(s.p.CheckEvery) * (0.9 + 0.2*rand.Float64()))
		if !wait.Sleep(ctx, pause) {
			return
		}
	}
}

// CheckHealth reads every source's health once and alerts the admins of
// each change: a source failing FailuresBeforeAlert polls in a row, or
// working again; a source that has had items falling silent for
// SilentAfter, or publishing again. Each change is alerted once, by the
// one replica whose state swap in the store wins.
func (s *Staff) CheckHealth(ctx context.Context) error {
	health, err := s.p.Store.SourceHealth(ctx)
	if err != nil {
		return err
	}
	return s.applyHealth(ctx, health)
}

// applyHealth alerts the changes a snapshot of the sources' health shows.
// Another replica may have acted on a newer snapshot meanwhile: each swap
// carries the snapshot's version, so that the store refuses to let this
// older one undo that replica's move.
func (s *Staff) applyHealth(ctx context.Context, health map[string]poller.Health) error {
	var err error
	now := s.p.Now()
	for _, src := range slices.Sorted(maps.Keys(health)) {
		h := health[src]
		switch {
		case h.ConsecutiveFailures >= s.p.FailuresBeforeAlert:
			err = s.transition(ctx, h.Version, "failing", src, "", alerted, i18n.AlertFailing,
				"failures", h.ConsecutiveFailures, "error", cut(h.LastError, errorRunes))
		case h.ConsecutiveFailures == 0 && !h.LastSuccess.IsZero():
			err = s.transition(ctx, h.Version, "failing", src, alerted, "", i18n.AlertRecovered)
		}
		if err != nil {
			return err
		}
		if h.LastNewItem.IsZero() {
			continue // never had a new item: silence says nothing
		}
		if silence := now.Sub(h.LastNewItem); silence > s.p.SilentAfter {
			err = s.transition(ctx, h.Version, "silent", src, "", alerted, i18n.AlertSilent,
				"days", int(silence/(24*time.Hour)), "date", h.LastNewItem.In(s.p.Location).Format("02.01.2006"))
		} else {
			err = s.transition(ctx, h.Version, "silent", src, alerted, "", i18n.AlertActive)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// transition moves source src's alert of kind from old to next, as
// health of the given version says, and, if this call made the move, tells
// every admin, naming the source as redact.URL shows it.
func (s *Staff) transition(ctx context.Context, version int64, kind, src, old, next string, text i18n.Key, kv ...any) error {
	won, err := s.p.Store.SwapAlertState(ctx, kind+":"+src, old, next, version)
	if err != nil || !won {
		return err
	}
	shown := redact.URL(src)
	s.log.Info("source alert", slog.String("alert", kind), slog.String("source", shown), slog.String("state", next))
	s.alertAdmins(ctx, text, append([]any{"source", shown}, kv...)...)
	return nil
}

// alertAdmins sends an alert to each admin's private chat (sendToAdmins).
func (s *Staff) alertAdmins(ctx context.Context, key i18n.Key, kv ...any) {
	s.sendToAdmins(ctx, func(lang string) (string, bot.Keyboard) { return s.cat.T(lang, key, kv...), nil })
}

// sendToAdmins sends each admin's private chat the message msg makes, in
// the admin's language when known. An admin who never started the bot
// cannot be written to: skipped and logged.
func (s *Staff) sendToAdmins(ctx context.Context, msg func(lang string) (string, bot.Keyboard)) {
	for _, admin := range s.p.Admins {
		lang := s.cat.DefaultLanguage()
		if sub, ok, err := s.p.Subscribers.Get(ctx, admin); err == nil && ok {
			lang = sub.Language
		}
		// The bot's send budget paces it, as every message the bot sends.
		text, kb := msg(lang)
		_, err := s.b.SendHTML(ctx, admin, text, kb)
		switch {
		case err == nil:
		case tg.Classify(err) == tg.KindGone:
			s.log.Warn("admin cannot get alerts: has not started the bot, or blocked it", slog.Int64("user_id", admin), slog.Any("error", err))
		default:
			s.log.Error("cannot send an alert to an admin", slog.Int64("user_id", admin), slog.Any("error", err))
		}
	}
}

// ConsularContactsChanged tells staff that the site's header shows other
// consular contacts than before.
func (s *Staff) ConsularContactsChanged(ctx context.Context, old, now parse.Contacts) {
	dash := func(v string) string {
		if v == "" {
			return "—"
		}
		return v
	}
	s.alertAdmins(ctx, i18n.ConsularContactsChanged, "old_phone", dash(old.Phone), "new_phone", dash(now.Phone),
		"old_email", dash(old.Email), "new_email", dash(now.Email))
}
