package delivery_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

func TestDeliveryPublicationReachesMatchingSubscribers(t *testing.T) {
	t.Parallel()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		e.subscriber(1, subscriptions.ChatPrivate, "en")
		e.subscriber(2, subscriptions.ChatPrivate, "ru")
		e.subscriber(3, subscriptions.ChatPrivate, "en", "statements")
		e.subscriber(-5, subscriptions.ChatGroup, "en", "consular")
		e.subscriber(-1001000000007, subscriptions.ChatChannel, "ru", "consular", "other")
		eng := e.engine(func(p *delivery.Params) {
			p.Labels = func(cat, lang string) string { return "L:" + cat + ":" + lang }
		})
		e.run(eng)

		pub := poller.Publication{ID: "https://www.rusemb.org.uk/fnapr/7001", URL: "https://www.rusemb.org.uk/fnapr/7001",
			Title: "Visa centre <closed> on Monday", Date: time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), Category: "consular",
			Summary: "The visa centre will be closed & reopen on Tuesday.", SeenAt: time.Now()}
		e.publish(pub)
		st := e.waitDone(delivery.PublicationAnnouncementID(pub.ID), 10*time.Second)
		if st.Targeted != 4 || st.Delivered != 4 || st.Announcement.Kind != delivery.KindPublication || st.Announcement.PublicationID != pub.ID {
			t.Fatalf("got %+v, want 4 targeted and delivered for the publication", st)
		}
		tests := []struct {
			chat int64
			want []string // substrings of the plain text; nil: no message
		}{
			{1, []string{"L:consular:en", "6 May 2024", "Visa centre <closed> on Monday", "closed & reopen", "Source: rusemb.org.uk"}},
			{2, []string{"L:consular:ru", "6 мая 2024", "Источник: rusemb.org.uk"}},
			{3, nil},
			{-5, []string{"L:consular:en"}},
			{-1001000000007, []string{"L:consular:ru"}},
		}
		for _, tt := range tests {
			msgs := e.fake.Messages(tt.chat)
			if tt.want == nil {
				if len(msgs) != 0 {
					t.Errorf("chat %d: got %d messages, want none", tt.chat, len(msgs))
				}
				continue
			}
			if len(msgs) != 1 {
				t.Errorf("chat %d: got %d messages, want 1", tt.chat, len(msgs))
				continue
			}
			m := msgs[0]
			for _, s := range tt.want {
				if !strings.Contains(m.Text, s) {
					t.Errorf("chat %d: got text %q, want it to contain %q", tt.chat, m.Text, s)
				}
			}
			if m.ParseMode != "HTML" || !m.DisableWebPagePreview || len(m.Entities) == 0 {
				t.Errorf("chat %d: got parse mode %q, no preview %v, %d entities; want HTML with entities and no preview", tt.chat, m.ParseMode, m.DisableWebPagePreview, len(m.Entities))
			}
		}
	})
}

