package staff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// TestStaffBroadcastPhotoWithTwoVersions: a captioned photo is the
// announcement; a Russian version (a document) is added from the preview;
// each subscriber gets an exact copy of their language's version, the
// audience line counts who gets which, a test goes to the admin only, and
// Recall deletes the copies.
func TestStaffBroadcastPhotoWithTwoVersions(t *testing.T) {
	onBothStores(t, func(t *testing.T, o options) {
		e := newEnv(t, o)
		e.start()
		en, ru := []int64{6001, 6002}, []int64{6003}
		e.subscribers("en", en)
		e.subscribers("ru", ru)

		e.say(admin, "/broadcast")
		e.waitMessage(admin, 1)
		_, photo := e.fake.Send(admin, admin, telegramtest.UserMessage{Media: telegramtest.MediaPhoto, Text: "Queue at the gate",
			Entities: []telegramtest.MessageEntity{{Type: "bold", Offset: 0, Length: 5}}})
		preview := e.waitMessage(admin, 2)
		if preview.Media != telegramtest.MediaPhoto || preview.Text != "Queue at the gate" || preview.CopyOf.MessageID != photo {
			t.Fatalf("preview: got %+v, want a copy of the photo", preview)
		}
		control := e.waitMessage(admin, 3)
		mustContain(t, "control", control.Text, "everyone — 3 subscribers")

		// The Russian version, from the preview's button.
		e.press(admin, control, "Add a version in Русский")
		mustContain(t, "question", e.waitMessage(admin, 4).Text, "Send the Русский version")
		_, doc := e.fake.Send(admin, admin, telegramtest.UserMessage{Media: telegramtest.MediaDocument, Text: "Очередь у ворот"})
		if p := e.waitMessage(admin, 5); p.Media != telegramtest.MediaDocument || p.CopyOf.MessageID != doc {
			t.Fatalf("preview of the Russian version: got %+v", p)
		}
		control = e.waitMessage(admin, 6)
		mustContain(t, "control", control.Text, "Versions: English to 2; Русский to 1.")
		if buttonData(control, "Add a version") != "" {
			t.Errorf("control %+v: no language is left to add", control.InlineKeyboard())
		}

		// A test to the admin: both versions, nobody else.
		e.press(admin, control, "Send a test to me")
		e.waitFor("the test", func() bool { return len(e.received(admin)) >= 8 })
		test := e.received(admin)[6:8]
		if test[0].CopyOf.MessageID != photo || test[1].CopyOf.MessageID != doc {
			t.Errorf("test: got %+v, want copies of the photo and the document", test)
		}
		for _, c := range append(slices.Clone(en), ru...) {
			if n := len(e.received(c)); n != 0 {
				t.Fatalf("chat %d got %d messages before Send", c, n)
			}
		}

		e.press(admin, control, "Send")
		status := e.waitText(admin, control.MessageID, "Delivered: 3")
		for _, c := range en {
			if m := e.received(c); len(m) != 1 || m[0].CopyOf.MessageID != photo || m[0].Entities[0].Type != "bold" {
				t.Errorf("chat %d: got %+v, want the photo with its formatted caption", c, m)
			}
		}
		if m := e.received(ru[0]); len(m) != 1 || m[0].CopyOf.MessageID != doc {
			t.Errorf("Russian speaker: got %+v, want the document", m)
		}
		if n := e.fake.Calls("sendMessage"); n == 0 || e.fake.Calls("copyMessage") != 3+2+2 {
			t.Errorf("copyMessage calls: got %d, want 3 sends, 2 previews and 2 tests", e.fake.Calls("copyMessage"))
		}

		e.press(admin, status, "Recall")
		e.press(admin, e.waitNew(admin, "Delete all 3"), "Yes")
		e.waitText(admin, control.MessageID, "Recalled")
		for _, c := range append(slices.Clone(en), ru...) {
			if m := e.received(c); !m[0].Deleted {
				t.Errorf("chat %d: the copy is not deleted", c)
			}
		}
		e.say(admin, "/broadcasts")
		mustContain(t, "/broadcasts", e.waitNew(admin, "Recent announcements").Text, "Queue at the gate")
	})
}

// TestStaffBroadcastAlbum: an album sent after /broadcast is one
// announcement; subscribers get it as an album (copyMessages) and Recall
// deletes every part (deleteMessages).
func TestStaffBroadcastAlbum(t *testing.T) {
	onBothStores(t, func(t *testing.T, o options) {
		e := newEnv(t, o)
		e.start()
		e.subscriber(7001, "en")
		e.subscriber(7002, "ru")

		e.say(admin, "/broadcast")
		e.waitMessage(admin, 1)
		album := e.fake.SendAlbum(admin, admin,
			telegramtest.UserMessage{Media: telegramtest.MediaPhoto, Text: "New opening hours"},
			telegramtest.UserMessage{Media: telegramtest.MediaPhoto},
			telegramtest.UserMessage{Media: telegramtest.MediaDocument})
		control := e.waitMessage(admin, 2)
		control = e.waitText(admin, control.MessageID, "An album of 3 parts")
		e.press(admin, control, "Send a test to me")
		e.waitFor("the test album", func() bool { return len(e.received(admin)) >= 5 })
		for i, m := range e.received(admin)[2:5] {
			if m.CopyOf.MessageID != album[i] || m.MediaGroupID == "" {
				t.Errorf("test part %d: got %+v, want a copy of part %d in an album", i, m, album[i])
			}
		}

		e.press(admin, control, "Send")
		status := e.waitText(admin, control.MessageID, "Delivered: 2")
		for _, c := range []int64{7001, 7002} {
			got := e.received(c)
			if len(got) != 3 || got[0].Text != "New opening hours" || got[0].MediaGroupID == "" || got[2].MediaGroupID != got[0].MediaGroupID {
				t.Errorf("chat %d: got %+v, want the album of 3", c, got)
			}
		}
		e.press(admin, status, "Recall")
		e.press(admin, e.waitNew(admin, "Delete all 2"), "Yes")
		mustContain(t, "recall", e.waitText(admin, control.MessageID, "Recalled").Text, "2 deleted")
		for _, c := range []int64{7001, 7002} {
			for _, m := range e.received(c) {
				if !m.Deleted {
					t.Errorf("chat %d: part %d not deleted", c, m.MessageID)
				}
			}
		}
		if n := e.fake.Calls("deleteMessages"); n != 2 {
			t.Errorf("deleteMessages calls: got %d, want 2", n)
		}
	})
}

