package staff

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// DeadLetterStore is what /deadletters needs of the store. *store.Redis and
// *store.Bolt implement it.
type DeadLetterStore interface {
	DeadLetterSummary(ctx context.Context) (delivery.DeadLetterSummary, error)
	// RetryDeadLetters queues the dead letters numbered up to mark again,
	// each exactly once however often or wherever it is called, and
	// returns how many this call queued.
	RetryDeadLetters(ctx context.Context, mark int64) (int, error)
	// DiscardDeadLetters drops the dead letters numbered up to mark and
	// returns how many this call dropped.
	DiscardDeadLetters(ctx context.Context, mark int64) (int, error)
}

// deadPrefix is the callback prefix of /deadletters' buttons. Data is
// "dl:<action>:<mark>": the mark is the newest letter listed, so a button
// acts on what its message showed and on nothing dead-lettered since.
const deadPrefix = "dl"

const (
	deadRetry   = "r"
	deadDiscard = "d"
	// deadReasons is how many reasons the list names; the rest are counted.
	deadReasons = 5
)

// cmdDeadLetters lists the dead letters: how many, why, since when, with
// Retry all and Discard.
func (s *Staff) cmdDeadLetters(ctx context.Context, r *bot.Request) error {
	if r.Chat.Type != subscriptions.ChatPrivate {
		return r.Reply(ctx, r.T(i18n.StaffPrivateOnly))
	}
	sum, err := s.p.Store.DeadLetterSummary(ctx)
	if err != nil {
		return err
	}
	if sum.Count == 0 {
		return r.Reply(ctx, r.T(i18n.DeadLettersNone))
	}
	parts := []string{r.T(i18n.DeadLettersHeader, "count", int64(sum.Count), "oldest", s.when(r.Lang, sum.Oldest))}
	var rest int64
	for i, reason := range sum.Reasons {
		if i >= deadReasons {
			rest += reason.Count
			continue
		}
		parts = append(parts, r.T(i18n.DeadLettersReason, "count", int64(reason.Count), "error", cut(reason.Error, errorRunes)))
	}
	if rest > 0 {
		parts = append(parts, r.T(i18n.DeadLettersMore, "count", int64(rest)))
	}
	parts = append(parts, "\n"+r.T(i18n.DeadLettersHint))
	mark := strconv.FormatInt(sum.Mark, 10)
	kb := bot.Keyboard{{
		{Text: r.Text(i18n.ButtonRetryAll), Data: deadPrefix + ":" + deadRetry + ":" + mark},
		{Text: r.Text(i18n.ButtonDiscard), Data: deadPrefix + ":" + deadDiscard + ":" + mark},
	}}
	return r.ReplyKeyboard(ctx, fit(parts, "\n"), kb)
}

// onDeadButton answers Retry all and Discard. A second press, on this or
// another replica, finds the letters gone and changes nothing.
func (s *Staff) onDeadButton(ctx context.Context, r *bot.Request) error {
	action, arg, _ := strings.Cut(r.Data, ":")
	mark, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || mark <= 0 || (action != deadRetry && action != deadDiscard) {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	var n int
	var done, answer i18n.Key
	if action == deadRetry {
		n, err = s.p.Store.RetryDeadLetters(ctx, mark)
		done, answer = i18n.DeadLettersRetried, i18n.AnswerRetried
	} else {
		n, err = s.p.Store.DiscardDeadLetters(ctx, mark)
		done, answer = i18n.DeadLettersDropped, i18n.AnswerDiscarded
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return r.Answer(ctx, r.Text(i18n.AnswerNothingToDo))
	}
	s.log.Info("dead letters handled by staff", slog.Int64("user_id", r.UserID), slog.String("action", map[string]string{deadRetry: "retry", deadDiscard: "discard"}[action]),
		slog.Int("letters", n), slog.Int64("mark", mark))
	text := r.T(done, "who", r.FirstName, "count", int64(n), "time", s.stamp(s.p.Now()))
	if err := r.Edit(ctx, text, nil); err != nil && !stale(err) {
		return err
	}
	return r.Answer(ctx, r.Text(answer, "count", int64(n)))
}
