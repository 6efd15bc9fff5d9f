package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Bounds of the update queues.
const (
	// chatQueueLimit is how many updates one chat may have waiting; past
	// it the chat's updates are dropped. The flood limit lets a sender
	// queue about UserBurst, so only a chat of many senders reaches it.
	chatQueueLimit = 32
	// queueLimit bounds the updates queued or being handled, all chats
	// together; taking more waits for room (Telegram keeps the rest).
	queueLimit = 4 * pollLimit
)

// errChatQueueFull refuses an update of a chat whose queue is full.
var errChatQueueFull = errors.New("bot: the chat's update queue is full")

// jobKind says what a worker does with a queued update.
type jobKind uint8

const (
	jobHandle    jobKind = iota // route it to its command or button
	jobSlowDown                 // the first refused update of a flood: say "slow down"
	jobAnswerOff                // a later refused button press: only stop its spinner
)

type job struct {
	update tg.Update
	kind   jobKind
}

// dispatcher queues updates per chat and runs them with at most workers
// handlers at once. Each chat with waiting updates has its own goroutine,
// which handles them in order, one at a time, so a chat whose handlers are
// slow (its replies waiting out Telegram's per-chat limit) delays only
// itself.
type dispatcher struct {
	ctx    context.Context
	handle func(context.Context, job)
	slots  chan struct{} // one per handler running
	room   chan struct{} // one per update queued or running, all chats

	mu     sync.Mutex
	chats  map[int64][]job // the chats with a goroutine, and what they have waiting
	closed bool
	wg     sync.WaitGroup
}

func newDispatcher(ctx context.Context, workers int, handle func(context.Context, job)) *dispatcher {
	return &dispatcher{
		ctx:    ctx,
		handle: handle,
		slots:  make(chan struct{}, workers),
		room:   make(chan struct{}, queueLimit),
		chats:  map[int64][]job{},
	}
}

// submit queues j for chat. It waits while all chats' queues together are
// full, and refuses with errChatQueueFull when chat's own is.
func (d *dispatcher) submit(ctx context.Context, chat int64, j job) error {
	select {
	case d.room <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	waiting, running := d.chats[chat]
	switch {
	case d.closed:
		<-d.room
		return errors.New("bot: intake is closed")
	case len(waiting) >= chatQueueLimit:
		<-d.room
		return errChatQueueFull
	}
	d.chats[chat] = append(waiting, j)
	if !running {
		d.wg.Go(func() { d.run(chat) })
	}
	return nil
}

// run handles chat's updates in order until its queue is empty.
func (d *dispatcher) run(chat int64) {
	for {
		d.mu.Lock()
		waiting := d.chats[chat]
		if len(waiting) == 0 {
			delete(d.chats, chat)
			d.mu.Unlock()
			return
		}
		j := waiting[0]
		waiting[0] = job{}
		d.chats[chat] = waiting[1:]
		d.mu.Unlock()

		d.slots <- struct{}{}
		d.handle(d.ctx, j)
		<-d.slots
		<-d.room
	}
}

// busy returns how many updates are queued or being handled.
func (d *dispatcher) busy() int { return len(d.room) }

// close refuses further updates; those queued are still handled.
func (d *dispatcher) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
}

// wait returns once every queued update is handled.
func (d *dispatcher) wait() { d.wg.Wait() }

// take queues one update, after the flood limit (admit).
func (b *Bot) take(ctx context.Context, d *dispatcher, u tg.Update) error {
	kind, keep := b.admit(u)
	if !keep {
		return nil
	}
	return b.queueJob(ctx, d, job{update: u, kind: kind})
}

