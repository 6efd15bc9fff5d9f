package staff

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
)

// recallPage is how many copies recall deletes between two saves of its
// cursor.
const recallPage = 50

// leaseName names the lease on following one broadcast.
func leaseName(id string) string { return "staff:" + id }

// pollEvery is how often a followed broadcast is looked at: often enough
// that edits come every ProgressEvery, and a final report promptly.
func (s *Staff) pollEvery() time.Duration {
	return min(max(s.p.ProgressEvery/3, 20*time.Millisecond), time.Second)
}

// watchBroadcasts follows every active broadcast whose lease this replica
// takes, one goroutine each, until ctx ends.
func (s *Staff) watchBroadcasts(ctx context.Context) {
	var (
		mu   sync.Mutex
		mine = map[string]bool{}
		wg   sync.WaitGroup
	)
	defer wg.Wait()
	failures := 0
	for {
		ids, err := s.p.Store.ActiveBroadcasts(ctx)
		if err != nil && ctx.Err() == nil {
			failures++
			if failures == 1 || failures%100 == 0 {
				s.log.Error("cannot list active broadcasts", slog.Any("error", err), slog.Int("failures", failures))
			}
		} else {
			failures = 0
		}
		for _, id := range ids {
			mu.Lock()
			taken := mine[id]
			mu.Unlock()
			if taken {
				continue
			}
			ok, err := s.p.Store.AcquireLease(ctx, leaseName(id), s.p.ReplicaID, s.p.WatchLease)
			if err != nil || !ok {
				continue
			}
			mu.Lock()
			mine[id] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(mine, id)
					mu.Unlock()
				}()
				s.follow(ctx, id)
			})
		}
		if !wait.Sleep(ctx, s.pollEvery()) {
			return
		}
	}
}

// follow edits one broadcast's status and carries out its recall while
// this replica holds its lease, until it needs no more following.
func (s *Staff) follow(ctx context.Context, id string) {
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.p.Store.ReleaseLease(rctx, leaseName(id), s.p.ReplicaID); err != nil {
			s.log.Warn("cannot release a broadcast's lease; it expires", slog.String("broadcast", id), slog.Any("error", err))
		}
	}()
	var sample rateSample
	failures := 0
	for {
		finished, err := s.step(ctx, id, &sample)
		if err != nil && ctx.Err() == nil {
			failures++
			if failures == 1 || failures%20 == 0 {
				s.log.Warn("following a broadcast failed; retrying", slog.String("broadcast", id), slog.Any("error", err), slog.Int("failures", failures))
			}
		} else {
			failures = 0
		}
		if finished || !wait.Sleep(ctx, s.pollEvery()) {
			return
		}
		ok, err := s.p.Store.AcquireLease(ctx, leaseName(id), s.p.ReplicaID, s.p.WatchLease)
		if err == nil && !ok {
			s.log.Info("another replica follows the broadcast now", slog.String("broadcast", id))
			return
		}
	}
}

// final reports whether an announcement has nothing left to send.
func final(st delivery.Stats) bool {
	return st.State == delivery.StateDone || st.State == delivery.StateCancelled && st.Pending == 0
}

