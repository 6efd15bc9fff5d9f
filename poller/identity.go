package poller

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"
)

// publicationID names an item stably across polls, and returns the id the
// previous release gave it when that differs (stores count an item seen
// under either as seen, so that the upgrade re-announces nothing).
//
// A URL (a permalink GUID, else the link) names the same publication
// whoever lists it, so an item on two of a site's pages is announced once:
// it is the canonical link, with scheme and a leading "www." left out of
// what makes it distinct. A GUID that is not a URL means something only
// within its feed, and a hash of title and date only within its source:
// both are prefixed with the canonical source, so that feed B publishing
// GUID "42" cannot suppress feed A's item "42".
func publicationID(source, guid, link, title string, date time.Time) (id, legacy string) {
	legacy = legacyID(guid, link, title, date)
	g := strings.TrimSpace(guid)
	switch {
	case g != "" && isWebURL(g):
		id = canonicalLink(g)
	case g != "":
		id = "guid:" + canonicalLink(source) + " " + g
	case normalizeLink(link) != "":
		if id = canonicalLink(link); !isWebURL(id) {
			id = "link:" + canonicalLink(source) + " " + id
		}
	default:
		id = "sha256:" + titleDateHash(canonicalLink(source)+"\x00"+strings.TrimSpace(title), date)
	}
	if legacy == id {
		legacy = ""
	}
	return id, legacy
}

// legacyID is the id of the release before per-source identity: the bare
// GUID, else the normalised link, else a hash of title and date.
func legacyID(guid, link, title string, date time.Time) string {
	if g := strings.TrimSpace(guid); g != "" {
		return g
	}
	if l := normalizeLink(link); l != "" {
		return l
	}
	return "sha256:" + titleDateHash(strings.TrimSpace(title), date)
}

func titleDateHash(title string, date time.Time) string {
	sum := sha256.Sum256([]byte(title + "\x00" + date.UTC().Format("2006-01-02")))
	return hex.EncodeToString(sum[:16])
}

// isWebURL reports whether s is an absolute http(s) URL.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// canonicalLink is normalizeLink with the differences that never make
// another page left out: http and https are one scheme, and www.example.org
// is example.org (the embassy serves the same pages on both).
func canonicalLink(raw string) string {
	n := normalizeLink(raw)
	u, err := url.Parse(n)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return n
	}
	host, port := strings.TrimPrefix(u.Hostname(), "www."), u.Port()
	if port == "80" || port == "443" {
		port = "" // the other scheme's default
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u.Scheme = "https"
	u.Host = host
	if port != "" {
		u.Host += ":" + port
	}
	return u.String()
}

// normalizeLink makes the same page's link compare equal however a source
// spells it: scheme and host lower-cased, default port, fragment, tracking
// parameters and a trailing slash dropped, query parameters sorted.
func normalizeLink(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal
	}
	if port := u.Port(); port != "" && !(u.Scheme == "http" && port == "80") && !(u.Scheme == "https" && port == "443") {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	u.User = nil
	if len(u.Path) > 1 {
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "utm_") {
			q.Del(k)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	u.RawQuery = b.String()
	return u.String()
}
