package parse

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

const embassyBase = "https://www.rusemb.org.uk/newarh/"

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// compareEntries reports every field that differs, so one run shows all
// mismatches.
func compareEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		for i, e := range got {
			t.Logf("got[%d] = %q %q", i, e.Link, e.Title)
		}
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.GUID != w.GUID {
			t.Errorf("entry %d GUID: got %q, want %q", i, g.GUID, w.GUID)
		}
		if g.Link != w.Link {
			t.Errorf("entry %d Link: got %q, want %q", i, g.Link, w.Link)
		}
		if g.Title != w.Title {
			t.Errorf("entry %d Title: got %q, want %q", i, g.Title, w.Title)
		}
		if g.Summary != w.Summary {
			t.Errorf("entry %d Summary:\n got %q\nwant %q", i, g.Summary, w.Summary)
		}
		if !g.Date.Equal(w.Date) || g.Date.Location() != time.UTC {
			t.Errorf("entry %d Date: got %v, want %v", i, g.Date, w.Date)
		}
		if !slices.Equal(g.Categories, w.Categories) {
			t.Errorf("entry %d Categories: got %q, want %q", i, g.Categories, w.Categories)
		}
	}
}

func TestKind(t *testing.T) {
	for _, k := range []Kind{Auto, Feed, HTML} {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q): got %v, %v, want %v", k.String(), got, err, k)
		}
	}
	tests := []struct {
		in      string
		want    Kind
		wantErr bool
	}{
		{"", Auto, false},
		{" FEED ", Feed, false},
		{"Html", HTML, false},
		{"rss", Auto, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKind(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %v, %v, want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if got := Kind(7).String(); got != "Kind(7)" {
		t.Errorf("got %q, want %q", got, "Kind(7)")
	}
}

// embassyWant is the news archive page as a reader sees it: ten dated
// publications; the undated featured interview, header, menus, pager and
// footer are not publications.
var embassyWant = []Entry{
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6571",
		Title:   "First Deputy Foreign Minister Vladimir Titov’s answer to a media question regarding British Foreign Secretary Boris Johnson’s visit to Russia",
		Summary: "Question: The Foreign Office announced yesterday that Secretary of State for Foreign & Commonwealth Affairs Boris Johnson would visit Russia. Do you have any comments to make on this?",
		Date:    day(2017, time.October, 16),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6570",
		Title:   "Press release on Deputy Foreign Minister Igor Morgulov’s meeting with Deputy Foreign Minister of Afghanistan Hekmat Khalil Karzai",
		Summary: "On October 10, Deputy Foreign Minister Igor Morgulov met with visiting Deputy Foreign Minister of Afghanistan Hekmat Khalil Karzai, who arrived in Moscow to attend the SCO-Afghanistan Contact Group meeting.",
		Date:    day(2017, time.October, 11),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6569",
		Title:   "Foreign Ministry statement on the situation in the Autonomous Community of Catalonia, Spain",
		Summary: "Guided by the fundamental principles of international law, the Ministry of Foreign Affairs of the Russian Federation views the developments in Catalonia as the internal affair of Spain.",
		Date:    day(2017, time.October, 11),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6568",
		Title:   "Foreign Minister Sergey Lavrov’s opening remarks at the expanded meeting of the CIS Foreign Ministers Council, Sochi, October 10, 2017",
		Summary: "Foreign Minister Sergey Lavrov’s opening remarks at the expanded meeting of the CIS Foreign Ministers Council, Sochi, October 10, 2017",
		Date:    day(2017, time.October, 10),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6567",
		Title:   "Press release on Foreign Minister Sergey Lavrov’s telephone conversation with US Secretary of State Rex Tillerson",
		Summary: "On October 9, Foreign Minister Sergey Lavrov spoke by phone with US Secretary of State Rex Tillerson at the latter’s initiative.",
		Date:    day(2017, time.October, 10),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6566",
		Title:   "Russian Energy Week Forum plenary session",
		Summary: "President Putin attended a plenary session of the first Russian Energy Week (REW) Energy Efficiency and Energy Development International Forum.",
		Date:    day(2017, time.October, 9),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6565",
		Title:   "Comment by the Information and Press department on the upcoming meeting of the CIS Council of Foreign Ministers",
		Summary: "On October 10, a regular meeting of the CIS Council of Foreign Ministers will be held in Sochi within the framework of Russia’s CIS Chairmanship in 2017. The agenda is comprised of 18 topics covering a broad range of issues related to CIS cooperation. The CIS foreign ministers will discuss practical measures for promoting multilateral cooperation between the CIS countries and will exchange opinions on current international issues. The documents they will adopt following this meeting will be forwarded to the CIS Council of Heads of State.",
		Date:    day(2017, time.October, 9),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6564",
		Title:   "Embassy Press Officer on the adoption of the Ukrainian law “On education”",
		Summary: "On 25 September the President of Ukraine signed the discriminatory law “On education” that violates human rights and infringes the rights of hundreds of thousands of Ukrainian citizens belonging to national minorities.",
		Date:    day(2017, time.October, 6),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6563",
		Title:   "Interview of Foreign Minister Sergey Lavrov with the Asharq Al-Awsat Pan-Arab Newspaper, October 2017",
		Summary: "Question: Regarding the visit of the Custodian of the Two Holy Mosques to Russia, how do you assess the Russian-Saudi relations at the bilateral level and in terms of discussion over the region’s crises? Answer: We share the opinion that there is a need for further progressive development of multidimensional Saudi-Russian relations, including for the purpose of ensuring regional and global stability. Saudi Arabia and Russia maintain a confidential political dialogue, inter alia, at the highest and high levels. In early September, I paid a working visit to the Kingdom, during which I had an audience with King Salman and held talks with Foreign Minister Adel al-Jubeir. I am satisfied with the results.",
		Date:    day(2017, time.October, 6),
	},
	{
		Link:    "https://www.rusemb.org.uk/fnapr/6562",
		Title:   "Briefing by Foreign Ministry Spokesperson Maria Zakharova, Moscow, October 4, 2017",
		Summary: "It has to be stressed that this year the Ministry hired the largest number of university graduates in the last five years. All in all, 115 graduates have been hired this year.",
		Date:    day(2017, time.October, 5),
	},
}

func TestParseEmbassyPage(t *testing.T) {
	body := readFixture(t, "embassy-newarh.html")
	for _, kind := range []Kind{Auto, HTML} {
		t.Run(kind.String(), func(t *testing.T) {
			got, used, err := Parse(body, "text/html; charset=utf-8", embassyBase, kind)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if used != HTML {
				t.Errorf("kind: got %v, want %v", used, HTML)
			}
			compareEntries(t, got, embassyWant)
			for _, e := range got {
				for _, junk := range []string{"Pages", "«««", "all messages", "Moscow: 12:32", "Consular queries", "Site map", "©", "Enable JavaScript"} {
					if strings.Contains(e.Title, junk) || strings.Contains(e.Summary, junk) {
						t.Errorf("entry %q holds page furniture %q", e.Link, junk)
					}
				}
			}
		})
	}
}

var embassyRuWant = []Entry{
	{
		Link:    "https://www.rusemb.org.uk/ru/fnapr/6571",
		Title:   "Ответ первого заместителя Министра иностранных дел России В.Г.Титова на вопрос СМИ о визите в Россию Министра иностранных дел Великобритании Б.Джонсона",
		Summary: "Вопрос: Форин-офис объявил вчера о визите в Россию Министра иностранных дел Великобритании Б.Джонсона. Как Вы можете это прокомментировать?",
		Date:    day(2017, time.October, 16),
	},
	{
		Link:    "https://www.rusemb.org.uk/ru/fnapr/6569",
		Title:   "Заявление МИД России в связи с ситуацией в автономном сообществе Каталония, Испания",
		Summary: "Руководствуясь основополагающими принципами международного права, МИД России рассматривает события в Каталонии как внутреннее дело Испании.",
		Date:    day(2017, time.October, 11),
	},
	{
		Link:    "https://www.rusemb.org.uk/ru/fnapr/6564",
		Title:   "Пресс-атташе Посольства о принятии украинского закона «Об образовании» № 2145-VIII",
		Summary: "25 сентября Президент Украины подписал дискриминационный закон «Об образовании», ущемляющий права сотен тысяч граждан Украины.",
		Date:    day(2017, time.October, 6),
	},
}

// TestParseCharsets feeds the windows-1251 page with the charset announced
// in different places, and re-encodes it to other charsets.
func TestParseCharsets(t *testing.T) {
	cp1251 := readFixture(t, "embassy-ru-cp1251.html")
	if utf8.Valid(cp1251) {
		t.Fatal("fixture embassy-ru-cp1251.html must not be UTF-8")
	}
	utf8Page, err := charmap.Windows1251.NewDecoder().Bytes(cp1251)
	if err != nil {
		t.Fatal(err)
	}
	noMeta := []byte(strings.Replace(string(utf8Page), `<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">`, "", 1))
	koi8, err := charmap.KOI8R.NewEncoder().Bytes([]byte(strings.NewReplacer("«", `"`, "»", `"`, "№", "N", "©", "(c)", "—", "-").Replace(string(noMeta))))
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(noMeta)
	if err != nil {
		t.Fatal(err)
	}
	koi8Want := make([]Entry, len(embassyRuWant))
	copy(koi8Want, embassyRuWant)
	koi8Want[2].Title = `Пресс-атташе Посольства о принятии украинского закона "Об образовании" N 2145-VIII`
	koi8Want[2].Summary = `25 сентября Президент Украины подписал дискриминационный закон "Об образовании", ущемляющий права сотен тысяч граждан Украины.`

	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        []Entry
	}{
		{"meta only", cp1251, "", embassyRuWant},
		{"meta and header", cp1251, "text/html; charset=windows-1251", embassyRuWant},
		{"header wrongly says utf-8", cp1251, "text/html; charset=UTF-8", embassyRuWant},
		{"header only, koi8-r", koi8, "text/html; charset=koi8-r", koi8Want},
		{"utf-16 with BOM", utf16, "text/html", embassyRuWant},
		{"utf-8 without any declaration", noMeta, "", embassyRuWant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := Parse(tt.body, tt.contentType, "https://www.rusemb.org.uk/ru/newarh/", Auto)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if kind != HTML {
				t.Errorf("kind: got %v, want %v", kind, HTML)
			}
			compareEntries(t, got, tt.want)
		})
	}
}

