package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"

	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestButtonRepliesStayInTheirTopic: what a button press sends as a new
// message (the consular map, Similar's results) goes to the forum topic of
// the message holding the button, not to the group's General topic.
func TestButtonRepliesStayInTheirTopic(t *testing.T) {
	e := newEnv(t)
	searchSeed(e)
	const group, admin int64 = -1010, 7
	e.tg.AddGroup(group, "Diaspora", true)
	e.tg.MakeForum(group)
	news := e.tg.AddTopic(group, "News")
	e.tg.AddUser(admin, "Ann", "en")
	e.tg.SetChatAdmin(group, admin)
	b := e.start()

	e.tg.SendTextInTopic(group, admin, news, "/consular")
	card := e.waitMessages(group, 1)[0]
	e.tg.PressButton(group, admin, card.MessageID, "cmap:")
	if venue := e.waitMessages(group, 2)[1]; venue.Venue == nil || venue.ThreadID != news {
		t.Errorf("map: venue %v in thread %d, want a venue in the topic %d", venue.Venue, venue.ThreadID, news)
	}

	btn, ok := b.SimilarButton(poller.Publication{Title: "Паспорта"}, "en")
	if !ok {
		t.Fatal("no Similar button")
	}
	e.tg.SendTextInTopic(group, admin, news, "/latest 1")
	latest := e.waitMessages(group, 3)[2]
	e.tg.PressForgedButton(group, admin, latest.MessageID, btn.Data)
	if found := e.waitMessages(group, 4)[3]; found.ThreadID != news {
		t.Errorf("Similar: results in thread %d, want the topic %d", found.ThreadID, news)
	}
}

// TestTopicDeepLinkWithoutTerms: a topic link a new chat cannot follow
// (stop words only, too many words) leaves it with the categories /start
// gives, not with neither a category nor a topic.
func TestTopicDeepLinkWithoutTerms(t *testing.T) {
	for name, open := range searchEnvs() {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			e.start()
			for i, payload := range []string{"topic-the_and", "topic-a_b_c_d_e_f", "topic64-0LgK", "topic64-%%%"[:8]} {
				user := int64(60 + i)
				e.tg.AddPrivateChat(user, "Ivan", "en")
				e.tg.StartLink(user, payload)
				mustContain(t, payload, e.waitMessages(user, 1)[0].Text, "nothing was changed")
				s, ok := e.subscriber(user)
				topics, _ := e.subs.Topics(context.Background(), user)
				if !ok || len(s.Categories) == 0 || len(topics) != 0 {
					t.Errorf("%s: subscribed %v with categories %v and topics %v; want the default categories and no topic", payload, ok, s.Categories, topics)
				}
			}
		})
	}
}

// TestQuietAndDigestBadInput: /quiet and /digest refuse bad times and
// zones with their usage or the zone quoted (escaped, cut to 64
// characters) and change nothing; a chat that never subscribed is told
// to /start.
func TestQuietAndDigestBadInput(t *testing.T) {
	e := newEnv(t)
	e.start()
	const user, stranger = 70, 71
	e.tg.AddPrivateChat(user, "Ivan", "en")
	e.tg.AddPrivateChat(stranger, "Olga", "en")
	mustContain(t, "not subscribed", e.say(stranger, stranger, "/quiet 23:00-07:00", 1).Text, "/start")
	mustContain(t, "not subscribed", e.say(stranger, stranger, "/digest 08:00", 2).Text, "/start")
	e.say(user, user, "/start", 1)
	longZone := strings.Repeat("Z", 300)
	n := 1
	for _, c := range []struct{ cmd, want string }{
		{"/quiet 25:00-07:00", "/quiet 23:00-07:00"},
		{"/quiet 23:00-23:00", "/quiet 23:00-07:00"},
		{"/quiet 23:00", "/quiet 23:00-07:00"},
		{"/quiet -", "/quiet 23:00-07:00"},
		{"/quiet 23:00-07:00 Europe/London extra", "/quiet 23:00-07:00"},
		{"/quiet 23:00-07:00 Mars/Base", "Unknown time zone Mars/Base."},
		{"/quiet 23:00-07:00 ../../etc/passwd", "Unknown time zone ../../etc/passwd."},
		// Shown as typed: had it been taken as markup the tags would be gone.
		{"/quiet 23:00-07:00 <b>Europe/London</b>", "Unknown time zone <b>Europe/London</b>."},
		{"/quiet 23:00-07:00 Local", "Unknown time zone Local."},
		{"/quiet 23:00-07:00 " + longZone, "Unknown time zone " + strings.Repeat("Z", 63) + "…"},
		{"/digest 8", "/digest 08:00"},
		{"/digest 24:00", "/digest 08:00"},
		{"/digest 08:00 Europe/London extra", "/digest 08:00"},
		{"/digest 08:00 Mars/Base", "Unknown time zone Mars/Base."},
		{"/digest 08:00 " + longZone, "Unknown time zone " + strings.Repeat("Z", 63) + "…"},
	} {
		n++
		got := e.say(user, user, c.cmd, n)
		mustContain(t, c.cmd[:min(len(c.cmd), 40)], got.Text, c.want)
	}
	if s, _ := e.subscriber(user); s.Prefs != (subscriptions.Prefs{}) {
		t.Errorf("prefs after bad input: %+v, want none set", s.Prefs)
	}
}

