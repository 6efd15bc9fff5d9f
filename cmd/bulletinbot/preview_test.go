package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestPreviewSeedPage runs `bulletinbot preview --json` against a local copy
// of the embassy's list page.
func TestPreviewSeedPage(t *testing.T) {
	page, err := os.ReadFile("../../poller/parse/testdata/embassy-newarh.html")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/newarh/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	defer srv.Close()

	var stdout, stderr bytes.Buffer
	code := realMain(context.Background(), []string{"preview", "--json", srv.URL + "/newarh/"}, env(nil), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	want := []struct{ date, category, titlePrefix string }{
		{"2017-10-16", "comments", "First Deputy Foreign Minister Vladimir Titov"},
		{"2017-10-11", "press-releases", "Press release on Deputy Foreign Minister Igor Morgulov"},
		{"2017-10-11", "statements", "Foreign Ministry statement on the situation in the Autonomous Community of Catalonia"},
		{"2017-10-10", "speeches", "Foreign Minister Sergey Lavrov’s opening remarks"},
		{"2017-10-10", "press-releases", "Press release on Foreign Minister Sergey Lavrov’s telephone conversation"},
		{"2017-10-09", "other", "Russian Energy Week Forum plenary session"},
		{"2017-10-09", "comments", "Comment by the Information and Press department"},
		{"2017-10-06", "comments", "Embassy Press Officer on the adoption of the Ukrainian law"},
		{"2017-10-06", "interviews", "Interview of Foreign Minister Sergey Lavrov with the Asharq Al-Awsat"},
		{"2017-10-05", "briefings", "Briefing by Foreign Ministry Spokesperson Maria Zakharova"},
	}
	var got []previewLine
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var l previewLine
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, l)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d publications, want %d:\n%s", len(got), len(want), stdout.String())
	}
	for i, w := range want {
		g := got[i]
		if g.Date != w.date || g.Category != w.category || !strings.HasPrefix(g.Title, w.titlePrefix) {
			t.Errorf("publication %d = %s %s %q, want %s %s %q…", i, g.Date, g.Category, g.Title, w.date, w.category, w.titlePrefix)
		}
		u, err := url.Parse(g.URL)
		if err != nil || !u.IsAbs() || u.Host == "" || g.ID == "" || g.Summary == "" {
			t.Errorf("publication %d: url %q id %q summary %q; want an absolute link, an id and a teaser", i, g.URL, g.ID, g.Summary)
		}
	}
}

func TestPreviewFetchErrorIsOneLine(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := realMain(context.Background(), []string{"preview", srv.URL + "/missing"}, env(nil), &stdout, &stderr)
	if code == 0 {
		t.Fatal("preview of a 404 exited 0")
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "404") {
		t.Fatalf("stderr %q, want one line naming the 404", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout %q, want nothing", stdout.String())
	}
}
