package parse

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkEntries asserts what every caller relies on, whatever the input.
func checkEntries(t *testing.T, entries []Entry, err error) {
	t.Helper()
	if err != nil && len(entries) != 0 {
		t.Fatalf("got %d entries with error %v, want none", len(entries), err)
	}
	if err == nil && len(entries) == 0 {
		t.Fatal("got no entries and no error, want ErrNoEntries")
	}
	for i, e := range entries {
		if e.Title == "" || e.Title != strings.TrimSpace(e.Title) || !utf8.ValidString(e.Title) {
			t.Errorf("entry %d: got title %q, want non-empty trimmed UTF-8", i, e.Title)
		}
		if n := utf8.RuneCountInString(e.Title); n > MaxTitleRunes {
			t.Errorf("entry %d: got a %d-rune title, want at most %d", i, n, MaxTitleRunes)
		}
		if n := utf8.RuneCountInString(e.Summary); n > MaxSummaryRunes || !utf8.ValidString(e.Summary) {
			t.Errorf("entry %d: got a %d-rune summary (valid UTF-8: %v), want at most %d", i, n, utf8.ValidString(e.Summary), MaxSummaryRunes)
		}
		u, perr := url.Parse(e.Link)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Errorf("entry %d: got link %q, want an absolute http(s) URL", i, e.Link)
		}
		if !e.Date.IsZero() && e.Date.Location().String() != "UTC" {
			t.Errorf("entry %d: got date %v, want UTC", i, e.Date)
		}
	}
}

func FuzzParseHTML(f *testing.F) {
	f.Add(string(readFixture(f, "embassy-newarh.html")))
	f.Add(string(readFixture(f, "embassy-ru-cp1251.html")))
	for _, s := range []string{
		"",
		`<p>16.10.2017 - <a href="/a">T</a></p><p>teaser</p>`,
		`<base href="//x"><p>01.01.2017<a href="b">x</a>`,
		`<a href="/x">05.05.2015 - y</a>`,
		`<p>31.02.2017 - <a href="javascript:x">j</a>`,
		`<table><tr><td>01.01.2017</td><td><a href="http://[::1]:80/a">A&amp;B &lt;c&gt;</a>`,
		"<p>01.01.2017 - <a href=\"/\x00\">\x00\xff</a>",
		strings.Repeat("<div>", 2000) + `01.01.2017 <a href="/deep">deep</a>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		entries, kind, err := Parse([]byte(body), "text/html", embassyBase, HTML)
		if kind != HTML {
			t.Errorf("kind: got %v, want %v", kind, HTML)
		}
		checkEntries(t, entries, err)
	})
}

func FuzzParse(f *testing.F) {
	for _, fx := range []struct{ file, contentType string }{
		{"embassy-newarh.html", "text/html; charset=utf-8"},
		{"embassy-ru-cp1251.html", ""},
		{"rss.xml", "application/rss+xml"},
		{"atom.xml", "application/atom+xml"},
		{"feed.json", "application/feed+json"},
		{"rss-noguid.xml", "text/xml"},
		{"rss-koi8r.xml", "text/xml; charset=koi8-r"},
		{"malformed.xml", ""},
	} {
		f.Add(readFixture(f, fx.file), fx.contentType)
	}
	f.Add([]byte("\xff\xfe<\x00r\x00s\x00s\x00>\x00"), "")
	f.Add([]byte(`{"items":[{"url":"javascript:x","title":"t"},{"url":"/ok","title":"<b>b</b>"}]}`), "application/json")
	f.Add([]byte(`<?xml version="1.0" encoding="bogus"?><rss><channel><item><link>/a</link></item></channel></rss>`), "text/xml; charset=bogus")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		entries, kind, err := Parse(body, contentType, "https://www.rusemb.org.uk/newarh/feed", Auto)
		if err == nil && kind == Auto {
			t.Errorf("kind: got %v with entries, want feed or html", kind)
		}
		checkEntries(t, entries, err)
	})
}

// FuzzFlatten checks the streaming reader's own promises on any markup: a
// bounded flow, no empty or doubled breaks, links resolved or emptied, and
// text that is a bounded slice of the input's text.
func FuzzFlatten(f *testing.F) {
	f.Add(string(readFixture(f, "embassy-newarh.html")))
	for _, s := range []string{
		strings.Repeat("<a><b><i><p>", 500),
		strings.Repeat("<svg><select>", 100) + `<p>01.01.2017 <a href="/x">x</a>`,
		`<head><title>t</title><base href="/b/"><p>01.01.2017 - <a href="x">head left open</a>`,
		`<a href="/a">one<a href="/b">two</a><table><td><a href="/c">cell</td></table>`,
		"<p>a&amp;b\r\n\x00<a href=\"javascript:x\">j</a><br><br></p>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		flow := flatten(text, embassyBase)
		if len(flow) > maxFlowItems {
			t.Fatalf("got %d flow items, want at most %d", len(flow), maxFlowItems)
		}
		for i, it := range flow {
			switch it.kind {
			case flowBreak:
				if i == 0 || flow[i-1].kind == flowBreak {
					t.Fatalf("item %d: a break at the start or after a break", i)
				}
			case flowLink:
				if it.href != "" && parseBase(it.href) == nil {
					t.Fatalf("item %d: link %q is neither resolved nor empty", i, it.href)
				}
				if len(it.text) > maxLinkText {
					t.Fatalf("item %d: link text of %d bytes, want at most %d", i, len(it.text), maxLinkText)
				}
			case flowText:
				if len(it.text) > maxItemText || it.text == "" {
					t.Fatalf("item %d: text of %d bytes, want 1 to %d", i, len(it.text), maxItemText)
				}
			}
		}
	})
}
