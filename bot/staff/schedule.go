package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
)

// Scheduling: "Send at…" on a draft turns it into a broadcast record kept
// in the store's schedule until its time (in Params.Location, London by
// default); every replica looks for due ones every ScheduleEvery, and the
// store's claim moves each into the audit log once, after which it is
// sent and followed like any other. /broadcasts lists the scheduled ones
// with a Cancel button each.

// ScheduleStore is what scheduling needs of the store; *store.Redis and
// *store.Bolt implement it.
type ScheduleStore interface {
	// ScheduleBroadcast keeps a broadcast record to add to the audit log
	// once at is due (a record of the same id is replaced).
	ScheduleBroadcast(ctx context.Context, id string, at time.Time, body []byte) error
	// ScheduledBroadcasts returns the scheduled records, earliest first.
	ScheduledBroadcasts(ctx context.Context) ([][]byte, error)
	// CancelScheduled drops one, reporting whether it was still scheduled.
	CancelScheduled(ctx context.Context, id string) (bool, error)
	// ClaimDueBroadcast moves one broadcast due at now into the audit log,
	// marked active, and returns its record: once, whatever the replicas.
	ClaimDueBroadcast(ctx context.Context, now time.Time) ([]byte, bool, error)
}

// Defaults of scheduling.
const (
	DefaultScheduleEvery = 5 * time.Second
	// maxScheduleAhead is how far ahead a broadcast may be scheduled.
	maxScheduleAhead = 30 * 24 * time.Hour
)

// quickTimes are the times of day the picker offers, today and tomorrow.
var quickTimes = []int{9, 12, 18}

// awaitWhen is the awaiting record "when:<draft>" for a typed time.
const awaitWhen = "when"

// scheduleView is the picker: today's quick times yet to come, tomorrow's,
// a typed time, and back.
func (s *Staff) scheduleView(_ context.Context, lang string, d draft) (string, bot.Keyboard, error) {
	now := s.p.Now().In(s.p.Location)
	text := s.cat.T(lang, i18n.ScheduleAsk, "now", s.clock(now))
	var today, tomorrow []bot.Button
	for _, h := range quickTimes {
		at := time.Date(now.Year(), now.Month(), now.Day(), h, 0, 0, 0, s.p.Location)
		label := at.Format("15:04")
		if at.After(now.Add(time.Minute)) {
			today = append(today, bot.Button{Text: s.cat.Text(lang, i18n.ButtonToday, "time", label), Data: data(actWhen, d.ID, unix36(at))})
		}
		next := time.Date(now.Year(), now.Month(), now.Day()+1, h, 0, 0, 0, s.p.Location)
		tomorrow = append(tomorrow, bot.Button{Text: s.cat.Text(lang, i18n.ButtonTomorrow, "time", label), Data: data(actWhen, d.ID, unix36(next))})
	}
	var kb bot.Keyboard
	if len(today) > 0 {
		kb = append(kb, today)
	}
	kb = append(kb, tomorrow,
		[]bot.Button{{Text: s.cat.Text(lang, i18n.ButtonTypeTime), Data: data(actTypeTime, d.ID)}},
		[]bot.Button{{Text: s.cat.Text(lang, i18n.ButtonBack), Data: data(actBack, d.ID)}})
	return text, kb, nil
}

func unix36(t time.Time) string { return strconv.FormatInt(t.Unix(), 36) }

// errWhen: a time that cannot be read, or has passed.
var errWhen = errors.New("staff: no such time to come")

// parseWhen reads a typed time in loc: "9:30" (the next 9:30) or
// "2026-12-24 09:30".
func parseWhen(text string, now time.Time, loc *time.Location) (time.Time, error) {
	text = strings.Join(strings.Fields(text), " ")
	now = now.In(loc)
	if t, err := time.ParseInLocation("2006-01-02 15:04", text, loc); err == nil {
		if !t.After(now) {
			return time.Time{}, errWhen
		}
		return t, nil
	}
	t, err := time.ParseInLocation("15:04", text, loc)
	if err != nil {
		if t, err = time.ParseInLocation("15.04", text, loc); err != nil {
			return time.Time{}, errWhen
		}
	}
	at := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, loc)
	if !at.After(now) {
		at = time.Date(now.Year(), now.Month(), now.Day()+1, t.Hour(), t.Minute(), 0, 0, loc)
	}
	return at, nil
}