func TestDeliveryBroadcast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		e.subscriber(1, subscriptions.ChatPrivate, "en")
		e.subscriber(2, subscriptions.ChatPrivate, "ru")
		e.subscriber(3, subscriptions.ChatSupergroup, "ru")
		eng := e.engine(func(p *delivery.Params) {
			p.LinkPreviews, p.Gaps = true, &delivery.Gaps{Private: 100 * time.Millisecond, Group: 100 * time.Millisecond}
		})

		invalid := []delivery.Announcement{
			broadcast("bad id!", subscriptions.Filter{}, map[string]string{"": "x"}),
			broadcast("b-empty", subscriptions.Filter{}, nil),
			broadcast("b-html", subscriptions.Filter{}, map[string]string{"": "<b>unclosed"}),
			broadcast("b-amp", subscriptions.Filter{}, map[string]string{"": "Q&A"}),
			broadcast("b-long", subscriptions.Filter{}, map[string]string{"": strings.Repeat("x", 4097)}),
			{ID: "b-kind", Kind: "poll", Texts: map[string]string{"": "x"}},
		}
		for _, a := range invalid {
			if err := eng.Enqueue(ctx, a); !errors.Is(err, delivery.ErrInvalid) {
				t.Errorf("Enqueue(%s): got %v, want ErrInvalid", a.ID, err)
			}
		}

		ru := broadcast("b-ru", subscriptions.Filter{Language: "ru"}, map[string]string{"": "<b>Hello</b>", "ru": "<b>Привет</b> &amp; пока"})
		if err := eng.Enqueue(ctx, ru); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		if err := eng.Enqueue(ctx, ru); !errors.Is(err, delivery.ErrDuplicate) {
			t.Fatalf("second Enqueue: got %v, want ErrDuplicate", err)
		}
		all := broadcast("b-all", subscriptions.Filter{}, map[string]string{"en": "<i>Notice</i>"})
		if err := eng.Enqueue(ctx, all); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		e.run(eng)
		e.waitDone("b-ru", 10*time.Second)
		st := e.waitDone("b-all", 10*time.Second)
		if st.Targeted != 3 || st.Delivered != 3 {
			t.Fatalf("b-all: got %+v, want 3 targeted and delivered", st)
		}
		want := map[int64][]string{1: {"Notice"}, 2: {"Привет & пока", "Notice"}, 3: {"Привет & пока", "Notice"}}
		for chat, texts := range want {
			msgs := e.fake.Messages(chat)
			var got []string
			for _, m := range msgs {
				got = append(got, m.Text)
				if m.DisableWebPagePreview {
					t.Errorf("chat %d: got previews disabled, want them on", chat)
				}
			}
			if len(got) != len(texts) {
				t.Errorf("chat %d: got %q, want %q", chat, got, texts)
				continue
			}
			for _, w := range texts {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("chat %d: got %q, want %q among them", chat, got, w)
				}
			}
		}
		if n := e.fake.TooManyRequests(); n != 0 {
			t.Errorf("got %d 429s, want 0", n)
		}
	})
}

func TestDeliveryRetryAfterPausesEveryReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		chats := e.privateSubscribers(1, 40)
		rec := &recordingTelegram{inner: e.tg}
		obs := newObserver()
		e.fake.Fail("sendMessage", 1, telegramtest.APIError{Code: 429, RetryAfter: 1})
		for i := range 2 {
			e.run(e.engine(func(p *delivery.Params) {
				p.Telegram, p.Rate, p.Observer = rec, 40, obs
				p.ReplicaID = "replica-" + strconv.Itoa(i)
			}))
		}
		eng := e.engine(nil)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "<b>news</b>"})); err != nil {
			t.Fatal(err)
		}
		st := e.waitDone("b-1", 15*time.Second)
		if st.Delivered != 40 {
			t.Fatalf("got %+v, want all 40 delivered", st)
		}
		if total, dup, missing := e.copies(chats); total != 40 || dup != 0 || missing != 0 {
			t.Fatalf("got %d messages, %d duplicates, %d chats missing; want 40, 0, 0", total, dup, missing)
		}
		calls := rec.snapshot()
		var limited *call
		for i := range calls {
			var te interface{ Error() string } = calls[i].err
			if te != nil && strings.Contains(te.Error(), "429") {
				limited = &calls[i]
			}
		}
		if limited == nil {
			t.Fatal("got no 429 among the calls, want the injected one")
		}
		// Allow 50ms for the 429 to be recorded; after that nothing may start
		// on either replica until retry_after has passed.
		from, to := limited.end.Add(50*time.Millisecond), limited.end.Add(950*time.Millisecond)
		for _, c := range calls {
			if c.start.After(from) && c.start.Before(to) {
				t.Errorf("a send to %s started %v after the 429, want none within its 1s retry_after", c.chat, c.start.Sub(limited.end))
			}
		}
		if _, paused, _, _ := obs.counts(); paused != 1 {
			t.Errorf("got %d pauses observed, want 1", paused)
		}
		if n := e.fake.TooManyRequests(); n != 1 {
			t.Errorf("got %d 429s, want only the injected one", n)
		}
	})
}

func TestDeliveryGoneChatsAreRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		e.privateSubscribers(1, 6)
		e.subscriber(-7, subscriptions.ChatGroup, "en")
		e.fake.BlockBot(2)
		e.fake.DeactivateUser(3)
		e.fake.DeleteChat(4)
		e.fake.RemoveBotFromGroup(-7, 1)
		obs := newObserver()
		eng := e.engine(func(p *delivery.Params) { p.Observer = obs })
		e.run(eng)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			t.Fatal(err)
		}
		st := e.waitDone("b-1", 10*time.Second)
		if st.Delivered != 3 || st.Removed != 4 || st.Failed != 0 || st.Retries != 0 {
			t.Fatalf("got %+v, want 3 delivered and 4 removed, nothing counted as retried", st)
		}
		for _, chat := range []int64{2, 3, 4, -7} {
			if _, ok, err := e.subs.Get(ctx, chat); err != nil || ok {
				t.Errorf("chat %d: got subscribed %v (%v), want removed", chat, ok, err)
			}
		}
		if _, ok, _ := e.subs.Get(ctx, 1); !ok {
			t.Error("chat 1: got removed, want still subscribed")
		}
		// Each removal can be undone for 30 days.
		ts, err := e.subs.Removed(ctx, time.Time{}, 10)
		if err != nil || len(ts) != 4 {
			t.Fatalf("Removed: got %+v, %v; want the 4 chats' tombstones", ts, err)
		}
		for _, tomb := range ts {
			if !strings.HasPrefix(tomb.Reason, "403 ") && !strings.HasPrefix(tomb.Reason, "400 ") {
				t.Errorf("chat %d: got reason %q, want Telegram's answer", tomb.Subscriber.ChatID, tomb.Reason)
			}
		}
		// A gone chat is tried once more, GoneHold later, before removal.
		if n := e.fake.Calls("sendMessage"); n != 11 {
			t.Errorf("got %d sendMessage calls, want 11: one per chat, a second for each gone one", n)
		}
		if res, _, _, _ := obs.counts(); res["gone"] != 8 || res["sent"] != 3 {
			t.Errorf("observed %v, want 8 gone and 3 sent", res)
		}
	})
}

func TestDeliveryMigratedGroupGetsTheMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		e.subscriber(-10, subscriptions.ChatGroup, "ru")
		const super = -1001234567890
		e.fake.MigrateGroup(-10, super)
		eng := e.engine(nil)
		e.run(eng)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello", "ru": "привет"})); err != nil {
			t.Fatal(err)
		}
		st := e.waitDone("b-1", 10*time.Second)
		if st.Targeted != 1 || st.Delivered != 1 || st.Moved != 1 {
			t.Fatalf("got %+v, want 1 targeted, moved and delivered", st)
		}
		msgs := e.fake.Messages(super)
		if len(msgs) != 1 || msgs[0].Text != "привет" {
			t.Fatalf("supergroup: got %+v, want the Russian message", msgs)
		}
		if _, ok, _ := e.subs.Get(ctx, -10); ok {
			t.Error("old group id: got subscribed, want moved")
		}
		if sub, ok, _ := e.subs.Get(ctx, super); !ok || sub.Language != "ru" {
			t.Errorf("new id: got %+v %v, want the subscription moved with its language", sub, ok)
		}
	})
}

