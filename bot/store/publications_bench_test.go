package store_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// BenchmarkPollEmbassyPage measures one poll of the embassy's list page
// (the seed page's ten publications) against real Redis: answered with 304,
// and served in full with nothing new (fetch, parse, categorize, diff).
func BenchmarkPollEmbassyPage(b *testing.B) {
	page, err := os.ReadFile("../../poller/parse/testdata/embassy-newarh.html")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		conditional bool
	}{{"304", true}, {"unchanged-200", false}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.conditional && r.Header.Get("If-None-Match") == `"v1"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", `"v1"`)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write(page)
			}))
			defer srv.Close()
			cat, err := category.New(category.Default())
			if err != nil {
				b.Fatal(err)
			}
			src := poller.Source{URL: srv.URL + "/newarh/"}
			for name, open := range map[string]func(b *testing.B) conformance.PollerStore{
				"redis": func(b *testing.B) conformance.PollerStore { return openRedis(b) },
				"bolt":  func(b *testing.B) conformance.PollerStore { return pubOpenBolt(b, b.TempDir()) },
			} {
				b.Run(name, func(b *testing.B) {
					p := poller.New(poller.Params{Sources: []poller.Source{src}, Interval: time.Hour, Store: open(b),
						Fetcher: fetch.New(fetch.Config{}), Categorizer: cat})
					ctx := context.Background()
					if _, err := p.Poll(ctx, src); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						fresh, err := p.Poll(ctx, src)
						if err != nil || len(fresh) != 0 {
							b.Fatalf("poll = %d new, %v; want nothing new", len(fresh), err)
						}
					}
				})
			}
		})
	}
}