// askTime waits for a typed time.
func (s *Staff) askTime(ctx context.Context, r *bot.Request, d draft) error {
	if err := s.p.Store.SetAwaiting(ctx, r.UserID, []byte(awaitWhen+":"+d.ID), s.p.AwaitTTL); err != nil {
		return err
	}
	if err := r.ReplyKeyboard(ctx, r.T(i18n.ScheduleType, "now", s.clock(s.p.Now())),
		bot.Keyboard{{{Text: r.Text(i18n.ButtonCancel), Data: data(actCloseAsk, "-")}}}); err != nil {
		return err
	}
	return r.Answer(ctx, "")
}

// onTypedTime schedules a draft at the time an admin typed.
func (s *Staff) onTypedTime(ctx context.Context, r *bot.Request, draftID string) (bool, error) {
	d, ok, err := s.loadDraft(ctx, draftID)
	if err != nil || !ok || d.AdminID != r.UserID {
		return ok, err
	}
	now := s.p.Now()
	at, err := parseWhen(r.Message.Text, now, s.p.Location)
	if err != nil {
		// Asked again: the next message may be the time.
		if err := s.p.Store.SetAwaiting(ctx, r.UserID, []byte(awaitWhen+":"+d.ID), s.p.AwaitTTL); err != nil {
			return true, err
		}
		return true, r.Reply(ctx, r.T(i18n.ScheduleBadTime, "now", s.clock(now)))
	}
	if at.Sub(now) > maxScheduleAhead {
		return true, r.Reply(ctx, r.T(i18n.ScheduleTooFar, "days", strconv.Itoa(int(maxScheduleAhead/(24*time.Hour)))))
	}
	text, kb, err := s.schedule(ctx, r, d, at)
	if err != nil {
		return true, err
	}
	if text == "" {
		// The audience emptied since the draft was made: say so, as the
		// quick choices do, rather than leave the time unanswered.
		return true, r.Reply(ctx, r.T(i18n.AnswerNobody))
	}
	if err := s.b.EditHTML(ctx, r.Chat.ID, d.ControlID, text, kb); err != nil && !stale(err) {
		return true, err
	}
	return true, nil
}