// admit applies the per-user flood limit before anything else, so that a
// flood costs neither a store call nor a Telegram call: the first refused
// update gets a "slow down", a later refused button press only has its
// spinner stopped, and the rest are dropped (keep is false).
func (b *Bot) admit(u tg.Update) (kind jobKind, keep bool) {
	key, limited := b.floodKey(u)
	if !limited {
		return jobHandle, true
	}
	ok, warn := b.limiter.allow(key, b.p.Now())
	switch {
	case ok:
		return jobHandle, true
	case warn:
		b.log.Info("flood limit reached; dropping the sender's updates for a while",
			slog.Int64("update_id", int64(u.UpdateID)), slog.Int64("chat_id", chatOf(u)), slog.Int64("sender", key))
		return jobSlowDown, true
	case u.CallbackQuery != nil:
		return jobAnswerOff, true
	}
	return 0, false
}

// queueJob queues j on its chat; a chat whose queue is full loses it.
func (b *Bot) queueJob(ctx context.Context, d *dispatcher, j job) error {
	err := d.submit(ctx, chatOf(j.update), j)
	if errors.Is(err, errChatQueueFull) {
		b.log.Debug("the chat's update queue is full; update dropped",
			slog.Int64("update_id", int64(j.update.UpdateID)), slog.Int64("chat_id", chatOf(j.update)))
		return nil
	}
	return err
}

// floodKey returns whom an update counts against in the flood limit, and
// whether it counts at all: only what the bot would answer does (a private
// message, a command for this bot in a group or channel, a button press);
// membership changes, service messages and a group's chatter do not.
func (b *Bot) floodKey(u tg.Update) (int64, bool) {
	if q := u.CallbackQuery; q != nil {
		if q.From != nil {
			return q.From.ID, true
		}
		return chatOf(u), true
	}
	m := u.Message
	if m == nil {
		m = u.ChannelPost
	}
	if m == nil || m.Chat == nil || m.Text == "" || m.MigrateToChatID != 0 || m.MigrateFromChatID != 0 {
		return 0, false
	}
	if m.Chat.Type != "private" {
		cmd, ok := parseCommand(m.Text)
		if !ok || (cmd.Mention != "" && !strings.EqualFold(cmd.Mention, b.Username())) {
			return 0, false
		}
		if cmd.Mention == "" && b.command(cmd.Name) == nil {
			return 0, false // probably another bot's
		}
	}
	switch {
	case m.SenderChat != nil:
		// Sent as a chat (an anonymous admin, a linked channel): the
		// sender is a placeholder user Telegram shares between groups.
		return m.SenderChat.ID, true
	case m.From != nil:
		return m.From.ID, true
	}
	return m.Chat.ID, true // channel posts have no sender
}

// runJob is what a worker does with a queued update.
func (b *Bot) runJob(ctx context.Context, j job) {
	switch j.kind {
	case jobHandle:
		b.handleUpdate(ctx, j.update)
	case jobSlowDown, jobAnswerOff:
		b.slowDown(ctx, j.update, j.kind == jobSlowDown)
	}
}

// slowDown answers a refused update: a button press with a short notice
// (Telegram shows a spinner until it is answered), and the first refused
// message of a flood with a reply; later messages get nothing.
func (b *Bot) slowDown(ctx context.Context, u tg.Update, first bool) {
	if q := u.CallbackQuery; q != nil {
		lang := ""
		if q.From != nil {
			lang = q.From.LanguageCode
		}
		lang = b.cat.Language(subscriptions.NormalizeLanguage(lang, i18n.Languages(), b.cat.DefaultLanguage()))
		text := b.cat.Text(lang, i18n.SlowDown)
		if err := b.answerCallback(ctx, q.ID, text, false); err != nil {
			b.log.Debug("cannot answer a refused button press", slog.Int64("update_id", int64(u.UpdateID)), slog.Any("error", err))
		}
		return
	}
	if !first {
		return
	}
	m := u.Message
	if m == nil {
		m = u.ChannelPost
	}
	r := b.newRequest(ctx, int64(u.UpdateID), m.Chat, m.From)
	if err := r.Reply(ctx, r.T(i18n.SlowDown)); err != nil {
		b.log.Debug("cannot send the slow-down notice", append(logAttrs(r), slog.Any("error", err))...)
	}
}
