package fetch

import (
	"fmt"
	"net/url"
	"strings"
)

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: invalid URL: %w", redactRaw(raw), unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("fetch %s: %w %q (want http or https)", redact(u), ErrUnsupportedScheme, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("fetch %s: invalid URL: no host", redact(u))
	}
	return u, nil
}

// redact drops userinfo entirely: unlike url.URL.Redacted, which keeps the
// user name, nothing of the credentials should reach logs or stored errors.
func redact(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = nil
	return c.String()
}

// redactRaw strips userinfo from a URL that did not parse, so the error for
// it can still name it.
func redactRaw(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	return raw[:i+3] + rest[at+1:]
}
