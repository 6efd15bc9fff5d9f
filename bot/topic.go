package bot

import (
	"context"
	"log/slog"
	"strings"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// cmdTopic sends the chat's alerts to the forum topic it is written in;
// "/topic off", or /topic outside any topic, sends them to the chat itself.
func (b *Bot) cmdTopic(ctx context.Context, r *Request) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	thread := r.Thread
	if strings.EqualFold(strings.TrimSpace(r.Args), "off") {
		thread = 0
	}
	if thread == 0 && r.Thread == 0 && r.Chat.Type == subscriptions.ChatPrivate {
		return r.Reply(ctx, r.T(i18n.TopicNoForum))
	}
	if err := b.setThread(ctx, r, thread); err != nil {
		return err
	}
	if thread == 0 {
		return r.Reply(ctx, r.T(i18n.TopicNone))
	}
	return r.Reply(ctx, r.T(i18n.TopicSet))
}

// startInTopic is /start's part in a forum topic: an administrator's
// /start there sends the chat's alerts to that topic. A member's changes
// nothing (as /start in a subscribed group does not).
func (b *Bot) startInTopic(ctx context.Context, r *Request, sub subscriptions.Subscriber) (moved bool, err error) {
	if r.Thread == 0 || sub.Prefs.Thread == r.Thread {
		return false, nil
	}
	admin, err := b.groupAdmin(ctx, r)
	if err != nil || !admin {
		return false, err
	}
	return true, b.setThread(ctx, r, r.Thread)
}

func (b *Bot) setThread(ctx context.Context, r *Request, thread int64) error {
	sub, err := b.p.Subscriptions.SetPrefs(ctx, r.Chat.ID, func(p *subscriptions.Prefs) { p.Thread = thread })
	if err != nil {
		return err
	}
	r.setSubscriber(sub, true)
	b.log.Info("alerts moved to a forum topic", slog.Int64("chat_id", r.Chat.ID), slog.Int64("thread", thread))
	return nil
}
