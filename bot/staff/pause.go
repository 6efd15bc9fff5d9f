package staff

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// Staff see a pause of all sending when it matters: one message per pause,
// whatever the number of replicas, with a button that lifts it.
const (
	// pauseCallbackPrefix is the Resume button's: "pz:r:<pause id>".
	pauseCallbackPrefix = "pz"
	actResume           = "r"
	// pauseTellAfter: a pause longer than this is told of; a shorter one
	// ends before anyone could act.
	pauseTellAfter = time.Minute
	// pauseWatchEvery is how often the pause is looked at.
	pauseWatchEvery = time.Second
	// pauseRetryTell is the wait after a notice no admin could get (while
	// the token is refused, say) before trying again.
	pauseRetryTell = 30 * time.Second
)

// worthTelling reports whether staff should hear of p at now: a storm or
// a refused token at once (removals stopped; nothing works), any other
// pause once it has lasted, or is set to last, longer than pauseTellAfter.
func worthTelling(p delivery.Pause, now time.Time) bool {
	switch {
	case p.Reason == delivery.PauseGoneStorm, p.Reason == delivery.PauseUnauthorized:
		return true
	case p.Until.Sub(now) > pauseTellAfter:
		return true
	case !p.Since.IsZero() && now.Sub(p.Since) > pauseTellAfter:
		return true
	}
	return false
}

// watchPause tells the admins of each pause worth telling, once: the
// replica whose claim in the store wins sends the message.
func (s *Staff) watchPause(ctx context.Context) {
	var retryAt time.Time
	for {
		now := s.p.Now()
		if now.After(retryAt) {
			if told, err := s.tellPause(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Warn("cannot tell staff of the pause of sending", slog.Any("error", err))
			} else if !told {
				retryAt = now.Add(pauseRetryTell)
			}
		}
		if !wait.Sleep(ctx, pauseWatchEvery) {
			return
		}
	}
}

// tellPause sends the notice of the pause in force if it is worth telling
// and this replica claims it. told is false when the claim was won but no
// admin could be written to: the claim is given back, to try again later.
func (s *Staff) tellPause(ctx context.Context, now time.Time) (told bool, err error) {
	p, ok, err := s.p.Engine.Paused(ctx)
	if err != nil || !ok || !worthTelling(p, now) {
		return true, err
	}
	claimed, err := s.p.Store.ClaimPauseNotice(ctx, p.ID())
	if err != nil || !claimed {
		return true, err
	}
	s.log.Warn("sending paused: telling staff", slog.String("reason", string(p.Reason)), slog.Time("until", p.Until))
	sent := 0
	for _, admin := range s.p.Admins {
		lang := s.adminLanguage(ctx, admin)
		// Not paced: the pause stops the shared budget, and this one
		// message is what staff need to act on it.
		_, err := s.b.SendHTML(bot.Unpaced(ctx), admin, s.pauseNotice(lang, p), resumeKeyboard(s.cat.Text(lang, i18n.ButtonResume), p.ID()))
		switch {
		case err == nil:
			sent++
		case tg.Classify(err) == tg.KindGone:
			s.log.Warn("admin cannot get alerts: has not started the bot, or blocked it", slog.Int64("user_id", admin), slog.Any("error", err))
		default:
			s.log.Error("cannot tell an admin of the pause", slog.Int64("user_id", admin), slog.Any("error", err))
		}
	}
	if sent == 0 && len(s.p.Admins) > 0 {
		return false, s.p.Store.ReleasePauseNotice(ctx, p.ID())
	}
	return true, nil
}

// adminLanguage is an admin's language as a subscriber, else the default.
func (s *Staff) adminLanguage(ctx context.Context, admin int64) string {
	if sub, ok, err := s.p.Subscribers.Get(ctx, admin); err == nil && ok {
		return sub.Language
	}
	return s.cat.DefaultLanguage()
}

func (s *Staff) pauseNotice(lang string, p delivery.Pause) string {
	return s.cat.T(lang, i18n.PauseNotice, "reason", s.pauseReason(lang, p.Reason), "until", s.pauseUntil(lang, p))
}

func (s *Staff) pauseReason(lang string, r delivery.PauseReason) string {
	switch r {
	case delivery.PauseOutage:
		return s.cat.Text(lang, i18n.PauseReasonOutage)
	case delivery.PauseUnauthorized:
		return s.cat.Text(lang, i18n.PauseReasonUnauthorized)
	case delivery.PauseGoneStorm:
		return s.cat.Text(lang, i18n.PauseReasonGoneStorm)
	}
	return s.cat.Text(lang, i18n.PauseReasonFlood)
}

func (s *Staff) pauseUntil(lang string, p delivery.Pause) string {
	if p.Probe {
		return s.cat.Text(lang, i18n.PauseUntilProbe)
	}
	return s.cat.Text(lang, i18n.PauseUntil, "time", s.stamp(p.Until))
}

func resumeKeyboard(label, id string) bot.Keyboard {
	return bot.Keyboard{{{Text: label, Data: pauseCallbackPrefix + ":" + actResume + ":" + id}}}
}

// onPauseButton lifts the pause the pressed message told of, for every
// replica: only that one, so that an old message cannot lift a newer
// pause of another cause. Non-admins never get here (bot.AdminOnly).
func (s *Staff) onPauseButton(ctx context.Context, r *bot.Request) error {
	action, id, ok := strings.Cut(r.Data, ":")
	reason, since, valid := delivery.ParsePauseID(id)
	if !ok || action != actResume || !valid {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	resumed, err := s.p.Engine.Resume(ctx, id)
	if err != nil {
		return err
	}
	if !resumed {
		return r.Answer(ctx, r.Text(i18n.AnswerPauseOver))
	}
	s.log.Info("sending resumed by staff", slog.Int64("user_id", r.UserID), slog.String("reason", string(reason)), slog.Time("since", since))
	text := r.T(i18n.PauseResumed, "who", r.FirstName, "time", s.stamp(s.p.Now()), "reason", s.pauseReason(r.Lang, reason))
	if err := r.Edit(ctx, text, nil); err != nil && !stale(err) {
		return err
	}
	return r.Answer(ctx, r.Text(i18n.AnswerResumed))
}

// statsPause is /stats' line on the pause, or "" when there is none.
func (s *Staff) statsPause(ctx context.Context, r *bot.Request) (string, error) {
	p, ok, err := s.p.Engine.Paused(ctx)
	if err != nil || !ok {
		return "", err
	}
	return r.T(i18n.StatsPaused, "reason", s.pauseReason(r.Lang, p.Reason), "until", s.pauseUntil(r.Lang, p)), nil
}
