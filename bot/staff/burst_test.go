package staff_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/staff"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
)

// burst has the store hold a burst as the poller's RecordPoll would: a
// source of three items suddenly shows 25 more.
func (e *env) burst(src string) poller.Burst {
	e.t.Helper()
	pubs := func(prefix string, n int, newest time.Time) []poller.Publication {
		out := make([]poller.Publication, n)
		for i := range out {
			id := "https://example.org/" + prefix + strconv.Itoa(i)
			out[i] = poller.Publication{ID: id, Source: src, URL: id, Title: "Item <" + prefix + strconv.Itoa(i) + ">",
				Date: newest.Add(-time.Duration(i) * time.Hour), Category: "statements", SeenAt: newest}
		}
		return out
	}
	now := time.Now()
	ctx := context.Background()
	old := pubs("old", 3, now.Add(-48*time.Hour))
	if _, err := e.st.RecordPoll(ctx, poller.Recording{Source: src, Pubs: old, Now: now, BurstLimit: 20, BurstNewest: 5}); err != nil {
		e.t.Fatal(err)
	}
	done, err := e.st.RecordPoll(ctx, poller.Recording{Source: src, Pubs: append(pubs("new", 25, now), old...),
		Now: now, BurstLimit: 20, BurstNewest: 5})
	if err != nil || done.Burst == nil || len(done.Queued) != 0 {
		e.t.Fatalf("got %+v, %v; want a burst held", done, err)
	}
	return *done.Burst
}

// TestBurstNoticeOnceAndAnnounceNewest holds a burst with two replicas
// watching: the admins get one notice each, a non-admin's press does
// nothing, the first admin's press queues the newest five for announcement,
// and a second press queues nothing more.
func TestBurstNoticeOnceAndAnnounceNewest(t *testing.T) {
	const (
		admin2   = int64(1003)
		stranger = int64(3003)
	)
	admins := []int64{admin, admin2}
	onEachStore(t, options{admins: admins, staff: func(p *staff.Params) { p.Bursts = p.Store.(staff.BurstStore) }}, func(t *testing.T, e *env) {
		e.subscriber(admin2, "ru") // her language is known: her notice is in Russian
		e.fake.AddUser(stranger, "Stan", "en")
		e.start()
		second := e.replica("staff-2", admins)

		b := e.burst("https://example.org/list")
		notice := e.waitNew(admin, "Too many new items at once")
		e.waitNew(admin2, "Слишком много новых публикаций")
		for _, want := range []string{"https://example.org/list", "25 new items", "• Item <new0>", "• Item <new4>"} {
			if !strings.Contains(notice.Text, want) {
				t.Errorf("notice %q lacks %q", notice.Text, want)
			}
		}
		if strings.Contains(notice.Text, "new5") {
			t.Errorf("notice %q names more than the newest five", notice.Text)
		}
		// More checks on both replicas send nothing more.
		var wg sync.WaitGroup
		for _, s := range []*staff.Staff{e.staff, second} {
			wg.Go(func() {
				if err := s.CheckBursts(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, chat := range admins {
			n := 0
			for _, m := range e.received(chat) {
				if strings.Contains(m.Text, "🛑") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("admin %d got %d notices, want 1", chat, n)
			}
		}

		data := "burst:" + b.ID
		answered := func(from int64) telegramtest.CallbackAnswer {
			t.Helper()
			var got telegramtest.CallbackAnswer
			e.waitFor("the answer to a press", func() bool {
				for _, a := range e.fake.CallbackAnswers() {
					if a.FromUserID == from && a.Data == data {
						got = a
					}
				}
				return got.QueryID != ""
			})
			return got
		}
		// The engine here sends only staff broadcasts: what the button queues
		// for announcement is read from the store's queue.
		queued := func() string {
			t.Helper()
			evs, err := e.st.NextPublications(context.Background(), "test", 100, -1, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, ev := range evs {
				ids = append(ids, strings.TrimPrefix(ev.PublicationID, "https://example.org/"))
				if err := e.st.AckPublications(context.Background(), ev.ID); err != nil {
					t.Fatal(err)
				}
			}
			return strings.Join(ids, ",")
		}
		// A forged press by someone who is not an admin is refused.
		e.fake.PressButton(admin, stranger, notice.MessageID, data)
		answered(stranger)
		if got := queued(); got != "" {
			t.Fatalf("after a non-admin's press %q were queued, want nothing", got)
		}

		e.press(admin, notice, "Announce the newest 5")
		e.waitText(admin, notice.MessageID, "Ada announced the newest 5")
		if a := answered(admin); a.Text != "Announcing the newest 5." {
			t.Fatalf("answer %q, want Announcing the newest 5.", a.Text)
		}
		if got := queued(); got != "new4,new3,new2,new1,new0" {
			t.Fatalf("the press queued %q, want new4..new0 (oldest first)", got)
		}

		// Bea presses her copy after Ada: nothing more is queued.
		var hers telegramtest.Message
		for _, m := range e.received(admin2) {
			if strings.Contains(m.Text, "🛑") {
				hers = m
			}
		}
		e.fake.PressButton(admin2, admin2, hers.MessageID, data)
		if a := answered(admin2); a.Text != "Они уже разосланы." {
			t.Fatalf("second press answered %q, want that they were announced", a.Text)
		}
		if got := queued(); got != "" {
			t.Fatalf("the second press queued %q, want nothing", got)
		}
	})
}
