package fetch

import (
	"fmt"
	"net/url"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: invalid URL: %w", redact.URL(raw), unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("fetch %s: %w %q (want http or https)", shown(u), ErrUnsupportedScheme, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("fetch %s: invalid URL: no host", shown(u))
	}
	return u, nil
}

// shown is how an error names a URL: as redact.URL shows it, without
// credentials or secret-looking query values, so that nothing of them
// reaches logs, stored errors or staff alerts.
func shown(u *url.URL) string { return redact.URL(u.String()) }

// withoutUserinfo is the URL relative links resolve against: the query
// stays, as a link such as "?page=2" needs it, but credentials go.
func withoutUserinfo(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = nil
	return c.String()
}
