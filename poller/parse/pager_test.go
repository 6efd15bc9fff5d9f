package parse

import (
	"os"
	"slices"
	"strconv"
	"testing"
)

func TestPagerOfEmbassyPage(t *testing.T) {
	body, err := os.ReadFile("testdata/embassy-newarh.html")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Read(body, "text/html; charset=utf-8", "https://www.rusemb.org.uk/newarh/", HTML)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int
	for _, l := range r.Pager {
		numbers = append(numbers, l.Number)
	}
	if !slices.Equal(numbers, []int{1, 2, 3}) {
		t.Errorf("pager numbers = %v, want [1 2 3] (the »»» link is not a next link)", numbers)
	}
	if got, want := NextPage(r.Pager, 1), "https://www.rusemb.org.uk/newarh/?page=2"; got != want {
		t.Errorf("NextPage(1) = %q, want %q", got, want)
	}
	if got := NextPage(r.Pager, 3); got != "" {
		t.Errorf("NextPage(3) = %q, want none", got)
	}
}

func TestPagerLinks(t *testing.T) {
	const base = "https://www.rusemb.org.uk/newarh/?lang=en"
	tests := []struct {
		name    string
		page    string
		current int
		want    string
	}{
		{"embassy start/ps/ppp, numbered", `<a href="/newarh/?lang=en&amp;start=10&amp;ps=10&amp;ppp=15">2</a> <a href="/newarh/?lang=en&amp;start=20&amp;ps=10&amp;ppp=15">3</a>`,
			1, "https://www.rusemb.org.uk/newarh/?lang=en&start=10&ps=10&ppp=15"},
		{"second page to third", `<a href="/newarh/?lang=en&amp;start=0">1</a> <a href="/newarh/?lang=en&amp;start=20">3</a>`,
			2, "https://www.rusemb.org.uk/newarh/?lang=en&start=20"},
		{"next word in Russian", `<a href="/newarh/?lang=en&amp;p=2">Следующая</a>`, 1, "https://www.rusemb.org.uk/newarh/?lang=en&p=2"},
		{"another path is no pager", `<a href="/other/?start=10">2</a>`, 1, ""},
		{"another host is no pager", `<a href="https://evil.example/newarh/?start=10">2</a>`, 1, ""},
		{"the page itself is no pager", `<a href="/newarh/?lang=en">2</a>`, 1, ""},
		{"last-page arrows are not next", `<a href="/newarh/?lang=en&amp;p=9">»»»</a>`, 1, ""},
		{"two different next links: none", `<a href="/newarh/?p=2">»</a> <a href="/newarh/?p=3">next</a>`, 1, ""},
		{"a number beyond any list", `<a href="/newarh/?p=2">100001</a>`, 100000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := `<html><body><p>01.02.2017 - <a href="/fnapr/1">Title</a></p><p class="pages">` + tt.page + `</p></body></html>`
			r, err := Read([]byte(page), "text/html", base, HTML)
			if err != nil {
				t.Fatal(err)
			}
			if got := NextPage(r.Pager, tt.current); got != tt.want {
				t.Errorf("NextPage = %q, want %q (pager %+v)", got, tt.want, r.Pager)
			}
		})
	}
}

func TestPagerBounded(t *testing.T) {
	page := []byte(`<p>01.02.2017 - <a href="/fnapr/1">Title</a></p>`)
	for i := range 500 {
		page = append(page, []byte(` <a href="/newarh/?start=`+strconv.Itoa(i)+`">`+strconv.Itoa(i+1)+`</a>`)...)
	}
	r, err := Read(page, "text/html", "https://www.rusemb.org.uk/newarh/", HTML)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Pager) != MaxPageLinks {
		t.Errorf("got %d pager links, want %d", len(r.Pager), MaxPageLinks)
	}
}