func TestDeliveryUnparsableMessageGoesAsPlainText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		e.subscriber(1, subscriptions.ChatPrivate, "en")
		e.fake.Fail("sendMessage", 1, telegramtest.APIError{Code: 400, Description: `Bad Request: can't parse entities: Unsupported start tag "foo" at byte offset 0`})
		eng := e.engine(func(p *delivery.Params) { p.Gaps = &delivery.Gaps{} })
		e.run(eng)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "<b>Hello</b> &amp; bye"})); err != nil {
			t.Fatal(err)
		}
		st := e.waitDone("b-1", 10*time.Second)
		if st.Delivered != 1 || st.Failed != 0 {
			t.Fatalf("got %+v, want delivered", st)
		}
		msgs := e.fake.Messages(1)
		if len(msgs) != 1 || msgs[0].ParseMode != "" || msgs[0].HTML != "Hello & bye" {
			t.Fatalf("got %+v, want one plain-text message %q", msgs, "Hello & bye")
		}
		loud := e.logs.lines("level=ERROR")
		if len(loud) != 1 || !strings.Contains(loud[0], "BUG") || !strings.Contains(loud[0], "parse") {
			t.Errorf("got error logs %q, want one loud line about the unparsable HTML", loud)
		}
	})
}

func TestDeliveryTransientErrorsAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// copies: a send that timed out may have reached the chat all the
		// same (Telegram has no idempotency key), so a timeout may give a
		// duplicate; an error answer may not.
		copies int
		setup  func(e *env, rec *recordingTelegram, obs *observer)
	}{
		{"5xx", 1, func(e *env, _ *recordingTelegram, _ *observer) {
			e.fake.Fail("sendMessage", 1, telegramtest.APIError{Code: 500})
			e.fake.Fail("sendMessage", 1, telegramtest.APIError{Code: 502, Description: "Bad Gateway"})
		}},
		{"connection errors", 1, func(_ *env, rec *recordingTelegram, _ *observer) {
			n := 0
			rec.fail = func(tgbotapi.Params) error {
				if n++; n <= 2 {
					return errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
				}
				return nil
			}
		}},
		{"timeouts", 3, func(e *env, _ *recordingTelegram, obs *observer) {
			e.fake.SetLatency(time.Second)
			go func() {
				seen := 0
				for ev := range obs.events {
					if ev == "transient" {
						if seen++; seen == 2 {
							e.fake.SetLatency(0)
							return
						}
					}
				}
			}()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
				e.subscriber(1, subscriptions.ChatPrivate, "en")
				rec := &recordingTelegram{inner: e.tg}
				obs := newObserver()
				tt.setup(e, rec, obs)
				eng := e.engine(func(p *delivery.Params) {
					p.Telegram, p.Observer, p.SendTimeout = rec, obs, 200*time.Millisecond
					p.Gaps = &delivery.Gaps{Private: 50 * time.Millisecond}
				})
				e.run(eng)
				if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
					t.Fatal(err)
				}
				st := e.waitDone("b-1", 10*time.Second)
				if st.Delivered != 1 || st.Retries != 2 || st.Failed != 0 {
					t.Fatalf("got %+v, want delivered after 2 retries", st)
				}
				if msgs := e.fake.Messages(1); len(msgs) < 1 || len(msgs) > tt.copies {
					t.Fatalf("got %d messages, want 1 to %d", len(msgs), tt.copies)
				}
				if _, _, retried, _ := obs.counts(); retried != 2 {
					t.Errorf("observed %d retries, want 2", retried)
				}
			})
		})
	}
}