func TestParseFeeds(t *testing.T) {
	tests := []struct {
		file        string
		contentType string
		base        string
		want        []Entry
	}{
		{
			file: "rss.xml", contentType: "application/rss+xml", base: "https://www.rusemb.org.uk/newarh/rss",
			want: []Entry{
				{
					GUID:       "rusemb-6571",
					Link:       "https://www.rusemb.org.uk/fnapr/6571",
					Title:      "First Deputy Foreign Minister Vladimir Titov’s answer to a media question regarding Boris Johnson’s visit to Russia",
					Summary:    "Question: The Foreign Office announced yesterday that Secretary of State for Foreign & Commonwealth Affairs Boris Johnson would visit Russia. Do you have any comments to make on this?",
					Date:       time.Date(2017, time.October, 16, 12, 20, 0, 0, time.UTC),
					Categories: []string{"Comments", "Russia & UK"},
				},
				{
					GUID:    "https://www.rusemb.org.uk/fnapr/6570",
					Link:    "https://www.rusemb.org.uk/fnapr/6570",
					Title:   `Q&A <draft> "x"`,
					Summary: `Plain text teaser: 2 < 3 & "quotes" stay.`,
					Date:    time.Date(2017, time.October, 11, 9, 0, 0, 0, time.UTC),
				},
				{
					GUID:    "rusemb-6569",
					Link:    "https://www.rusemb.org.uk/fnapr/6569",
					Title:   "Foreign Ministry statement on Catalonia, Spain",
					Summary: "Guided by the fundamental principles of international law, the Ministry views the developments in Catalonia as the internal affair of Spain.",
					Date:    time.Date(2017, time.October, 11, 9, 0, 0, 0, time.UTC),
				},
			},
		},
		{
			file: "atom.xml", contentType: "application/atom+xml", base: "https://www.rusemb.org.uk/apress_arh/atom.xml",
			want: []Entry{
				{
					GUID:       "tag:rusemb.org.uk,2017:6567",
					Link:       "https://www.rusemb.org.uk/fnapr/6567",
					Title:      "Press release on Sergey Lavrov’s telephone conversation with Rex Tillerson",
					Summary:    "On October 9, Foreign Minister Sergey Lavrov spoke by phone with US Secretary of State Rex Tillerson.",
					Date:       time.Date(2017, time.October, 10, 5, 15, 0, 0, time.UTC),
					Categories: []string{"Press releases", "usa"},
				},
				{
					GUID:    "tag:rusemb.org.uk,2017:6566",
					Link:    "https://www.rusemb.org.uk/fnapr/6566",
					Title:   `Russian Energy Week: Q&A <draft> "plenary"`,
					Summary: "President Putin attended a plenary session of the first Russian Energy Week.",
					Date:    time.Date(2017, time.October, 9, 18, 0, 0, 0, time.UTC),
				},
			},
		},
		{
			file: "feed.json", contentType: "application/feed+json", base: "https://www.rusemb.org.uk/newarh/feed.json",
			want: []Entry{
				{
					GUID:       "6565",
					Link:       "https://www.rusemb.org.uk/fnapr/6565",
					Title:      "Comment by the Information and Press department on the upcoming meeting of the CIS Council of Foreign Ministers",
					Summary:    "On October 10, a regular meeting of the CIS Council of Foreign Ministers will be held in Sochi.",
					Date:       time.Date(2017, time.October, 9, 7, 0, 0, 0, time.UTC),
					Categories: []string{"comments", "CIS"},
				},
				{
					GUID:    "6564",
					Link:    "https://www.rusemb.org.uk/fnapr/6564",
					Title:   "Embassy Press Officer on the adoption of the Ukrainian law “On education”",
					Summary: "On 25 September the President of Ukraine signed the law “On education”. It violates human rights.",
					Date:    time.Date(2017, time.October, 6, 16, 45, 0, 0, time.UTC),
				},
			},
		},
		{
			// Items without <guid> keep their own links, so they stay
			// distinct even with identical titles.
			file: "rss-noguid.xml", contentType: "text/xml", base: "https://www.rusemb.org.uk/consul/rss.xml",
			want: []Entry{
				{Link: "https://www.rusemb.org.uk/consul/notice-1", Title: "Consular section closed on 4 November", Date: time.Date(2017, time.November, 2, 10, 0, 0, 0, time.UTC)},
				{Link: "https://www.rusemb.org.uk/consul/notice-2", Title: "Consular section closed on 4 November", Date: time.Date(2017, time.November, 3, 10, 0, 0, 0, time.UTC)},
				{Link: "https://www.rusemb.org.uk/consul/notice-3", Title: "New visa application forms"},
			},
		},
		{
			// The charset is named only by the XML declaration.
			file: "rss-koi8r.xml", contentType: "application/xml", base: "https://www.rusemb.org.uk/ru/rss.xml",
			want: []Entry{{
				GUID:       "ru-6562",
				Link:       "https://www.rusemb.org.uk/ru/fnapr/6562",
				Title:      "Брифинг официального представителя МИД России М.В.Захаровой, Москва, 4 октября 2017 года",
				Summary:    "Следует подчеркнуть, что в этом году Министерство приняло на работу рекордное число выпускников вузов: всего 115 человек. Ёлка.",
				Date:       time.Date(2017, time.October, 5, 6, 0, 0, 0, time.UTC),
				Categories: []string{"Брифинги"},
			}},
		},
	}
	for _, tt := range tests {
		for _, kind := range []Kind{Auto, Feed} {
			t.Run(tt.file+"/"+kind.String(), func(t *testing.T) {
				got, used, err := Parse(readFixture(t, tt.file), tt.contentType, tt.base, kind)
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if used != Feed {
					t.Errorf("kind: got %v, want %v", used, Feed)
				}
				compareEntries(t, got, tt.want)
			})
		}
	}
}

