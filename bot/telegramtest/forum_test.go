package telegramtest

import (
	"strconv"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestSilentThreadsAndVenues(t *testing.T) {
	s := newTestServer(t, Options{})
	bot := newBot(t, s)
	const forum, plain int64 = -1001, -1002
	s.AddGroup(forum, "Forum", true)
	s.AddGroup(plain, "Plain", true)
	s.MakeForum(forum)
	topic := s.AddTopic(forum, "Alerts")

	send := func(chat int64, extra tgbotapi.Params) error {
		p := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10), "text": "hi"}
		for k, v := range extra {
			p[k] = v
		}
		_, err := bot.MakeRequest("sendMessage", p)
		return err
	}
	if err := send(forum, tgbotapi.Params{"message_thread_id": strconv.Itoa(topic), "disable_notification": "true"}); err != nil {
		t.Fatalf("send to the topic: %v", err)
	}
	if err := send(forum, nil); err != nil {
		t.Fatalf("send to the forum's general topic: %v", err)
	}
	for _, c := range []struct {
		chat   int64
		thread int
	}{{plain, topic}, {forum, topic + 100}} {
		err := send(c.chat, tgbotapi.Params{"message_thread_id": strconv.Itoa(c.thread)})
		if err == nil || err.Error() != descThreadNotFound {
			t.Errorf("thread %d in chat %d: got %v, want %q", c.thread, c.chat, err, descThreadNotFound)
		}
	}
	ms := s.Messages(forum)
	if len(ms) != 2 || ms[0].ThreadID != topic || !ms[0].DisableNotification || ms[1].ThreadID != 0 || ms[1].DisableNotification {
		t.Fatalf("forum messages: got %+v, want one silent in the topic, one loud outside it", ms)
	}

	venue := tgbotapi.Params{"chat_id": strconv.FormatInt(plain, 10), "latitude": "51.5069", "longitude": "-0.1887",
		"title": "Consular Section", "address": "5 Kensington Palace Gardens"}
	if _, err := bot.MakeRequest("sendVenue", venue); err != nil {
		t.Fatalf("sendVenue: %v", err)
	}
	venue["title"] = ""
	if _, err := bot.MakeRequest("sendVenue", venue); err == nil {
		t.Error("sendVenue without a title: got nil error")
	}
	ms = s.Messages(plain)
	if len(ms) != 1 || ms[0].Venue == nil || ms[0].Venue.Title != "Consular Section" || ms[0].Venue.Location.Longitude != -0.1887 {
		t.Fatalf("venues: got %+v, want the one sent", ms)
	}

	s.AddUser(7, "Ann", "en")
	if id := s.SendTextInTopic(forum, 7, topic, "/start"); id == 0 {
		t.Fatal("SendTextInTopic: no update")
	}
	resp, err := bot.MakeRequest("getUpdates", tgbotapi.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Result), `"message_thread_id":`+strconv.Itoa(topic)+`,"is_topic_message":true`) ||
		!strings.Contains(string(resp.Result), `"is_forum":true`) {
		t.Errorf("update of a topic message: got %s, want its thread and the forum flag", resp.Result)
	}
}
