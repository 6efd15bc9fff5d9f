package poller

import (
	"testing"
	"time"
)

const (
	feedA, feedB = "https://a.example.org/feed.xml", "https://b.example.org/rss"
	embassyList  = "https://www.rusemb.org.uk/newarh/"
	eOrg         = "http://e.org/list"
)

func TestPublicationID(t *testing.T) {
	day := time.Date(2017, 10, 16, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, source, guid, link string
		want, legacy             string
	}{
		{"guid scoped to its source", feedA, " urn:x:1 ", "https://e.org/a",
			"guid:https://a.example.org/feed.xml urn:x:1", "urn:x:1"},
		{"source spelled with www and http is one source", "http://www.A.example.org/feed.xml", "42", "",
			"guid:https://a.example.org/feed.xml 42", "42"},
		{"permalink guid is a URL id", embassyList, "http://www.rusemb.org.uk/fnapr/1", "",
			"https://rusemb.org.uk/fnapr/1", "http://www.rusemb.org.uk/fnapr/1"},
		{"link normalised", embassyList, "", "HTTPS://WWW.Rusemb.org.uk:443/fnapr/6571/?utm_source=x&b=2&a=1#top",
			"https://rusemb.org.uk/fnapr/6571?a=1&b=2", "https://www.rusemb.org.uk/fnapr/6571?a=1&b=2"},
		{"already canonical: no legacy id", embassyList, "", "https://rusemb.org.uk/x", "https://rusemb.org.uk/x", ""},
		{"root path kept", eOrg, "", "http://e.org/", "https://e.org/", "http://e.org/"},
		{"other port kept", eOrg, "", "http://e.org:8080/x", "https://e.org:8080/x", "http://e.org:8080/x"},
		{"http default port on https", eOrg, "", "https://e.org:80/x", "https://e.org/x", "https://e.org:80/x"},
		{"IPv6 host", "http://[::1]/list", "", "http://[::1]:8080/x", "https://[::1]:8080/x", "http://[::1]:8080/x"},
		{"userinfo dropped", eOrg, "", "https://user:pw@e.org/x", "https://e.org/x", ""},
		{"www only at the start", "https://wwwx.org/", "", "https://wwwx.org/a", "https://wwwx.org/a", ""},
		{"a subdomain of the source's site is its site", "https://feeds.e.org/rss", "", "https://www.e.org/x", "https://e.org/x", "https://www.e.org/x"},
		{"a link on another site is scoped to the source", feedA, "", "https://www.rusemb.org.uk/fnapr/1",
			"via:https://a.example.org/feed.xml https://rusemb.org.uk/fnapr/1", "https://www.rusemb.org.uk/fnapr/1"},
		{"a guid's scope shows no secret of its source (ids are logged)", "http://alice:pw@feeds.example.org/rss?apikey=S3CRET&page=2", "42", "",
			"guid:https://feeds.example.org/rss?apikey=REDACTED&page=2 42", "42"},
		{"nor does a link's on another site", "https://a.example.org/feed.xml?token=S3CRET", "", "https://rusemb.org.uk/fnapr/1",
			"via:https://a.example.org/feed.xml?token=REDACTED https://rusemb.org.uk/fnapr/1", "https://rusemb.org.uk/fnapr/1"},
		{"a permalink guid on another site too", feedA, "http://rusemb.org.uk/fnapr/1", "",
			"via:https://a.example.org/feed.xml https://rusemb.org.uk/fnapr/1", "http://rusemb.org.uk/fnapr/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, legacy := publicationID(tt.source, tt.guid, tt.link, "T", day)
			if id != tt.want || legacy != tt.legacy {
				t.Fatalf("got %q (legacy %q), want %q (legacy %q)", id, legacy, tt.want, tt.legacy)
			}
		})
	}
}

func TestPublicationIDIsPerSourceUnlessAURL(t *testing.T) {
	day := time.Date(2017, 10, 16, 0, 0, 0, 0, time.UTC)
	a, _ := publicationID(feedA, "42", "https://a.example.org/42", "T", day)
	b, _ := publicationID(feedB, "42", "https://b.example.org/42", "T", day)
	if a == b {
		t.Fatalf("GUID 42 of two feeds: both got %q, want two ids", a)
	}
	// The embassy's two list pages overlap, on either host spelling.
	n, _ := publicationID("https://www.rusemb.org.uk/newarh/", "", "https://www.rusemb.org.uk/fnapr/1", "T", day)
	p, _ := publicationID("https://rusemb.org.uk/apress_arh/", "", "http://rusemb.org.uk/fnapr/1", "T", day)
	if n != p {
		t.Fatalf("one link on two pages: got %q and %q, want one id", n, p)
	}
	// Another site listing the embassy's next, predictable link first
	// cannot make the embassy's own item count as seen.
	hostile, _ := publicationID("https://evil.example/list", "", "https://www.rusemb.org.uk/fnapr/1", "T", day)
	if hostile == n {
		t.Fatalf("a foreign source listing the embassy's link got the embassy's id %q", n)
	}
}

func TestPublicationIDWithoutGUIDOrLinkHashesTitleAndDate(t *testing.T) {
	day := time.Date(2017, 10, 16, 0, 0, 0, 0, time.UTC)
	id := func(source, title string, d time.Time) string {
		got, _ := publicationID(source, "", "", title, d)
		return got
	}
	a := id(feedA, "Statement", day)
	if a != id(feedA, " Statement ", day.Add(3*time.Hour)) {
		t.Fatal("same title and day gave different ids")
	}
	if a == id(feedA, "Statement", day.AddDate(0, 0, 1)) {
		t.Fatal("another day gave the same id")
	}
	if a == id(feedA, "Other statement", day) {
		t.Fatal("another title gave the same id")
	}
	if a == id(feedB, "Statement", day) {
		t.Fatal("another source gave the same id")
	}
	if _, legacy := publicationID(feedA, "", "", "Statement", day); legacy != legacyID("", "", "Statement", day) || legacy == a {
		t.Fatalf("legacy id: got %q, want the old title-and-date hash, not %q", legacy, a)
	}
}