// step looks at a broadcast once: shows its progress, records its end,
// deletes a page of copies when recalling. It reports true when the
// broadcast needs no more following.
func (s *Staff) step(ctx context.Context, id string, sample *rateSample) (bool, error) {
	b, ok, err := s.loadBroadcast(ctx, id)
	if err != nil {
		return false, err
	}
	if !ok {
		return s.unfollow(ctx, id)
	}
	now := s.p.Now()
	if b.correcting() && (b.State == StateDone || b.State == StateStopped) {
		if err := s.correctPage(ctx, &b, now); err != nil {
			return false, err
		}
		if err := s.show(ctx, &b, delivery.Stats{}, now, sample, !b.correcting()); err != nil {
			return false, err
		}
		if b.correcting() {
			return false, nil
		}
		c := b.Correction
		s.log.Info("broadcast corrected", slog.String("broadcast", id), slog.Int64("edited", c.Edited), slog.Int64("too_old", c.TooOld), slog.Int64("failed", c.Failed))
		return s.unfollow(ctx, id)
	}
	if b.State == StateDone || b.State == StateStopped || b.State == StateRecalled {
		// Finished, perhaps by a replica that died before showing it: the
		// final report is shown (once: show skips what is shown already).
		if err := s.show(ctx, &b, delivery.Stats{}, now, sample, true); err != nil {
			return false, err
		}
		s.showRecallResult(ctx, b)
		return s.unfollow(ctx, id)
	}
	st, err := s.p.Engine.Stats(ctx, id)
	switch {
	case errors.Is(err, delivery.ErrNotFound) && b.FinishedAt.IsZero() && now.Sub(b.CreatedAt) < time.Hour:
		// Recorded, but the replica that recorded it died before it
		// reached the engine.
		return false, s.enqueue(ctx, b)
	case errors.Is(err, delivery.ErrNotFound):
		st = delivery.Stats{State: delivery.StateDone} // expired: the record's counts stand
	case err != nil:
		return false, err
	}
	sample.observe(now, done(st))

	if !final(st) {
		return false, s.show(ctx, &b, st, now, sample, false)
	}
	if b.FinishedAt.IsZero() {
		if b, err = s.recordEnd(ctx, id, st, now); err != nil {
			return false, err
		}
	}
	if b.State != StateRecalling {
		if err := s.show(ctx, &b, st, now, sample, true); err != nil {
			return false, err
		}
		s.log.Info("broadcast finished", slog.String("broadcast", id), slog.String("state", string(b.State)), slog.Int64("delivered", b.Delivered),
			slog.Int64("removed", b.Removed), slog.Int64("failed", b.Failed), slog.Int64("cancelled", b.Cancelled))
		return s.unfollow(ctx, id)
	}
	if err := s.recallPage(ctx, &b, now); err != nil {
		return false, err
	}
	if err := s.show(ctx, &b, st, now, sample, b.State == StateRecalled); err != nil {
		return false, err
	}
	if b.State != StateRecalled {
		return false, nil
	}
	s.log.Info("broadcast recalled", slog.String("broadcast", id), slog.Int64("deleted", b.Deleted), slog.Int64("too_old", b.TooOld), slog.Int64("failed", b.RecallFailed))
	s.showRecallResult(ctx, b)
	return s.unfollow(ctx, id)
}

// showRecallResult replaces the "Recalling…" of the confirmation message
// with the recall's report. An edit that changes nothing is no error, so a
// replica that repeats it after a crash does no harm; a failure only
// leaves "Recalling…", the status message has the report too.
func (s *Staff) showRecallResult(ctx context.Context, b Broadcast) {
	if b.State != StateRecalled || b.RecallMsg == 0 {
		return
	}
	text := s.cat.T(b.Lang, i18n.RecallReport, "who", b.Recall.Name, "time", s.clock(b.RecalledAt),
		"deleted", b.Deleted, "old", b.TooOld, "failed", b.RecallFailed)
	if err := s.b.EditHTML(ctx, b.RecallChat, b.RecallMsg, text, nil); err != nil && !stale(err) {
		s.log.Info("cannot show the recall's result", slog.String("broadcast", b.ID), slog.Any("error", err))
	}
}

// unfollow takes a finished broadcast off the active list, unless a
// recall was asked meanwhile: the recall handler changes the state before
// it marks the broadcast active, so reading the state after the removal
// sees any recall the removal could have undone.
func (s *Staff) unfollow(ctx context.Context, id string) (bool, error) {
	if err := s.p.Store.SetBroadcastActive(ctx, id, false); err != nil {
		return false, err
	}
	b, ok, err := s.loadBroadcast(ctx, id)
	if err != nil || !ok || b.State != StateRecalling && !b.correcting() {
		return err == nil, err
	}
	return false, s.p.Store.SetBroadcastActive(ctx, id, true)
}

func done(st delivery.Stats) int64 { return st.Delivered + st.Removed + st.Failed + st.Cancelled }

// recordEnd stores a broadcast's final counts, once.
func (s *Staff) recordEnd(ctx context.Context, id string, st delivery.Stats, now time.Time) (Broadcast, error) {
	var out Broadcast
	_, err := s.updateBroadcast(ctx, id, func(b *Broadcast) error {
		if b.FinishedAt.IsZero() {
			b.Delivered, b.Removed, b.Failed, b.Cancelled = st.Delivered, st.Removed, st.Failed, st.Cancelled
			b.FinishedAt = now
			if b.State == StateSending {
				b.State = StateDone
				if b.Stop != nil || st.State == delivery.StateCancelled {
					b.State = StateStopped
				}
			}
		}
		out = *b
		return nil
	})
	return out, err
}

// errMoved aborts a recall page that another replica saved first.
var errMoved = errors.New("staff: recall moved on elsewhere")

