package bot

// Idle reports whether every update the bot's last Run took is handled.
func (b *Bot) Idle() bool {
	d := b.queue.Load()
	return d == nil || d.busy() == 0
}
