package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/terms"
)

// BenchmarkSearch measures /search's store side on both stores: 2,000
// publications whose titles share a few common words (so that the query's
// stems each hold the full 500 entries kept), a query of two such words, one
// page of 5; and recording a chunk of 100 new publications with their index.
func BenchmarkSearch(b *testing.B) {
	words := []string{"паспорт", "визы", "консульский", "отдел", "visa", "passport", "briefing", "statement", "talks", "Moscow"}
	var pubs []poller.Publication
	for i := range 2000 {
		pubs = append(pubs, poller.Publication{ID: fmt.Sprintf("https://example.org/p/%d", i), URL: fmt.Sprintf("https://example.org/p/%d", i),
			Title:    fmt.Sprintf("%s %s %s number %d", words[i%10], words[(i/10)%10], words[(i/100)%10], i),
			Summary:  "The consular section informs citizens about new rules for passports and visas.",
			Date:     time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
			Category: "consular", SeenAt: t0})
	}
	for name, open := range map[string]func(b *testing.B) searchStore{
		"redis": func(b *testing.B) searchStore { return openRedis(b) },
		"bolt":  func(b *testing.B) searchStore { return pubOpenBolt(b, b.TempDir()) },
	} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b)
			for i := 0; i < len(pubs); i += 100 {
				if _, err := s.Record(ctx, "https://example.org/list", pubs[i:i+100], poller.Validators{}, t0); err != nil {
					b.Fatal(err)
				}
			}
			query, _ := terms.Query("паспорта визы", 8)
			b.Run("query", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					got, total, err := s.Search(ctx, query, 0, 5)
					if err != nil || len(got) != 5 || total != 50 {
						b.Fatalf("got %d of %d, %v", len(got), total, err)
					}
				}
			})
			b.Run("record-100", func(b *testing.B) {
				n := 0
				for b.Loop() {
					chunk := make([]poller.Publication, 100)
					for i := range chunk {
						p := pubs[i]
						p.ID = fmt.Sprintf("https://example.org/new/%d/%d", n, i)
						chunk[i] = p
					}
					n++
					if _, err := s.Record(ctx, "https://example.org/list", chunk, poller.Validators{}, t0); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