// recallPage deletes one page of a broadcast's copies and saves where the
// recall stands.
func (s *Staff) recallPage(ctx context.Context, b *Broadcast, now time.Time) error {
	var (
		deleted, old, failed int64
		next                 string
	)
	if now.Sub(b.FinishedAt) >= deleteWindow {
		// Every copy is past Telegram's window: none is tried.
		old = max(0, b.Delivered-b.Deleted-b.TooOld-b.RecallFailed)
	} else {
		t, cursor, err := s.copyPage(ctx, b.ID, b.RecallCursor, func(c delivery.SentCopy) (copyOutcome, bool, error) {
			outcome, err := s.deleteCopy(ctx, c)
			return outcome, true, err
		})
		if err != nil {
			return err
		}
		deleted, old, failed = t.done, t.old, t.failed
		next = cursor
	}
	from := b.RecallCursor
	_, err := s.updateBroadcast(ctx, b.ID, func(x *Broadcast) error {
		if x.RecallCursor != from || x.State != StateRecalling {
			return errMoved
		}
		x.Deleted += deleted
		x.TooOld += old
		x.RecallFailed += failed
		x.RecallCursor = next
		if next == "" {
			x.State, x.RecalledAt = StateRecalled, now
		}
		*b = *x
		return nil
	})
	return err
}

// pageTally counts what became of one page of a broadcast's copies.
type pageTally struct {
	seen              int64 // copies on the page, counted or not
	done, old, failed int64
}

// copyPage applies do to one page of broadcast id's delivered copies from
// cursor, as recall and correction walk them, and tallies the outcomes;
// do returning false leaves a copy out of the tally (it is only seen). An
// error stops the page: whoever follows next does it again. next is ""
// after the last page.
func (s *Staff) copyPage(ctx context.Context, id, cursor string, do func(delivery.SentCopy) (copyOutcome, bool, error)) (t pageTally, next string, err error) {
	copies, next, err := s.p.Store.SentCopies(ctx, id, cursor, recallPage)
	if err != nil {
		return pageTally{}, "", err
	}
	for _, c := range copies {
		t.seen++
		outcome, counted, err := do(c)
		if err != nil {
			return pageTally{}, "", err
		}
		if !counted {
			continue
		}
		switch outcome {
		case copyDeleted:
			t.done++
		case copyTooOld:
			t.old++
		default:
			t.failed++
		}
	}
	return t, next, nil
}

type copyOutcome int

const (
	copyDeleted copyOutcome = iota
	copyTooOld
	copyFailed
)

// deleteCopy deletes one delivered copy, within the shared rate, waiting
// out 429s (and pausing every replica's sending for them).
func (s *Staff) deleteCopy(ctx context.Context, c delivery.SentCopy) (copyOutcome, error) {
	// An album's copy is its parts, deleted at once.
	method, params := "deleteMessage", tgbotapi.Params{"chat_id": strconv.FormatInt(c.ChatID, 10), "message_id": strconv.Itoa(c.MessageID)}
	if ids := c.IDs(); len(ids) > 1 {
		body, _ := json.Marshal(ids)
		method, params = "deleteMessages", tgbotapi.Params{"chat_id": strconv.FormatInt(c.ChatID, 10), "message_ids": string(body)}
	}
	return s.callCopy(ctx, c.ChatID, method, params, func(desc string) (copyOutcome, bool) {
		switch {
		case strings.Contains(desc, "message to delete not found"):
			return copyDeleted, true // gone already: the subscriber deleted it, or we did before a restart
		case strings.Contains(desc, "can't be deleted"):
			return copyTooOld, true
		}
		return copyFailed, false
	})
}

// show edits a broadcast's status message when what it would show has
// changed, at most every ProgressEvery unless force. The text shown is
// saved with the record, so that no replica shows it twice.
func (s *Staff) show(ctx context.Context, b *Broadcast, st delivery.Stats, now time.Time, sample *rateSample, force bool) error {
	text, kb := s.statusView(*b, st, now, sample)
	key := viewKey(text, kb)
	if key == b.Status || !force && now.Sub(b.StatusAt) < s.p.ProgressEvery {
		return nil
	}
	statusID := b.StatusID // the bot's send budget paces the edit
	err := s.b.EditHTML(ctx, b.ChatID, b.StatusID, text, kb)
	if stale(err) {
		// The admin deleted the status message: post a new one.
		statusID, err = s.b.SendHTML(ctx, b.ChatID, text, kb)
	}
	if err != nil {
		return err
	}
	b.Status, b.StatusAt, b.StatusID = key, now, statusID
	_, err = s.updateBroadcast(ctx, b.ID, func(x *Broadcast) error {
		x.Status, x.StatusAt, x.StatusID = key, now, statusID
		return nil
	})
	return err
}

// viewKey identifies what a status message shows, buttons included.
func viewKey(text string, kb bot.Keyboard) string {
	var sb strings.Builder
	sb.WriteString(text)
	for _, row := range kb {
		for _, bt := range row {
			sb.WriteString("\x00" + bt.Data)
		}
	}
	return sb.String()
}

