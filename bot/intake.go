package bot

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// poll long-polls while this replica holds the polling lease and stands by
// while another does, until ctx ends. hctx outlives ctx for the last batch.
func (b *Bot) poll(ctx, hctx context.Context, d *dispatcher, cancelHandlers context.CancelFunc) {
	bo := &wait.Backoff{Base: b.p.Backoff, Max: maxBackoff}
	standingBy := false
	for ctx.Err() == nil {
		held, err := b.p.Store.AcquireLease(ctx, pollLease, b.p.ReplicaID, b.p.LeaseTTL)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			pause := bo.Next()
			if bo.Failures() == 1 || bo.Failures()%10 == 0 {
				b.log.Error("cannot take the polling lease; retrying", "error", err, "failures", bo.Failures(), "wait", pause)
			}
			wait.Sleep(ctx, pause)
			continue
		}
		bo.Reset()
		if !held {
			if !standingBy {
				b.log.Info("another replica is polling Telegram; standing by", "replica", b.p.ReplicaID)
				standingBy = true
			}
			wait.Sleep(ctx, wait.Jitter(b.p.LeaseTTL/3))
			continue
		}
		standingBy = false
		b.log.Info("polling Telegram for updates", "replica", b.p.ReplicaID)
		b.lead(ctx, hctx, d, cancelHandlers)

		// Free the lease at once so that a stand-by takes over without
		// waiting for it to expire. It is a no-op when the lease was lost.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := b.p.Store.ReleaseLease(rctx, pollLease, b.p.ReplicaID); err != nil {
			b.log.Warn("cannot release the polling lease; it will expire", "error", err)
		}
		cancel()
	}
}

// lead polls until ctx ends or the lease is lost. Each batch is handled in
// full before its offset is saved, so a restart neither loses nor repeats
// updates.
func (b *Bot) lead(ctx, hctx context.Context, d *dispatcher, cancelHandlers context.CancelFunc) {
	lctx, lose := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { b.keepLease(lctx, lose) })
	defer func() {
		lose()
		wg.Wait()
	}()

	offset, ok := b.loadOffset(lctx)
	if !ok {
		return
	}
	bo := &wait.Backoff{Base: b.p.Backoff, Max: maxBackoff}
	for lctx.Err() == nil {
		updates, err := b.p.Client.GetUpdates(lctx, offset, pollLimit, b.p.PollTimeout, allowedUpdates())
		if err != nil {
			if lctx.Err() != nil {
				return
			}
			wait.Sleep(lctx, b.pollFailed(lctx, err, bo, lose))
			continue
		}
		if bo.Failures() > 0 {
			b.log.Info("polling Telegram works again", "failures", bo.Failures())
		}
		bo.Reset()
		next := offset
		var batch sync.WaitGroup
		for _, u := range updates {
			id := int64(u.UpdateID)
			if id < offset {
				continue // already handled; Telegram should not resend it
			}
			next = max(next, id+1)
			batch.Add(1)
			// hctx, not lctx: once taken from Telegram, the batch is
			// handled even if the lease is lost meanwhile.
			if err := d.submit(hctx, u, &batch); err != nil {
				batch.Done()
			}
		}
		b.waitBatch(ctx, &batch, cancelHandlers)
		if next == offset {
			continue
		}
		offset = next
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = b.p.Store.SaveOffset(sctx, offset)
		cancel()
		if err != nil {
			// The next batch saves a later offset; until then a restart
			// would handle this batch again.
			b.log.Error("cannot save the update offset", "error", err, "offset", offset)
		}
	}
}

// waitBatch waits for a batch's handlers; once ctx ends it gives them
// ShutdownTimeout more and then cancels them.
func (b *Bot) waitBatch(ctx context.Context, batch *sync.WaitGroup, cancelHandlers context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		batch.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(b.p.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		b.log.Warn("handlers still running at shutdown; cancelling them", "timeout", b.p.ShutdownTimeout)
		cancelHandlers()
		<-done
	}
}

