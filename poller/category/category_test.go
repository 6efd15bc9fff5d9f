package category

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func newDefault(t testing.TB) *Categorizer {
	t.Helper()
	c, err := New(Default())
	if err != nil {
		t.Fatalf("New(Default()): %v", err)
	}
	return c
}

// seedTitles returns the featured title and every dated title of the seed
// page the embassy site is modelled on.
func seedTitles(t *testing.T) (featured string, dated []string) {
	t.Helper()
	f, err := os.Open("testdata/embassy-page.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	datedLine := regexp.MustCompile(`^\d{2}\.\d{2}\.\d{4} - (.+)$`)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := datedLine.FindStringSubmatch(line); m != nil {
			dated = append(dated, m[1])
		} else if featured == "" && strings.HasPrefix(line, "Excerpts from") {
			featured = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return featured, dated
}

func TestSeedPageTitles(t *testing.T) {
	want := map[string]string{
		"Excerpts from Foreign Minister Sergey Lavrov's interview with Channel One’s Vremya weekly news and analysis programme, Beijing, May 14, 2017":  "interviews",
		"First Deputy Foreign Minister Vladimir Titov’s answer to a media question regarding British Foreign Secretary Boris Johnson’s visit to Russia": "comments",
		"Press release on Deputy Foreign Minister Igor Morgulov’s meeting with Deputy Foreign Minister of Afghanistan Hekmat Khalil Karzai":             "press-releases",
		"Foreign Ministry statement on the situation in the Autonomous Community of Catalonia, Spain":                                                   "statements",
		"Foreign Minister Sergey Lavrov’s opening remarks at the expanded meeting of the CIS Foreign Ministers Council, Sochi, October 10, 2017":        "speeches",
		"Press release on Foreign Minister Sergey Lavrov’s telephone conversation with US Secretary of State Rex Tillerson":                             "press-releases",
		"Russian Energy Week Forum plenary session": Other,
		"Comment by the Information and Press department on the upcoming meeting of the CIS Council of Foreign Ministers": "comments",
		"Embassy Press Officer on the adoption of the Ukrainian law “On education”":                                       "comments",
		"Interview of Foreign Minister Sergey Lavrov with the Asharq Al-Awsat Pan-Arab Newspaper, October 2017":           "interviews",
		"Briefing by Foreign Ministry Spokesperson Maria Zakharova, Moscow, October 4, 2017":                              "briefings",
	}
	featured, dated := seedTitles(t)
	if featured == "" {
		t.Fatal("no featured title found in the seed page")
	}
	if got, wantN := len(dated), 10; got != wantN {
		t.Fatalf("dated titles in seed page: got %d, want %d", got, wantN)
	}
	c := newDefault(t)
	for _, title := range append([]string{featured}, dated...) {
		t.Run(title, func(t *testing.T) {
			w, ok := want[title]
			if !ok {
				t.Fatalf("seed title %q has no expected category in this table", title)
			}
			if got := c.Categorize(title, nil); got != w {
				t.Errorf("got %v, want %v", got, w)
			}
		})
	}
}

func TestCategorizeTitles(t *testing.T) {
	tests := []struct {
		title string
		want  string
	}{
		// The order of the rules is the point of these.
		{"Press release on Foreign Minister Sergey Lavrov's telephone conversation with US Secretary of State Rex Tillerson", "press-releases"},
		{"Press release on Deputy Foreign Minister Igor Morgulov's meeting with the Ambassador", "press-releases"},
		{"Embassy Press Officer answers questions on statements by the Foreign Office", "comments"},
		{"Comment by the Information and Press department on the upcoming meeting of the CIS Council of Foreign Ministers", "comments"},
		{"Foreign Minister Sergey Lavrov's opening remarks at the expanded meeting of the CIS Foreign Ministers Council", "speeches"},
		{"Foreign Ministry Spokesperson Maria Zakharova’s comment on the statement by the US State Department", "comments"},
		{"Foreign Minister Sergey Lavrov’s remarks and answers to media questions at a joint news conference following talks with Boris Johnson", "speeches"},
		{"Foreign Minister Sergey Lavrov’s answers to media questions following talks with Rex Tillerson", "comments"},
		{"Foreign Minister Sergey Lavrov’s article for the Kommersant newspaper", "interviews"},
		{"Article by Ambassador Alexander Yakovenko in The Times", "interviews"},
		{"Speech by Ambassador Alexander Yakovenko at the reception", "speeches"},
		{"Address by President Vladimir Putin to the Federal Assembly", "speeches"},
		{"Remarks by the Ambassador at the wreath-laying ceremony", "speeches"},
		{"Talks between Sergey Lavrov and Boris Johnson", "meetings"},
		{"Meeting of the Russian Ambassador with the Mayor of London", "meetings"},
		{"Foreign Minister Sergey Lavrov’s telephone conversation with UK Foreign Secretary Boris Johnson", "meetings"},
		{"Deputy Foreign Minister Sergey Ryabkov's meeting with US Ambassador", "meetings"},
		{"Statement by the Embassy on the anniversary", "statements"},
		{"Joint statement of the Foreign Ministers of Russia and China", "statements"},
		{"Foreign Ministry Spokesperson Maria Zakharova’s answer to a media question about the visit", "comments"},
		{"Reply to a media question by the Embassy Press Officer", "comments"},

		// Consular notices beat the generic words around them.
		{"Consular Section will be closed on 6 November", "consular"},
		{"The Embassy will be closed on 8 May (bank holiday)", "consular"},
		{"Visa applications: new procedure from 1 December", "consular"},
		{"Foreign Ministry Spokesperson's comment on visa restrictions for Russian diplomats", "consular"},
		{"Changes in passport applications at the Consular Section", "consular"},
		{"On the visa-free regime for Fan ID holders", "consular"},
		{"Consular queries: opening hours during the holidays", "consular"},
		// … but not a title that opens with its genre.
		{"Statement on the US visa restrictions", "statements"},
		{"Press release on consular consultations", "press-releases"},

		// Words inside words do not count.
		{"Advisability of the sanctions regime", Other},
		{"A remarkable exhibition at the Pushkin House", Other},
		{"Russian Energy Week Forum plenary session", Other},
		{"", Other},
		{"   ", Other},

		// Spelling variants.
		{"FOREIGN MINISTER SERGEY LAVROV'S INTERVIEW WITH CHANNEL ONE", "interviews"},
		{"  press\u00a0release  on   the   visit ", "press-releases"},
		{"“Briefing” by Foreign Ministry Spokesperson", "briefings"},
		{"Foreign Minister Sergey Lavrov’s speech at the Primakov Readings", "speeches"},
		{"President Vladimir Putin’s address to the nation", "speeches"},
		{"Talks on the e-mail address change", "meetings"},

		// Russian.
		{"Пресс-релиз о телефонном разговоре Министра иностранных дел России С.В.Лаврова с Государственным секретарём США Р.Тиллерсоном", "press-releases"},
		{"ПРЕСС-РЕЛИЗ о встрече заместителя Министра", "press-releases"},
		{"Заявление МИД России в связи с ситуацией в Каталонии", "statements"},
		{"Совместное заявление министров иностранных дел России и Китая", "statements"},
		{"Комментарий Департамента информации и печати МИД России в связи с предстоящим заседанием СМИД СНГ", "comments"},
		{"Ответ официального представителя МИД России М.В.Захаровой на вопрос СМИ о визите Б.Джонсона", "comments"},
		{"Ответы заместителя Министра иностранных дел России на вопросы СМИ", "comments"},
		{"Брифинг официального представителя МИД России М.В.Захаровой, Москва, 4 октября 2017 года", "briefings"},
		{"Интервью Министра иностранных дел России С.В.Лаврова газете «Аш-Шарк аль-Аусат»", "interviews"},
		{"Статья Министра иностранных дел России С.В.Лаврова для журнала «Россия в глобальной политике»", "interviews"},
		{"Выступление Министра иностранных дел России С.В.Лаврова на пленарном заседании", "speeches"},
		{"Вступительное слово Министра иностранных дел России С.В.Лаврова в ходе переговоров", "speeches"},
		{"Встреча Министра иностранных дел России С.В.Лаврова с Министром иностранных дел Испании", "meetings"},
		{"Переговоры Министра иностранных дел России С.В.Лаврова с Государственным секретарём США", "meetings"},
		{"Телефонный разговор Министра иностранных дел России С.В.Лаврова с Госсекретарём США Р.Тиллерсоном", "meetings"},
		{"О телефонном разговоре С.В.Лаврова с Б.Джонсоном", "meetings"},
		{"Консульский отдел Посольства будет закрыт 4 ноября", "consular"},
		{"О выдаче виз гражданам Великобритании", Other}, // "виз" alone is too short to tell from "визит"
		{"Порядок оформления визы для граждан Великобритании", "consular"},
		{"Оформление паспортов нового образца", "consular"},
		{"Визит Министра иностранных дел России в Лондон", Other},
		{"Ответственность за нарушение международного права", Other},
	}
	c := newDefault(t)
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			if got := c.Categorize(tt.title, nil); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCategorizeFeedCategories(t *testing.T) {
	tests := []struct {
		name  string
		title string
		feed  []string
		want  string
	}{
		{"english", "Something happened", []string{"Press Releases"}, "press-releases"},
		{"russian", "Что-то произошло", []string{"Пресс-релизы"}, "press-releases"},
		{"feed beats title", "Press release on the meeting", []string{"Statements"}, "statements"},
		{"normalised", "x", []string{"  INTERVIEWS\u00a0and   Articles "}, "interviews"},
		{"first known wins", "x", []string{"News", "Брифинги", "Statements"}, "briefings"},
		{"unknown falls back to title", "Statement by the Embassy", []string{"News", "Главное"}, "statements"},
		{"unknown and no rule", "Plenary session", []string{"News"}, Other},
		{"consular", "Opening hours", []string{"Консульские вопросы"}, "consular"},
		{"speeches", "x", []string{"Выступления"}, "speeches"},
		{"meetings", "x", []string{"Meetings"}, "meetings"},
		{"comments", "x", []string{"Комментарии"}, "comments"},
		{"empty feed category", "Talks with Spain", []string{""}, "meetings"},
	}
	c := newDefault(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Categorize(tt.title, tt.feed); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"  \t\n ", ""},
		{"Lavrov’s", "lavrov's"},
		{"Lavrov‘s Lavrovʼs Lavrov´s Lavrov`s", "lavrov's lavrov's lavrov's lavrov's"},
		{"“On education” «Известия»", `"on education" "известия"`},
		{"A – B — C ‑ D", "a - b - c - d"},
		{"a\u00a0\u00a0b \t\r\n c", "a b c"},
		{"  ПРЕСС-РЕЛИЗ  ", "пресс-релиз"},
		{"ЁЛКА", "ёлка"},
		{"pa\u00adss\u200bport", "passport"},
		{"\xffbad", "\ufffdbad"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Normalize(tt.in)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if again := Normalize(got); again != got {
				t.Errorf("not idempotent: got %q, want %q", again, got)
			}
		})
	}
}

