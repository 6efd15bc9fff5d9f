package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// newLogger builds the process logger. Besides the Secret type, which never
// prints, every attribute is scrubbed of the token: errors from failed HTTP
// requests embed the request URL, and the Bot API puts the token in it.
func newLogger(cfg *Config, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	scrub := scrubber(cfg.Token.Reveal(), cfg.WebhookSecret.Reveal(), cfg.RedisURL.Reveal())
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Value.Kind() {
			case slog.KindString:
				a.Value = slog.StringValue(scrub(a.Value.String()))
			case slog.KindAny:
				if err, ok := a.Value.Any().(error); ok {
					a.Value = slog.StringValue(scrub(err.Error()))
				}
			}
			return a
		},
	}
	var h slog.Handler
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h), nil
}

// scrubber returns a function that replaces every non-empty secret in a
// text with [redacted].
func scrubber(secrets ...string) func(string) string {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

// redisLogger routes go-redis's own messages (connection pool trouble) into
// the process log instead of the standard logger's stderr. While Redis is
// down the pool reports every failed dial; one line in ten seconds, with the
// count of those left out, says as much.
type redisLogger struct {
	logger     *slog.Logger
	sometimes  *rate.Sometimes
	suppressed *atomic.Int64
}

func newRedisLogger(logger *slog.Logger) redisLogger {
	return redisLogger{logger: logger, sometimes: &rate.Sometimes{First: 1, Interval: 10 * time.Second}, suppressed: new(atomic.Int64)}
}

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	logged := false
	l.sometimes.Do(func() {
		logged = true
		l.logger.WarnContext(ctx, "redis client", slog.String("detail", fmt.Sprintf(format, v...)),
			slog.Int64("similar_messages_left_out", l.suppressed.Swap(0)))
	})
	if !logged {
		l.suppressed.Add(1)
	}
}
