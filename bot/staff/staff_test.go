package staff_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

func TestStaffCommandsRefusedToCitizens(t *testing.T) {
	onEachStore(t, options{}, func(t *testing.T, e *env) {
		e.start()
		const citizen = 2001
		e.subscriber(citizen, "en")
		for i, cmd := range []string{"/broadcast hello everyone", "/stats", "/broadcasts", "/deadletters"} {
			e.say(citizen, cmd)
			m := e.waitMessage(citizen, i+1)
			if m.Text != "Sorry, this command is not available to you." {
				t.Errorf("%s: got %q, want the polite refusal", cmd, m.Text)
			}
		}
		logs := e.logs.String()
		for _, cmd := range []string{"command=broadcast", "command=stats", "command=broadcasts", "command=deadletters"} {
			mustContain(t, "logs", logs, "staff command refused", "user_id=2001 "+cmd)
		}
		// A citizen's plain text is not taken for an announcement.
		e.say(citizen, "hello everyone")
		if m := e.waitMessage(citizen, 5); !strings.Contains(m.Text, "I answer commands") {
			t.Errorf("citizen's text: got %q, want the usual hint", m.Text)
		}
		if n := e.fake.Calls("sendMessage"); n != 5 {
			t.Errorf("got %d sendMessage calls, want 5 (the answers): nothing was broadcast", n)
		}

		// The menu: staff commands in the admin's chat only.
		names := func(cmds []telegramtest.BotCommand) []string {
			var out []string
			for _, c := range cmds {
				out = append(out, c.Command)
			}
			return out
		}
		e.waitFor("the admin's menu", func() bool {
			return len(e.fake.Commands(telegramtest.CommandScope{Type: "chat", ChatID: admin}, "ru")) > 0
		})
		for _, lang := range []string{"", "en", "ru"} {
			public := names(e.fake.Commands(telegramtest.CommandScope{}, lang))
			staffMenu := names(e.fake.Commands(telegramtest.CommandScope{Type: "chat", ChatID: admin}, lang))
			for _, cmd := range []string{"broadcast", "broadcasts", "stats", "deadletters"} {
				if slices.Contains(public, cmd) {
					t.Errorf("menu %q: the public menu lists /%s", lang, cmd)
				}
				if !slices.Contains(staffMenu, cmd) {
					t.Errorf("menu %q: the admin's menu lacks /%s: %v", lang, cmd, staffMenu)
				}
			}
		}
	})
}