func TestNewEmptyConfigUsesDefaults(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatalf("New(Config{}): %v", err)
	}
	var got []string
	for _, cat := range c.Categories() {
		got = append(got, cat.ID)
	}
	want := []string{"press-releases", "statements", "comments", "briefings", "interviews", "speeches", "meetings", "consular", Other}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := c.Categorize("Press release on talks", nil); got != "press-releases" {
		t.Errorf("got %v, want %v", got, "press-releases")
	}
}

func TestNewCustomConfigReplacesDefaults(t *testing.T) {
	cfg := Config{
		Categories: []Category{
			{ID: "news", Names: map[string]string{"en": "News", "ru": "Новости"}},
			{ID: "events", Names: map[string]string{"en": "Events"}},
			{ID: Other, Names: map[string]string{"en": "Everything else"}},
		},
		Rules: []Rule{
			{Category: "events", Prefixes: []string{"Reception"}, Contains: []string{"exhibition", "концерт"}},
			{Category: "news", Contains: []string{"NEWS"}},
		},
		FeedMap: map[string]string{"Events & Exhibitions": "events"},
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tests := []struct {
		title string
		feed  []string
		want  string
	}{
		{"Reception at the Embassy", nil, "events"},
		{"Photos from the reception", nil, Other}, // a prefix only matches at the start
		{"  RECEPTION at the Embassy", nil, "events"},
		{"Photo exhibition opens", nil, "events"},
		{"Концерт в Посольстве", nil, "events"},
		{"Embassy news digest", nil, "news"},
		{"Press release on the talks", nil, Other}, // the default rules are gone
		{"Anything", []string{"events &  exhibitions"}, "events"},
		{"Anything", []string{"Press releases"}, Other}, // the default feed map is gone
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			if got := c.Categorize(tt.title, tt.feed); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if c.Known("press-releases") {
		t.Errorf("Known(press-releases): got true, want false")
	}
	if !c.Known("events") {
		t.Errorf("Known(events): got false, want true")
	}
}

func TestRulesFirstMatchWins(t *testing.T) {
	cats := []Category{{ID: "a"}, {ID: "b"}, {ID: Other}}
	ruleA := Rule{Category: "a", Contains: []string{"meeting"}}
	ruleB := Rule{Category: "b", Prefixes: []string{"press release"}}
	feed := map[string]string{"a": "a"}
	tests := []struct {
		name  string
		rules []Rule
		want  string
	}{
		{"a first", []Rule{ruleA, ruleB}, "a"},
		{"b first", []Rule{ruleB, ruleA}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{Categories: cats, Rules: tt.rules, FeedMap: feed})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Categorize("Press release on the meeting", nil); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewCategoriesWithoutRulesKeepsDefaultRules(t *testing.T) {
	// Rules and feed map left empty keep the defaults, which name categories
	// this config dropped: every one of them must be reported.
	_, err := New(Config{Categories: []Category{{ID: Other}}})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{`rules[0].category: unknown category "press-releases"`, `unknown category "consular"`, `feed_categories["визы"]: unknown category "consular"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestNewInvalidReportsEveryProblem(t *testing.T) {
	cfg := Config{
		Categories: []Category{
			{ID: "news"},
			{ID: "news"},
			{ID: ""},
			{ID: "Bad ID"},
			{ID: strings.Repeat("x", maxIDLen+1)},
		},
		Rules: []Rule{
			{Category: "news", Contains: []string{"ok"}},
			{Category: "missing", Prefixes: []string{"x"}},
			{Category: "news"},
			{Category: "news", Prefixes: []string{" \u00a0 "}, Contains: []string{""}},
		},
		FeedMap: map[string]string{
			"News":   "news",
			" news ": "nope",
			"   ":    "news",
		},
	}
	_, err := New(cfg)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("got %T, want a joined error", err)
	}
	for _, e := range joined.Unwrap() {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Errorf("got %T (%v), want *ConfigError", e, e)
		}
	}
	wants := []string{
		`categories[1].id: duplicate category "news"`,
		`categories[2].id: empty id`,
		`categories[3].id: id "Bad ID" may hold only`,
		`categories[4].id: id "xxxx`,
		`categories: category "other" must exist`,
		`rules[1].category: unknown category "missing"`,
		`rules[2]: no prefixes and no contains`,
		`rules[3].prefixes[0]: empty pattern`,
		`rules[3].contains[0]: empty pattern`,
		`feed_categories[" news "]: unknown category "nope"`,
		`feed_categories["News"]: same as " news " after normalisation`,
		`feed_categories["   "]: empty feed category`,
	}
	msg := err.Error()
	for _, want := range wants {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q; got:\n%s", want, msg)
		}
	}
	if got, want := len(joined.Unwrap()), len(wants); got != want {
		t.Errorf("problems: got %d, want %d:\n%s", got, want, msg)
	}
}

func TestConfigFromYAML(t *testing.T) {
	const doc = `
categories:
  - id: consular
    names: {en: Consular notices, ru: Консульские вопросы}
  - id: other
    names: {en: Other}
rules:
  - category: consular
    prefixes: ["Consular section"]
    contains: [visa]
feed_categories:
  Консульские вопросы: consular
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := c.Categorize("New visa rules", nil); got != "consular" {
		t.Errorf("got %v, want %v", got, "consular")
	}
	if got := c.Categorize("x", []string{"консульские  вопросы"}); got != "consular" {
		t.Errorf("got %v, want %v", got, "consular")
	}
	if got := c.Name("consular", "ru"); got != "Консульские вопросы" {
		t.Errorf("got %v, want %v", got, "Консульские вопросы")
	}
}

func TestName(t *testing.T) {
	c, err := New(Config{Categories: []Category{
		{ID: "news", Names: map[string]string{"en": "News", "RU": "Новости"}},
		{ID: "events", Names: map[string]string{"de": "Veranstaltungen"}},
		{ID: Other},
	}, Rules: []Rule{{Category: "news", Contains: []string{"news"}}}, FeedMap: map[string]string{"news": "news"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, lang, want string
	}{
		{"news", "ru", "Новости"},
		{"news", "ru-RU", "Новости"},
		{"news", "en", "News"},
		{"news", "en-GB", "News"},
		{"news", "fr", "News"},
		{"news", "", "News"},
		{"events", "de", "Veranstaltungen"},
		{"events", "ru", "events"},
		{Other, "ru", Other},
		{"unknown", "en", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+tt.lang, func(t *testing.T) {
			if got := c.Name(tt.id, tt.lang); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultNames(t *testing.T) {
	c := newDefault(t)
	for _, cat := range c.Categories() {
		for _, lang := range []string{"en", "ru"} {
			if got := c.Name(cat.ID, lang); got == cat.ID || got == "" {
				t.Errorf("Name(%q, %q): got %q, want a real name", cat.ID, lang, got)
			}
		}
	}
}

func TestCategoriesAndDefaultAreCopies(t *testing.T) {
	d := Default()
	d.Categories[0].Names["en"] = "changed"
	d.Rules[0].Prefixes[0] = "changed"
	if got := Default().Categories[0].Names["en"]; got == "changed" {
		t.Errorf("Default shares state between calls: got %q", got)
	}
	if got := Default().Rules[0].Prefixes[0]; got == "changed" {
		t.Errorf("Default shares rules between calls: got %q", got)
	}

	c := newDefault(t)
	cats := c.Categories()
	cats[0].ID = "changed"
	cats[1].Names["en"] = "changed"
	if got := c.Categories()[0].ID; got != "press-releases" {
		t.Errorf("got %v, want %v", got, "press-releases")
	}
	if got := c.Name("statements", "en"); got != "Statements" {
		t.Errorf("got %v, want %v", got, "Statements")
	}
}

// variant rewrites s in ways Normalize must undo: straight to curly quotes,
// hyphens to dashes, upper case, doubled and non-breaking spaces, padding.
func variant(s string) string {
	s = strings.NewReplacer("'", "’", `"`, "“", "-", "–", " ", " \u00a0 ").Replace(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'а' && r <= 'я':
			return r - 'а' + 'А'
		}
		return r
	}, s)
	return "\t " + s + "\u00a0\n"
}

