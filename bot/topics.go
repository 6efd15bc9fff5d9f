package bot

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/poller/terms"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Topics: /follow <words> makes every publication whose title or summary
// holds all of the words' terms reach the chat, whatever its category;
// /following lists them with a button each to drop it.
const (
	prefixUnfollow = "unf" // unf:<topicHash>
	// maxTopicRunes bounds a topic as the chat wrote it.
	maxTopicRunes = 64
)

func (b *Bot) registerTopicCommands() {
	d := func(k i18n.Key) HandlerOption { return describeKey(b.cat, k) }
	b.Handle("follow", b.cmdFollow, d(i18n.CmdFollow), GroupAdminOnly())
	b.Handle("following", b.cmdFollowing, d(i18n.CmdFollowing), GroupAdminOnly())
	b.HandleCallback(prefixUnfollow, b.cbUnfollow, GroupAdminOnly())
}

// topicHash names a topic in a button: its key may not fit 64 bytes.
func topicHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// followable reports whether follow would take words as a topic: not too
// long, with a term to look for and not too many.
func followable(words string) bool {
	if utf8.RuneCountInString(words) > 4*maxTopicRunes {
		return false
	}
	ts, cut := terms.Query(words, subscriptions.MaxTopicTerms)
	return !cut && len(ts) > 0
}

// follow adds words as a topic of a subscribed chat and replies.
func (b *Bot) follow(ctx context.Context, r *Request, words string, added i18n.Key) error {
	label := truncate(render.Line(words), maxTopicRunes)
	if utf8.RuneCountInString(words) > 4*maxTopicRunes {
		return r.Reply(ctx, r.T(i18n.FollowTooLong, "max", subscriptions.MaxTopicTerms))
	}
	ts, cut := terms.Query(words, subscriptions.MaxTopicTerms)
	switch {
	case cut:
		return r.Reply(ctx, r.T(i18n.FollowTooLong, "max", subscriptions.MaxTopicTerms))
	case len(ts) == 0:
		return r.Reply(ctx, r.T(i18n.FollowNoTerms, "topic", label))
	}
	_, isNew, err := b.p.Subscriptions.Follow(ctx, r.Chat.ID, ts, label)
	switch {
	case errors.Is(err, subscriptions.ErrTooManyTopics):
		return r.Reply(ctx, r.T(i18n.FollowLimit, "max", subscriptions.MaxTopics))
	case errors.Is(err, subscriptions.ErrNotSubscribed):
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	case err != nil:
		return err
	case !isNew:
		return r.Reply(ctx, r.T(i18n.FollowExists, "topic", label))
	}
	return r.Reply(ctx, r.T(added, "topic", label))
}

func (b *Bot) cmdFollow(ctx context.Context, r *Request) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	if strings.TrimSpace(r.Args) == "" {
		return r.Reply(ctx, r.T(i18n.FollowUsage))
	}
	return b.follow(ctx, r, r.Args, i18n.FollowAdded)
}

func (b *Bot) cmdFollowing(ctx context.Context, r *Request) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	text, kb, err := b.followingList(ctx, r)
	if err != nil {
		return err
	}
	return r.ReplyKeyboard(ctx, text, kb)
}

// followingList is /following's text and a button per topic.
func (b *Bot) followingList(ctx context.Context, r *Request) (string, Keyboard, error) {
	topics, err := b.p.Subscriptions.Topics(ctx, r.Chat.ID)
	if err != nil {
		return "", nil, err
	}
	if len(topics) == 0 {
		return r.T(i18n.FollowingNone), nil, nil
	}
	kb := make(Keyboard, 0, len(topics))
	for _, t := range topics {
		kb = append(kb, []Button{{Text: r.Text(i18n.ButtonUnfollow, "topic", t.Label), Data: prefixUnfollow + ":" + topicHash(t.Key)}})
	}
	return r.T(i18n.FollowingHeader, "count", len(topics), "max", subscriptions.MaxTopics), kb, nil
}

// cbUnfollow drops the topic whose button was pressed and redraws the list.
func (b *Bot) cbUnfollow(ctx context.Context, r *Request) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Answer(ctx, r.Text(i18n.ButtonNeedsStart))
	}
	topics, err := b.p.Subscriptions.Topics(ctx, r.Chat.ID)
	if err != nil {
		return err
	}
	var found *subscriptions.Topic
	for i := range topics {
		if topicHash(topics[i].Key) == r.Data {
			found = &topics[i]
		}
	}
	if found == nil {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	if _, err := b.p.Subscriptions.Unfollow(ctx, r.Chat.ID, found.Key); err != nil {
		return err
	}
	text, kb, err := b.followingList(ctx, r)
	if err != nil {
		return err
	}
	if err := r.Edit(ctx, text, kb); err != nil && !staleMessage(err) {
		return err
	}
	return r.Answer(ctx, r.Text(i18n.UnfollowDone, "topic", found.Label))
}

// Topic deep links: "topic-<words>" for ASCII words joined by "_"
// (start=topic-visa, start=topic-visa_centre), "topic64-<base64url>" for
// any other topic (its UTF-8 words, unpadded: start=topic64-0L_QsNGB0L_QvtGA0YI
// for "паспорт").
const (
	deepTopic   = "topic-"
	deepTopic64 = "topic64-"
)

// deepLinkTopic returns the words of a topic payload, or false.
func deepLinkTopic(payload string) (string, bool) {
	if rest, ok := strings.CutPrefix(payload, deepTopic64); ok {
		raw, err := base64.RawURLEncoding.DecodeString(rest)
		if err != nil || !utf8.Valid(raw) || len(raw) == 0 {
			return "", false
		}
		return string(raw), true
	}
	if rest, ok := strings.CutPrefix(payload, deepTopic); ok && rest != "" && !strings.Contains(rest, "-") {
		return strings.ReplaceAll(rest, "_", " "), true
	}
	return "", false
}
