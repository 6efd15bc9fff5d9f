package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// Pub is publication id of category cat, published on day of October 2017.
func Pub(id, cat string, day int) poller.Publication {
	return poller.Publication{
		ID: id, Source: "https://example.org/list", URL: "https://example.org/" + id,
		Title: "Title <" + id + "> & \"quotes\"", Date: time.Date(2017, 10, day, 0, 0, 0, 0, time.UTC),
		Category: cat, Summary: "teaser of " + id, SeenAt: t0,
	}
}

// IDs lists the ids of pubs, comma-separated.
func IDs(pubs []poller.Publication) string {
	out := make([]string, len(pubs))
	for i, p := range pubs {
		out[i] = p.ID
	}
	return strings.Join(out, ",")
}

func testPublicationStore(t *testing.T, open func(t *testing.T) PollerStore) {
	ctx := context.Background()
	const src = "https://example.org/list"
	page := []poller.Publication{Pub("c", "statements", 11), Pub("b", "comments", 10), Pub("a", "statements", 9)}

	t.Run("first poll is silent but fills latest", func(t *testing.T) {
		s := open(t)
		fresh, err := recordPubs(ctx, s, src, page, poller.Validators{ETag: `"v1"`}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(fresh) != 0 {
			t.Fatalf("first poll announced %s, want nothing", IDs(fresh))
		}
		latest, err := s.Latest(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := IDs(latest), "c,b,a"; got != want {
			t.Fatalf("latest %s, want %s", got, want)
		}
		if latest[0] != page[0] {
			t.Fatalf("stored %+v, want %+v", latest[0], page[0])
		}
		cat, err := s.Latest(ctx, "statements", 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := IDs(cat), "c,a"; got != want {
			t.Fatalf("latest statements %s, want %s", got, want)
		}
		v, err := s.Validators(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		if v.ETag != `"v1"` {
			t.Fatalf("etag %q, want %q", v.ETag, `"v1"`)
		}
	})

	t.Run("new item announced once; reorder and return are not new", func(t *testing.T) {
		s := open(t)
		MustRecord(t, s, src, page, t0)
		next := append([]poller.Publication{Pub("d", "briefings", 12)}, page...)
		if got := IDs(MustRecord(t, s, src, next, t0.Add(time.Minute))); got != "d" {
			t.Fatalf("announced %q, want d", got)
		}
		if got := IDs(MustRecord(t, s, src, next, t0.Add(2*time.Minute))); got != "" {
			t.Fatalf("same page again announced %q, want nothing", got)
		}
		reordered := []poller.Publication{next[3], next[1], next[0], next[2]}
		if got := IDs(MustRecord(t, s, src, reordered, t0.Add(3*time.Minute))); got != "" {
			t.Fatalf("reordered page announced %q, want nothing", got)
		}
		if got := IDs(MustRecord(t, s, src, next[:1], t0.Add(4*time.Minute))); got != "" {
			t.Fatalf("shrunk page announced %q, want nothing", got)
		}
		if got := IDs(MustRecord(t, s, src, next, t0.Add(5*time.Minute))); got != "" {
			t.Fatalf("items coming back announced %q, want nothing", got)
		}
	})

	t.Run("duplicate ids within one response count once", func(t *testing.T) {
		s := open(t)
		MustRecord(t, s, src, page, t0)
		dup := []poller.Publication{Pub("e", "other", 13), Pub("e", "other", 13), Pub("c", "statements", 11)}
		if got := IDs(MustRecord(t, s, src, dup, t0.Add(time.Minute))); got != "e" {
			t.Fatalf("announced %q, want e", got)
		}
	})

	t.Run("an item shown by a second source is not announced again", func(t *testing.T) {
		s := open(t)
		MustRecord(t, s, src, page, t0)
		MustRecord(t, s, "https://example.org/other", []poller.Publication{Pub("z", "other", 1)}, t0)
		fresh := Pub("f", "statements", 14)
		if got := IDs(MustRecord(t, s, src, []poller.Publication{fresh}, t0.Add(time.Minute))); got != "f" {
			t.Fatalf("announced %q, want f", got)
		}
		if got := IDs(MustRecord(t, s, "https://example.org/other", []poller.Publication{fresh}, t0.Add(2*time.Minute))); got != "" {
			t.Fatalf("second source announced %q again", got)
		}
	})

	t.Run("seen ids are pruned by age, not while still listed", func(t *testing.T) {
		s := open(t)
		MustRecord(t, s, src, page, t0)
		keep := page[:1]
		later := t0.Add(200 * 24 * time.Hour)
		MustRecord(t, s, src, keep, later)
		// "b" and "a" left the page 400 days ago: forgotten, so they count as new.
		// "c" was listed 200 days ago: remembered.
		muchLater := later.Add(200 * 24 * time.Hour)
		if got := IDs(MustRecord(t, s, src, page, muchLater)); got != "a,b" {
			t.Fatalf("after pruning announced %q, want a,b (oldest first)", got)
		}
	})

	t.Run("concurrent records announce each item exactly once", func(t *testing.T) {
		s := open(t)
		MustRecord(t, s, src, page, t0)
		batch := append([]poller.Publication{Pub("g", "other", 15), Pub("h", "other", 16)}, page...)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for i := range 16 {
			wg.Go(func() {
				fresh, err := recordPubs(ctx, s, src, batch, poller.Validators{}, t0.Add(time.Duration(i)*time.Second))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, p := range fresh {
					counts[p.ID]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts["g"] != 1 || counts["h"] != 1 || len(counts) != 2 {
			t.Fatalf("announcements %v, want g and h once each", counts)
		}
	})

	t.Run("latest is capped", func(t *testing.T) {
		s := open(t)
		var many []poller.Publication
		for i := range 250 {
			p := Pub(fmt.Sprintf("id%03d", i), "other", 1)
			p.Date = p.Date.Add(time.Duration(i) * time.Hour)
			many = append(many, p)
		}
		MustRecord(t, s, src, many, t0)
		all, err := s.Latest(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 200 || all[0].ID != "id249" {
			t.Fatalf("latest holds %d items starting %s, want 200 starting id249", len(all), all[0].ID)
		}
		cat, err := s.Latest(ctx, "other", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(cat) != 100 {
			t.Fatalf("latest of category holds %d, want 100", len(cat))
		}
		if _, ok, err := s.Publication(ctx, "id249"); err != nil || !ok {
			t.Fatalf("Publication(id249) = %v, %v, want found", ok, err)
		}
	})

	t.Run("health", func(t *testing.T) {
		s := open(t)
		h := poller.Health{LastSuccess: t0, LastAttempt: t0.Add(time.Minute), LastError: "fetch: status 503", ConsecutiveFailures: 2}
		if err := s.SaveHealth(ctx, src, h); err != nil {
			t.Fatal(err)
		}
		all, err := s.SourceHealth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := all[src]
		if !got.LastSuccess.Equal(h.LastSuccess) || got.ConsecutiveFailures != 2 || got.LastError != h.LastError {
			t.Fatalf("health %+v, want %+v", got, h)
		}
		if got.Version != 1 {
			t.Fatalf("version after one save: got %d, want 1", got.Version)
		}
		// Every save counts, whatever the caller puts in Version.
		h.ConsecutiveFailures, h.Version = 3, 100
		if err := s.SaveHealth(ctx, src, h); err != nil {
			t.Fatal(err)
		}
		if all, err = s.SourceHealth(ctx); err != nil {
			t.Fatal(err)
		}
		if got := all[src]; got.Version != 2 || got.ConsecutiveFailures != 3 {
			t.Fatalf("after a second save: got version %d, %d failures, want 2, 3", got.Version, got.ConsecutiveFailures)
		}
	})
}

// MustRecord records one poll of src and returns what it queued.
func MustRecord(t *testing.T, s poller.Store, src string, pubs []poller.Publication, now time.Time) []poller.Publication {
	t.Helper()
	fresh, err := recordPubs(context.Background(), s, src, pubs, poller.Validators{}, now)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return fresh
}

// Taken reads and acknowledges what is queued for announcement, in order,
// and returns the publication ids comma-separated.
func Taken(t *testing.T, s delivery.Intake) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for {
		evs, err := s.NextPublications(ctx, "test", 100, -1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return strings.Join(out, ",")
		}
		for _, ev := range evs {
			out = append(out, ev.PublicationID)
			if err := s.AckPublications(ctx, ev.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Numbered returns publications prefix0.. prefix(n-1), newest first.
func Numbered(prefix string, n int, newest time.Time) []poller.Publication {
	out := make([]poller.Publication, n)
	for i := range out {
		id := prefix + strconv.Itoa(i)
		out[i] = poller.Publication{ID: id, Source: "https://example.org/list", URL: "https://example.org/" + id,
			Title: id, Date: newest.Add(-time.Duration(i) * time.Hour), Category: "statements", SeenAt: t0}
	}
	return out
}

// Record is RecordPoll, failing t on an error.
func Record(t *testing.T, s poller.Store, r poller.Recording) poller.Recorded {
	t.Helper()
	done, err := s.RecordPoll(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func testBurstGuard(t *testing.T, s PollerStore) {
	ctx := context.Background()
	const src = "https://example.org/list"
	poll := func(pubs []poller.Publication, at time.Time) poller.Recorded {
		return Record(t, s, poller.Recording{Source: src, Pubs: pubs, Now: at, BurstLimit: 20, BurstNewest: 5})
	}
	old := Numbered("old", 30, t0)
	if done := poll(old, t0); len(done.Queued) != 0 || done.Burst != nil {
		t.Fatalf("first poll: got %d queued, burst %v; want it silent", len(done.Queued), done.Burst)
	}

	// A redesign: 25 new links at once.
	page := append(Numbered("new", 25, t0.Add(48*time.Hour)), old...)
	done := poll(page, t0.Add(time.Minute))
	if len(done.Queued) != 0 || done.Burst == nil {
		t.Fatalf("burst: got %d queued, burst %v; want none queued and a burst", len(done.Queued), done.Burst)
	}
	b := *done.Burst
	if b.Count != 25 || b.Source != src || strings.Join(b.Newest, ",") != "new0,new1,new2,new3,new4" || b.ID == "" {
		t.Fatalf("burst: got %+v, want 25 of %s, newest new0..new4", b, src)
	}
	if got := Taken(t, s); got != "" {
		t.Fatalf("burst queued %q, want nothing", got)
	}
	if done := poll(page, t0.Add(2*time.Minute)); len(done.Queued) != 0 || done.Burst != nil {
		t.Fatalf("the page again: got %d queued, burst %v; want nothing: the burst was recorded as seen", len(done.Queued), done.Burst)
	}

	// Staff are told once, whichever replica asks first.
	listed, err := s.Bursts(ctx)
	if err != nil || len(listed) != 1 || listed[0].ID != b.ID || listed[0].Count != 25 || !listed[0].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Bursts: got %+v, %v; want the one burst", listed, err)
	}
	for i, want := range []bool{true, false} {
		if won, err := s.ClaimBurstNotice(ctx, b.ID, time.Hour); err != nil || won != want {
			t.Fatalf("claim %d: got %v, %v; want %v", i, won, err, want)
		}
	}
	if listed, err := s.Bursts(ctx); err != nil || len(listed) != 0 {
		t.Fatalf("Bursts after the notice: got %+v, %v; want none", listed, err)
	}

	// The button announces the newest five, once.
	got, ok, released, err := s.ReleaseBurst(ctx, b.ID)
	if err != nil || !ok || !released || !got.Released || got.Count != 25 {
		t.Fatalf("release: got %+v ok=%v released=%v %v; want released now", got, ok, released, err)
	}
	if q := Taken(t, s); q != "new4,new3,new2,new1,new0" {
		t.Fatalf("release queued %q, want new4..new0 (oldest first)", q)
	}
	if _, ok, released, err := s.ReleaseBurst(ctx, b.ID); err != nil || !ok || released {
		t.Fatalf("second release: got ok=%v released=%v %v; want found, not released again", ok, released, err)
	}
	if q := Taken(t, s); q != "" {
		t.Fatalf("second release queued %q, want nothing", q)
	}
	if _, ok, _, err := s.ReleaseBurst(ctx, "no-such-burst"); err != nil || ok {
		t.Fatalf("release of an unknown burst: got ok=%v %v, want not found", ok, err)
	}

	// At the limit nothing is held.
	page = append(Numbered("more", 20, t0.Add(96*time.Hour)), page...)
	if done := poll(page, t0.Add(3*time.Minute)); len(done.Queued) != 20 || done.Burst != nil {
		t.Fatalf("20 new: got %d queued, burst %v; want all 20 queued", len(done.Queued), done.Burst)
	}
	if q := Taken(t, s); !strings.HasPrefix(q, "more19,more18,") || strings.Count(q, ",") != 19 {
		t.Fatalf("20 new queued %q, want more19..more0 (oldest first)", q)
	}
}

// testBurstNoticeQuietPerSource: a feed that changes every id on every poll
// holds a burst each poll; staff are told of the first only, while another
// source's burst is still told, and the source's next burst once the quiet
// time is over.
func testBurstNoticeQuietPerSource(t *testing.T, s PollerStore) {
	ctx := context.Background()
	burst := func(src, prefix string, at time.Time) poller.Burst {
		t.Helper()
		pubs := Numbered(prefix, 25, at)
		for i := range pubs {
			pubs[i].Source = src
		}
		done := Record(t, s, poller.Recording{Source: src, Pubs: pubs, Now: at, BurstLimit: 20, BurstNewest: 5})
		if done.Burst == nil {
			t.Fatalf("%s %s: no burst held", src, prefix)
		}
		return *done.Burst
	}
	claim := func(b poller.Burst, quiet time.Duration) bool {
		t.Helper()
		won, err := s.ClaimBurstNotice(ctx, b.ID, quiet)
		if err != nil {
			t.Fatal(err)
		}
		return won
	}
	const a, other = "https://broken.example/feed", "https://example.org/list"
	for _, src := range []string{a, other} {
		if done := Record(t, s, poller.Recording{Source: src, Pubs: Numbered(src, 3, t0), Now: t0, BurstLimit: 20}); done.Burst != nil {
			t.Fatalf("first poll of %s held a burst", src)
		}
	}
	if !claim(burst(a, "p1-", t0.Add(time.Minute)), time.Hour) {
		t.Fatal("the first burst of a source: not to be told")
	}
	second := burst(a, "p2-", t0.Add(2*time.Minute))
	if claim(second, time.Hour) {
		t.Fatal("the next burst of the same source within the quiet hour: to be told again")
	}
	if listed, err := s.Bursts(ctx); err != nil || len(listed) != 0 {
		t.Fatalf("Bursts after a quieted one: got %+v, %v; want none left to tell", listed, err)
	}
	if !claim(burst(other, "o1-", t0.Add(3*time.Minute)), time.Hour) {
		t.Fatal("another source's burst: not to be told while the first source is quiet")
	}

	// A quiet time that is over lets the source's next burst be told; the
	// sleep is far longer than the millisecond it waits out.
	const src = "https://flaky.example/feed"
	Record(t, s, poller.Recording{Source: src, Pubs: Numbered("f", 3, t0), Now: t0, BurstLimit: 20})
	if !claim(burst(src, "q1-", t0.Add(time.Minute)), time.Millisecond) {
		t.Fatal("first burst of the flaky source: not to be told")
	}
	time.Sleep(20 * time.Millisecond)
	if !claim(burst(src, "q2-", t0.Add(2*time.Minute)), time.Hour) {
		t.Fatal("a burst after the quiet time: not to be told")
	}
}

func testRecordPollInChunks(t *testing.T, s PollerStore) {
	const src = "https://example.org/list"
	first := Numbered("a", 1000, t0)
	if done := Record(t, s, poller.Recording{Source: src, Pubs: first, Now: t0}); len(done.Queued) != 0 {
		t.Fatalf("first poll queued %d, want none", len(done.Queued))
	}
	// New items on both sides of chunk boundaries, one of them twice.
	next := Numbered("b", 3, t0.Add(time.Hour))
	next = append(next, first[:150]...)
	next = append(next, Numbered("c", 1, t0.Add(-2000*time.Hour))...)
	next = append(next, first[150:]...)
	next = append(next, next[0])
	done := Record(t, s, poller.Recording{Source: src, Pubs: next, Now: t0.Add(time.Minute)})
	if got := IDs(done.Queued); got != "c0,b2,b1,b0" {
		t.Fatalf("queued %q, want c0,b2,b1,b0 (oldest first)", got)
	}
	if got := Taken(t, s); got != "c0,b2,b1,b0" {
		t.Fatalf("announcement queue %q, want c0,b2,b1,b0 (oldest first)", got)
	}
}

// testSourcesKeepTheirOwnIDs polls feeds through the real poller: a GUID
// that is not a URL belongs to its feed, while one link listed by two
// sources of its own site, over either scheme, is one publication.
func testSourcesKeepTheirOwnIDs(t *testing.T, s PollerStore) {
	feeds := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title>%s</channel></rss>`, r.URL.Path, feeds[r.URL.Path])
	}))
	defer srv.Close()
	item := func(guid, link, title string) string {
		return fmt.Sprintf(`<item><guid isPermaLink="false">%s</guid><link>%s</link><title>%s</title></item>`, guid, link, title)
	}
	link := func(l, title string) string {
		return fmt.Sprintf(`<item><link>%s</link><title>%s</title></item>`, l, title)
	}
	a, b := poller.Source{URL: srv.URL + "/a"}, poller.Source{URL: srv.URL + "/b"}
	feeds["/a"] = item("1", "https://a.example.org/1", "A one")
	feeds["/b"] = item("1", "https://b.example.org/1", "B one")

	cat, err := category.New(category.Default())
	if err != nil {
		t.Fatal(err)
	}
	p := poller.New(poller.Params{Sources: []poller.Source{a, b}, Interval: time.Hour, Store: s,
		Fetcher: fetch.New(fetch.Config{}), Categorizer: cat})
	ctx := context.Background()
	poll := func(src poller.Source) string {
		t.Helper()
		fresh, err := p.Poll(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(fresh))
		for i, f := range fresh {
			out[i] = f.Title
		}
		return strings.Join(out, ",")
	}
	for _, src := range []poller.Source{a, b} {
		if got := poll(src); got != "" {
			t.Fatalf("first poll of %s announced %q, want nothing", src.URL, got)
		}
	}

	// B publishes GUID 42 first; A's own 42 must still be announced.
	feeds["/b"] = item("42", "https://b.example.org/42", "B forty-two") + feeds["/b"]
	if got := poll(b); got != "B forty-two" {
		t.Fatalf("B: announced %q, want B forty-two", got)
	}
	feeds["/a"] = item("42", "https://a.example.org/42", "A forty-two") + feeds["/a"]
	if got := poll(a); got != "A forty-two" {
		t.Fatalf("A after B's GUID 42: announced %q, want A forty-two", got)
	}

	// One page of the sources' own site listed by both, over https and
	// over http with a trailing slash (www. is left out of ids the same
	// way; TestPublicationID covers it).
	host := strings.TrimPrefix(srv.URL, "http://")
	feeds["/a"] = link("https://"+host+"/fnapr/7000", "Shared") + feeds["/a"]
	feeds["/b"] = link("http://"+host+"/fnapr/7000/", "Shared") + feeds["/b"]
	if got := poll(a); got != "Shared" {
		t.Fatalf("A: announced %q, want Shared", got)
	}
	if got := poll(b); got != "" {
		t.Fatalf("B listing the same page over http announced %q, want nothing", got)
	}

	if got := Taken(t, s); strings.Count(got, ",") != 2 {
		t.Fatalf("queued %q, want three publications", got)
	}
}