func TestVariant(t *testing.T) {
	// The fuzz target relies on variant; check it does what it says.
	got := variant("lavrov's пресс-релиз")
	want := "\t LAVROV’S \u00a0 ПРЕСС–РЕЛИЗ\u00a0\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzCategorize(f *testing.F) {
	f.Add("Press release on Foreign Minister Sergey Lavrov's telephone conversation with US Secretary of State Rex Tillerson", "")
	f.Add("Embassy Press Officer answers questions on statements", "News")
	f.Add("Foreign Minister Sergey Lavrov’s opening remarks at the expanded meeting", "")
	f.Add("Consular Section will be closed on 6 November", "Consular")
	f.Add("Ответ официального представителя МИД России на вопрос СМИ", "Пресс-релизы")
	f.Add("  \u00a0«Интервью»  — «Статья»\u00ad ", "interviews  and articles")
	f.Add("\xff\xfe'\"-", "\xe2\x80")
	f.Add("", "")
	c, err := New(Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, feed string) {
		for _, fc := range [][]string{nil, {feed}} {
			id := c.Categorize(title, fc)
			if !c.Known(id) {
				t.Fatalf("Categorize(%q, %q): got unknown id %q", title, fc, id)
			}
			vTitle, vFeed := variant(title), []string(nil)
			if fc != nil {
				vFeed = []string{variant(feed)}
			}
			if got := c.Categorize(vTitle, vFeed); got != id {
				t.Errorf("Categorize(%q, %q): got %v, want %v as for %q", vTitle, vFeed, got, id, title)
			}
		}
		n := Normalize(title)
		if again := Normalize(n); again != n {
			t.Errorf("Normalize not idempotent: got %q, want %q", again, n)
		}
		if got := Normalize(variant(title)); got != n {
			t.Errorf("Normalize(variant(%q)): got %q, want %q", title, got, n)
		}
	})
}

