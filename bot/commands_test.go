package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// languageCase is one user of each language and what the bot should say.
type languageCase struct {
	lang       string
	user       int64
	welcome    string
	help       []string
	time       []string
	consular   []string
	latest     string
	stopped    string
	notSub     string
	categories string
	hint       string
	unknown    string
}

func languageCases() []languageCase {
	return []languageCase{
		{
			lang: "en", user: 1001,
			welcome:    "This chat is now subscribed to every category",
			help:       []string{"/start — Subscribe", "/stop — Unsubscribe", "/help — ", "/time — Time in Moscow and London", "/consular — ", "/latest — Newest publications", "/categories — ", "/language — Change the language"},
			time:       []string{"17 October 2017", "Moscow: 12:32 · London: 10:32"},
			consular:   []string{"Consular Section of the Embassy of Russia in the UK", "Phone: +44 (0) 203 668 7474", "Email: info@rusemb.org.uk", "Consular Section, 5 Kensington Palace Gardens, London W8 4QS", "Opening days: Monday to Friday", "https://www.rusemb.org.uk/", "Last checked: 29 November 2026"},
			latest:     "The latest 2 publications",
			stopped:    "You are unsubscribed",
			notSub:     "This chat is not subscribed",
			categories: "Choose the categories",
			hint:       "I answer commands",
			unknown:    "I don't know this command",
		},
		{
			lang: "ru", user: 1002,
			welcome:    "Этот чат подписан на все категории",
			help:       []string{"/start — Подписаться", "/stop — Отписаться", "/time — Время в Москве и Лондоне", "/latest — Последние публикации", "/language — Сменить язык"},
			time:       []string{"17 октября 2017", "Москва: 12:32 · Лондон: 10:32"},
			consular:   []string{"Консульский отдел посольства России", "Телефон: +44 (0) 203 668 7474", "Почта: info@rusemb.org.uk", "Консульский отдел, 5 Kensington Palace Gardens, London W8 4QS", "Приёмные дни: с понедельника по пятницу", "Проверено: 29 ноября 2026"},
			latest:     "Последние 2 публикации",
			stopped:    "Вы отписались",
			notSub:     "Этот чат не подписан",
			categories: "Выберите категории рассылки",
			hint:       "Я отвечаю на команды",
			unknown:    "Такой команды я не знаю",
		},
	}
}

func TestCitizenCommandsInBothLanguages(t *testing.T) {
	e := newEnv(t)
	e.seedCitizenPubs()
	e.start()
	for _, lc := range languageCases() {
		t.Run(lc.lang, func(t *testing.T) {
			e.tg.AddPrivateChat(lc.user, "Anna", lc.lang)
			d := e.dialog(t, lc.user)
			next := d.next

			// Before /start: commands that need a subscription say so.
			mustContain(t, "/categories unsubscribed", next("/categories"), lc.notSub)
			mustContain(t, "/language unsubscribed", next("/language"), lc.notSub)

			welcome := d.say("/start")
			mustContain(t, "/start", welcome.Text, lc.welcome)
			if got, want := len(keyboardData(welcome)), len(e.cats.Categories())+2; got != want {
				t.Errorf("/start keyboard: got %d buttons, want %d", got, want)
			}
			sub, ok := e.subscriber(lc.user)
			if !ok || sub.Type != subscriptions.ChatPrivate || sub.Language != lc.lang || len(sub.Categories) != len(e.cats.Categories()) {
				t.Fatalf("after /start: got %+v, %v, want a private %s subscriber of every category", sub, ok, lc.lang)
			}
			mustContain(t, "/start again", next("/start"), map[string]string{"en": "already subscribed", "ru": "уже подписан"}[lc.lang])

			mustContain(t, "/help", next("/help"), lc.help...)
			mustContain(t, "/time", next("/time"), lc.time...)
			mustContain(t, "/consular", next("/consular"), lc.consular...)
			latest := next("/latest")
			mustContain(t, "/latest", latest, lc.latest, "16.10.2017", "Statement on <Catalonia> & Spain", "15.10.2017")
			mustContain(t, "/categories", next("/categories"), lc.categories)
			mustContain(t, "plain text", next("hello there"), lc.hint)
			mustContain(t, "unknown command", next("/frobnicate"), lc.unknown)
			mustContain(t, "/stop", next("/stop"), lc.stopped)
			if _, ok := e.subscriber(lc.user); ok {
				t.Error("after /stop: still subscribed")
			}
			mustContain(t, "/stop again", next("/stop"), lc.notSub)
		})
	}
}

