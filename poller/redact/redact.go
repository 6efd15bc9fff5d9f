// Package redact owns how a source URL is shown wherever people or tools
// can see it (logs, metric labels, /readyz, /stats, health alerts, errors):
// without user info, and with the values of query parameters that look like
// secrets replaced. The URL itself, secrets and all, is still what is
// fetched and what keys the store's state of the source (hashed); the
// publication ids scoped to a source, which are logged, use this form.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a secret query value.
const Mask = "REDACTED"

// secretWords are parts of a query parameter's name that mark its value
// as a secret: api_key, apikey, access_token, X-Amz-Signature, sig,
// password, auth, client_secret, session...
var secretWords = []string{"key", "token", "secret", "pass", "pwd", "sig", "auth", "session", "credential", "jwt", "bearer", "cookie", "hash", "code"}

// URL returns raw fit to show: user info dropped, secret-looking query
// values masked, and the fragment dropped. A URL that does not parse loses
// everything after its host, which might hold a secret in a form the
// parser did not understand.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return hostOnly(raw)
	}
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	c.RawQuery = query(u.RawQuery)
	return c.String()
}

// query masks the secret-looking values of a raw query, keeping its order
// and everything else as it was written.
func query(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && secretName(name) {
			parts[i] = k + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

// secretName reports a query parameter whose value is probably a secret.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// hostOnly keeps the scheme and host of a URL that did not parse, without
// user info.
func hostOnly(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "(invalid URL)"
	}
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	return scheme + "://" + rest + "/…"
}