// statusView is a broadcast's status message: progress while sending,
// then the report, then the recall's progress and report.
func (s *Staff) statusView(b Broadcast, st delivery.Stats, now time.Time, sample *rateSample) (string, bot.Keyboard) {
	lang := b.Lang
	audience := s.audienceName(lang, b.Audience)
	draftID := strings.TrimPrefix(b.ID, announcementPfx)
	var kb bot.Keyboard
	var text string
	if b.FinishedAt.IsZero() {
		total := st.Targeted
		if st.State == delivery.StateFanningOut {
			total = max(total, int64(b.AudienceSize))
		}
		n := done(st)
		text = s.cat.T(lang, i18n.StatusHeader, "audience", audience) + "\n" +
			s.cat.T(lang, i18n.StatusSending, "done", int64(n), "total", int64(total),
				"percent", strconv.FormatInt(percent(n, total), 10), "bar", bar(n, total),
				"eta", s.eta(lang, total-n, now, sample))
		if b.State == StateSending {
			var row []bot.Button
			if b.Stop == nil {
				row = append(row, bot.Button{Text: s.cat.Text(lang, i18n.ButtonStop), Data: data(actStop, draftID)})
			}
			row = append(row, bot.Button{Text: s.cat.Text(lang, i18n.ButtonRecall), Data: data(actRecall, draftID)})
			kb = bot.Keyboard{row}
		}
	} else {
		text = s.report(b)
	}
	switch {
	case b.State == StateRecalling && b.FinishedAt.IsZero():
		text += "\n\n" + s.cat.T(lang, i18n.RecallWaiting, "who", b.Recall.Name)
	case b.State == StateRecalling:
		n := b.Deleted + b.TooOld + b.RecallFailed
		text += "\n\n" + s.cat.T(lang, i18n.RecallProgress, "done", int64(n), "total", int64(b.Delivered),
			"percent", strconv.FormatInt(percent(n, b.Delivered), 10), "bar", bar(n, b.Delivered))
	case b.State == StateRecalled:
		text += "\n\n" + s.cat.T(lang, i18n.RecallReport, "who", b.Recall.Name, "time", s.clock(b.RecalledAt),
			"deleted", int64(b.Deleted), "old", int64(b.TooOld), "failed", int64(b.RecallFailed))
	case (b.State == StateDone || b.State == StateStopped) && b.Delivered > 0 && recallable(b, now):
		kb = bot.Keyboard{{{Text: s.cat.Text(lang, i18n.ButtonRecall), Data: data(actRecall, draftID)}}}
		if row := s.correctButtons(b, now); len(row) > 0 {
			kb = append(kb, row)
		}
	}
	if c := b.Correction; c != nil && b.State != StateRecalling && b.State != StateRecalled {
		text += "\n\n" + s.correctionView(lang, b)
	}
	return text, kb
}

// report is the final report of a broadcast's sending.
func (s *Staff) report(b Broadcast) string {
	lang := b.Lang
	audience := s.audienceName(lang, b.Audience)
	head := s.cat.T(lang, i18n.ReportDone, "audience", audience)
	if b.Stop != nil {
		head = s.cat.T(lang, i18n.ReportStopped, "audience", audience, "who", b.Stop.Name, "time", s.clock(b.Stop.At))
	}
	return head + "\n" + s.cat.T(lang, i18n.ReportCounts, "delivered", int64(b.Delivered),
		"removed", int64(b.Removed), "failed", int64(b.Failed), "cancelled", int64(b.Cancelled))
}

// eta says how long the rest takes at the rate seen so far, or at Rate
// before anything was seen.
func (s *Staff) eta(lang string, remaining int64, now time.Time, sample *rateSample) string {
	rate := s.p.Rate
	if r, ok := sample.rate(now); ok {
		rate = r
	}
	if remaining <= 0 || rate <= 0 {
		return s.cat.Text(lang, i18n.EtaUnderMinute)
	}
	secs := float64(remaining) / rate
	if secs < 60 {
		return s.cat.Text(lang, i18n.EtaUnderMinute)
	}
	return s.cat.Text(lang, i18n.EtaMinutes, "minutes", int(math.Ceil(secs/60)))
}

// rateSample remembers the first progress seen, for the rate since.
type rateSample struct {
	at   time.Time
	done int64
	last int64
}

func (r *rateSample) observe(now time.Time, done int64) {
	if r.at.IsZero() {
		r.at, r.done = now, done
	}
	r.last = done
}

// rate is messages a second since the first sample, once there is
// progress over at least a second.
func (r *rateSample) rate(now time.Time) (float64, bool) {
	if r == nil || r.at.IsZero() {
		return 0, false
	}
	elapsed := now.Sub(r.at).Seconds()
	if elapsed < 1 || r.last <= r.done {
		return 0, false
	}
	return float64(r.last-r.done) / elapsed, true
}

// clock formats a time of day in the configured zone.
func (s *Staff) clock(t time.Time) string {
	return t.In(s.p.Location).Format("15:04 MST")
}
