package parse

import (
	"net/url"
	"strconv"
	"strings"
)

// PageLink is a link of an HTML list's pager to another page of the same
// list: the same scheme, host and path as the page, another query (the
// embassy's "?…&start=10&ps=10&ppp=15"). A pager link is told by its text
// alone: a page number, or a word or arrow meaning "next".
type PageLink struct {
	URL    string
	Number int  // the page number its text shows; 0 for a "next" link
	Next   bool // its text means "next page"
}

// MaxPageLinks bounds the pager links one page yields.
const MaxPageLinks = 64

// maxPageNumber: a bigger number is not a page of a list.
const maxPageNumber = 100_000

// nextWords are the texts of "next page" links, case-folded. Arrows of
// more than one character ("»»»") usually mean "last page" and are left out.
var nextWords = map[string]bool{
	"next": true, "next page": true, "next »": true, "next ›": true, "older": true, "older posts": true,
	"»": true, "›": true, ">": true, "→": true,
	"следующая": true, "следующая страница": true, "далее": true, "вперед": true, "вперёд": true, "дальше": true,
	"следующая »": true, "далее »": true,
}

// pagerLinks returns the links of flow that lead to another page of the list
// at base, in document order, each URL once.
func pagerLinks(flow []flowItem, base string) []PageLink {
	b := parseBase(base)
	if b == nil {
		return nil
	}
	var out []PageLink
	seen := map[string]bool{}
	for _, it := range flow {
		if it.kind != flowLink || it.href == "" || len(out) == MaxPageLinks {
			continue
		}
		u, err := url.Parse(it.href)
		if err != nil || u.Scheme != b.Scheme || !strings.EqualFold(u.Host, b.Host) || strings.TrimSuffix(u.Path, "/") != strings.TrimSuffix(b.Path, "/") {
			continue
		}
		u.Fragment = ""
		if u.RawQuery == b.RawQuery {
			continue // the page itself
		}
		label := strings.ToLower(collapse(it.text))
		link := PageLink{URL: u.String()}
		if n, err := strconv.Atoi(label); err == nil && n > 0 && n <= maxPageNumber {
			link.Number = n
		} else if nextWords[label] {
			link.Next = true
		} else {
			continue
		}
		key := link.URL + "\x00" + strconv.Itoa(link.Number)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, link)
	}
	return out
}

// NextPage returns the URL of the page after page number current (1 for the
// list's first page) among pager, or "" when there is none: the link
// numbered current+1, else the one "next" link.
func NextPage(pager []PageLink, current int) string {
	var next []string
	for _, l := range pager {
		if l.Number == current+1 {
			return l.URL
		}
		if l.Next {
			next = append(next, l.URL)
		}
	}
	if len(next) == 1 {
		return next[0]
	}
	return ""
}