// TestStaffEmptyAudienceCannotBeSent: with nobody in the audience the Send
// button says so and sends nothing ("Sending 0 / 0" no more).
func TestStaffEmptyAudienceCannotBeSent(t *testing.T) {
	e := newEnv(t, options{})
	e.start()
	e.say(admin, "/broadcast Nobody will read this")
	control := e.waitMessage(admin, 2)
	mustContain(t, "control", control.Text, "everyone — 0 subscribers")
	if buttonData(control, "📣 Send") != "" {
		t.Fatalf("control %+v: a Send button for nobody", control.InlineKeyboard())
	}
	e.press(admin, control, "Nobody to send to")
	e.waitFor("the answer", func() bool {
		return slices.Contains(e.answersTo(control.MessageID), "Nobody is in this audience. Choose another audience before sending.")
	})
	// A Send pressed on a keyboard from before the audience emptied.
	e.subscriber(8001, "en")
	e.say(admin, "/broadcast Somebody was here")
	control = e.waitMessage(admin, 4)
	send := buttonData(control, "📣 Send")
	if _, err := e.subs.Unsubscribe(t.Context(), 8001); err != nil {
		t.Fatal(err)
	}
	e.pressData(admin, control, send)
	e.waitFor("the refusal", func() bool {
		return slices.Contains(e.answersTo(control.MessageID), "Nobody is in this audience. Choose another audience before sending.")
	})
	if m := e.message(admin, control.MessageID); strings.Contains(m.Text, "Sending") || buttonData(m, "Nobody") == "" {
		t.Errorf("control after Send: got %q %+v, want the draft redrawn for nobody", m.Text, m.InlineKeyboard())
	}
	if n := len(e.received(8001)); n != 0 {
		t.Errorf("the former subscriber got %d messages", n)
	}
}

// TestStaffCorrection: "Correct" replaces the caption of every delivered
// copy of a photo (editMessageCaption) and the text of every copy of a
// text (editMessageText), each version's own copies only, with a report.
func TestStaffCorrection(t *testing.T) {
	onBothStores(t, func(t *testing.T, o options) {
		e := newEnv(t, o)
		e.start()
		en, ru := []int64{9001, 9002, 9003}, []int64{9004}
		e.subscribers("en", en)
		e.subscribers("ru", ru)
		e.say(admin, "/broadcast")
		e.waitMessage(admin, 1)
		e.fake.Send(admin, admin, telegramtest.UserMessage{Media: telegramtest.MediaPhoto, Text: "Closed on Tuesdya"})
		control := e.waitMessage(admin, 3)
		e.press(admin, control, "Add a version in Русский")
		e.waitMessage(admin, 4)
		e.say(admin, "Закрыто во вторник")
		control = e.waitMessage(admin, 6)
		e.press(admin, control, "Send")
		status := e.waitText(admin, control.MessageID, "Delivered: 4")

		// Correct the photo's caption: the English copies only.
		e.press(admin, status, "Correct: English")
		mustContain(t, "question", e.waitNew(admin, "corrected caption").Text, "at most 1,024 characters")
		e.post(admin, "Closed on Tuesday", []map[string]any{{"type": "bold", "offset": 10, "length": 7}}, nil)
		e.waitNew(admin, "Correcting every delivered copy")
		status = e.waitText(admin, control.MessageID, "Corrected")
		mustContain(t, "report", status.Text, "3 edited", "0 too old", "0 failed")
		for _, c := range en {
			m := e.received(c)[0]
			if m.Text != "Closed on Tuesday" || m.Edits != 1 || len(m.Entities) != 1 || m.Entities[0].Type != "bold" {
				t.Errorf("chat %d: got %+v, want the corrected caption", c, m)
			}
		}
		if m := e.received(ru[0])[0]; m.Edits != 0 {
			t.Errorf("the Russian copy was edited: %+v", m)
		}

		// Correct the Russian text.
		e.press(admin, status, "Correct: Русский")
		mustContain(t, "question", e.waitNew(admin, "corrected text").Text, "every delivered copy")
		e.say(admin, "Закрыто во вторник, 4 ноября")
		e.waitFor("the Russian copy corrected", func() bool { return e.received(ru[0])[0].Text == "Закрыто во вторник, 4 ноября" })
		status = e.waitText(admin, control.MessageID, "1 edited")
		if n := e.calls.count("editMessageCaption", 200); n != 3 {
			t.Errorf("editMessageCaption: %d answered 200, want 3", n)
		}
		e.say(admin, "/broadcasts")
		mustContain(t, "/broadcasts", e.waitNew(admin, "Recent announcements").Text, "Closed on Tuesday")
	})
}
