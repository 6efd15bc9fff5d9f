package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

const (
	// groupAnonymousBotID is the sender Telegram names for what an
	// anonymous administrator writes in a group, as the group itself.
	groupAnonymousBotID = 1087968824
	// groupAdminTTL is how long a member's standing in a group is trusted:
	// a burst of keyboard presses costs one getChatMember, and a demoted
	// administrator keeps the settings at most this much longer.
	groupAdminTTL = time.Minute
	// groupAdminCacheSize bounds the cache of standings.
	groupAdminCacheSize = 10000
	// groupAdminTimeout bounds the check, so that a hung call still leaves
	// time to answer a button press before Telegram gives up on it.
	groupAdminTimeout = 5 * time.Second
)

// groupAdminGuard serves a group's or channel's settings to its
// administrators only. Private chats are their owner's (onCallback refuses a
// press by anyone else). A sender whose standing Telegram could not give
// right now is refused with a "try again" rather than let through.
func (b *Bot) groupAdminGuard(next HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) error {
		if r.Chat.Type == subscriptions.ChatPrivate {
			return next(ctx, r)
		}
		if ok, err := b.chatAdminOrRefuse(ctx, r); !ok {
			return err
		}
		return next(ctx, r)
	}
}

// chatAdminOrRefuse reports whether r's sender administers its group or
// channel, and refuses r politely when not (err is the refusal's).
func (b *Bot) chatAdminOrRefuse(ctx context.Context, r *Request) (ok bool, err error) {
	admin, err := b.groupAdmin(ctx, r)
	switch {
	case err != nil:
		b.log.Warn("cannot check the sender's standing in the chat; refused for now", append(logAttrs(r), slog.Any("error", err))...)
		return false, r.refuse(ctx, i18n.GroupAdminCheckFailed)
	case !admin:
		b.log.Info("chat setting refused to a member who is not an administrator", append(logAttrs(r), slog.String("chat_type", string(r.Chat.Type)))...)
		if r.Chat.Type == subscriptions.ChatChannel {
			return false, r.refuse(ctx, i18n.ChannelAdminsOnly)
		}
		return false, r.refuse(ctx, i18n.GroupAdminsOnly)
	}
	return true, nil
}

// groupAdmin reports whether the request's sender administers its group or
// channel: an anonymous administrator, or a post in the channel, does, and
// anyone else is asked of Telegram
// (getChatMember) unless a recent answer is cached. An error means Telegram
// could not answer now; a refusal by Telegram (user not found...) means no.
func (b *Bot) groupAdmin(ctx context.Context, r *Request) (bool, error) {
	if r.anonymousAdmin() {
		return true, nil
	}
	if r.UserID == 0 {
		return false, nil
	}
	key := memberKey{chat: r.Chat.ID, user: r.UserID}
	if admin, ok := b.groupAdmins.get(key, b.p.Now()); ok {
		return admin, nil
	}
	ctx, cancel := context.WithTimeout(ctx, groupAdminTimeout)
	defer cancel()
	params := tgbotapi.Params{}
	params.AddNonZero64("chat_id", r.Chat.ID)
	params.AddNonZero64("user_id", r.UserID)
	raw, err := b.p.Client.Call(ctx, "getChatMember", params)
	if err != nil {
		switch tg.Classify(err) {
		case tg.KindTransient, tg.KindRetryAfter, tg.KindMigrated:
			return false, err
		}
		b.log.Info("telegram refused to give the sender's standing in the group; taken as not an administrator", append(logAttrs(r), slog.Any("error", err))...)
		return false, nil
	}
	var m tgbotapi.ChatMember
	if err := json.Unmarshal(raw, &m); err != nil {
		return false, fmt.Errorf("bot: decode getChatMember result: %w", err)
	}
	admin := m.Status == "creator" || m.Status == "administrator"
	b.groupAdmins.put(key, admin, b.p.Now())
	return admin, nil
}

// anonymousAdmin reports a message an anonymous administrator sent as the
// group, or a post in a channel (only its administrators post): only
// Telegram can make sender_chat the chat itself.
func (r *Request) anonymousAdmin() bool {
	if r.senderChat == 0 || r.senderChat != r.Chat.ID {
		return false
	}
	return r.Chat.Type == subscriptions.ChatChannel || r.UserID == groupAnonymousBotID
}

// refuse answers a button press with an alert, or a command with a reply.
func (r *Request) refuse(ctx context.Context, key i18n.Key) error {
	if r.IsCallback() {
		return r.answer(ctx, r.Text(key), true)
	}
	return r.Reply(ctx, r.T(key))
}

// memberKey is one user in one group.
type memberKey struct{ chat, user int64 }

type memberStanding struct {
	admin bool
	until time.Time
}

// memberCache remembers, for ttl, who administers which group.
type memberCache struct {
	size int
	ttl  time.Duration

	mu sync.Mutex
	m  map[memberKey]memberStanding
}

func newMemberCache(size int, ttl time.Duration) *memberCache {
	return &memberCache{size: size, ttl: ttl, m: map[memberKey]memberStanding{}}
}

// get returns the standing of k if it is known and fresh at now.
func (c *memberCache) get(k memberKey, now time.Time) (admin, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	if !ok {
		return false, false
	}
	if !now.Before(s.until) {
		delete(c.m, k)
		return false, false
	}
	return s.admin, true
}

// put remembers k's standing, learnt at now. When full it forgets the
// stale entries first, then, if all are fresh, half of them: memory stays
// bounded at the price of a few more calls.
func (c *memberCache) put(k memberKey, admin bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.m[k]; !known && len(c.m) >= c.size {
		for key, s := range c.m {
			if !now.Before(s.until) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.size/2 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = memberStanding{admin: admin, until: now.Add(c.ttl)}
}

// len returns how many standings the cache holds.
func (c *memberCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
