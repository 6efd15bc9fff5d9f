package poller

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
	"github.com/bulletinbot/bulletinbot/poller/parse"
)

// heapBudget is what reading one hostile page may add to the heap: the k8s
// manifest gives the whole process 128Mi.
const heapBudget = 64 << 20

// hostilePage is a page built to exhaust a parser, served as a source would.
type hostilePage struct {
	name    string
	body    []byte // as served
	gzipped bool
	entries int // entries read from it
	cut     int // entries beyond parse.MaxEntries (reading may stop before counting all)
}

// entriesPage lists n publications, newest first, each with a teaser.
func entriesPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<html><body><h1>Archive</h1>\n")
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "<p>%s - <a href=\"/n/%d\">Publication %d</a></p><p>Teaser %d.</p>\n",
			day.AddDate(0, 0, -i%3000).Format("02.01.2006"), i, i, i)
	}
	b.WriteString("</body></html>")
	return b.Bytes()
}

// hostilePages builds each page only when asked, so that the others take
// no heap while one is measured.
func hostilePages() []func(testing.TB) hostilePage {
	return []func(testing.TB) hostilePage{nestedPage, feedPage, manyEntriesPage, gzipBombPage}
}

// nestedPage is the review's page: one real entry, then 9 MiB of misnested
// inline and block elements, which a tree builder turns into millions of
// nodes.
func nestedPage(testing.TB) hostilePage {
	return hostilePage{name: "nested 9 MiB", entries: 1, body: []byte(`<p>01.12.2026 - <a href="/real">Real entry</a></p>` +
		strings.Repeat("<a><b><i><p>", 9<<20/len("<a><b><i><p>")))}
}

func feedPage(testing.TB) hostilePage {
	var feed bytes.Buffer
	feed.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`)
	for i := range 50_000 {
		fmt.Fprintf(&feed, `<item><title>Item %d</title><link>https://example.org/n/%d</link><guid isPermaLink="false">g%d</guid>`+
			`<description>Teaser of item %d, a sentence or two long.</description></item>`, i, i, i, i)
	}
	feed.WriteString(`</channel></rss>`)
	return hostilePage{name: "feed of 50,000 items", body: feed.Bytes(), entries: parse.MaxEntries, cut: 50_000 - parse.MaxEntries}
}

func manyEntriesPage(testing.TB) hostilePage {
	return hostilePage{name: "50,000 entries", body: entriesPage(50_000), entries: parse.MaxEntries, cut: 50_000 - parse.MaxEntries}
}

// gzipBombPage is a few KiB on the wire, just under the 10 MiB cap once
// inflated, of entries (the most the flow can be made to hold).
func gzipBombPage(tb testing.TB) hostilePage {
	one := entriesPage(1)
	bomb := entriesPage(fetch.DefaultMaxBodyBytes / (len(one) - 40) * 95 / 100)
	bomb = bomb[:min(len(bomb), fetch.DefaultMaxBodyBytes-1)]
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := zw.Write(bomb); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return hostilePage{name: "gzip of 10 MiB", body: gz.Bytes(), gzipped: true, entries: parse.MaxEntries,
		cut: bytes.Count(bomb, []byte("<a href=")) - parse.MaxEntries}
}

func serveHostile(tb testing.TB, pg hostilePage) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if pg.gzipped {
			w.Header().Set("Content-Encoding", "gzip")
		}
		_, _ = w.Write(pg.body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// heapUse is what reading one page cost the heap.
type heapUse struct {
	allocated uint64 // bytes allocated: an upper bound of the heap's growth
	peak      uint64 // highest heap in use seen by sampling, over the start
}

// measureHeap runs f after a GC and reports what it allocated and the
// highest heap in use sampled while it ran.
func measureHeap(f func()) heapUse {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	base := read()

	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	peak = max(peak, read())
	runtime.ReadMemStats(&after)
	return heapUse{allocated: after.TotalAlloc - before.TotalAlloc, peak: peak - min(peak, base)}
}

func readHostile(tb testing.TB, f *fetch.Fetcher, url string) ([]Publication, int) {
	tb.Helper()
	resp, err := f.Fetch(context.Background(), fetch.Request{URL: url})
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := category.New(category.Default())
	if err != nil {
		tb.Fatal(err)
	}
	pubs, cut, err := Extract(resp, Source{URL: url}, cat, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return pubs, cut
}

// TestHostilePagesStayBounded fetches and reads each hostile page as a poll
// does and asserts the heap bound: on what was allocated, which the heap's
// growth cannot exceed, or else on the heap in use (garbage included, as the
// process's memory sees it) sampled every 200 µs. Under the race detector,
// which allocates several times as much, only what was read is checked.
func TestHostilePagesStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pages of 10 MiB")
	}
	f := fetch.New(fetch.Config{})
	for _, build := range hostilePages() {
		pg := build(t)
		t.Run(pg.name, func(t *testing.T) {
			srv := serveHostile(t, pg)
			var (
				pubs []Publication
				cut  int
			)
			use := measureHeap(func() { pubs, cut = readHostile(t, f, srv.URL) })
			if len(pubs) != pg.entries || (pg.cut == 0) != (cut == 0) || cut > pg.cut {
				t.Errorf("got %d entries and %d cut, want %d and at most %d, none only if %d", len(pubs), cut, pg.entries, pg.cut, pg.cut)
			}
			// What was allocated bounds the heap's growth exactly; when a
			// read allocates more than the budget, the sampled peak of the
			// heap in use is the measure.
			if !raceDetector && use.allocated > heapBudget && use.peak > heapBudget {
				t.Errorf("heap in use peaked %.1f MiB over its start reading the page (%.1f MiB allocated), want at most %d MiB",
					float64(use.peak)/(1<<20), float64(use.allocated)/(1<<20), heapBudget>>20)
			}
			t.Logf("allocated %.1f MiB, peak heap %.1f MiB", float64(use.allocated)/(1<<20), float64(use.peak)/(1<<20))
		})
	}
}

// BenchmarkHostilePages reports the heap one poll's fetch and read of each
// hostile page takes: peak-heap-MiB is the highest heap in use over its start
// (garbage included), alloc-MiB all it allocated.
func BenchmarkHostilePages(b *testing.B) {
	f := fetch.New(fetch.Config{})
	for _, build := range hostilePages() {
		pg := build(b)
		b.Run(strings.ReplaceAll(pg.name, " ", "_"), func(b *testing.B) {
			srv := serveHostile(b, pg)
			var peak, alloc uint64
			for b.Loop() {
				use := measureHeap(func() { readHostile(b, f, srv.URL) })
				peak, alloc = max(peak, use.peak), max(alloc, use.allocated)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(alloc)/(1<<20), "alloc-MiB")
		})
	}
}