// TestGroupMemberCannotTuneAlerts: in a group, a plain member's
// /quiet, /digest, /follow, /following, /topic and /start with a link's
// payload are refused, and so are the alert and topic buttons, forged or
// replayed; nothing changes.
func TestGroupMemberCannotTuneAlerts(t *testing.T) {
	g := newGroupEnv(t)
	g.tg.SendTextAsAnonymousAdmin(g.group, g.admin, "/follow visa")
	mustContain(t, "admin's /follow", g.waitMessages(g.group, 2)[1].Text, "follows “visa”")
	before, _ := g.subscriber(g.group)
	n := 2
	for _, cmd := range []string{"/quiet 23:00-07:00", "/digest 08:00", "/follow passport", "/following", "/topic",
		"/start topic-passport", "/start consular", "/start@" + botName + " topic64-0L_QsNGB0L_QvtGA0YI"} {
		n++
		if got := g.say(g.group, g.member, cmd, n).Text; got != refusal {
			t.Errorf("%s: got %q, want %q", cmd, got, refusal)
		}
	}
	list := g.waitMessages(g.group, n)[n-1]
	topics, _ := g.subs.Topics(context.Background(), g.group)
	for _, data := range []string{"mute:consular", "unmute:consular", "unf:" + bot.TopicHash(topics[0].Key), "unf:0123456789abcdef"} {
		q := g.tg.PressForgedButton(g.group, g.member, list.MessageID, data)
		g.waitFor("the answer to "+data, func() bool {
			for _, a := range g.tg.CallbackAnswers() {
				if a.QueryID == q {
					if a.Text != refusal || !a.ShowAlert {
						t.Errorf("%s: answered %+v, want the refusal as an alert", data, a)
					}
					return true
				}
			}
			return false
		})
	}
	after, _ := g.subscriber(g.group)
	if !slices.Equal(after.Categories, before.Categories) || after.Prefs != before.Prefs {
		t.Errorf("subscription: got %+v, want it unchanged: %+v", after, before)
	}
	if got, _ := g.subs.Topics(context.Background(), g.group); len(got) != 1 || got[0].Key != topics[0].Key {
		t.Errorf("topics: got %v, want visa alone", got)
	}
}

