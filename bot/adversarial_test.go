package bot_test

import (
	"testing"

	"github.com/bulletinbot/bulletinbot/poller"
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