func TestDeliveryDeadLetterOnlyAfterItsLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		e.subscriber(1, subscriptions.ChatPrivate, "en")
		e.fake.FailEvery("sendMessage", telegramtest.APIError{Code: 500})
		obs := newObserver()
		const lifetime = 500 * time.Millisecond
		eng := e.engine(func(p *delivery.Params) {
			p.Lifetime, p.Observer, p.Gaps = lifetime, obs, &delivery.Gaps{}
		})
		e.run(eng)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			t.Fatal(err)
		}
		st := e.waitDone("b-1", 10*time.Second)
		if st.Failed != 1 || st.Delivered != 0 {
			t.Fatalf("got %+v, want 1 failed", st)
		}
		dead, total, err := eng.DeadLetters(ctx, 10)
		if err != nil || total != 1 || len(dead) != 1 || dead[0].ChatID != 1 || dead[0].AnnouncementID != "b-1" || !strings.Contains(dead[0].Error, "500") {
			t.Fatalf("DeadLetters: got %+v %d %v, want chat 1 with the 500", dead, total, err)
		}
		// Never sooner than the lifetime: every failure before it was retried.
		if age := dead[0].At.Sub(st.Announcement.CreatedAt); age < lifetime {
			t.Errorf("dead-lettered %v after the announcement, want at least its %v lifetime", age, lifetime)
		}
		if n := e.fake.Calls("sendMessage"); n < 2 {
			t.Errorf("got %d calls, want the delivery tried again and again", n)
		}
		if _, _, _, d := obs.counts(); d != 1 {
			t.Errorf("observed %d dead letters, want 1", d)
		}
	})
}

func TestDeliveryCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		chats := e.privateSubscribers(1, 30)
		eng := e.engine(func(p *delivery.Params) { p.Rate = 10 })
		e.run(eng)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := e.fake.WaitFor(wctx, func() bool { total, _, _ := e.copies(chats); return total >= 3 }); err != nil {
			t.Fatal(err)
		}
		if ok, err := eng.Cancel(ctx, "b-1"); err != nil || !ok {
			t.Fatalf("Cancel: got %v %v, want true", ok, err)
		}
		st := e.waitStats("b-1", 10*time.Second, func(s delivery.Stats) bool { return s.Pending == 0 })
		total, dup, _ := e.copies(chats)
		if st.State != delivery.StateCancelled || st.Cancelled == 0 || st.Delivered+st.Cancelled != st.Targeted || int64(total) != st.Delivered || dup != 0 {
			t.Fatalf("got %+v with %d messages, want cancelled with every delivery sent or cancelled", st, total)
		}
		if total > 10 {
			t.Errorf("got %d messages, want few beyond the 3 before Cancel", total)
		}
	})
}

func TestDeliveryChatGaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		e.subscriber(1, subscriptions.ChatPrivate, "en")
		e.subscriber(-5, subscriptions.ChatGroup, "en")
		gaps := delivery.Gaps{Private: time.Second, Group: 1500 * time.Millisecond}
		eng := e.engine(func(p *delivery.Params) { p.Gaps = &gaps })
		for i := range 3 {
			if err := eng.Enqueue(ctx, broadcast("b-"+strconv.Itoa(i), subscriptions.Filter{}, map[string]string{"": "n" + strconv.Itoa(i)})); err != nil {
				t.Fatal(err)
			}
		}
		e.run(eng)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for chat, gap := range map[int64]time.Duration{1: gaps.Private, -5: gaps.Group} {
			if _, err := e.fake.WaitMessages(wctx, chat, 3); err != nil {
				t.Fatal(err)
			}
			// The gap is kept between the moments Begin lets messages go (the
			// store counts whole milliseconds); arrival at the fake is later
			// by however long each send waited for the CPU.
			begun := e.watch.begunAt(chat)
			if len(begun) != 3 {
				t.Fatalf("chat %d: %d deliveries begun, want 3", chat, len(begun))
			}
			for i := 1; i < len(begun); i++ {
				if d := begun[i].Sub(begun[i-1]); d < gap-time.Millisecond {
					t.Errorf("chat %d: messages let go %v apart, want at least %v", chat, d, gap)
				}
			}
		}
		if n := e.fake.TooManyRequests(); n != 0 {
			t.Errorf("got %d 429s, want 0", n)
		}
	})
}

