package fetch

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrBodyTooLarge means the body went past Config.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("response too large")
	// ErrTooManyRedirects means the redirect chain went past
	// Config.MaxRedirects (a redirect loop ends here).
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrUnsupportedScheme means the URL, or a redirect target, is not
	// http or https.
	ErrUnsupportedScheme = errors.New("unsupported URL scheme")
)

// StatusError is a response that is neither 2xx nor 304.
type StatusError struct {
	URL  string // without userinfo
	Code int
	// RetryAfter is the delay the server asked for with a 429 or 503
	// Retry-After header; zero when it asked for none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fetch %s: status %d", e.URL, e.Code)
	if t := http.StatusText(e.Code); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// RetryAfter reports the server-requested delay carried by err (from a 429
// or 503 Retry-After header, in seconds or HTTP-date form, measured against
// Config.Now at the time of the response), if any.
func RetryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}

// maxSeconds is the largest delta-seconds a time.Duration holds.
const maxSeconds = int64(math.MaxInt64 / time.Second)

// parseRetryAfter reads a Retry-After value (RFC 9110 10.2.3): either
// delta-seconds or an HTTP-date, the latter relative to now. A date in the
// past is a zero delay; a value too large for a Duration saturates.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > maxSeconds {
			// Only overflow can fail here: the value is all digits.
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
