package staff

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// Corrections: "Correct" on a sent broadcast takes the admin's next text
// message as the new text (or, for a photo or a file, the new caption) of
// one version, and the replica following the broadcast edits every
// delivered copy of it, a page at a time, within the shared send budget,
// as recall deletes them.

// editWindow is how long Telegram lets a bot edit its messages here.
const editWindow = 48 * time.Hour

// maxCaption is Telegram's limit on a caption.
const maxCaption = 1024

// awaitCorrect is the awaiting record "correct:<draft>:<lang>".
const awaitCorrect = "correct"

// Correction is a correction of one version of a broadcast and its progress.
type Correction struct {
	Lang   string `json:"lang"` // the version's key
	HTML   string `json:"html"` // the new text or caption
	By     Action `json:"by"`
	Cursor string `json:"cursor,omitempty"`
	Edited int64  `json:"edited"`
	TooOld int64  `json:"too_old"`
	Failed int64  `json:"failed"`
	// Seen counts the copies looked at, edited or not (another version's).
	Seen int64     `json:"seen"`
	Done time.Time `json:"done,omitzero"`
}

// correcting reports whether a correction is under way.
func (b Broadcast) correcting() bool { return b.Correction != nil && b.Correction.Done.IsZero() }

// correctable reports whether delivered copies may still be edited.
func correctable(b Broadcast, now time.Time) bool {
	return (b.State == StateDone || b.State == StateStopped) && b.Delivered > 0 && !b.FinishedAt.IsZero() &&
		now.Sub(b.FinishedAt) < editWindow && !b.correcting()
}

// correctButtons are the Correct buttons of a finished broadcast: one per
// version when there are several.
func (s *Staff) correctButtons(b Broadcast, now time.Time) []bot.Button {
	if !correctable(b, now) {
		return nil
	}
	draftID := strings.TrimPrefix(b.ID, announcementPfx)
	vs := versionsOf(b.Versions, b.HTML)
	if len(vs) == 1 {
		for l := range vs {
			return []bot.Button{{Text: s.cat.Text(b.Lang, i18n.ButtonCorrect), Data: data(actCorrect, draftID, l)}}
		}
	}
	var row []bot.Button
	for _, l := range slices.Sorted(maps.Keys(vs)) {
		row = append(row, bot.Button{Text: s.cat.Text(b.Lang, i18n.ButtonCorrectLang, "language", s.versionName(vs, l)),
			Data: data(actCorrect, draftID, l)})
	}
	return row
}

// versionName names a version by its language; the version for all,
// beside others, by the languages without their own.
func (s *Staff) versionName(vs map[string]version, key string) string {
	if key != "" {
		return s.cat.Text(key, i18n.LanguageName)
	}
	var others []string
	for _, l := range i18n.Languages() {
		if _, own := vs[l]; !own {
			others = append(others, s.cat.Text(l, i18n.LanguageName))
		}
	}
	return strings.Join(others, ", ")
}