// TestSearchFollowAndStartOddInput: huge, emoji-only, right-to-left and
// HTML-looking words, and typed /start payloads no link can carry, each
// get a clear answer in one message, shown as typed (escaped, bidi
// controls dropped, cut short), and change nothing they should not.
func TestSearchFollowAndStartOddInput(t *testing.T) {
	e := newEnv(t)
	searchSeed(e)
	e.start()
	const user = 80
	e.tg.AddPrivateChat(user, "Ivan", "en")
	e.say(user, user, "/start", 1)
	before, _ := e.subscriber(user)
	var huge strings.Builder
	for i := 0; huge.Len() < 4000; i++ {
		fmt.Fprintf(&huge, "word%d ", i)
	}
	n := 1
	for _, c := range []struct {
		cmd     string
		want    []string
		notWant string
	}{
		{"/search " + huge.String(), []string{"Only the first 8 words were looked for."}, ""},
		{"/search 🙂🙂 🇬🇧", []string{"“🙂🙂 🇬🇧” has no words to look for"}, ""},
		{"/search \u202evisa\u202c", []string{"Found for “visa”", "Briefing number 4"}, "\u202e"},
		{"/search <b>visa</b>", []string{"Briefing number"}, ""},
		{"/follow <b>visa</b> & <i>", []string{"now follows “<b>visa</b> & <i>”"}, ""},
		{"/follow \u202eпаспорт\u202c", []string{"now follows “паспорт”"}, "\u202e"},
		{"/follow 🙂", []string{"“🙂” has no words to follow"}, ""},
		{"/follow " + strings.Repeat("я", 300), []string{"at most 4 words"}, ""},
		{"/follow " + huge.String(), []string{"at most 4 words"}, ""},
		{"/start " + strings.Repeat("x", 65), []string{"nothing was changed"}, ""},
		{"/start topic64-%%%", []string{"nothing was changed"}, ""},
		{"/start consular<b>", []string{"nothing was changed"}, ""},
		{"/start topic-visa-centre", []string{"nothing was changed"}, ""},
	} {
		n++
		got := e.say(user, user, c.cmd, n)
		mustContain(t, c.cmd[:min(len(c.cmd), 30)], got.Text, c.want...)
		if c.notWant != "" && strings.Contains(got.Text, c.notWant) {
			t.Errorf("%q: answer %q holds %q", c.cmd, got.Text, c.notWant)
		}
		if len([]rune(got.Text)) > 4096 {
			t.Errorf("%q: answer of %d characters", c.cmd[:30], len([]rune(got.Text)))
		}
	}
	if got := len(e.tg.Messages(user)); got != n {
		t.Errorf("%d messages, want one answer each (%d)", got, n)
	}
	after, _ := e.subscriber(user)
	if !slices.Equal(after.Categories, before.Categories) {
		t.Errorf("categories after odd /start payloads: %v, want %v", after.Categories, before.Categories)
	}
	topics, _ := e.subs.Topics(context.Background(), user)
	var keys []string
	for _, tp := range topics {
		keys = append(keys, tp.Key)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"visa", "паспорт"}) {
		t.Errorf("topics = %q, want visa and паспорт", keys)
	}
}

// TestDigestListsFollowedTopics: a chat on the daily digest that follows
// a topic finds a matching publication of a category it does not take in
// its digest. Digest chats get no alert, so leaving it out lost it.
func TestDigestListsFollowedTopics(t *testing.T) {
	for name, open := range searchEnvs() {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			st := e.store.(alertStore)
			const chat = 103
			e.tg.AddPrivateChat(chat, "Bob", "en")
			b := e.start(func(p *bot.Params) { p.Digests = st })
			e.tg.StartLink(chat, "consular")
			e.waitMessages(chat, 1)
			e.say(chat, chat, "/follow visa", 2)
			e.say(chat, chat, "/digest 08:00", 3)
			e.seed(
				poller.Publication{ID: "p-visa", URL: "https://www.rusemb.org.uk/fnapr/3", Title: "Visas for journalists", Category: "statements", Date: e.clock.Now(), SeenAt: e.clock.Now()},
				poller.Publication{ID: "p-other", URL: "https://www.rusemb.org.uk/fnapr/4", Title: "Statement on trade", Category: "statements", Date: e.clock.Now(), SeenAt: e.clock.Now()},
			)
			e.clock.Advance(time.Date(2017, 10, 18, 7, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
			if err := b.SendDueDigests(context.Background()); err != nil {
				t.Fatal(err)
			}
			d := e.waitMessages(chat, 4)[3]
			mustContain(t, "digest", d.Text, "1 new", "Visas for journalists")
			if strings.Contains(d.Text, "trade") {
				t.Errorf("digest lists a publication of no category or topic of the chat: %q", d.Text)
			}
		})
	}
}

// TestMuteOfACategoryNotTaken: Mute on an alert that came for a followed
// topic says why it changes nothing and offers no Undo, which would turn
// on a category the chat never took.
func TestMuteOfACategoryNotTaken(t *testing.T) {
	e := newEnv(t)
	b := e.start()
	const chat = 104
	e.tg.AddPrivateChat(chat, "Bob", "en")
	e.tg.StartLink(chat, "topic-visa")
	e.waitMessages(chat, 1)
	if _, err := b.SendHTML(context.Background(), chat, "Visas for journalists", keyboardOf(bot.Button{Text: "Mute", Data: "mute:statements"})); err != nil {
		t.Fatal(err)
	}
	alert := e.waitMessages(chat, 2)[1]
	mustContain(t, "answer", e.pressAnswer(chat, alert.MessageID, "mute:statements"), "does not take Statements", "/following")
	e.waitHandled()
	if got := keyboardData(e.message(chat, alert.MessageID)); !slices.Equal(got, []string{"mute:statements"}) {
		t.Errorf("keyboard after the press: %v, want the Mute button as it was", got)
	}
	if s, _ := e.subscriber(chat); len(s.Categories) != 0 {
		t.Errorf("categories after the press: %v, want none", s.Categories)
	}
}