// TestParseFeedServedAsHTML: servers often send feeds as text/html; the
// body decides.
func TestParseFeedServedAsHTML(t *testing.T) {
	got, kind, err := Parse(readFixture(t, "rss.xml"), "text/html; charset=utf-8", "https://www.rusemb.org.uk/rss", Auto)
	if err != nil || kind != Feed || len(got) != 3 {
		t.Errorf("got %d entries, kind %v, error %v, want 3, feed, none", len(got), kind, err)
	}
}

func TestParseBadInput(t *testing.T) {
	htmlPage := "<!DOCTYPE html><html><head><title>Service unavailable</title></head><body><h1>Sorry</h1><p>Try again later.</p></body></html>"
	tests := []struct {
		name        string
		body        string
		contentType string
		kind        Kind
		wantKind    Kind
		wantIs      error  // nil: any error
		wantMsg     string // substring of the error
	}{
		{name: "empty", body: "", kind: Auto, wantKind: Auto, wantIs: ErrEmptyBody},
		{name: "whitespace", body: " \r\n\t ", kind: Feed, wantKind: Feed, wantIs: ErrEmptyBody},
		{name: "binary junk", body: "\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n", kind: Auto, wantKind: Auto, wantIs: ErrUnknownFormat},
		{name: "binary junk as feed", body: "\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n", kind: Feed, wantKind: Feed, wantMsg: "parse: feed: "},
		{name: "malformed feed file", body: string(readFixture(t, "malformed.xml")), kind: Auto, wantKind: Feed, wantMsg: "parse: feed: XML syntax error"},
		{name: "malformed feed forced", body: string(readFixture(t, "malformed.xml")), kind: Feed, wantKind: Feed, wantMsg: "parse: feed: XML syntax error"},
		{name: "truncated atom", body: `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x</title><link href="/a"/>`, kind: Auto, wantKind: Feed, wantMsg: "parse: feed: XML syntax error"},
		{name: "broken root", body: `<?xml version="1.0"?><rss<<>>`, kind: Auto, wantKind: Feed, wantMsg: "parse: feed: XML syntax error"},
		{name: "xml that is no feed", body: `<?xml version="1.0" encoding="windows-1251"?><config><x>1</x></config>`, kind: Auto, wantKind: Feed, wantMsg: "root element <config> is not RSS, Atom or JSON Feed"},
		{name: "truncated json feed", body: `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"/x"`, kind: Auto, wantKind: Feed, wantMsg: "parse: feed: "},
		{name: "json that is no feed", body: `{"error":"rate limited"}`, kind: Auto, wantKind: Feed, wantIs: ErrNoEntries},
		{name: "empty rss", body: `<rss version="2.0"><channel><title>t</title></channel></rss>`, kind: Auto, wantKind: Feed, wantIs: ErrNoEntries},
		{name: "rss items without links", body: `<rss version="2.0"><channel><item><title>a</title></item><item><description>b</description></item></channel></rss>`, kind: Auto, wantKind: Feed, wantIs: ErrNoEntries},
		{name: "html page forced as feed", body: htmlPage, contentType: "text/html", kind: Feed, wantKind: Feed, wantIs: ErrNotFeed, wantMsg: "parse: expected a feed, got an HTML page"},
		{name: "html page without content type forced as feed", body: htmlPage, kind: Feed, wantKind: Feed, wantIs: ErrNotFeed},
		{name: "html page without entries", body: htmlPage, kind: Auto, wantKind: HTML, wantIs: ErrNoEntries},
		{name: "items without dates", body: `<ul><li><a href="/a">One</a></li><li><a href="/b">Two</a></li></ul>`, kind: HTML, wantKind: HTML, wantIs: ErrNoEntries},
		{name: "unknown kind", body: htmlPage, kind: Kind(9), wantKind: Kind(9), wantMsg: "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := Parse([]byte(tt.body), tt.contentType, embassyBase, tt.kind)
			if err == nil {
				t.Fatalf("got %d entries and no error, want an error", len(got))
			}
			if len(got) != 0 {
				t.Errorf("got %d entries with the error, want none", len(got))
			}
			if kind != tt.wantKind {
				t.Errorf("kind: got %v, want %v", kind, tt.wantKind)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got error %v, want one wrapping %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

// TestParseHTMLCases covers list layouts and traps one at a time.
func TestParseHTMLCases(t *testing.T) {
	type want struct {
		link, title, summary string
		date                 time.Time
	}
	long := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 40)
	tests := []struct {
		name string
		body string
		base string
		want []want
	}{
		{
			name: "paragraph layout with relative links",
			body: `<p>16.10.2017 - <a href="6571">One</a></p><p>Teaser one.</p><p>15.10.2017 - <a href="/x/2">Two</a></p><p>Teaser two.</p>`,
			want: []want{
				{"https://www.rusemb.org.uk/newarh/6571", "One", "Teaser one.", day(2017, 10, 16)},
				{"https://www.rusemb.org.uk/x/2", "Two", "Teaser two.", day(2017, 10, 15)},
			},
		},
		{
			name: "base href is honoured",
			body: `<html><head><base href="https://mirror.example.org/news/"></head><body><p>01.02.2018 – <a href="item?id=1">Mirrored</a></p></body></html>`,
			want: []want{{"https://mirror.example.org/news/item?id=1", "Mirrored", "", day(2018, 2, 1)}},
		},
		{
			name: "relative base href",
			body: `<base href="/archive/"><p>01.02.2018 - <a href="1.html">Archived</a></p>`,
			want: []want{{"https://www.rusemb.org.uk/archive/1.html", "Archived", "", day(2018, 2, 1)}},
		},
		{
			name: "table layout, date and link in separate cells",
			body: `<table><tr><td class="x1">03.03.2016</td><td><a href="/a">Cell title</a><br>Cell teaser</td></tr><tr><td>02.03.2016</td><td><a href="/b">Second</a></td></tr></table>`,
			want: []want{
				{"https://www.rusemb.org.uk/a", "Cell title", "Cell teaser", day(2016, 3, 3)},
				{"https://www.rusemb.org.uk/b", "Second", "", day(2016, 3, 2)},
			},
		},
		{
			name: "a time of day may follow the date",
			body: `<p>16.10.2017 12:30 - <a href="/a">Timed</a></p><p><a href="/b">17.10.2017 09:05:00 | Timed link</a></p>`,
			want: []want{
				{"https://www.rusemb.org.uk/a", "Timed", "", day(2017, 10, 16)},
				{"https://www.rusemb.org.uk/b", "Timed link", "", day(2017, 10, 17)},
			},
		},
		{
			name: "date inside the link",
			body: `<ul><li><a href="/n/1">05.05.2015 - Victory Day reception</a></li><li><a href="/n/2">Undated link</a></li></ul>`,
			want: []want{{"https://www.rusemb.org.uk/n/1", "Victory Day reception", "", day(2015, 5, 5)}},
		},
		{
			name: "title with markup characters comes out as plain text",
			body: `<p>01.01.2017 - <a href="/q">Q&amp;A &lt;draft&gt; &quot;x&quot;</a></p><p>a &lt; b &amp;&amp; c</p>`,
			want: []want{{"https://www.rusemb.org.uk/q", `Q&A <draft> "x"`, "a < b && c", day(2017, 1, 1)}},
		},
		{
			name: "title with inline markup and line breaks",
			body: "<p>01.01.2017 - <a href=\"/q\"><b>Bold</b>\n   and <i>italic</i>&nbsp;title</a></p>",
			want: []want{{"https://www.rusemb.org.uk/q", "Bold and italic title", "", day(2017, 1, 1)}},
		},
		{
			name: "javascript, mailto and fragment links are not entries",
			body: `<p>01.01.2017 - <a href="javascript:void(0)">Script</a></p><p>02.01.2017 - <a href="mailto:a@b.c">Mail</a></p><p>03.01.2017 - <a href="#">Hash</a></p><p>04.01.2017 - <a href=" JavaScript:x() ">Upper</a></p><p>05.01.2017 - <a href="/ok">Real</a></p>`,
			want: []want{{"https://www.rusemb.org.uk/ok", "Real", "", day(2017, 1, 5)}},
		},
		{
			name: "impossible dates are not entries",
			body: `<p>31.02.2017 - <a href="/a">Feb 31</a></p><p>00.01.2017 - <a href="/b">Day 0</a></p><p>12.13.2017 - <a href="/c">Month 13</a></p><p>29.02.2016 - <a href="/d">Leap day</a></p>`,
			want: []want{{"https://www.rusemb.org.uk/d", "Leap day", "", day(2016, 2, 29)}},
		},
		{
			name: "dates in prose or followed by text are not entries",
			body: `<p>Last updated 17.10.2017</p><p><a href="/home">Home</a></p><p>17.10.2017 Moscow time <a href="/x">Clock</a></p><p>17.10.2017</p><p>See also</p><p><a href="/y">Y</a></p><p><b>Updated:</b> 18.10.2017</p><p><a href="/z">Z</a></p><p><a href="/prev">Prev</a> 19.10.2017 <a href="/next">Next</a></p>`,
			want: nil,
		},
		{
			name: "script, style and noscript text is skipped",
			body: `<script>document.write('<p>01.01.2017 - <a href="/s">Scripted</a></p>')</script><style>p:before{content:"02.01.2017"}</style><noscript><p>03.01.2017 - <a href="/n">No script</a></p></noscript><p>04.01.2017 - <a href="/r">Real</a></p><script>var x = "teaser must not include this";</script><p>Teaser.</p>`,
			want: []want{{"https://www.rusemb.org.uk/r", "Real", "Teaser.", day(2017, 1, 4)}},
		},
		{
			name: "duplicate links keep the first",
			body: `<p>02.01.2017 - <a href="/a">First</a></p><p>T1</p><p>01.01.2017 - <a href="https://www.rusemb.org.uk/a">Again</a></p><p>T2</p>`,
			want: []want{{"https://www.rusemb.org.uk/a", "First", "T1", day(2017, 1, 2)}},
		},
		{
			name: "punctuation-only link is not a title",
			body: `<p>01.01.2017 - <a href="/p">»»»</a></p>`,
			want: nil,
		},
		{
			name: "read-more links and pager stay out of teasers",
			body: `<p>02.01.2017 - <a href="/a">A</a></p><p>Teaser A.</p><p><a href="/a">Read more</a></p><p>01.01.2017 - <a href="/b">B</a></p><p>Teaser B.</p><p>Pages: <a href="?p=1">1</a> <a href="?p=2">2</a></p><p>Copyright notice with enough words in it</p>`,
			want: []want{
				{"https://www.rusemb.org.uk/a", "A", "Teaser A.", day(2017, 1, 2)},
				{"https://www.rusemb.org.uk/b", "B", "Teaser B.", day(2017, 1, 1)},
			},
		},
		{
			name: "multi-paragraph teasers bound the last entry's",
			body: `<p>02.01.2017 - <a href="/a">A</a></p><p>One.</p><p>Two.</p><p>01.01.2017 - <a href="/b">B</a></p><p>Three.</p><p>Four.</p><p>Footer text</p>`,
			want: []want{
				{"https://www.rusemb.org.uk/a", "A", "One. Two.", day(2017, 1, 2)},
				{"https://www.rusemb.org.uk/b", "B", "Three. Four.", day(2017, 1, 1)},
			},
		},
		{
			name: "long teaser is cut on a word boundary",
			body: `<p>01.01.2017 - <a href="/long">Long</a></p><p>` + long + `</p>`,
			want: []want{{"https://www.rusemb.org.uk/long", "Long", truncate(collapse(long), MaxSummaryRunes), day(2017, 1, 1)}},
		},
		{
			name: "malformed markup",
			body: `<table><tr><td><p>01.01.2017 - <a href="/m">Unclosed <b>title</td></tr></table><div><p>teaser<span>`,
			want: []want{{"https://www.rusemb.org.uk/m", "Unclosed title", "teaser", day(2017, 1, 1)}},
		},
		{
			name: "relative links need an absolute base",
			body: `<p>01.01.2017 - <a href="/a">Relative</a></p><p>02.01.2017 - <a href="http://other.example/b">Absolute</a></p>`,
			base: "not a url",
			want: []want{{"http://other.example/b", "Absolute", "", day(2017, 1, 2)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if base == "" {
				base = embassyBase
			}
			got, _, err := Parse([]byte(tt.body), "text/html", base, HTML)
			if len(tt.want) == 0 {
				if !errors.Is(err, ErrNoEntries) {
					t.Errorf("got %d entries, error %v, want ErrNoEntries", len(got), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Link != w.link || g.Title != w.title || g.Summary != w.summary || !g.Date.Equal(w.date) {
					t.Errorf("entry %d: got %q %q %q %v, want %q %q %q %v", i, g.Link, g.Title, g.Summary, g.Date, w.link, w.title, w.summary, w.date)
				}
				if g.GUID != "" || len(g.Categories) != 0 {
					t.Errorf("entry %d: got GUID %q, categories %q, want none for HTML", i, g.GUID, g.Categories)
				}
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"one two three four", 10, "one two…"},
		{"one two, three", 10, "one two…"},
		{"abcdefghijklmnop", 8, "abcdefg…"},
		{"привет мир всем", 12, "привет мир…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := truncate(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.max {
				t.Errorf("got %d runes, want at most %d", n, tt.max)
			}
		})
	}
}

func TestFeedSummaryAndTitleFallbacks(t *testing.T) {
	long := strings.Repeat("word ", 400)
	body := `<?xml version="1.0"?><rss version="2.0"><channel><link>https://example.org/</link>
<item><link>/untitled</link><description>&lt;p&gt;An item with no title at all, so its opening words stand in.&lt;/p&gt;</description></item>
<item><link>/long</link><title>Long</title><description>` + long + `</description></item>
<item><link>/bare</link></item>
</channel></rss>`
	got, _, err := Parse([]byte(body), "application/rss+xml", "https://example.org/rss", Auto)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d entries, want 3", len(got))
	}
	if want := "An item with no title at all, so its opening words stand in."; got[0].Title != want {
		t.Errorf("untitled: got %q, want %q", got[0].Title, want)
	}
	if n := utf8.RuneCountInString(got[1].Summary); n > MaxSummaryRunes || !strings.HasSuffix(got[1].Summary, "word…") {
		t.Errorf("long summary: got %d runes ending %q, want at most %d ending in \"word…\"", n, got[1].Summary[len(got[1].Summary)-10:], MaxSummaryRunes)
	}
	if got[2].Title != "https://example.org/bare" {
		t.Errorf("bare: got title %q, want the link", got[2].Title)
	}
}

func BenchmarkParseHTML(b *testing.B) {
	body := readFixture(b, "embassy-newarh.html")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(body, "text/html; charset=utf-8", embassyBase, Auto); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEntriesAreCut(t *testing.T) {
	var page, feed, atom strings.Builder
	page.WriteString("<html><body>")
	feed.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`)
	atom.WriteString(`<?xml version="1.0"?><a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>t</a:title>`)
	const n = MaxEntries + 7
	for i := range n {
		fmt.Fprintf(&page, `<p>01.01.2017 - <a href="/n/%d">Item %d</a></p>`, i, i)
		fmt.Fprintf(&feed, `<item><title>Item %d</title><link>https://example.org/n/%d</link></item>`, i, i)
		fmt.Fprintf(&atom, `<a:entry><a:title>Item %d</a:title><a:link href="https://example.org/n/%d"/><a:id>urn:%d</a:id></a:entry>`, i, i, i)
	}
	page.WriteString("</body></html>")
	feed.WriteString("</channel></rss>")
	atom.WriteString("</a:feed>")
	for _, tc := range []struct {
		name, body string
		kind       Kind
	}{
		{"html", page.String(), HTML},
		{"rss", feed.String(), Feed},
		{"atom with a prefix", atom.String(), Feed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Read([]byte(tc.body), "", embassyBase, Auto)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || len(r.Entries) != MaxEntries || r.Cut != n-MaxEntries {
				t.Fatalf("got kind %v, %d entries, %d cut; want %v, %d, %d", r.Kind, len(r.Entries), r.Cut, tc.kind, MaxEntries, n-MaxEntries)
			}
			if tc.kind == Feed {
				// gofeed is given only the first MaxEntries items.
				short, cut := cutFeed(tc.body)
				if cut != n-MaxEntries || strings.Count(short, "Item ") != MaxEntries || !strings.HasSuffix(short, ">") {
					t.Fatalf("cutFeed: got %d cut and %d items, want %d and %d", cut, strings.Count(short, "Item "), n-MaxEntries, MaxEntries)
				}
			}
			// The first entries are kept: sources list the newest first.
			if last := r.Entries[MaxEntries-1].Title; last != fmt.Sprintf("Item %d", MaxEntries-1) {
				t.Errorf("last kept entry: got %q, want Item %d", last, MaxEntries-1)
			}
		})
	}
}
