package poller

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"
)

// publicationID names an item stably across polls: its GUID, else its
// normalised link, else a hash of its title and date. Feeds without <guid>
// therefore still give every item its own id.
func publicationID(guid, link, title string, date time.Time) string {
	if g := strings.TrimSpace(guid); g != "" {
		return g
	}
	if l := normalizeLink(link); l != "" {
		return l
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(title) + "\x00" + date.UTC().Format("2006-01-02")))
	return "sha256:" + hex.EncodeToString(sum[:16])
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
