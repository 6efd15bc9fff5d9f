package bot

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// secretHeader carries the webhook's secret_token on every request.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// serveWebhook registers the webhook and lets WebhookHandler hand updates to
// d until ctx ends. The webhook stays registered on return: Telegram keeps
// updates for it while the bot is restarting, and other replicas serve it.
func (b *Bot) serveWebhook(ctx context.Context, d *dispatcher) error {
	if err := b.setWebhook(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	b.intakeMu.Lock()
	b.intake = d
	b.intakeMu.Unlock()
	b.log.Info("receiving updates by webhook", slog.String("replica", b.p.ReplicaID))

	<-ctx.Done()

	// Taking the write lock waits for requests that are handing over an
	// update; after it no request reaches d, which is about to close.
	b.intakeMu.Lock()
	b.intake = nil
	b.intakeMu.Unlock()
	return nil
}

// setWebhook registers WebhookURL with its secret, retrying transient
// failures; a refusal (bad URL) is returned.
func (b *Bot) setWebhook(ctx context.Context) error {
	allowed, err := json.Marshal(allowedUpdates())
	if err != nil {
		return fmt.Errorf("bot: encode allowed_updates: %w", err)
	}
	params := tgbotapi.Params{
		"url":             b.p.WebhookURL,
		"secret_token":    b.p.WebhookSecret,
		"allowed_updates": string(allowed),
	}
	bo := &wait.Backoff{Base: b.p.Backoff, Max: maxBackoff}
	for {
		_, err := b.p.Client.Call(ctx, "setWebhook", params)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pause := bo.Next()
		switch tg.Classify(err) {
		case tg.KindRetryAfter:
			pause, _ = tg.RetryAfter(err)
		case tg.KindTransient:
		default:
			return fmt.Errorf("bot: telegram refused the webhook (check WEBHOOK_URL): %w", err)
		}
		b.log.Warn("setWebhook failed; retrying", slog.Any("error", err), slog.Duration("wait", pause))
		if !wait.Sleep(ctx, pause) {
			return ctx.Err()
		}
	}
}

// WebhookHandler serves Telegram's webhook requests: it checks the secret
// header in constant time (401), caps the body (413), answers at once and
// hands the update to the workers, processing each update_id once however
// often Telegram re-sends it. While Run is not receiving (starting, stopping,
// or in polling mode) it answers 503 so that Telegram tries again later.
func (b *Bot) WebhookHandler() http.Handler {
	want := sha256.Sum256([]byte(b.p.WebhookSecret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Comparing digests keeps the comparison constant-time whatever
		// the length of what was sent.
		got := sha256.Sum256([]byte(r.Header.Get(secretHeader)))
		if b.p.WebhookSecret == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			b.log.Warn("webhook request refused: wrong secret token", slog.String("remote", r.RemoteAddr))
			// Closing lets the server answer at once: otherwise it first
			// reads the unread body (up to 256 KiB), which a client
			// without the secret can trickle until the read timeout.
			w.Header().Set("Connection", "close")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webhookBodyLimit))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		var u tg.Update
		if err := json.Unmarshal(body, &u); err != nil || u.UpdateID == 0 {
			http.Error(w, "not a Telegram update", http.StatusBadRequest)
			return
		}
		w.WriteHeader(b.acceptUpdate(r.Context(), u))
	})
}

// acceptUpdate hands a webhook update to the workers once and returns the
// status to answer.
func (b *Bot) acceptUpdate(ctx context.Context, u tg.Update) int {
	b.intakeMu.RLock()
	defer b.intakeMu.RUnlock()
	d := b.intake
	if d == nil {
		return http.StatusServiceUnavailable
	}
	id := int64(u.UpdateID)
	kind, keep := b.admit(u)
	if !keep {
		return http.StatusOK // a flood's excess: no store call, no reply
	}
	first, err := b.p.Store.MarkUpdate(ctx, id, updateMarkTTL)
	if err != nil {
		b.log.Error("cannot record a webhook update; Telegram will resend it", slog.Any("error", err), slog.Int64("update_id", id))
		return http.StatusInternalServerError
	}
	if !first {
		b.log.Debug("webhook update already received; ignoring the copy", slog.Int64("update_id", id))
		return http.StatusOK
	}
	if err := b.queueJob(ctx, d, job{update: u, kind: kind}); err != nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := b.p.Store.ForgetUpdate(fctx, id); err != nil {
			b.log.Error("cannot forget a refused webhook update; its retry will be ignored", slog.Any("error", err), slog.Int64("update_id", id))
		}
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}
