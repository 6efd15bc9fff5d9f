package poller

import (
	"testing"
	"time"
)

func TestPublicationID(t *testing.T) {
	day := time.Date(2017, 10, 16, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, guid, link, title string
		want                    string
	}{
		{"guid wins", " urn:x:1 ", "https://e.org/a", "T", "urn:x:1"},
		{"link normalised", "", "HTTPS://WWW.Rusemb.org.uk:443/fnapr/6571/?utm_source=x&b=2&a=1#top", "T", "https://www.rusemb.org.uk/fnapr/6571?a=1&b=2"},
		{"root path kept", "", "http://e.org/", "T", "http://e.org/"},
		{"other port kept", "", "http://e.org:8080/x", "T", "http://e.org:8080/x"},
		{"userinfo dropped", "", "https://user:pw@e.org/x", "T", "https://e.org/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := publicationID(tt.guid, tt.link, tt.title, day); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPublicationIDWithoutGUIDOrLinkHashesTitleAndDate(t *testing.T) {
	day := time.Date(2017, 10, 16, 0, 0, 0, 0, time.UTC)
	a := publicationID("", "", "Statement", day)
	if a != publicationID("", "", " Statement ", day.Add(3*time.Hour)) {
		t.Fatal("same title and day gave different ids")
	}
	if a == publicationID("", "", "Statement", day.AddDate(0, 0, 1)) {
		t.Fatal("another day gave the same id")
	}
	if a == publicationID("", "", "Other statement", day) {
		t.Fatal("another title gave the same id")
	}
}