func BenchmarkCategorize(b *testing.B) {
	c := newDefault(b)
	titles := []string{
		"Excerpts from Foreign Minister Sergey Lavrov's interview with Channel One’s Vremya weekly news and analysis programme, Beijing, May 14, 2017",
		"Russian Energy Week Forum plenary session",
		"Foreign Minister Sergey Lavrov’s opening remarks at the expanded meeting of the CIS Foreign Ministers Council, Sochi, October 10, 2017",
		"Телефонный разговор Министра иностранных дел России С.В.Лаврова с Госсекретарём США Р.Тиллерсоном",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Categorize(titles[i%len(titles)], nil)
	}
}

func TestUrgent(t *testing.T) {
	c := newDefault(t)
	for id, want := range map[string]bool{"consular": true, "statements": false, "other": false, "nope": false} {
		if got := c.Urgent(id); got != want {
			t.Errorf("default Urgent(%q): got %v, want %v", id, got, want)
		}
	}
	yes, no := true, false
	cfg := Default()
	for i := range cfg.Categories {
		switch cfg.Categories[i].ID {
		case "consular":
			cfg.Categories[i].Urgent = &no
		case "statements":
			cfg.Categories[i].Urgent = &yes
		}
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Urgent("consular") || !c.Urgent("statements") {
		t.Errorf("configured urgency: consular %v, statements %v, want false, true", c.Urgent("consular"), c.Urgent("statements"))
	}
}
