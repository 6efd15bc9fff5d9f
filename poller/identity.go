package poller

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// publicationID names an item stably across polls, and returns the id the
// previous release gave it when that differs (stores count an item seen
// under either as seen, so that the upgrade re-announces nothing).
//
// A URL (a permalink GUID, else the link) on the source's own site names
// the same publication whichever of the site's pages lists it, so an item
// on two of them is announced once: it is the canonical link, with scheme
// and a leading "www." left out of what makes it distinct. A URL on another
// site, a GUID that is not a URL, and a hash of title and date mean
// something only within their source: they are prefixed with the canonical
// source, so that feed B publishing GUID "42" cannot suppress feed A's item
// "42", and a source cannot pre-empt another site's predictable links by
// listing them first.
func publicationID(source, guid, link, title string, date time.Time) (id, legacy string) {
	legacy = legacyID(guid, link, title, date)
	g := strings.TrimSpace(guid)
	switch {
	case g != "" && isWebURL(g):
		id = urlID(source, g)
	case g != "":
		id = "guid:" + scope(source) + " " + g
	case normalizeLink(link) != "":
		if id = canonicalLink(link); !isWebURL(id) {
			id = "link:" + scope(source) + " " + id
		} else {
			id = urlID(source, link)
		}
	default:
		id = "sha256:" + titleDateHash(canonicalLink(source)+"\x00"+strings.TrimSpace(title), date)
	}
	if legacy == id {
		legacy = ""
	}
	return id, legacy
}

// urlID is the id of a publication named by the URL raw: the canonical
// link when it is on the source's own site (the same registrable domain),
// else the link scoped to the source.
func urlID(source, raw string) string {
	id := canonicalLink(raw)
	if site(id) != "" && site(id) == site(canonicalLink(source)) {
		return id
	}
	return "via:" + scope(source) + " " + id
}

// scope is how a source prefixes the ids that mean something only within
// it: its canonical URL as redact shows it, because ids are logged and
// stored in the clear, and a source's ?apikey= must not be.
func scope(source string) string { return redact.URL(canonicalLink(source)) }

// site is the registrable domain of an http(s) URL's host (rusemb.org.uk
// for www.rusemb.org.uk), or the host itself when it has none (an IP
// address, localhost).
func site(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
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
