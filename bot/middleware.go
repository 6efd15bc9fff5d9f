package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// middleware wraps a handler in the chain every command and button press
// goes through, outermost first: logging, panic recovery, for a group's or
// channel's settings the administrators' guard, and for staff commands the
// admin guard. The per-user flood limit comes before all of them, at intake
// (admit), so that a flood's excess costs neither a store read nor a call.
func (b *Bot) middleware(h HandlerFunc, e *entry) HandlerFunc {
	if e.adminOnly {
		h = b.adminGuard(h)
	}
	if e.groupAdminOnly {
		h = b.groupAdminGuard(h)
	}
	return b.logged(b.recovered(h))
}

// logAttrs describe a request in logs: never the token, never message text.
func logAttrs(r *Request) []any {
	attrs := []any{slog.Int64("update_id", r.UpdateID), slog.Int64("chat_id", r.Chat.ID), slog.Int64("user_id", r.UserID)}
	switch {
	case r.IsCallback():
		attrs = append(attrs, slog.String("callback", r.route))
	case r.Command != "":
		attrs = append(attrs, slog.String("command", r.Command))
	}
	return attrs
}

// logged logs each request's outcome and apologises to the user for a
// failure. It consumes the error: a failure is logged here and nowhere else.
func (b *Bot) logged(next HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) error {
		start := time.Now()
		err := next(ctx, r)
		attrs := append(logAttrs(r), slog.Duration("took", time.Since(start)))
		if err == nil {
			b.log.Debug("update handled", attrs...)
			return nil
		}
		var pe *panicError
		switch {
		case errors.As(err, &pe):
			b.log.Error("handler panicked", append(attrs, slog.String("panic", fmt.Sprint(pe.value)), slog.String("stack", string(pe.stack)))...)
		case tg.Classify(err) == tg.KindGone:
			// The chat blocked the bot or vanished: it is unsubscribed
			// already, and there is nobody to apologise to.
			b.log.Info("chat is gone; reply dropped", append(attrs, slog.Any("error", err))...)
			return nil
		default:
			b.log.Error("handler failed", append(attrs, slog.Any("error", err))...)
		}
		b.apologise(ctx, r)
		return nil
	}
}

// apologise tells the user something went wrong, without detail.
func (b *Bot) apologise(ctx context.Context, r *Request) {
	var err error
	if r.IsCallback() {
		err = r.Answer(ctx, r.Text(i18n.Error))
	} else {
		err = r.Reply(ctx, r.T(i18n.Error))
	}
	if err != nil {
		b.log.Debug("cannot send the apology", append(logAttrs(r), slog.Any("error", err))...)
	}
}

// panicError carries a recovered panic to the logging middleware.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("bot: handler panicked: %v", e.value) }

// recovered turns a handler's panic into an error, so one bad update never
// takes the worker, or the process, down.
func (b *Bot) recovered(next HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = &panicError{value: v, stack: debug.Stack()}
			}
		}()
		return next(ctx, r)
	}
}

// adminGuard serves staff commands to admins only, refusing everyone else
// politely and without saying why, and logging every refusal. Staff
// buttons act only in the admin's own private chat, where the bot put
// them: one pressed in a group was forged.
func (b *Bot) adminGuard(next HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) error {
		switch {
		case !r.IsAdmin():
			b.log.Warn("staff command refused to a non-admin", logAttrs(r)...)
		case r.IsCallback() && r.Chat.ID != r.UserID:
			b.log.Warn("staff button refused outside the admin's private chat", logAttrs(r)...)
		default:
			return next(ctx, r)
		}
		if r.IsCallback() {
			return r.Answer(ctx, r.Text(i18n.NotAllowed))
		}
		return r.Reply(ctx, r.T(i18n.NotAllowed))
	}
}

// userLimiterSize bounds the flood limiter's memory: past it, users whose
// budget is full again (who carry no state) are forgotten.
const userLimiterSize = 10000

// userLimiter is a token bucket per user.
type userLimiter struct {
	every time.Duration
	burst int
	size  int

	mu    sync.Mutex
	users map[int64]*userBudget
}

type userBudget struct {
	lim    *rate.Limiter
	warned bool // told to slow down since the last allowed request
}

func newUserLimiter(every time.Duration, burst, size int) *userLimiter {
	return &userLimiter{every: every, burst: burst, size: size, users: map[int64]*userBudget{}}
}

// allow takes one request of user id at now. warn is true for the first
// refused request after an allowed one.
func (l *userLimiter) allow(id int64, now time.Time) (ok, warn bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.users[id]
	if u == nil {
		if len(l.users) >= l.size {
			l.sweep(now)
		}
		u = &userBudget{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.users[id] = u
	}
	if u.lim.AllowN(now, 1) {
		u.warned = false
		return true, false
	}
	if u.warned {
		return false, false
	}
	u.warned = true
	return false, true
}

// sweep forgets users whose budget is full. If everyone is mid-burst, half
// are forgotten anyway: memory stays bounded, at the price of a fresh budget
// for some.
func (l *userLimiter) sweep(now time.Time) {
	for id, u := range l.users {
		if u.lim.TokensAt(now) >= float64(l.burst) {
			delete(l.users, id)
		}
	}
	for id := range l.users {
		if len(l.users) < l.size/2 {
			break
		}
		delete(l.users, id)
	}
}

// len returns how many users the limiter remembers.
func (l *userLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.users)
}
