package poller

import (
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

func TestClampDate(t *testing.T) {
	seen := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		date, want time.Time
	}{
		{"no date", time.Time{}, time.Time{}},
		{"past", seen.AddDate(0, -1, 0), seen.AddDate(0, -1, 0)},
		{"tomorrow in another time zone", seen.Add(23 * time.Hour), seen.Add(23 * time.Hour)},
		{"exactly a day ahead", seen.Add(24 * time.Hour), seen.Add(24 * time.Hour)},
		{"more than a day ahead", seen.Add(25 * time.Hour), seen},
		{"year 9999", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), seen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClampDate(tt.date, seen); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestExtractClampsFutureDates: an item dated 9999 is recorded as of the
// time it was seen; its id, made from what the source says, is unchanged.
func TestExtractClampsFutureDates(t *testing.T) {
	cat, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	feed := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://example.org/</link>
<item><title>Forever on top</title><link>https://example.org/9999</link><pubDate>Fri, 31 Dec 9999 00:00:00 GMT</pubDate></item>
<item><title>Tomorrow in Moscow</title><link>https://example.org/tomorrow</link><pubDate>Wed, 02 Dec 2026 02:00:00 +0300</pubDate></item>
</channel></rss>`
	pubs, _, err := Extract(&fetch.Response{Body: []byte(feed), ContentType: "application/rss+xml", FinalURL: "https://example.org/feed"},
		Source{URL: "https://example.org/feed"}, cat, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != 2 {
		t.Fatalf("got %d publications, want 2", len(pubs))
	}
	if !pubs[0].Date.Equal(now) {
		t.Errorf("item dated 9999: date %v, want the time it was seen, %v", pubs[0].Date, now)
	}
	if pubs[0].ID != "https://example.org/9999" {
		t.Errorf("item dated 9999: id %q, want its link", pubs[0].ID)
	}
	if want := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC); !pubs[1].Date.Equal(want) {
		t.Errorf("item dated tomorrow: date %v, want it kept, %v", pubs[1].Date, want)
	}
}