// pickTime schedules a draft at a quick choice's time.
func (s *Staff) pickTime(ctx context.Context, r *bot.Request, d draft, arg string) error {
	sec, err := strconv.ParseInt(arg, 36, 64)
	now := s.p.Now()
	at := time.Unix(sec, 0)
	if err != nil || !at.After(now) || at.Sub(now) > maxScheduleAhead {
		// A choice whose time has passed since the picker was drawn.
		if err := s.redraw(ctx, r, d, s.scheduleView); err != nil {
			return err
		}
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	text, kb, err := s.schedule(ctx, r, d, at)
	if err != nil {
		return err
	}
	if text == "" {
		return r.Answer(ctx, r.Text(i18n.AnswerNobody))
	}
	if err := r.Edit(ctx, text, kb); err != nil && !stale(err) {
		return err
	}
	return r.Answer(ctx, r.Text(i18n.AnswerScheduled, "time", s.stamp(at)))
}

// schedule stores a draft's broadcast for at and returns the control
// message to show: its schedule and a Cancel button. An empty audience
// schedules nothing and returns "".
func (s *Staff) schedule(ctx context.Context, r *bot.Request, d draft, at time.Time) (string, bot.Keyboard, error) {
	size, err := s.audienceSize(ctx, d.Audience)
	if err != nil || size == 0 {
		return "", nil, err
	}
	b := Broadcast{
		ID: announcementPfx + d.ID, AdminID: r.UserID, AdminName: r.FirstName, ChatID: r.Chat.ID, StatusID: d.ControlID,
		Lang: r.Lang, Versions: versionsOf(d.Versions, d.HTML), Audience: d.Audience, AudienceSize: size,
		CreatedAt: at, ScheduledAt: at, State: StateSending,
	}
	body, err := json.Marshal(b)
	if err != nil {
		return "", nil, fmt.Errorf("staff: encode broadcast: %w", err)
	}
	if err := s.p.Store.ScheduleBroadcast(ctx, b.ID, at, body); err != nil {
		return "", nil, err
	}
	if _, err := s.p.Store.DeleteDraft(ctx, d.ID); err != nil {
		s.log.Warn("cannot delete a scheduled draft; it expires", slog.String("draft", d.ID), slog.Any("error", err))
	}
	s.log.Info("broadcast scheduled", slog.Int64("user_id", r.UserID), slog.String("broadcast", b.ID), slog.Time("at", at))
	text := s.cat.T(r.Lang, i18n.ScheduleDone, "time", s.stamp(at), "who", r.FirstName,
		"audience", s.audienceName(r.Lang, d.Audience), "count", formatInt(r.Lang, int64(size)))
	return text, bot.Keyboard{{s.unscheduleButton(r.Lang, b)}}, nil
}

func (s *Staff) unscheduleButton(lang string, b Broadcast) bot.Button {
	return bot.Button{Text: s.cat.Text(lang, i18n.ButtonUnschedule, "time", s.stamp(b.ScheduledAt)),
		Data: data(actUnschedule, strings.TrimPrefix(b.ID, announcementPfx))}
}

// unschedule cancels a scheduled broadcast, unless it has gone already.
func (s *Staff) unschedule(ctx context.Context, r *bot.Request, id string) error {
	ok, err := s.p.Store.CancelScheduled(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return r.Answer(ctx, r.Text(i18n.AnswerScheduleGone))
	}
	s.log.Info("scheduled broadcast cancelled", slog.Int64("user_id", r.UserID), slog.String("broadcast", id))
	if err := r.Edit(ctx, r.T(i18n.ScheduleCancelled, "who", r.FirstName), nil); err != nil && !stale(err) {
		return err
	}
	return r.Answer(ctx, r.Text(i18n.AnswerScheduleCancel))
}

// watchSchedule sends the scheduled broadcasts that fall due, until ctx
// ends.
func (s *Staff) watchSchedule(ctx context.Context) {
	failures := 0
	for {
		if err := s.sendDue(ctx); err != nil && ctx.Err() == nil {
			failures++
			if failures == 1 || failures%100 == 0 {
				s.log.Error("cannot send scheduled broadcasts", slog.Any("error", err), slog.Int("failures", failures))
			}
		} else {
			failures = 0
		}
		if !wait.Sleep(ctx, s.p.ScheduleEvery) {
			return
		}
	}
}

// sendDue claims every due broadcast and hands it to the engine. A
// replica that dies between the claim and the engine leaves an active
// record, which the watcher enqueues.
func (s *Staff) sendDue(ctx context.Context) error {
	for {
		now := s.p.Now()
		body, ok, err := s.p.Store.ClaimDueBroadcast(ctx, now)
		if err != nil || !ok {
			return err
		}
		var b Broadcast
		if err := json.Unmarshal(body, &b); err != nil {
			s.log.Error("unreadable scheduled broadcast dropped", slog.Any("error", err))
			continue
		}
		// Sending starts now, however late: the engine's lifetime and the
		// watcher's recovery count from here.
		if _, err := s.updateBroadcast(ctx, b.ID, func(x *Broadcast) error {
			x.CreatedAt = now
			return nil
		}); err != nil {
			return err
		}
		b.CreatedAt = now
		if err := s.enqueue(ctx, b); err != nil {
			s.log.Error("cannot queue a scheduled broadcast; the watcher will retry", slog.String("broadcast", b.ID), slog.Any("error", err))
			continue
		}
		s.log.Info("scheduled broadcast sent", slog.String("broadcast", b.ID), slog.Time("scheduled_at", b.ScheduledAt))
	}
}

// scheduledList is /broadcasts' list of scheduled broadcasts and their
// Cancel buttons; nothing when none is scheduled.
func (s *Staff) scheduledList(ctx context.Context, r *bot.Request) (string, bot.Keyboard, error) {
	bodies, err := s.p.Store.ScheduledBroadcasts(ctx)
	if err != nil || len(bodies) == 0 {
		return "", nil, err
	}
	parts := []string{r.T(i18n.BroadcastsScheduled)}
	var kb bot.Keyboard
	for _, body := range bodies {
		var b Broadcast
		if err := json.Unmarshal(body, &b); err != nil {
			s.log.Warn("unreadable scheduled broadcast", slog.Any("error", err))
			continue
		}
		parts = append(parts, r.T(i18n.BroadcastsSchedItem, "time", s.stamp(b.ScheduledAt), "who", b.AdminName,
			"audience", s.audienceName(r.Lang, b.Audience),
			"text", cut(strings.Join(strings.Fields(firstVersion(versionsOf(b.Versions, b.HTML)).snippet()), " "), snippetRunes)))
		if len(kb) < 20 {
			kb = append(kb, []bot.Button{s.unscheduleButton(r.Lang, b)})
		}
	}
	return fit(parts, "\n\n"), kb, nil
}
