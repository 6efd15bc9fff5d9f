package telegramtest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func itoa(n int) string { return strconv.Itoa(n) }

func TestUserMediaReachTheBotAsTelegramSendsThem(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	_, photo := s.Send(1001, 1001, UserMessage{Media: MediaPhoto, Text: "Notice",
		Entities: []MessageEntity{{Type: "bold", Offset: 0, Length: 6}}})
	album := s.SendAlbum(1001, 1001, UserMessage{Media: MediaDocument, Text: "Form A"}, UserMessage{Media: MediaDocument})
	_, reply := s.Send(1001, 1001, UserMessage{Text: "/broadcast", ReplyTo: album[0]})

	bot := newBot(t, s)
	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 4 {
		t.Fatalf("got %d updates, want 4", len(updates))
	}
	p := updates[0].Message
	if p.MessageID != photo || len(p.Photo) != 1 || p.Caption != "Notice" || len(p.CaptionEntities) != 1 || p.Text != "" {
		t.Errorf("photo: got %+v, want a photo captioned Notice in bold", p)
	}
	a, b := updates[1].Message, updates[2].Message
	if a.MediaGroupID == "" || a.MediaGroupID != b.MediaGroupID || a.Document == nil || b.Document == nil || a.Caption != "Form A" {
		t.Errorf("album: got %+v and %+v, want two documents of one media group", a, b)
	}
	r := updates[3].Message
	if r.MessageID != reply || r.ReplyToMessage == nil || r.ReplyToMessage.MessageID != album[0] || r.ReplyToMessage.Document == nil {
		t.Errorf("reply: got %+v, want a reply to the album's first part", r)
	}
}

func TestCopyMessagesCopiesRealMessages(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	s.AddPrivateChat(2002, "Bob", "ru")
	_, text := s.Send(1001, 1001, UserMessage{Text: "Closed on Monday", Entities: []MessageEntity{{Type: "italic", Offset: 0, Length: 6}}})
	album := s.SendAlbum(1001, 1001, UserMessage{Media: MediaPhoto, Text: "Queue"}, UserMessage{Media: MediaVideo})

	status, r := call(t, s, "copyMessage", url.Values{"chat_id": {"2002"}, "from_chat_id": {"1001"}, "message_id": {itoa(text)}})
	if status != 200 || !r.OK {
		t.Fatalf("copyMessage: got %d %+v", status, r)
	}
	var one wireMessageID
	if err := json.Unmarshal(r.Result, &one); err != nil || one.MessageID == 0 {
		t.Fatalf("copyMessage result %s: want a message id", r.Result)
	}
	status, r = callJSON(t, s, "copyMessages", `{"chat_id":2002,"from_chat_id":1001,"message_ids":[`+itoa(album[0])+`,`+itoa(album[1])+`,999]}`)
	if status != 200 || !r.OK {
		t.Fatalf("copyMessages: got %d %+v", status, r)
	}
	var many []wireMessageID
	if err := json.Unmarshal(r.Result, &many); err != nil || len(many) != 2 {
		t.Fatalf("copyMessages result %s: want two ids (the missing one skipped)", r.Result)
	}
	got := s.Messages(2002)
	if len(got) != 3 {
		t.Fatalf("got %d messages, want 3 copies", len(got))
	}
	if got[0].Text != "Closed on Monday" || got[0].Entities[0].Type != "italic" || got[0].CopyOf != (CopySource{1001, text}) {
		t.Errorf("text copy: got %+v", got[0])
	}
	if got[1].Media != MediaPhoto || got[1].Text != "Queue" || got[2].Media != MediaVideo ||
		got[1].MediaGroupID == "" || got[1].MediaGroupID != got[2].MediaGroupID {
		t.Errorf("album copy: got %+v and %+v, want a photo and a video in one new album", got[1], got[2])
	}

	for _, tt := range []struct {
		method string
		form   url.Values
		desc   string
	}{
		{"copyMessage", url.Values{"chat_id": {"2002"}, "from_chat_id": {"1001"}, "message_id": {"999"}}, descCopyNotFound},
		{"copyMessages", url.Values{"chat_id": {"2002"}, "from_chat_id": {"1001"}, "message_ids": {"[998,999]"}}, descCopyNotFound},
		{"copyMessages", url.Values{"chat_id": {"2002"}, "from_chat_id": {"1001"}, "message_ids": {"[3,2]"}}, descIDsOrder},
		{"copyMessage", url.Values{"chat_id": {"2002"}, "from_chat_id": {"1001"}, "message_id": {itoa(text)}, "caption": {"x"}}, descNoCaption},
	} {
		if status, r := call(t, s, tt.method, tt.form); status != 400 || r.Description != tt.desc {
			t.Errorf("%s %v: got %d %q, want 400 %q", tt.method, tt.form, status, r.Description, tt.desc)
		}
	}
}

func TestEditCaptionAndDeleteMessages(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	s.AddPrivateChat(2002, "Bob", "ru")
	_, photo := s.Send(1001, 1001, UserMessage{Media: MediaPhoto, Text: "Old"})
	_, r := call(t, s, "copyMessage", url.Values{"chat_id": {"2002"}, "from_chat_id": {"1001"}, "message_id": {itoa(photo)}})
	var cp wireMessageID
	_ = json.Unmarshal(r.Result, &cp)
	_, r = call(t, s, "sendMessage", url.Values{"chat_id": {"2002"}, "text": {"plain"}})
	var sent wireMessage
	_ = json.Unmarshal(r.Result, &sent)

	edit := url.Values{"chat_id": {"2002"}, "message_id": {itoa(cp.MessageID)}, "caption": {"<b>New</b>"}, "parse_mode": {"HTML"}}
	if status, r := call(t, s, "editMessageCaption", edit); status != 200 || !r.OK {
		t.Fatalf("editMessageCaption: got %d %+v", status, r)
	}
	if m := s.Messages(2002)[0]; m.Text != "New" || m.Edits != 1 || len(m.Entities) != 1 {
		t.Errorf("edited copy: got %+v, want the caption New in bold", m)
	}
	if status, r := call(t, s, "editMessageCaption", edit); status != 400 || r.Description != descNotModified {
		t.Errorf("same caption: got %d %q, want not modified", status, r.Description)
	}
	textEdit := url.Values{"chat_id": {"2002"}, "message_id": {itoa(sent.MessageID)}, "caption": {"x"}}
	if status, r := call(t, s, "editMessageCaption", textEdit); status != 400 || r.Description != descNoCaption {
		t.Errorf("caption of a text: got %d %q, want %q", status, r.Description, descNoCaption)
	}
	mediaEdit := url.Values{"chat_id": {"2002"}, "message_id": {itoa(cp.MessageID)}, "text": {"x"}}
	if status, r := call(t, s, "editMessageText", mediaEdit); status != 400 || r.Description != descNoText {
		t.Errorf("text of a photo: got %d %q, want %q", status, r.Description, descNoText)
	}

	del := url.Values{"chat_id": {"2002"}, "message_ids": {"[" + itoa(cp.MessageID) + "," + itoa(sent.MessageID) + ",999]"}}
	if status, r := call(t, s, "deleteMessages", del); status != 200 || !r.OK {
		t.Fatalf("deleteMessages: got %d %+v", status, r)
	}
	for _, m := range s.Messages(2002) {
		if !m.Deleted {
			t.Errorf("message %d not deleted", m.MessageID)
		}
	}
	if status, r := call(t, s, "deleteMessages", del); status != 400 || r.Description != descDeleteNotFound {
		t.Errorf("deleting them again: got %d %q, want %q", status, r.Description, descDeleteNotFound)
	}
}