// loadOffset reads the stored offset, retrying until it can or ctx ends.
func (b *Bot) loadOffset(ctx context.Context) (int64, bool) {
	bo := &wait.Backoff{Base: b.p.Backoff, Max: maxBackoff}
	for {
		offset, err := b.p.Store.Offset(ctx)
		if err == nil {
			return offset, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		pause := bo.Next()
		if bo.Failures() == 1 || bo.Failures()%10 == 0 {
			b.log.Error("cannot read the update offset; retrying", "error", err, "failures", bo.Failures())
		}
		if !wait.Sleep(ctx, pause) {
			return 0, false
		}
	}
}

// pollFailed decides how long to pause after a failed getUpdates.
func (b *Bot) pollFailed(ctx context.Context, err error, bo *wait.Backoff, lose context.CancelFunc) time.Duration {
	var te *tg.Error
	if errors.As(err, &te) && te.Code == 409 {
		if strings.Contains(strings.ToLower(te.Description), "webhook") {
			// Left over from a webhook deployment: long polling is the
			// configured mode, so the webhook goes.
			b.log.Warn("a webhook is set while configured for long polling; deleting it")
			if _, err := b.p.Client.Do(ctx, tgbotapi.DeleteWebhookConfig{}); err != nil {
				b.log.Error("cannot delete the webhook", "error", err)
				return bo.Next()
			}
			return 0
		}
		// Someone else polls with this token. If it is a replica that took
		// the lease from us, stop; otherwise back off and try again.
		b.log.Warn("another getUpdates is running with this token", "error", err)
		if held, lerr := b.p.Store.RenewLease(ctx, pollLease, b.p.ReplicaID, b.p.LeaseTTL); lerr == nil && !held {
			lose()
		}
		return bo.Next()
	}
	pause := bo.Next()
	if d, ok := tg.RetryAfter(err); ok {
		pause = d
	}
	if bo.Failures() == 1 || bo.Failures()%10 == 0 {
		b.log.Warn("getUpdates failed; retrying", "error", err, "failures", bo.Failures(), "wait", pause)
	}
	return pause
}

// keepLease renews the polling lease every third of its ttl and calls lose
// when it is lost, or when it could not be renewed for a whole ttl.
func (b *Bot) keepLease(ctx context.Context, lose context.CancelFunc) {
	every := b.p.LeaseTTL / 3
	t := time.NewTimer(every)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		held, err := b.p.Store.RenewLease(ctx, pollLease, b.p.ReplicaID, b.p.LeaseTTL)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if time.Since(lastOK) >= b.p.LeaseTTL {
				b.log.Error("cannot renew the polling lease; stopping polling", "error", err)
				lose()
				return
			}
			b.log.Warn("cannot renew the polling lease", "error", err)
		case !held:
			b.log.Warn("the polling lease passed to another replica; standing by")
			lose()
			return
		default:
			lastOK = time.Now()
		}
		t.Reset(every)
	}
}

// dispatcher runs updates on a fixed set of workers; all updates of one chat
// go to the same worker, so they are handled in order, while different
// chats proceed concurrently.
type dispatcher struct {
	queues []chan job
	handle func(context.Context, tgbotapi.Update)
	wg     sync.WaitGroup
}

type job struct {
	update tgbotapi.Update
	done   *sync.WaitGroup // optional
}

func newDispatcher(workers int, handle func(context.Context, tgbotapi.Update)) *dispatcher {
	d := &dispatcher{queues: make([]chan job, workers), handle: handle}
	for i := range d.queues {
		d.queues[i] = make(chan job, 16)
	}
	return d
}

func (d *dispatcher) start(ctx context.Context) {
	for _, q := range d.queues {
		d.wg.Go(func() {
			for j := range q {
				d.handle(ctx, j.update)
				if j.done != nil {
					j.done.Done()
				}
			}
		})
	}
}

// submit queues u on its chat's worker, waiting while the queue is full.
// It must not be called after close.
func (d *dispatcher) submit(ctx context.Context, u tgbotapi.Update, done *sync.WaitGroup) error {
	q := d.queues[shard(chatOf(u), len(d.queues))]
	select {
	case q <- job{update: u, done: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *dispatcher) close() {
	for _, q := range d.queues {
		close(q)
	}
}

func (d *dispatcher) wait() { d.wg.Wait() }

// shard spreads chat ids, negative ones included, over n workers.
func shard(id int64, n int) int {
	x := uint64(id)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return int(x % uint64(n))
}

// chatOf returns the chat an update belongs to, for ordering.
func chatOf(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.ChannelPost != nil && u.ChannelPost.Chat != nil:
		return u.ChannelPost.Chat.ID
	case u.CallbackQuery != nil:
		if m := u.CallbackQuery.Message; m != nil && m.Chat != nil {
			return m.Chat.ID
		}
		if u.CallbackQuery.From != nil {
			return u.CallbackQuery.From.ID
		}
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID
	case u.EditedMessage != nil && u.EditedMessage.Chat != nil:
		return u.EditedMessage.Chat.ID
	}
	return 0
}