// seedCitizenPubs stores the two publications the citizens' command tests
// read: a statement of 16 October 2017 and a press release of the 15th.
func (e *env) seedCitizenPubs() {
	e.t.Helper()
	e.seed(
		poller.Publication{ID: "a", URL: "https://www.rusemb.org.uk/fnapr/1", Title: "Statement on <Catalonia> & Spain", Date: day(16), Category: "statements"},
		poller.Publication{ID: "b", URL: "https://www.rusemb.org.uk/fnapr/2", Title: "Press release on talks", Date: day(15), Category: "press-releases"},
	)
}

func day(d int) time.Time { return time.Date(2017, time.October, d, 0, 0, 0, 0, time.UTC) }

func TestTimeShowsEachZonesDate(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.tg.AddPrivateChat(7, "Ivan", "en")
	// 23:32 in London is 01:32 the next day in Moscow.
	e.clock.Advance(13 * time.Hour)
	got := e.say(7, 7, "/time", 1).Text
	mustContain(t, "/time", got, "18 October 2017", "Moscow: 01:32 · London: 23:32 (17 October 2017)")
}

func TestLatestArguments(t *testing.T) {
	e := newEnv(t)
	var pubs []poller.Publication
	for i := range 25 {
		cat := "statements"
		if i%2 == 1 {
			cat = "press-releases"
		}
		pubs = append(pubs, poller.Publication{
			ID: fmt.Sprint("p", i), URL: fmt.Sprintf("https://www.rusemb.org.uk/fnapr/%d", i),
			Title: fmt.Sprintf("Title %02d with a <tag> & \"quotes\"", i), Date: day(1).AddDate(0, 0, 25-i), Category: cat,
		})
	}
	e.seed(pubs...)
	e.start()
	e.tg.AddPrivateChat(8, "Ivan", "en")
	e.tg.AddPrivateChat(9, "Иван", "ru")

	tests := []struct {
		user      int64
		args      string
		wantItems int
		want      []string
		notWant   []string
	}{
		{8, "", 5, []string{"The latest 5 publications", "Title 00 with a <tag> & \"quotes\""}, []string{"Title 05"}},
		{8, "3", 3, []string{"Title 02"}, []string{"Title 03"}},
		{8, "20", 20, []string{"Title 19"}, []string{"Title 20"}},
		{8, "2 statements", 2, []string{"The latest 2 publications: Statements", "Title 00", "Title 02"}, []string{"Title 01"}},
		{8, "press-releases 2", 2, []string{"Title 01", "Title 03"}, []string{"Title 00"}},
		{8, "Press Releases", 5, []string{"Title 09"}, []string{"Title 00"}},
		{9, "1 Заявления", 1, []string{"Последняя публикация: Заявления", "Заявления"}, nil},
		{9, "3", 3, []string{"Последние 3 публикации"}, nil},
		{9, "11", 11, []string{"Последние 11 публикаций"}, nil},
		{8, "1", 1, []string{"The latest publication\n"}, nil},
		{8, "1 Пресс-релизы", 1, []string{"Press releases"}, nil},
		{8, "briefings", 0, []string{"Nothing has been published in “Briefings” yet."}, nil},
		{8, "0", 0, []string{"The number must be from 1 to 20"}, nil},
		{8, "21", 0, []string{"The number must be from 1 to 20"}, nil},
		{9, "-3", 0, []string{"Число должно быть от 1 до 20"}, nil},
		{8, "5 <b>nonsense</b>", 0, []string{"I don't know the category “<b>nonsense</b>”", "press-releases — Press releases", "other — Other", "/latest 5 press-releases"}, nil},
		{9, "чепуха", 0, []string{"Категории «чепуха» нет", "statements — Заявления"}, nil},
	}
	count := map[int64]int{}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			count[tt.user]++
			m := e.say(tt.user, tt.user, strings.TrimSpace("/latest "+tt.args), count[tt.user])
			mustContain(t, "/latest "+tt.args, m.Text, tt.want...)
			for _, nw := range tt.notWant {
				if strings.Contains(m.Text, nw) {
					t.Errorf("got %q, want no %q", m.Text, nw)
				}
			}
			links := 0
			for _, en := range m.Entities {
				if en.Type == "text_link" {
					links++
				}
			}
			if links != tt.wantItems {
				t.Errorf("linked titles: got %d, want %d", links, tt.wantItems)
			}
		})
	}
}