func TestDeliveryPaidBroadcast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Telegram's free limit is set low: only paid broadcast gets through
	// at the engine's rate without 429s.
	forEachStore(t, telegramtest.Options{GlobalRate: 10}, func(t *testing.T, e *env) {
		chats := e.privateSubscribers(1, 100)
		eng := e.engine(func(p *delivery.Params) { p.Rate, p.PaidBroadcast, p.Workers = 200, true, 32 })
		e.run(eng)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			t.Fatal(err)
		}
		e.waitDone("b-1", 10*time.Second)
		if total, dup, missing := e.copies(chats); total != 100 || dup != 0 || missing != 0 {
			t.Fatalf("got %d messages, %d duplicates, %d missing; want 100, 0, 0", total, dup, missing)
		}
		if n := e.fake.TooManyRequests(); n != 0 {
			t.Errorf("got %d 429s, want 0 with allow_paid_broadcast", n)
		}
		if _, err := delivery.New(e.params(func(p *delivery.Params) { p.Rate, p.PaidBroadcast = 1001, true })); err == nil {
			t.Error("New with a paid rate over 1000: got nil error, want one")
		}
	})
}

func TestDeliveryGracefulShutdown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	forEachStore(t, telegramtest.Options{GlobalRate: -1}, func(t *testing.T, e *env) {
		chats := e.privateSubscribers(1, 20)
		e.fake.SetLatency(300 * time.Millisecond)
		eng := e.engine(func(p *delivery.Params) { p.Workers, p.ReplicaID = 4, "first" })
		stop := e.run(eng)
		if err := eng.Enqueue(ctx, broadcast("b-1", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		// The first message is in: the next sends are in flight.
		if err := e.fake.WaitFor(wctx, func() bool { total, _, _ := e.copies(chats); return total >= 1 }); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		stop()
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("Run took %v to return, want the in-flight sends' time (300ms)", d)
		}
		total, _, _ := e.copies(chats)
		st, err := eng.Stats(ctx, "b-1")
		if err != nil {
			t.Fatal(err)
		}
		if int64(total) != st.Delivered || st.Pending == 0 {
			t.Fatalf("after shutdown: got %d messages and %+v; want every message recorded and some left queued", total, st)
		}

		// Another replica finishes at once: what the first held was handed
		// back, not left to go idle (ClaimIdle is long here).
		e.fake.SetLatency(0)
		e.run(e.engine(func(p *delivery.Params) { p.ReplicaID, p.ClaimIdle = "second", time.Minute }))
		e.waitDone("b-1", 5*time.Second)
		if total, dup, missing := e.copies(chats); total != 20 || dup != 0 || missing != 0 {
			t.Fatalf("got %d messages, %d duplicates, %d missing; want 20, 0, 0", total, dup, missing)
		}
	})
}

// A fan-out stays at most MaxQueued deliveries ahead of sending, on both
// stores: an audience ten times the bound is queued a few pages at a time,
// as sending makes room, and everyone still gets the message once.
func TestDeliveryFanoutBoundedQueue(t *testing.T) {
	t.Parallel()
	forEachStore(t, telegramtest.Options{}, func(t *testing.T, e *env) {
		const audience, bound = 150, 30
		chats := e.privateSubscribers(1, audience)
		eng := e.engine(func(p *delivery.Params) { p.Rate, p.PageSize, p.MaxQueued = 100, 10, bound })
		e.run(eng)
		if err := eng.Enqueue(context.Background(), broadcast("bounded", subscriptions.Filter{}, map[string]string{"": "hello"})); err != nil {
			t.Fatal(err)
		}
		st := e.waitDone("bounded", 30*time.Second)
		if st.Targeted != audience || st.Delivered != audience {
			t.Fatalf("got %+v, want %d targeted and delivered", st, audience)
		}
		if total, dup, missing := e.copies(chats); total != audience || dup != 0 || missing != 0 {
			t.Fatalf("got %d messages, %d duplicates, %d missing; want one each", total, dup, missing)
		}
		if most := e.watch.mostQueued.Load(); most > bound || most == 0 {
			t.Fatalf("backlog held up to %d deliveries after a page; want 1 to %d", most, bound)
		}
	})
}