// TestStaffBroadcastToCategory follows a formatted announcement from the
// preview to the subscribers of one category, and proves that nothing
// goes out before Send and that Send pressed twice sends once.
func TestStaffBroadcastToCategory(t *testing.T) {
	onEachStore(t, options{}, func(t *testing.T, e *env) {
		e.start()
		consular := []int64{3001, 3002, 3003}
		others := []int64{3004, 3005}
		for _, c := range consular {
			e.subscriber(c, "en", "consular", "statements")
		}
		for _, c := range others {
			e.subscriber(c, "ru", "statements")
		}

		// The admin sends /broadcast with formatted text (entities count
		// UTF-16 code units: the emoji takes two).
		text := "/broadcast 😀 Consular section closed <Monday> & Tuesday. Details"
		e.post(admin, text, []map[string]any{
			{"type": "bot_command", "offset": 0, "length": 10},
			{"type": "bold", "offset": 14, "length": 23},
			{"type": "text_link", "offset": 58, "length": 7, "url": "https://www.rusemb.org.uk/consular?a=1&b=2"},
		}, nil)
		const want = `😀 <b>Consular section closed</b> &lt;Monday&gt; &amp; Tuesday. <a href="https://www.rusemb.org.uk/consular?a=1&amp;b=2">Details</a>`
		preview := e.waitMessage(admin, 1)
		if preview.HTML != want {
			t.Fatalf("preview: got %q, want %q", preview.HTML, want)
		}
		control := e.waitMessage(admin, 2)
		mustContain(t, "control", control.Text, "Audience: everyone — 5 subscribers", "Nothing is sent until you press Send")

		// Choose the consular category.
		e.press(admin, control, "Change audience")
		control = e.waitText(admin, control.MessageID, "Who should receive")
		e.press(admin, control, "Consular")
		control = e.waitText(admin, control.MessageID, "Now: category “Consular")
		mustContain(t, "picker", control.Text, "3 subscribers")
		e.press(admin, control, "Back")
		control = e.waitText(admin, control.MessageID, "Nothing is sent")
		mustContain(t, "control", control.Text, "Audience: category “Consular", "3 subscribers")
		for _, c := range append(slices.Clone(consular), others...) {
			if n := len(e.received(c)); n != 0 {
				t.Fatalf("chat %d got %d messages before Send", c, n)
			}
		}

		sendData := buttonData(control, "Send")
		e.pressData(admin, control, sendData)
		status := e.waitText(admin, control.MessageID, "Announcement sent")
		mustContain(t, "report", status.Text, "Delivered: 3", "Blocked the bot or removed: 0", "Failed: 0")
		for _, c := range consular {
			msgs := e.received(c)
			if len(msgs) != 1 || msgs[0].HTML != want {
				t.Errorf("chat %d: got %+v, want the announcement once, as previewed", c, msgs)
			}
		}
		for _, c := range others {
			if n := len(e.received(c)); n != 0 {
				t.Errorf("chat %d outside the audience got %d messages", c, n)
			}
		}

		// Send again, on the old keyboard: nothing more goes out.
		e.pressData(admin, control, sendData)
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		answers, err := e.fake.WaitCallbackAnswers(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		if got := answers[len(answers)-1].Text; got != "Already sent." {
			t.Errorf("second Send: got %q, want %q", got, "Already sent.")
		}
		for _, c := range consular {
			if n := len(e.received(c)); n != 1 {
				t.Errorf("chat %d got %d copies, want 1", c, n)
			}
		}

		// The audit log.
		e.say(admin, "/broadcasts")
		list := e.waitMessage(admin, 3)
		mustContain(t, "/broadcasts", list.Text, "Recent announcements", "Ada", "category “Consular", "sent",
			"😀 Consular section closed <Monday> & Tuesday. Details", "Delivered 3, blocked or removed 0, failed 0, not sent 0.")
	})
}

// TestStaffBroadcastToSeveralCategories ticks two categories: the
// announcement reaches each subscriber wanting either once, and nobody
// else, and every view names both and counts their union.
func TestStaffBroadcastToSeveralCategories(t *testing.T) {
	onEachStore(t, options{}, func(t *testing.T, e *env) {
		e.start()
		e.subscriber(5001, "en", "consular")
		e.subscriber(5002, "ru", "statements")
		e.subscriber(5003, "en", "consular", "statements", "speeches")
		e.subscriber(5004, "en", "press-releases")
		e.subscriber(5005, "ru", "speeches", "briefings")
		audience := []int64{5001, 5002, 5003}
		others := []int64{5004, 5005}

		e.say(admin, "/broadcast Visa centre moves on Monday")
		e.waitMessage(admin, 1)
		control := e.waitMessage(admin, 2)
		mustContain(t, "control", control.Text, "everyone — 5 subscribers")
		e.press(admin, control, "Change audience")
		control = e.waitText(admin, control.MessageID, "Who should receive")
		e.press(admin, control, "Consular")
		control = e.waitText(admin, control.MessageID, "Now: category “Consular notices” — 2 subscribers")
		// Ticking one more and unticking it again is a toggle.
		e.press(admin, control, "Briefings")
		control = e.waitText(admin, control.MessageID, "— 3 subscribers")
		e.press(admin, control, "Briefings")
		control = e.waitText(admin, control.MessageID, "Now: category “Consular notices” — 2 subscribers")
		e.press(admin, control, "Statements")
		const both = "any of the categories “Consular notices”, “Statements”"
		control = e.waitText(admin, control.MessageID, "Now: "+both+" — 3 subscribers")
		for _, label := range []string{"✅ Consular notices", "✅ Statements"} {
			if buttonData(control, label) == "" {
				t.Errorf("picker: no button %q: %+v", label, control.InlineKeyboard())
			}
		}
		for _, row := range control.InlineKeyboard() {
			for _, b := range row {
				if len(b.CallbackData) > 64 {
					t.Errorf("button %q: callback data %q is %d bytes, want at most 64", b.Text, b.CallbackData, len(b.CallbackData))
				}
				if strings.HasPrefix(b.Text, "✅") && !strings.Contains(b.Text, "Consular") && !strings.Contains(b.Text, "Statements") {
					t.Errorf("picker: %q is ticked, want only the two categories", b.Text)
				}
			}
		}
		e.press(admin, control, "Back")
		control = e.waitText(admin, control.MessageID, "Nothing is sent")
		mustContain(t, "control", control.Text, "Audience: "+both+" — 3 subscribers")
		for _, c := range append(slices.Clone(audience), others...) {
			if n := len(e.received(c)); n != 0 {
				t.Fatalf("chat %d got %d messages before Send", c, n)
			}
		}

		e.press(admin, control, "Send")
		status := e.waitText(admin, control.MessageID, "Announcement sent")
		mustContain(t, "report", status.Text, both, "Delivered: 3", "Failed: 0")
		for _, c := range audience {
			if msgs := e.received(c); len(msgs) != 1 || msgs[0].Text != "Visa centre moves on Monday" {
				t.Errorf("chat %d: got %+v, want the announcement once", c, msgs)
			}
		}
		for _, c := range others {
			if n := len(e.received(c)); n != 0 {
				t.Errorf("chat %d outside the audience got %d messages", c, n)
			}
		}

		e.say(admin, "/broadcasts")
		list := e.waitMessage(admin, 3)
		mustContain(t, "/broadcasts", list.Text, both, "Delivered 3, blocked or removed 0, failed 0, not sent 0.")
	})
}

// TestStaffBroadcastFromNextMessageToLanguage writes the text in the
// message after /broadcast and sends it to Russian speakers only; then a
// reply with /broadcast takes the replied message's formatting.
func TestStaffBroadcastFromNextMessageToLanguage(t *testing.T) {
	onEachStore(t, options{}, func(t *testing.T, e *env) {
		e.start()
		ru := []int64{4001, 4002}
		en := []int64{4003}
		e.subscribers("ru", ru)
		e.subscribers("en", en)

		e.say(admin, "/broadcast")
		ask := e.waitMessage(admin, 1)
		mustContain(t, "question", ask.Text, "Send the announcement in your next message")
		e.say(admin, "Посольство закрыто 4 ноября <праздник>")
		// The preview is a copy of the admin's message, as subscribers get it.
		preview := e.waitMessage(admin, 2)
		if want := "Посольство закрыто 4 ноября <праздник>"; preview.Text != want || preview.CopyOf.ChatID != admin || preview.CopyOf.MessageID == 0 {
			t.Fatalf("preview: got %+v, want a copy of %q", preview, want)
		}
		control := e.waitMessage(admin, 3)
		e.press(admin, control, "Change audience")
		control = e.waitText(admin, control.MessageID, "Who should receive")
		e.press(admin, control, "Русский")
		control = e.waitText(admin, control.MessageID, "language: Русский")
		mustContain(t, "control", control.Text, "2 subscribers")
		e.press(admin, control, "Send")
		e.waitText(admin, control.MessageID, "Delivered: 2")
		for _, c := range ru {
			if msgs := e.received(c); len(msgs) != 1 || msgs[0].Text != "Посольство закрыто 4 ноября <праздник>" {
				t.Errorf("chat %d: got %+v, want the announcement", c, msgs)
			}
		}
		if n := len(e.received(en[0])); n != 0 {
			t.Errorf("English speaker got %d messages", n)
		}
		// The question is answered: the next text is not an announcement.
		e.say(admin, "thanks")
		if m := e.waitMessage(admin, 4); !strings.Contains(m.Text, "I answer commands") {
			t.Errorf("text after the draft: got %q, want the usual hint", m.Text)
		}

		// Reply to a formatted message with /broadcast.
		_, quoted := e.fake.Send(admin, admin, telegramtest.UserMessage{Text: "Quoted notice",
			Entities: []telegramtest.MessageEntity{{Type: "italic", Offset: 0, Length: 6}}})
		e.waitMessage(admin, 5) // the hint: a text alone is no announcement
		e.fake.Send(admin, admin, telegramtest.UserMessage{Text: "/broadcast", ReplyTo: quoted})
		if p := e.waitMessage(admin, 6); p.Text != "Quoted notice" || len(p.Entities) != 1 || p.Entities[0].Type != "italic" || p.CopyOf.MessageID != quoted {
			t.Errorf("preview of a reply: got %+v, want a copy of the replied message, formatting kept", p)
		}
		// And cancel that draft: nothing is sent.
		control = e.waitMessage(admin, 7)
		e.press(admin, control, "Cancel")
		e.waitText(admin, control.MessageID, "Cancelled. Nothing was sent.")
		for _, c := range append(ru, en...) {
			if n := len(e.received(c)); n > 1 {
				t.Errorf("chat %d got %d messages after a cancelled draft", c, n)
			}
		}
	})
}

// TestStaffBroadcastProgressStopAndRecall sends slowly enough to watch:
// the status is edited as it goes (never with the same text), Stop lands
// half-way and the rest is never sent, then Recall deletes every copy.
func TestStaffBroadcastProgressStopAndRecall(t *testing.T) {
	const rate = 20
	onEachStore(t, options{rate: rate, fake: &telegramtest.Options{GlobalRate: rate, PerChatInterval: -1, GroupPerMinute: -1}}, func(t *testing.T, e *env) {
		e.start()
		// Enough that a stop pressed after the first few lands well before the
		// end: 10 s of sending at 20 a second, however slow the machine.
		const n = 200
		var chats []int64
		for i := range n {
			chats = append(chats, 5001+int64(i))
			e.subscriber(chats[i], "en")
		}
		e.say(admin, "/broadcast Election day: the embassy is closed")
		control := e.waitMessage(admin, 2)
		e.press(admin, control, "Send")

		delivered := func() int {
			got := 0
			for _, c := range chats {
				got += len(e.received(c))
			}
			return got
		}
		// Progress: the status is edited while sending.
		status := e.waitText(admin, control.MessageID, "Sending")
		e.waitFor("a progress edit", func() bool {
			m := e.message(admin, control.MessageID)
			return m.Edits >= 3 && strings.Contains(m.Text, "%") && strings.Contains(m.Text, "▓")
		})
		e.waitFor("a few deliveries", func() bool { return delivered() >= 10 })
		status = e.message(admin, control.MessageID)
		e.press(admin, status, "Stop")
		status = e.waitText(admin, control.MessageID, "Announcement stopped")
		mustContain(t, "report", status.Text, "by Ada")
		got := delivered()
		if got >= n || got < 10 {
			t.Fatalf("%d of %d delivered after the stop, want some but not all", got, n)
		}
		mustContain(t, "report", status.Text, "Delivered: "+itoa(got), "Not sent (stopped): "+itoa(n-got))
		if edits := e.calls.count("editMessageText", http.StatusBadRequest); edits != 0 {
			t.Errorf("%d edits were refused (message is not modified), want 0", edits)
		}
		if n := e.fake.TooManyRequests(); n != 0 {
			t.Errorf("the fake answered %d 429s, want 0", n)
		}

		// Recall, with confirmation.
		e.press(admin, status, "Recall")
		confirm := e.waitNew(admin, "Delete all "+itoa(got)+" delivered copies")
		e.press(admin, confirm, "Yes")
		status = e.waitText(admin, control.MessageID, "Recalled")
		mustContain(t, "recall report", status.Text, itoa(got)+" deleted", "0 too old", "0 failed")
		for _, c := range chats {
			for _, m := range e.received(c) {
				if !m.Deleted {
					t.Errorf("chat %d: message %d not deleted", c, m.MessageID)
				}
			}
		}
		if edits := e.calls.count("editMessageText", http.StatusBadRequest); edits != 0 {
			t.Errorf("%d edits were refused, want 0", edits)
		}
		if n := e.fake.TooManyRequests(); n != 0 {
			t.Errorf("the fake answered %d 429s during the recall, want 0", n)
		}
		e.say(admin, "/broadcasts")
		list := e.waitNew(admin, "Recent announcements")
		mustContain(t, "/broadcasts", list.Text, "recalled", "Recalled by Ada", itoa(got)+" deleted")
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestStaffDraftIsItsAdminsOwn: another admin's press on a draft, or a
// staff button pressed in a group, changes nothing, even when forged with
// the draft's real id.
func TestStaffDraftIsItsAdminsOwn(t *testing.T) {
	const other, group = int64(1002), int64(-1000000005001)
	onEachStore(t, options{admins: []int64{admin, other}}, func(t *testing.T, e *env) {
		e.start()
		e.fake.AddPrivateChat(other, "Bea", "en")
		e.subscriber(5002, "en")
		e.say(admin, "/broadcast Only Ada may send this")
		control := e.waitMessage(admin, 2)
		mustContain(t, "control", control.Text, "Audience: everyone")
		send := buttonData(control, "Send")
		draftID := strings.Split(send, ":")[2]
		// The control message shows before its draft is stored (with the
		// control's id); a forged press is only meaningful once it is.
		e.eventually("the draft stored", func() bool {
			_, ok, err := e.st.Draft(context.Background(), draftID)
			return err == nil && ok
		})

		// Admin B, in B's own chat, with A's draft id.
		for _, data := range []string{send, "st:l:" + draftID + ":ru", "st:c:" + draftID} {
			e.forgePress(other, "private", other, 1, data)
		}
		// Admin A's own button, but pressed in a group.
		e.forgePress(group, "supergroup", admin, 1, send)
		e.waitFor("the refusals logged", func() bool {
			l := e.logs.String()
			return strings.Count(l, "another admin's draft refused") == 3 && strings.Contains(l, "staff button refused outside the admin's private chat")
		})
		mustContain(t, "logs", e.logs.String(), "owner_id=1001", "chat_id=-1000000005001")
		if n := len(e.received(5002)); n != 0 {
			t.Fatalf("the subscriber got %d messages: a forged Send was obeyed", n)
		}

		// The draft is intact: its audience unchanged, and A can still send it.
		e.press(admin, control, "Send")
		if m := e.waitMessage(5002, 1); !strings.Contains(m.Text, "Only Ada may send this") {
			t.Fatalf("subscriber got %q, want the announcement", m.Text)
		}
	})
}