func TestCategoryKeyboardTogglesInPlace(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user = 11
	e.tg.AddPrivateChat(user, "Olga", "en")
	welcome := e.say(user, user, "/start", 1)
	for _, d := range keyboardData(welcome) {
		if len(d) > 64 {
			t.Errorf("callback data %q is over 64 bytes", d)
		}
	}
	if !slices.Contains(keyboardTexts(welcome), "✅ Statements") {
		t.Fatalf("keyboard %v: want ✅ Statements", keyboardTexts(welcome))
	}

	press := func(data string) string { return e.pressAnswer(user, welcome.MessageID, data) }
	current := func() telegramtest.Message {
		msgs := e.tg.Messages(user)
		return msgs[0]
	}

	if got, want := press("cat:statements"), "▫️ Statements: off"; got != want {
		t.Errorf("answer: got %q, want %q", got, want)
	}
	m := current()
	if !slices.Contains(keyboardTexts(m), "▫️ Statements") || m.Edits != 1 {
		t.Errorf("after toggling off: keyboard %v, %d edits; want ▫️ Statements, 1 edit", keyboardTexts(m), m.Edits)
	}
	if s, _ := e.subscriber(user); s.Wants("statements") {
		t.Error("statements still wanted after toggling off")
	}
	if got, want := press("cat:statements"), "✅ Statements: on"; got != want {
		t.Errorf("answer: got %q, want %q", got, want)
	}
	if s, _ := e.subscriber(user); !s.Wants("statements") {
		t.Error("statements not wanted after toggling on")
	}
	if got, want := press("cat:*"), "▫️ Every category is off"; got != want {
		t.Errorf("answer: got %q, want %q", got, want)
	}
	if s, _ := e.subscriber(user); len(s.Categories) != 0 {
		t.Errorf("after none: got %v, want no categories", s.Categories)
	}
	for _, text := range keyboardTexts(current())[:len(e.cats.Categories())] {
		if !strings.HasPrefix(text, "▫️") {
			t.Errorf("after none: button %q is not ▫️", text)
		}
	}
	// Pressing "none" again changes nothing: the edit is refused as not
	// modified, and the press is still answered.
	if got, want := press("cat:*"), "▫️ Every category is off"; got != want {
		t.Errorf("answer: got %q, want %q", got, want)
	}
	if got, want := press("cat:+"), "✅ Every category is on"; got != want {
		t.Errorf("answer: got %q, want %q", got, want)
	}
	if s, _ := e.subscriber(user); len(s.Categories) != len(e.cats.Categories()) {
		t.Errorf("after all: got %v, want every category", s.Categories)
	}

	// A keyboard outliving the subscription still answers its presses.
	e.say(user, user, "/stop", 2)
	if got, want := press("cat:consular"), "This chat is not subscribed. Send /start first."; got != want {
		t.Errorf("stale press: got %q, want %q", got, want)
	}
	if _, ok := e.subscriber(user); ok {
		t.Error("a stale press subscribed the chat again")
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user = 12
	e.tg.AddPrivateChat(user, "Pat", "de") // a language the bot does not speak: the default
	mustContain(t, "/start", e.say(user, user, "/start", 1).Text, "This chat is now subscribed")
	prompt := e.say(user, user, "/language", 2)
	mustContain(t, "/language", prompt.Text, "Choose the language")
	if got, want := keyboardTexts(prompt), []string{"✅ English", "Русский"}; !slices.Equal(got, want) {
		t.Errorf("language keyboard: got %v, want %v", got, want)
	}
	e.tg.PressButton(user, user, prompt.MessageID, "lang:ru")
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	answers, err := e.tg.WaitCallbackAnswers(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := answers[0].Text, "Русский"; got != want {
		t.Errorf("answer: got %q, want %q", got, want)
	}
	edited := e.tg.Messages(user)[1]
	mustContain(t, "edited prompt", edited.Text, "Теперь язык — русский")
	if got, want := keyboardTexts(edited), []string{"English", "✅ Русский"}; !slices.Equal(got, want) {
		t.Errorf("redrawn keyboard: got %v, want %v", got, want)
	}
	if s, _ := e.subscriber(user); s.Language != "ru" {
		t.Errorf("language: got %q, want ru", s.Language)
	}
	mustContain(t, "/help after switching", e.say(user, user, "/help", 3).Text, "Команды")
}

func TestEscapingSurvivesStrictHTML(t *testing.T) {
	e := newEnv(t)
	e.seed(
		poller.Publication{ID: "x", URL: `https://www.rusemb.org.uk/?a=1&b="2"<`, Title: `<b>Bold</b> & "AT&T" &amp; &nbsp; </a>`, Date: day(3), Category: "comments"},
		poller.Publication{ID: "y", URL: "javascript:alert(1)", Title: "No link", Date: day(2), Category: "nonexistent-category"},
	)
	e.start()
	e.tg.AddPrivateChat(13, "Eve", "en")
	m := e.say(13, 13, "/latest", 1)
	mustContain(t, "/latest", m.Text, `<b>Bold</b> & "AT&T" &amp; &nbsp; </a>`, "No link", "nonexistent-category")
	if strings.Contains(m.HTML, "javascript:") {
		t.Errorf("a javascript: URL reached the message: %q", m.HTML)
	}
	// A group whose title needs escaping is greeted intact.
	e.tg.AddGroup(-500, `<Friends> & "Co"`, false)
	e.tg.RemoveBotFromGroup(-500, 13)
	e.tg.AddBotToGroup(-500, 13)
	mustContain(t, "group greeting", e.waitMessages(-500, 1)[0].Text, `Hello, <Friends> & "Co"!`)
}

// TestLatestIsSafeFromHostileSources: /latest strips the invisible and
// bidi characters alerts strip, shows an item stored with a date in year
// 9999 (before the poller clamped dates) as of the day it was seen, below
// newer ones, and survives a 4,000-character unknown category.
func TestLatestIsSafeFromHostileSources(t *testing.T) {
	e := newEnv(t)
	seen := day(1)
	e.seed(
		poller.Publication{ID: "future", URL: "https://www.rusemb.org.uk/fnapr/9999", Title: "Forever \u202eon top\u202c",
			Date: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), SeenAt: seen, Category: "statements"},
		poller.Publication{ID: "newer", URL: "https://www.rusemb.org.uk/fnapr/2", Title: "Newer \u2066isolated\u2069 statement",
			Date: seen.AddDate(0, 0, 2), SeenAt: seen.AddDate(0, 0, 2), Category: "statements"},
		poller.Publication{ID: "older", URL: "https://www.rusemb.org.uk/fnapr/1", Title: "Older\u200b statement\u00ad",
			Date: seen.AddDate(0, 0, -3), SeenAt: seen, Category: "statements"},
	)
	e.start()
	const user = 10
	e.tg.AddPrivateChat(user, "Ivan", "en")

	m := e.say(user, user, "/latest 2", 1)
	if strings.ContainsAny(m.Text, "\u202e\u202c\u2066\u2069\u200b\u00ad") {
		t.Errorf("/latest kept an invisible or bidi character: %q", m.Text)
	}
	mustContain(t, "/latest", m.Text, "Newer isolated statement", "Forever on top", seen.Format("02.01.2006"))
	if strings.Index(m.Text, "Newer") > strings.Index(m.Text, "Forever") {
		t.Errorf("the item dated 9999 is above a newer one: %q", m.Text)
	}
	if strings.Contains(m.Text, "9999") || strings.Contains(m.Text, "Older") {
		t.Errorf("got %q, want the two newest by the day shown, the 9999 one dated when seen", m.Text)
	}

	word := strings.Repeat("x", 4000)
	m = e.say(user, user, "/latest "+word, 2)
	mustContain(t, "long unknown category", m.Text, "I don't know the category", strings.Repeat("x", 60)+"…")
	if strings.Contains(m.Text, strings.Repeat("x", 100)) {
		t.Errorf("the reply echoes the whole argument (%d characters)", len(m.Text))
	}
}

// TestCategoriesRowAndLanguage checks that the All/None row shows the
// state, and that a keyboard sent before the chat switched language is
// redrawn, text and buttons, in the new language when pressed.
func TestCategoriesRowAndLanguage(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user = 21
	e.tg.AddPrivateChat(user, "Row", "en")
	welcome := e.say(user, user, "/start", 1)
	press := func(msgID int, data string) string { return e.pressAnswer(user, msgID, data) }
	row := func() []string {
		texts := keyboardTexts(e.tg.Messages(user)[0])
		return texts[len(texts)-2:]
	}
	if got, want := row(), []string{"✅ All", "▫️ None"}; !slices.Equal(got, want) {
		t.Errorf("subscribed to all: row %v, want %v", got, want)
	}
	press(welcome.MessageID, "cat:statements")
	if got, want := row(), []string{"▫️ All", "▫️ None"}; !slices.Equal(got, want) {
		t.Errorf("some: row %v, want %v", got, want)
	}
	press(welcome.MessageID, "cat:*")
	if got, want := row(), []string{"▫️ All", "✅ None"}; !slices.Equal(got, want) {
		t.Errorf("none: row %v, want %v", got, want)
	}
	if got := e.tg.Messages(user)[0].Text; !strings.Contains(got, "This chat is now subscribed") {
		t.Errorf("the welcome's text changed while the language did not: %q", got)
	}

	prompt := e.say(user, user, "/language", 2)
	press(prompt.MessageID, "lang:ru")
	if got, want := press(welcome.MessageID, "cat:+"), "✅ Все категории включены"; got != want {
		t.Errorf("answer: got %q, want %q", got, want)
	}
	m := e.tg.Messages(user)[0]
	mustContain(t, "old welcome after switching", m.Text, "Этот чат подписан на все категории")
	if strings.Contains(m.Text, "subscribed") {
		t.Errorf("the old welcome mixes languages: %q", m.Text)
	}
	kb := keyboardTexts(m)
	if got, want := kb[len(kb)-2:], []string{"✅ Все", "▫️ Ни одной"}; !slices.Equal(got, want) {
		t.Errorf("row after switching: %v, want %v", got, want)
	}
	if !slices.Contains(kb, "✅ Заявления") {
		t.Errorf("category buttons not in Russian: %v", kb)
	}
}

// TestPluralOverride: an operator's text with plural forms (config texts)
// is used, its form chosen by the count.
func TestPluralOverride(t *testing.T) {
	e := newEnv(t)
	var pubs []poller.Publication
	for i := range 3 {
		pubs = append(pubs, poller.Publication{ID: fmt.Sprint(i), URL: "https://x.example/" + fmt.Sprint(i), Title: "T" + fmt.Sprint(i), Date: day(i + 1), Category: "statements"})
	}
	e.seed(pubs...)
	e.start(func(p *bot.Params) {
		p.Settings.Texts = map[string]map[string]string{"ru": {
			"latest_header": "{count, plural, =1 {Одна свежая} one {# свежая} few {# свежие} many {# свежих} other {# свежей}}",
		}}
	})
	e.tg.AddPrivateChat(31, "Оля", "ru")
	mustContain(t, "/latest 2", e.say(31, 31, "/latest 2", 1).Text, "2 свежие\n")
	mustContain(t, "/latest 1", e.say(31, 31, "/latest 1", 2).Text, "Одна свежая\n")
}
