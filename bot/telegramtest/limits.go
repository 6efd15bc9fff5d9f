package telegramtest

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// paidBroadcastRate is the global limit for messages sent with
// allow_paid_broadcast.
const paidBroadcastRate = 1000

// limits enforces Telegram's flood limits on message sends: a global token
// bucket, a token bucket per private chat, and for groups, supergroups and
// channels at most GroupPerMinute messages in any sliding minute. All times
// come from the server's clock so tests can drive them. Callers hold the
// server's lock.
type limits struct {
	global    *rate.Limiter // nil when disabled
	paid      *rate.Limiter
	chatEvery time.Duration
	chatBurst int
	groupMax  int
	private   map[int64]*rate.Limiter
	groups    map[int64][]time.Time // send times within the last minute, oldest first
}

func newLimits(o Options) *limits {
	l := &limits{
		paid:      rate.NewLimiter(paidBroadcastRate, paidBroadcastRate),
		chatEvery: o.PerChatInterval,
		chatBurst: o.PerChatBurst,
		groupMax:  o.GroupPerMinute,
		private:   map[int64]*rate.Limiter{},
		groups:    map[int64][]time.Time{},
	}
	if o.GlobalRate > 0 {
		l.global = rate.NewLimiter(rate.Limit(o.GlobalRate), int(math.Ceil(o.GlobalRate)))
	}
	return l
}

// take counts one message to chatID at now. When a limit is reached it
// counts nothing and returns the wait, in whole seconds of at least 1, until
// the message would be allowed.
func (l *limits) take(now time.Time, chatID int64, private, paid bool) (retryAfter int, ok bool) {
	var wait time.Duration
	var buckets []*rate.Limiter
	switch {
	case paid:
		buckets = append(buckets, l.paid)
	case l.global != nil:
		buckets = append(buckets, l.global)
	}
	if private && l.chatEvery > 0 {
		b := l.private[chatID]
		if b == nil {
			b = rate.NewLimiter(rate.Every(l.chatEvery), max(l.chatBurst, 1))
			l.private[chatID] = b
		}
		buckets = append(buckets, b)
	}
	for _, b := range buckets {
		if tokens := b.TokensAt(now); tokens < 1 {
			wait = max(wait, time.Duration((1-tokens)/float64(b.Limit())*float64(time.Second)))
		}
	}
	var window []time.Time
	if !private && l.groupMax > 0 {
		window = l.groups[chatID]
		for len(window) > 0 && !window[0].Add(time.Minute).After(now) {
			window = window[1:]
		}
		if len(window) >= l.groupMax {
			wait = max(wait, window[len(window)-l.groupMax].Add(time.Minute).Sub(now))
		}
		l.groups[chatID] = window
	}
	if wait > 0 {
		return max(1, int(math.Ceil(wait.Seconds()))), false
	}
	for _, b := range buckets {
		b.AllowN(now, 1)
	}
	if !private && l.groupMax > 0 {
		l.groups[chatID] = append(window, now)
	}
	return 0, true
}
