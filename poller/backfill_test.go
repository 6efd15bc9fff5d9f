package poller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// listPages serves an HTML list of pages pages, three entries each, with
// the embassy's pager (&start=N&ps=10&ppp=15), and counts the requests.
type listPages struct {
	mu       sync.Mutex
	pages    int
	requests []string
	at       []time.Time
	fail     int // fail this many requests first
}

const listURL = "https://www.rusemb.org.uk/newarh/?lang=en"

func (l *listPages) Fetch(_ context.Context, req fetch.Request) (*fetch.Response, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, req.URL)
	l.at = append(l.at, time.Now())
	if l.fail > 0 {
		l.fail--
		return nil, fmt.Errorf("fetch: connection refused")
	}
	page := 1
	if _, q, ok := strings.Cut(req.URL, "&start="); ok {
		var start int
		fmt.Sscanf(q, "%d", &start)
		page = start/10 + 1
	}
	var b strings.Builder
	b.WriteString("<html><body>")
	for i := range 3 {
		fmt.Fprintf(&b, "<p>%02d.10.2017 - <a href=\"/fnapr/p%d-%d\">Item %d of page %d</a></p><p>Teaser</p>", 28-page*3-i, page, i, i, page)
	}
	b.WriteString(`<p class="pages">`)
	for n := 1; n <= l.pages; n++ {
		fmt.Fprintf(&b, ` <a href="/newarh/?lang=en&amp;start=%d&amp;ps=10&amp;ppp=15">%d</a>`, (n-1)*10, n)
	}
	b.WriteString("</p></body></html>")
	return &fetch.Response{Body: []byte(b.String()), ContentType: "text/html; charset=utf-8", FinalURL: req.URL}, nil
}

// archiveMem is an ArchiveStore in memory.
type archiveMem struct {
	mu sync.Mutex
	m  map[string]Backfill
}

func (a *archiveMem) Backfill(_ context.Context, source string) (Backfill, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[source], nil
}

func (a *archiveMem) SaveBackfill(_ context.Context, source string, b Backfill) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[source] = b
	return nil
}

func TestBackfillReadsOlderPagesOncePolitely(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cat, err := category.New(category.Default())
		if err != nil {
			t.Fatal(err)
		}
		site := &listPages{pages: 5, fail: 1}
		store, archive := newMemStore(), &archiveMem{m: map[string]Backfill{}}
		p := New(Params{
			Interval: time.Minute, Store: store, Categorizer: cat, Fetcher: site,
			Jitter: func() float64 { return 0.5 }, BackfillPages: 2, Archive: archive,
			Backoff: fetch.Backoff{Base: 30 * time.Second, Max: time.Minute},
		})
		src := Source{URL: listURL}
		p.backfill(t.Context(), src) // returns once done

		want := []string{listURL, listURL, // the failed request, retried
			"https://www.rusemb.org.uk/newarh/?lang=en&start=10&ps=10&ppp=15",
			"https://www.rusemb.org.uk/newarh/?lang=en&start=20&ps=10&ppp=15"}
		if strings.Join(site.requests, "\n") != strings.Join(want, "\n") {
			t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(site.requests, "\n"), strings.Join(want, "\n"))
		}
		for i := 2; i < len(site.at); i++ {
			if gap := site.at[i].Sub(site.at[i-1]); gap < time.Minute*9/10 {
				t.Errorf("request %d came %v after the one before, want at least the interval's 54s", i, gap)
			}
		}
		if !store.seen["https://rusemb.org.uk/fnapr/p2-0"] || !store.seen["https://rusemb.org.uk/fnapr/p3-2"] {
			t.Errorf("pages 2 and 3 not recorded: %v", store.seen)
		}
		if store.seen["https://rusemb.org.uk/fnapr/p4-0"] || store.seen["https://rusemb.org.uk/fnapr/p1-0"] {
			t.Errorf("page 4 (beyond BackfillPages) or page 1 (the poll's) recorded by the backfill: %v", store.seen)
		}
		if len(store.inited) != 0 || len(store.validators) != 0 {
			t.Errorf("the backfill touched the source's state: %v %v", store.inited, store.validators)
		}
		if got := archive.m[listURL]; !got.Done {
			t.Errorf("progress = %+v, want done", got)
		}

		// A restart after it finished reads nothing.
		n := len(site.requests)
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		p.backfill(ctx, src)
		if len(site.requests) != n {
			t.Errorf("a finished backfill fetched again: %v", site.requests[n:])
		}
	})
}

func TestBackfillResumesAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cat, err := category.New(category.Default())
		if err != nil {
			t.Fatal(err)
		}
		site := &listPages{pages: 5}
		archive := &archiveMem{m: map[string]Backfill{listURL: {Next: "https://www.rusemb.org.uk/newarh/?lang=en&start=30&ps=10&ppp=15", Page: 4}}}
		store := newMemStore()
		p := New(Params{Interval: time.Minute, Store: store, Categorizer: cat, Fetcher: site,
			Jitter: func() float64 { return 0.5 }, BackfillPages: 10, Archive: archive})
		p.backfill(t.Context(), Source{URL: listURL})
		want := []string{"https://www.rusemb.org.uk/newarh/?lang=en&start=30&ps=10&ppp=15", "https://www.rusemb.org.uk/newarh/?lang=en&start=40&ps=10&ppp=15"}
		if strings.Join(site.requests, "\n") != strings.Join(want, "\n") {
			t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(site.requests, "\n"), strings.Join(want, "\n"))
		}
		if got := archive.m[listURL]; !got.Done {
			t.Errorf("progress = %+v, want done (page 5 is the last)", got)
		}
	})
}
