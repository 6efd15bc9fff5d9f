package bot

import "context"

// Idle reports whether every update the bot's last Run took is handled.
func (b *Bot) Idle() bool {
	d := b.queue.Load()
	return d == nil || d.busy() == 0
}

// SendDueDigests sends the digests due at the bot's clock now.
func (b *Bot) SendDueDigests(ctx context.Context) error { return b.sendDueDigests(ctx) }

// TopicHash names a topic in an Unfollow button.
func TopicHash(key string) string { return topicHash(key) }
