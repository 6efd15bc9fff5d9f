package staff

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// restoreCountCap bounds how many removals /restore counts for its help.
const restoreCountCap = 1000

// cmdRestore undoes removals of chats Telegram said were gone: one chat,
// every chat removed in a recent span ("2h"), or since a moment.
func (s *Staff) cmdRestore(ctx context.Context, r *bot.Request) error {
	if r.Chat.Type != subscriptions.ChatPrivate {
		return r.Reply(ctx, r.T(i18n.StaffPrivateOnly))
	}
	args := strings.TrimSpace(r.Args)
	if args == "" {
		return s.restoreHelp(ctx, r)
	}
	if chat, err := strconv.ParseInt(args, 10, 64); err == nil {
		_, ok, err := s.p.Subscribers.Restore(ctx, chat)
		if err != nil {
			return err
		}
		if !ok {
			return r.Reply(ctx, r.T(i18n.RestoreNothing, "chat", args))
		}
		s.log.Info("removed chat restored by staff", slog.Int64("user_id", r.UserID), slog.Int64("chat_id", chat))
		return r.Reply(ctx, r.T(i18n.RestoreOne, "chat", args))
	}
	since, ok := s.parseSince(args)
	if !ok {
		return r.Reply(ctx, r.T(i18n.RestoreBadArgs, "args", cut(args, 40)))
	}
	n, err := s.p.Subscribers.RestoreSince(ctx, since)
	if err != nil {
		return err
	}
	s.log.Info("removed chats restored by staff", slog.Int64("user_id", r.UserID), slog.Time("since", since), slog.Int("restored", n))
	return r.Reply(ctx, r.T(i18n.RestoreDone, "count", int64(n), "since", s.stamp(since)))
}

func (s *Staff) restoreHelp(ctx context.Context, r *bot.Request) error {
	now := s.p.Now()
	count := func(since time.Time) (string, error) {
		ts, err := s.p.Subscribers.Removed(ctx, since, restoreCountCap)
		if err != nil {
			return "", err
		}
		n := formatInt(r.Lang, int64(len(ts)))
		if len(ts) == restoreCountCap {
			n += "+"
		}
		return n, nil
	}
	day, err := count(now.Add(-24 * time.Hour))
	if err != nil {
		return err
	}
	month, err := count(now.Add(-subscriptions.TombstoneTTL))
	if err != nil {
		return err
	}
	return r.Reply(ctx, r.T(i18n.RestoreHelp, "day", day, "month", month))
}

// parseSince reads "2h", "30m", "3d" (back from now) or "since DD.MM.YYYY
// HH:MM" (in the staff's time zone).
func (s *Staff) parseSince(args string) (time.Time, bool) {
	if rest, ok := strings.CutPrefix(strings.ToLower(args), "since "); ok {
		t, err := time.ParseInLocation("02.01.2006 15:04", strings.TrimSpace(rest), s.p.Location)
		return t, err == nil
	}
	if len(args) < 2 {
		return time.Time{}, false
	}
	n, err := strconv.Atoi(args[:len(args)-1])
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[args[len(args)-1]]
	if unit == 0 || time.Duration(n) > subscriptions.TombstoneTTL/unit+1 {
		return time.Time{}, false
	}
	return s.p.Now().Add(-time.Duration(n) * unit), true
}
