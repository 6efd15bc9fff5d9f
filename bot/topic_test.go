package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/poller"
)

func TestForumTopicRedis(t *testing.T) { testForumTopic(t, newEnv(t)) }
func TestForumTopicBolt(t *testing.T)  { testForumTopic(t, newBoltEnv(t)) }

// testForumTopic: an administrator's /start inside a topic sends the
// group's alerts there; a member's /start in another topic does not move
// them; /topic off brings them back to the chat itself.
func testForumTopic(t *testing.T, e *env) {
	ctx := context.Background()
	const group, admin, member int64 = -1009, 5, 6
	e.tg.AddGroup(group, "Diaspora", true)
	e.tg.MakeForum(group)
	news := e.tg.AddTopic(group, "News")
	chat := e.tg.AddTopic(group, "Chat")
	e.tg.AddUser(admin, "Ann", "en")
	e.tg.AddUser(member, "Bob", "en")
	e.tg.SetChatAdmin(group, admin)
	b := e.start()

	e.tg.SendTextInTopic(group, admin, news, "/start")
	welcome := e.waitMessages(group, 1)[0]
	if welcome.ThreadID != news {
		t.Fatalf("welcome in thread %d, want the topic it was asked in (%d)", welcome.ThreadID, news)
	}
	mustContain(t, "welcome", welcome.Text, "Alerts will go to this topic")
	e.tg.SendTextInTopic(group, member, chat, "/start")
	e.waitMessages(group, 2)
	e.waitHandled()
	if s, _ := e.subscriber(group); s.Prefs.Thread != int64(news) {
		t.Fatalf("thread after a member's /start elsewhere: got %d, want %d", s.Prefs.Thread, news)
	}

	eng := e.startEngine(b)
	pub := poller.Publication{ID: "p-1", URL: "https://www.rusemb.org.uk/fnapr/1", Title: "Consular reception hours", Category: "consular", SeenAt: e.clock.Now()}
	e.seed(pub)
	if err := eng.Enqueue(ctx, delivery.Announcement{ID: delivery.PublicationAnnouncementID(pub.ID), Kind: delivery.KindPublication, PublicationID: pub.ID}); err != nil {
		t.Fatal(err)
	}
	alert := e.waitMessages(group, 3)[2]
	if alert.ThreadID != news || alert.DisableNotification {
		t.Errorf("alert: thread %d silent %v, want thread %d and ringing (consular is urgent)", alert.ThreadID, alert.DisableNotification, news)
	}

	// The topic is deleted: the next alert goes to the chat itself.
	e.tg.DeleteTopic(group, news)
	pub2 := poller.Publication{ID: "p-2", URL: "https://www.rusemb.org.uk/fnapr/2", Title: "Visa centre closed", Category: "consular", SeenAt: e.clock.Now()}
	e.seed(pub2)
	if err := eng.Enqueue(ctx, delivery.Announcement{ID: delivery.PublicationAnnouncementID(pub2.ID), Kind: delivery.KindPublication, PublicationID: pub2.ID}); err != nil {
		t.Fatal(err)
	}
	if alert := e.waitMessages(group, 4)[3]; alert.ThreadID != 0 || !strings.Contains(alert.Text, "Visa centre") {
		t.Errorf("alert after the topic went: got thread %d %q, want the chat itself", alert.ThreadID, alert.Text)
	}
	chat = e.tg.AddTopic(group, "News again")

	e.tg.SendTextInTopic(group, admin, chat, "/topic off")
	e.waitMessages(group, 5)
	e.waitHandled()
	if s, _ := e.subscriber(group); s.Prefs.Thread != 0 {
		t.Errorf("thread after /topic off: got %d, want 0", s.Prefs.Thread)
	}
}
