package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// poll long-polls while this replica holds the polling lease and stands by
// while another does, until ctx ends. hctx outlives ctx for the last batch.
func (b *Bot) poll(ctx, hctx context.Context, d *dispatcher) {
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
				b.log.Error("cannot take the polling lease; retrying", slog.Any("error", err), slog.Int("failures", bo.Failures()), slog.Duration("wait", pause))
			}
			wait.Sleep(ctx, pause)
			continue
		}
		bo.Reset()
		if !held {
			if !standingBy {
				b.log.Info("another replica is polling Telegram; standing by", slog.String("replica", b.p.ReplicaID))
				standingBy = true
			}
			wait.Sleep(ctx, wait.Jitter(b.p.LeaseTTL/3))
			continue
		}
		standingBy = false
		b.log.Info("polling Telegram for updates", slog.String("replica", b.p.ReplicaID))
		b.lead(ctx, hctx, d)

		// Free the lease at once so that a stand-by takes over without
		// waiting for it to expire. It is a no-op when the lease was lost.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := b.p.Store.ReleaseLease(rctx, pollLease, b.p.ReplicaID); err != nil {
			b.log.Warn("cannot release the polling lease; it will expire", slog.Any("error", err))
		}
		cancel()
	}
}

// lead polls until ctx ends or the lease is lost. A batch is queued per
// chat and the next getUpdates follows at once: one chat's slow replies never
// hold up the others' updates. The next getUpdates confirms the batch to
// Telegram, so an update is handled once; one still queued when the process
// crashes is lost, as in webhook mode (a clean stop handles the queues first).
func (b *Bot) lead(ctx, hctx context.Context, d *dispatcher) {
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
			b.log.Info("polling Telegram works again", slog.Int("failures", bo.Failures()))
		}
		bo.Reset()
		next := offset
		for _, u := range updates {
			id := int64(u.UpdateID)
			if id < offset {
				continue // already handled; Telegram should not resend it
			}
			next = max(next, id+1)
			// hctx, not lctx: once taken from Telegram, an update is
			// queued even if the lease is lost meanwhile. It waits only
			// while the queues of all chats together are full.
			if err := b.take(hctx, d, u); err != nil {
				b.log.Warn("update dropped at shutdown", slog.Int64("update_id", id), slog.Any("error", err))
			}
		}
		if next == offset {
			continue
		}
		offset = next
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = b.p.Store.SaveOffset(sctx, offset)
		cancel()
		if err != nil {
			// The next batch saves a later offset; until then a replica
			// taking over would be given this batch again.
			b.log.Error("cannot save the update offset", slog.Any("error", err), slog.Int64("offset", offset))
		}
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
			b.log.Error("cannot read the update offset; retrying", slog.Any("error", err), slog.Int("failures", bo.Failures()))
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
				b.log.Error("cannot delete the webhook", slog.Any("error", err))
				return bo.Next()
			}
			return 0
		}
		// Someone else polls with this token. If it is a replica that took
		// the lease from us, stop; otherwise back off and try again.
		b.log.Warn("another getUpdates is running with this token", slog.Any("error", err))
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
		b.log.Warn("getUpdates failed; retrying", slog.Any("error", err), slog.Int("failures", bo.Failures()), slog.Duration("wait", pause))
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
				b.log.Error("cannot renew the polling lease; stopping polling", slog.Any("error", err))
				lose()
				return
			}
			b.log.Warn("cannot renew the polling lease", slog.Any("error", err))
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

// chatOf returns the chat an update belongs to, for ordering.
func chatOf(u tg.Update) int64 {
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
