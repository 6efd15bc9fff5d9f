package bot

import (
	"context"
	"log/slog"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Deep links: https://t.me/<bot>?start=<payload> opens the chat and sends
// "/start <payload>". Telegram allows A-Z a-z 0-9 _ - and up to 64
// characters; a payload naming a category id ("consular") subscribes the
// chat straight to it: a new chat to that category alone, a subscribed one
// adds it to those it has. A topic payload (see deepLinkTopic) follows the
// topic: a new chat with no category. Anything else changes nothing and
// says so.
const maxDeepLink = 64

// validDeepLink reports whether s is a payload Telegram can carry.
func validDeepLink(s string) bool {
	if s == "" || len(s) > maxDeepLink {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// deepLink applies /start's payload (r.Args) after the chat was subscribed.
// welcome is the greeting /start would give.
func (b *Bot) deepLink(ctx context.Context, r *Request, sub subscriptions.Subscriber, created bool, welcome i18n.Key) error {
	payload := r.Args
	if words, ok := deepLinkTopic(payload); ok && validDeepLink(payload) {
		if created && !followable(words) {
			// A new chat keeps the categories /start gave it rather
			// than end up with neither a category nor a topic.
			b.log.Info("start link with no topic to follow", slog.Int64("chat_id", r.Chat.ID), slog.Int("length", len(payload)))
			return r.ReplyKeyboard(ctx, r.T(i18n.DeepLinkInvalid)+"\n\n"+r.T(welcome), b.categoryKeyboard(r.Lang, sub))
		}
		if created {
			// Straight to the topic: a new chat gets no category.
			s, err := b.p.Subscriptions.SetCategories(ctx, r.Chat.ID, nil)
			if err != nil {
				return err
			}
			r.setSubscriber(s, true)
		}
		return b.follow(ctx, r, words, i18n.DeepLinkTopic)
	}
	if !validDeepLink(payload) || !b.p.Categorizer.Known(payload) {
		b.log.Info("start link not understood", slog.Int64("chat_id", r.Chat.ID), slog.Int("length", len(payload)))
		return r.ReplyKeyboard(ctx, r.T(i18n.DeepLinkInvalid)+"\n\n"+r.T(welcome), b.categoryKeyboard(r.Lang, sub))
	}
	var err error
	switch {
	case created:
		sub, err = b.p.Subscriptions.SetCategories(ctx, r.Chat.ID, []string{payload})
	case !sub.Wants(payload):
		sub, err = b.p.Subscriptions.Toggle(ctx, r.Chat.ID, payload)
	}
	if err != nil {
		return err
	}
	r.setSubscriber(sub, true)
	text := r.T(i18n.DeepLinkCategory, "category", b.p.Categorizer.Name(payload, r.Lang))
	return r.ReplyKeyboard(ctx, text, b.categoryKeyboard(r.Lang, sub))
}
