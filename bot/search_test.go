package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/poller"
)

func searchEnvs() map[string]func(t *testing.T) *env {
	return map[string]func(t *testing.T) *env{"redis": func(t *testing.T) *env { return newEnv(t) }, "bolt": newBoltEnv}
}

func searchSeed(e *env) {
	var pubs []poller.Publication
	for i := range 7 {
		pubs = append(pubs, poller.Publication{ID: fmt.Sprint("pass", i), URL: fmt.Sprintf("https://www.rusemb.org.uk/fnapr/%d", i),
			Title: fmt.Sprintf("Выдача паспортов №%d", i), Date: day(1 + i), Category: "consular"})
	}
	for i := range 5 {
		pubs = append(pubs, poller.Publication{ID: fmt.Sprint("other", i), URL: fmt.Sprintf("https://www.rusemb.org.uk/fnapr/o%d", i),
			Title: fmt.Sprintf("Briefing number %d", i), Summary: "Visas for journalists", Date: day(10 + i), Category: "briefings"})
	}
	e.seed(pubs...)
}

func TestSearchFindsAndPages(t *testing.T) {
	for name, open := range searchEnvs() {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			searchSeed(e)
			e.start()
			const user = 31
			e.tg.AddPrivateChat(user, "Ivan", "ru")

			first := e.say(user, user, "/search паспорт", 1)
			mustContain(t, "/search паспорт", first.Text, "Найдено по запросу «паспорт»", "1–5 из 7", "Выдача паспортов №6", "Выдача паспортов №2")
			if strings.Contains(first.Text, "№1") || strings.Contains(first.Text, "Briefing") {
				t.Errorf("first page holds more than the 5 newest matches: %q", first.Text)
			}
			if got := keyboardData(first); !slices.Equal(got, []string{"srch:1:паспорт"}) {
				t.Fatalf("first page buttons = %q, want Next only", got)
			}
			if a := e.press(user, user, first.MessageID, "srch:1:паспорт"); a.ShowAlert {
				t.Errorf("Next answered %+v", a)
			}
			second := e.waitMessages(user, 1)[0]
			mustContain(t, "second page", second.Text, "6–7 из 7", "Выдача паспортов №1", "Выдача паспортов №0")
			if got := keyboardData(second); !slices.Equal(got, []string{"srch:0:паспорт"}) {
				t.Errorf("second page buttons = %q, want Prev only", got)
			}

			// Forged and out-of-range presses change nothing.
			edits := second.Edits
			for _, data := range []string{"srch:99:паспорт", "srch:-1:паспорт", "srch:01:паспорт", "srch:0:*", "srch:0:", "srch:x", "lat:0:0:", "lat:0:5:nonsense", "lat:500:5:", "sim:A"} {
				e.tg.PressForgedButton(user, user, second.MessageID, data)
			}
			e.waitHandled()
			answers := e.tg.CallbackAnswers()
			for _, a := range answers[len(answers)-10:] {
				if a.Text != "Эта кнопка устарела." {
					t.Errorf("forged press answered %q, want the stale-button notice", a.Text)
				}
			}
			if got := e.waitMessages(user, 1); got[0].Edits != edits || len(got) != 1 {
				t.Errorf("forged presses edited or sent messages: %d edits (was %d), %d messages", got[0].Edits, edits, len(got))
			}

			mustContain(t, "English stems", e.say(user, user, "/search visa", 2).Text, "Briefing number 4", "1–5 из 5")
			mustContain(t, "no query", e.say(user, user, "/search", 3).Text, "/search паспорт")
			mustContain(t, "stop words only", e.say(user, user, "/search и в", 4).Text, "нет слов для поиска")
			mustContain(t, "nothing", e.say(user, user, "/search <b>погода</b>", 5).Text, "ничего не найдено", "<b>погода</b>")
		})
	}
}

func TestLatestPages(t *testing.T) {
	e := newEnv(t)
	searchSeed(e)
	e.start()
	const user = 32
	e.tg.AddPrivateChat(user, "Ivan", "en")
	m := e.say(user, user, "/latest 5 consular", 1)
	if got := keyboardData(m); !slices.Equal(got, []string{"lat:1:5:consular"}) {
		t.Fatalf("buttons = %q, want Next", got)
	}
	e.press(user, user, m.MessageID, "lat:1:5:consular")
	m = e.waitMessages(user, 1)[0]
	mustContain(t, "second page", m.Text, "6–7", "Выдача паспортов №1", "Выдача паспортов №0")
	if strings.Contains(m.Text, "№2") {
		t.Errorf("second page repeats the first: %q", m.Text)
	}
	if got := keyboardData(m); !slices.Equal(got, []string{"lat:0:5:consular"}) {
		t.Errorf("buttons = %q, want Prev", got)
	}
}

func TestSimilarButton(t *testing.T) {
	e := newEnv(t)
	searchSeed(e)
	b := e.start()
	const user = 33
	e.tg.AddPrivateChat(user, "Ivan", "en")
	alert := poller.Publication{ID: "new", Title: "Паспорта: новые сроки", Category: "consular"}
	markup := b.AlertMarkup(alert, "en")
	if !strings.Contains(markup, `"callback_data":"sim:паспорт нов срок"`) || !strings.Contains(markup, "Similar") {
		t.Fatalf("alert markup = %s, want a Similar button searching the title's terms", markup)
	}
	btn, ok := b.SimilarButton(alert, "en")
	if !ok {
		t.Fatal("no Similar button")
	}
	if _, err := b.SendHTML(context.Background(), user, "alert", keyboardOf(btn)); err != nil {
		t.Fatal(err)
	}
	msg := e.waitMessages(user, 1)[0]
	e.press(user, user, msg.MessageID, btn.Data)
	got := e.waitMessages(user, 2)[1]
	mustContain(t, "Similar", got.Text, "Found for “паспорт нов срок”", "Выдача паспортов №6")
	if _, ok := b.SimilarButton(poller.Publication{Title: "и в на"}, "en"); ok {
		t.Error("a title of stop words got a Similar button")
	}
}

