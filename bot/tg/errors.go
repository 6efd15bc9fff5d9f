package tg

import (
	"errors"
	"strings"
	"time"
)

// Kind says what a failed call means for the caller.
type Kind int

const (
	// KindNone: the call succeeded.
	KindNone Kind = iota
	// KindRetryAfter: flood control; wait RetryAfter, then try again.
	KindRetryAfter
	// KindGone: the chat will never accept messages again (bot blocked or
	// kicked, user deactivated, chat not found): drop the subscriber.
	KindGone
	// KindMigrated: the group became a supergroup; resend to MigrateTo.
	KindMigrated
	// KindBadMarkup: Telegram could not parse the message's entities.
	KindBadMarkup
	// KindTooLong: the text exceeds Telegram's limit.
	KindTooLong
	// KindNotModified: an edit changed nothing; harmless.
	KindNotModified
	// KindTransient: network trouble, a timeout or a 5xx; retry with backoff.
	KindTransient
	// KindPermanent: any other refusal; retrying will not help.
	KindPermanent
	// KindUnauthorized: Telegram refused the token (401). Nothing will
	// work until it is accepted again, which a token being rotated or a
	// proxy glitch makes a matter of seconds: it is not about the call.
	KindUnauthorized
)

var kindNames = [...]string{"ok", "retry_after", "gone", "migrated", "bad_markup", "too_long", "not_modified", "transient", "permanent", "unauthorized"}

func (k Kind) String() string { return kindNames[k] }

// Classify tells what err means. Errors that are neither *Error nor
// *TransportError (a cancelled context, say) are transient.
func Classify(err error) Kind {
	if err == nil {
		return KindNone
	}
	var e *Error
	if !errors.As(err, &e) {
		return KindTransient
	}
	d := strings.ToLower(e.Description)
	switch {
	case e.Code == 429 || e.RetryAfter > 0:
		return KindRetryAfter
	case e.MigrateTo != 0:
		return KindMigrated
	case e.Code == 401:
		return KindUnauthorized
	case e.Code >= 500:
		return KindTransient
	case e.Code == 403:
		// Forbidden: blocked, kicked, deactivated, not a member, can't
		// initiate a conversation: in every case the chat is gone for us.
		return KindGone
	case strings.Contains(d, "chat not found"), strings.Contains(d, "user is deactivated"),
		strings.Contains(d, "peer_id_invalid"), strings.Contains(d, "bot was kicked"),
		strings.Contains(d, "have no rights to send"), strings.Contains(d, "chat_write_forbidden"):
		return KindGone
	case strings.Contains(d, "can't parse entities"), strings.Contains(d, "unsupported start tag"):
		return KindBadMarkup
	case strings.Contains(d, "message is too long"), strings.Contains(d, "text is too long"):
		return KindTooLong
	case strings.Contains(d, "message is not modified"):
		return KindNotModified
	default:
		return KindPermanent
	}
}

// RetryAfter returns the wait Telegram asked for, if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// MigratedTo returns the supergroup id a group moved to, if err says so.
func MigratedTo(err error) (int64, bool) {
	var e *Error
	if errors.As(err, &e) && e.MigrateTo != 0 {
		return e.MigrateTo, true
	}
	return 0, false
}