// askCorrect waits for the corrected text of one version.
func (s *Staff) askCorrect(ctx context.Context, r *bot.Request, id, lang string) error {
	b, ok, err := s.loadBroadcast(ctx, id)
	if err != nil {
		return err
	}
	v, has := versionsOf(b.Versions, b.HTML)[lang]
	if !ok || !has {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	if b.correcting() {
		return r.Answer(ctx, r.Text(i18n.AnswerCorrecting))
	}
	if !correctable(b, s.p.Now()) {
		return r.Answer(ctx, r.Text(i18n.AnswerCorrectOld))
	}
	body := strings.Join([]string{awaitCorrect, strings.TrimPrefix(id, announcementPfx), lang}, ":")
	if err := s.p.Store.SetAwaiting(ctx, r.UserID, []byte(body), s.p.AwaitTTL); err != nil {
		return err
	}
	ask := r.T(i18n.CorrectAsk)
	if v.Copy != nil && v.Copy.Media {
		ask = r.T(i18n.CorrectAskCaption, "max", formatInt(r.Lang, maxCaption))
	}
	if err := r.ReplyKeyboard(ctx, ask, bot.Keyboard{{{Text: r.Text(i18n.ButtonCancel), Data: data(actCloseAsk, "-")}}}); err != nil {
		return err
	}
	return r.Answer(ctx, "")
}

// errCorrecting refuses a second correction while one runs.
var errCorrecting = errors.New("staff: a correction is under way")

// startCorrect records the correction in the admin's message; the watcher
// carries it out.
func (s *Staff) startCorrect(ctx context.Context, r *bot.Request, draftID, lang string) error {
	m := r.Message
	if m.Media != "" || strings.TrimSpace(m.Text) == "" {
		return r.Reply(ctx, r.T(i18n.CorrectNotText))
	}
	html := EntitiesHTML(m.Text, m.Entities)
	if err := render.Validate(html); err != nil {
		if errors.Is(err, render.ErrTooLong) {
			return r.Reply(ctx, r.T(i18n.CorrectTooLong, "length", formatInt(r.Lang, int64(render.Length(html))), "max", formatInt(r.Lang, render.MaxLength)))
		}
		return r.Reply(ctx, r.T(i18n.BroadcastInvalid))
	}
	id := announcementPfx + draftID
	now := s.p.Now()
	found, err := s.updateBroadcast(ctx, id, func(b *Broadcast) error {
		vs := versionsOf(b.Versions, b.HTML)
		v, ok := vs[lang]
		switch {
		case !ok:
			return errFinished
		case b.correcting():
			return errCorrecting
		case !correctable(*b, now):
			return errTooOld
		case v.Copy != nil && v.Copy.Media && render.Length(html) > maxCaption:
			return errCaptionTooLong
		}
		if v.Copy == nil {
			v.HTML = html
		} else {
			v.Text = render.PlainText(html)
		}
		b.Versions = maps.Clone(vs)
		b.Versions[lang] = v
		b.HTML = ""
		b.Correction = &Correction{Lang: lang, HTML: html, By: Action{By: r.UserID, Name: r.FirstName, At: now}}
		return nil
	})
	switch {
	case errors.Is(err, errCaptionTooLong):
		return r.Reply(ctx, r.T(i18n.CorrectTooLong, "length", formatInt(r.Lang, int64(render.Length(html))), "max", formatInt(r.Lang, maxCaption)))
	case errors.Is(err, errCorrecting):
		return r.Reply(ctx, r.T(i18n.AnswerCorrecting))
	case errors.Is(err, errTooOld):
		return r.Reply(ctx, r.T(i18n.AnswerCorrectOld))
	case err != nil && !errors.Is(err, errFinished):
		return err
	case !found || errors.Is(err, errFinished):
		return r.Reply(ctx, r.T(i18n.AnswerDraftGone))
	}
	if err := s.p.Store.SetBroadcastActive(ctx, id, true); err != nil {
		return err
	}
	s.log.Info("broadcast correction asked", slog.Int64("user_id", r.UserID), slog.String("broadcast", id), slog.String("language", lang))
	return r.Reply(ctx, r.T(i18n.CorrectStarted))
}

var errCaptionTooLong = errors.New("staff: caption too long")

// correctPage edits one page of a broadcast's copies and saves where the
// correction stands.
func (s *Staff) correctPage(ctx context.Context, b *Broadcast, now time.Time) error {
	c := *b.Correction
	vs := versionsOf(b.Versions, b.HTML)
	v := vs[c.Lang]
	var (
		edited, old, failed, seen int64
		next                      string
	)
	if now.Sub(b.FinishedAt) >= editWindow {
		old = max(0, b.Delivered-c.Seen)
	} else {
		t, cursor, err := s.copyPage(ctx, b.ID, c.Cursor, func(cp delivery.SentCopy) (copyOutcome, bool, error) {
			if len(vs) > 1 {
				mine, err := s.getsVersion(ctx, vs, cp.ChatID, c.Lang)
				if err != nil || !mine {
					return 0, false, err
				}
			}
			outcome, err := s.editCopy(ctx, cp, v, c.HTML)
			return outcome, true, err
		})
		if err != nil {
			return err
		}
		edited, old, failed, seen = t.done, t.old, t.failed, t.seen
		next = cursor
	}
	from := c.Cursor
	_, err := s.updateBroadcast(ctx, b.ID, func(x *Broadcast) error {
		if x.Correction == nil || x.Correction.Cursor != from || !x.Correction.Done.IsZero() {
			return errMoved
		}
		xc := x.Correction
		xc.Edited += edited
		xc.TooOld += old
		xc.Failed += failed
		xc.Seen += seen
		xc.Cursor = next
		if next == "" {
			xc.Done = now
		}
		*b = *x
		return nil
	})
	return err
}

// getsVersion reports whether the subscriber in chatID got version key:
// the one of their language, else the one for all, as the engine chooses.
func (s *Staff) getsVersion(ctx context.Context, vs map[string]version, chatID int64, key string) (bool, error) {
	sub, ok, err := s.p.Subscribers.Get(ctx, chatID)
	if err != nil {
		return false, err
	}
	lang := ""
	if ok {
		lang = sub.Language
	}
	if _, own := vs[lang]; own {
		return key == lang, nil
	}
	if _, all := vs[""]; all {
		return key == "", nil
	}
	return key == slices.Sorted(maps.Keys(vs))[0], nil
}

// editCopy replaces the text, or the caption, of one delivered copy.
func (s *Staff) editCopy(ctx context.Context, c delivery.SentCopy, v version, html string) (copyOutcome, error) {
	method := "editMessageText"
	params := tgbotapi.Params{"chat_id": strconv.FormatInt(c.ChatID, 10), "message_id": strconv.Itoa(c.IDs()[0]), "parse_mode": "HTML"}
	if v.Copy != nil && v.Copy.Media {
		method, params["caption"] = "editMessageCaption", html
	} else {
		params["text"] = html
		if v.Copy == nil {
			params["link_preview_options"] = `{"is_disabled":true}`
		}
	}
	return s.callCopy(ctx, c.ChatID, method, params, func(desc string) (copyOutcome, bool) {
		switch {
		case strings.Contains(desc, "message is not modified"):
			return copyDeleted, true // corrected already, before a restart
		case strings.Contains(desc, "message can't be edited"):
			return copyTooOld, true
		}
		return copyFailed, false
	})
}

// callCopy makes one call on a delivered copy (a deletion, an edit) in the
// shared send budget, waiting out 429s (and pausing every replica's sending
// for them); known permanent answers are told apart by meaning.
func (s *Staff) callCopy(ctx context.Context, chatID int64, method string, params tgbotapi.Params, meaning func(desc string) (copyOutcome, bool)) (copyOutcome, error) {
	for attempt := 1; ; attempt++ {
		if err := s.take(ctx, chatID); err != nil {
			return copyFailed, err
		}
		_, err := s.p.Telegram.Call(ctx, method, params)
		switch tg.Classify(err) {
		case tg.KindNone:
			return copyDeleted, nil
		case tg.KindRetryAfter:
			wait, _ := tg.RetryAfter(err)
			wait = max(wait, time.Second)
			if s.p.Counters != nil {
				s.p.Counters.Paused(wait)
			}
			if strings.HasPrefix(method, "edit") {
				s.log.Warn("flood limit while correcting: all replicas pause sending", slog.Duration("retry_after", wait))
			} else {
				s.log.Warn("flood limit while recalling: all replicas pause sending", slog.Duration("retry_after", wait))
			}
			if err := s.p.Store.PauseSends(ctx, wait); err != nil {
				return copyFailed, err
			}
			continue
		case tg.KindTransient:
			if ctx.Err() != nil {
				return copyFailed, ctx.Err()
			}
			if attempt < 3 {
				wait.Sleep(ctx, time.Duration(attempt)*500*time.Millisecond)
				continue
			}
		case tg.KindPermanent, tg.KindNotModified:
			var e *tg.Error
			if errors.As(err, &e) {
				if o, ok := meaning(strings.ToLower(e.Description)); ok {
					return o, nil
				}
			}
		}
		s.log.Info("a call on a broadcast copy failed", slog.String("method", method), slog.Int64("chat_id", chatID), slog.Any("error", err))
		return copyFailed, nil
	}
}

// take waits for a turn in the send budget: the bot's, shared with
// replies and fan-outs and keeping each chat's gap, when Params.Budget is
// set; else the shared rate alone.
func (s *Staff) take(ctx context.Context, chatID int64) error {
	if s.p.Budget != nil {
		return s.p.Budget.Take(ctx, chatID, false)
	}
	return s.pace.take(ctx)
}

// correctionView is the correction's line in the status message: its
// progress, then its report.
func (s *Staff) correctionView(lang string, b Broadcast) string {
	c := b.Correction
	if c.Done.IsZero() {
		return s.cat.T(lang, i18n.CorrectProgress, "done", formatInt(lang, c.Seen), "total", formatInt(lang, b.Delivered),
			"percent", strconv.FormatInt(percent(c.Seen, b.Delivered), 10), "bar", bar(c.Seen, b.Delivered))
	}
	return s.cat.T(lang, i18n.CorrectReport, "who", c.By.Name, "time", s.clock(c.Done),
		"edited", formatInt(lang, c.Edited), "old", formatInt(lang, c.TooOld), "failed", formatInt(lang, c.Failed))
}