func TestDeepLinks(t *testing.T) {
	for name, open := range searchEnvs() {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			e.start()
			const user, old = 34, 35
			e.tg.AddPrivateChat(user, "Ivan", "en")
			e.tg.StartLink(user, "consular")
			mustContain(t, "deep link", e.waitMessages(user, 1)[0].Text, "now receives “Consular notices”")
			if s, ok := e.subscriber(user); !ok || !slices.Equal(s.Categories, []string{"consular"}) {
				t.Errorf("subscriber = %+v, %v; want consular alone", s, ok)
			}
			// A subscribed chat adds the category to its own.
			e.tg.AddPrivateChat(old, "Olga", "ru")
			e.say(old, old, "/start", 1)
			e.press(old, old, e.waitMessages(old, 1)[0].MessageID, "cat:*")
			e.tg.StartLink(old, "briefings")
			mustContain(t, "deep link", e.waitMessages(old, 2)[1].Text, "теперь получает «Брифинги»")
			if s, _ := e.subscriber(old); !slices.Equal(s.Categories, []string{"briefings"}) {
				t.Errorf("categories = %v, want briefings", s.Categories)
			}
			// An unknown payload changes nothing and says so.
			e.tg.StartLink(old, "no-such_thing")
			mustContain(t, "bad link", e.waitMessages(old, 3)[2].Text, "ничего не изменено")
			if s, _ := e.subscriber(old); !slices.Equal(s.Categories, []string{"briefings"}) {
				t.Errorf("categories after a bad link = %v, want briefings", s.Categories)
			}
		})
	}
}

func keyboardOf(btns ...bot.Button) bot.Keyboard { return bot.Keyboard{btns} }

func TestFollowTopics(t *testing.T) {
	for name, open := range searchEnvs() {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			e.start()
			const user, fresh = 36, 37
			e.tg.AddPrivateChat(user, "Ivan", "ru")
			mustContain(t, "not subscribed", e.say(user, user, "/follow паспорт", 1).Text, "/start")
			e.say(user, user, "/start", 2)
			mustContain(t, "usage", e.say(user, user, "/follow", 3).Text, "/follow паспорт")
			mustContain(t, "follow", e.say(user, user, "/follow Паспорта", 4).Text, "следит за темой «Паспорта»")
			mustContain(t, "again", e.say(user, user, "/follow паспорт", 5).Text, "уже следит")
			mustContain(t, "stop words", e.say(user, user, "/follow и в", 6).Text, "нет слов")
			mustContain(t, "too long", e.say(user, user, "/follow one two three four five", 7).Text, "не больше 4 слов")
			e.say(user, user, "/follow visa centre", 8)
			list := e.say(user, user, "/following", 9)
			mustContain(t, "/following", list.Text, "Темы", "2 из 20")
			if got := keyboardTexts(list); !slices.Equal(got, []string{"✖ visa centre", "✖ Паспорта"}) {
				t.Fatalf("buttons = %q", got)
			}
			a := e.press(user, user, list.MessageID, keyboardData(list)[1])
			if a.Text != "Больше не следим за темой «Паспорта»." {
				t.Errorf("unfollow answered %q", a.Text)
			}
			after := e.waitMessages(user, 9)[8]
			if got := keyboardTexts(after); !slices.Equal(got, []string{"✖ visa centre"}) {
				t.Errorf("after unfollow the list shows %q", got)
			}
			e.tg.PressForgedButton(user, user, list.MessageID, "unf:0123456789abcdef")
			e.waitHandled()
			if topics, _ := e.subs.Topics(context.Background(), user); len(topics) != 1 {
				t.Errorf("topics = %v, want visa centre alone", topics)
			}
			// Limit: 20.
			for i := range 19 {
				e.say(user, user, fmt.Sprintf("/follow word%d", i), 10+i)
			}
			mustContain(t, "limit", e.say(user, user, "/follow overflow", 29).Text, "следит за 20 темами")

			// A topic deep link: a new chat follows it, with no category.
			e.tg.AddPrivateChat(fresh, "Olga", "ru")
			e.tg.StartLink(fresh, "topic64-0L_QsNGB0L_QvtGA0YI")
			mustContain(t, "topic link", e.waitMessages(fresh, 1)[0].Text, "следит за темой «паспорт»")
			s, _ := e.subscriber(fresh)
			topics, _ := e.subs.Topics(context.Background(), fresh)
			if len(s.Categories) != 0 || len(topics) != 1 || topics[0].Key != "паспорт" {
				t.Errorf("after the topic link: categories %v, topics %v; want none and паспорт", s.Categories, topics)
			}
			e.tg.StartLink(fresh, "topic-visa")
			mustContain(t, "ascii topic link", e.waitMessages(fresh, 2)[1].Text, "«visa»")
		})
	}
}
