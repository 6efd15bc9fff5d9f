package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/conformance"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
	bolt "go.etcd.io/bbolt"
)

// More of the delivery store's conformance suite (delivery_test.go), then
// what only the embedded store has to show: surviving a reopen, and a real
// engine running on it alone.

func TestBoltDeliveryStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := reopenableBolt(t, dir)
	a := conformance.AddAnnouncement(t, s, "b-1")
	conformance.Queue(t, s, a, 1, 2, 3)
	held := conformance.Lease(t, s, "before", 10, 0)
	if _, _, err := s.Begin(ctx, "before", held, delivery.Gaps{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.Finish(ctx, []delivery.Result{
		{Delivery: held[0], Outcome: delivery.Sent, MessageID: 7},
		{Delivery: held[1], Outcome: delivery.Requeued, Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: 2}, At: now.Add(time.Minute), Pause: time.Minute},
	}, now); err != nil {
		t.Fatal(err)
	}
	// The process dies holding chat 3, with a sent record for chat 1 that
	// a stray copy must not get past.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopenableBolt(t, dir)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if st := conformance.Stats(t, s, "b-1"); st.Delivered != 1 || st.Pending != 2 || st.State != delivery.StateSending {
		t.Fatalf("got %+v after reopening, want 1 delivered and 2 pending", st)
	}
	if _, pause, err := s.Begin(ctx, "after", held[2:], delivery.Gaps{}, now.Add(time.Second)); err != nil || pause != 59*time.Second {
		t.Fatalf("Begin after reopening: got pause %v, %v; want the 59s left", pause, err)
	}
	// Opening the file handed back what the dead process held: no idle
	// time to wait out.
	got := conformance.Lease(t, s, "after", 10, 0)
	if len(got) != 1 || got[0].ChatID != 3 || got[0].ID != held[2].ID {
		t.Fatalf("Lease after reopening: got %+v, want the held delivery to chat 3 at once", got)
	}
	if err := s.Finish(ctx, []delivery.Result{{Delivery: held[0], Outcome: delivery.Sent, MessageID: 8}}, now); err != nil {
		t.Fatal(err)
	}
	if st := conformance.Stats(t, s, "b-1"); st.Delivered != 1 {
		t.Fatalf("a second sent record for chat 1: got %d delivered, want 1", st.Delivered)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping of a closed store: got nil, want an error")
	}
}

// reopenableBolt opens the store in dir; the test closes it, or its cleanup.

func reopenableBolt(t *testing.T, dir string) *store.Bolt {
	t.Helper()
	s, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// gatedSubscribers serves the first open pages of any fan-out, then blocks

// until the caller gives up: a fan-out stopped in the middle.

type gatedSubscribers struct {
	*subscriptions.Service
	open  int32
	pages atomic.Int32
}

func (g *gatedSubscribers) Page(ctx context.Context, f subscriptions.Filter, cursor string, limit int) ([]subscriptions.Subscriber, string, error) {
	if g.pages.Add(1) > g.open {
		<-ctx.Done()
		return nil, "", ctx.Err()
	}
	return g.Service.Page(ctx, f, cursor, limit)
}

// boltEngineEnv is a delivery engine on an embedded store, talking to the

// fake Telegram.

type boltEngineEnv struct {
	t      *testing.T
	dir    string
	fake   *telegramtest.Server
	client *tg.Client
	chats  []int64
}

func (e *boltEngineEnv) engine(st *store.Bolt, subs delivery.Subscribers) *delivery.Engine {
	e.t.Helper()
	eng, err := delivery.New(delivery.Params{
		Store: st, Intake: st, Publications: st, Subscribers: subs, Telegram: e.client,
		Rate: 500, Workers: 16, PageSize: 40,
		RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		SendTimeout: 2 * time.Second, ClaimIdle: 3 * time.Second, FanoutLease: 300 * time.Millisecond,
		PollInterval: 50 * time.Millisecond, DrainTimeout: 3 * time.Second,
		Gaps:   &delivery.Gaps{Private: 50 * time.Millisecond, Group: 100 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		e.t.Fatalf("delivery.New: %v", err)
	}
	return eng
}

// pooledClient keeps an idle connection for every worker, so that sends do

// not open and close one each.

func pooledClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = conns, conns
	return &http.Client{Transport: tr}
}

// run starts eng and returns the function that stops it and waits for Run.

func (e *boltEngineEnv) run(eng *delivery.Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("Run: got %v, want nil", err)
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// waitChats waits until at least enough chats have want messages each.

func (e *boltEngineEnv) waitChats(want, enough int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	have := 0
	err := e.fake.WaitFor(ctx, func() bool {
		have = 0
		for _, c := range e.chats {
			if len(e.fake.Messages(c)) >= want {
				have++
			}
		}
		return have >= enough
	})
	if err != nil {
		e.t.Fatalf("waiting for %d chats with %d messages: %d have them: %v", enough, want, have, err)
	}
}

// checkCopies fails unless every chat has exactly one alert per title, in

// that order.

func (e *boltEngineEnv) checkCopies(titles ...string) {
	e.t.Helper()
	bad := 0
	for _, c := range e.chats {
		msgs := e.fake.Messages(c)
		ok := len(msgs) == len(titles)
		for i := 0; ok && i < len(titles); i++ {
			ok = strings.Contains(msgs[i].Text, titles[i])
		}
		if !ok {
			if bad < 3 {
				e.t.Errorf("chat %d: got %d messages, want exactly one of each of %q", c, len(msgs), titles)
			}
			bad++
		}
	}
	if bad > 0 {
		e.t.Fatalf("%d of %d chats did not get exactly one alert per publication", bad, len(e.chats))
	}
}

func TestBoltDeliveryEndToEnd(t *testing.T) {
	const (
		subscribers = 300
		src         = "https://www.rusemb.org.uk/newarh/"
		pageSize    = 40 // as engine() sets it
		openPages   = 3
	)
	ctx := context.Background()
	fake := telegramtest.NewServer(telegramtest.Options{GlobalRate: 1000})
	t.Cleanup(fake.Close)
	e := &boltEngineEnv{t: t, dir: t.TempDir(), fake: fake, client: tg.New(fake.Token(), fake.Endpoint(), pooledClient(32))}
	st := reopenableBolt(t, e.dir)
	subs := subscriptions.NewService(st, []string{"comments", "consular", "other", "statements"}, "en", nil)
	for i := range subscribers {
		chat := int64(1000 + i)
		fake.AddPrivateChat(chat, fmt.Sprint("user", chat), "en")
		if _, _, err := subs.Subscribe(ctx, chat, subscriptions.ChatPrivate, "en"); err != nil {
			t.Fatalf("subscribe %d: %v", chat, err)
		}
		e.chats = append(e.chats, chat)
	}
	publication := func(id string) poller.Publication {
		return poller.Publication{ID: id, Source: src, URL: "https://www.rusemb.org.uk/fnapr/" + id, Title: "Title of " + id,
			Date: time.Date(2017, 10, 16, 0, 0, 0, 0, time.UTC), Category: "consular", Summary: "teaser", SeenAt: time.Now()}
	}
	record := func(pubs ...poller.Publication) []poller.Publication {
		t.Helper()
		fresh, err := st.Record(ctx, src, pubs, poller.Validators{}, time.Now())
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
		return fresh
	}
	old, first, second := publication("6570"), publication("6571"), publication("6572")
	if fresh := record(old); len(fresh) != 0 {
		t.Fatalf("first Record of the source: got %d fresh, want it silent", len(fresh))
	}
	if fresh := record(old, first); len(fresh) != 1 {
		t.Fatalf("second Record: got %d fresh, want 1", len(fresh))
	}

	// One publication, every subscriber alerted once.
	stop := e.run(e.engine(st, subs))
	e.waitChats(1, subscribers)
	stop()
	e.checkCopies(first.Title)
	if s, err := st.Announcement(ctx, delivery.PublicationAnnouncementID(first.ID)); err != nil || s.State != delivery.StateDone || s.Delivered != subscribers || s.Targeted != subscribers {
		t.Fatalf("first announcement: got %+v, %v; want done, %d targeted and delivered", s, err, subscribers)
	}

	// The next one is cut off after some sends, while its fan-out is still
	// walking the subscribers, and the file is closed and opened again.
	record(old, first, second)
	fake.SetLatency(5 * time.Millisecond) // sends in flight at the cut
	gated := &gatedSubscribers{Service: subs, open: openPages}
	stop = e.run(e.engine(st, gated))
	e.waitChats(2, pageSize)
	stop()
	secondID := delivery.PublicationAnnouncementID(second.ID)
	if s, err := st.Announcement(ctx, secondID); err != nil || s.State != delivery.StateFanningOut || s.Targeted != openPages*pageSize {
		t.Fatalf("second announcement at the cut: got %+v, %v; want fanning out with %d targeted", s, err, openPages*pageSize)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = reopenableBolt(t, e.dir)
	subs = subscriptions.NewService(st, []string{"comments", "consular", "other", "statements"}, "en", nil)
	stop = e.run(e.engine(st, subs))
	e.waitChats(2, subscribers)
	stop()
	e.checkCopies(first.Title, second.Title)
	if s, err := st.Announcement(ctx, secondID); err != nil || s.State != delivery.StateDone || s.Delivered != subscribers || s.Targeted != subscribers {
		t.Fatalf("second announcement: got %+v, %v; want done, %d targeted and delivered", s, err, subscribers)
	}
	if n := fake.TooManyRequests(); n != 0 {
		t.Fatalf("got %d answers 429, want none under the send rate", n)
	}
}

// TestBoltDropsOldPacingState: releases before the pacing moved to memory

// kept chat reservations and the limiter's state in the file; opening such

// a file drops them, and does so again harmlessly.

func TestBoltDropsOldPacingState(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/bulletinbot.db"
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		chats, err := tx.CreateBucketIfNotExists([]byte("dlv_chats"))
		if err != nil {
			return err
		}
		// As the previous release wrote them: sign-flipped big-endian ids and times.
		if err := chats.Put([]byte("\x80\x00\x00\x00\x00\x00\x00\x0b"), []byte("\x80\x00\x01\x8c\x00\x00\x00\x00")); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists([]byte("dlv_meta"))
		if err != nil {
			return err
		}
		for _, k := range []string{"rate", "chat_sweep", "dead"} {
			if err := meta.Put([]byte(k), []byte("\x00\x00\x00\x00\x00\x00\x00\x07")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := store.OpenBolt(dir)
		if err != nil {
			t.Fatalf("open a file with the old pacing state: %v", err)
		}
		if n, _, err := s.AllowSends(context.Background(), 10, 2, 1); err != nil || n != 1 {
			t.Fatalf("AllowSends after the migration: got %d, %v; want 1", n, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := pubBoltBucket(t, path, "dlv_chats"); len(got) != 0 {
		t.Fatalf("dlv_chats after open: %q, want gone", got)
	}
	meta := pubBoltBucket(t, path, "dlv_meta")
	if _, ok := meta["rate"]; ok {
		t.Errorf("dlv_meta still has the limiter's state: %q", meta)
	}
	if _, ok := meta["chat_sweep"]; ok {
		t.Errorf("dlv_meta still has the chat sweep: %q", meta)
	}
	if _, ok := meta["dead"]; !ok {
		t.Errorf("dlv_meta lost the dead-letter count: %q, want it kept", meta)
	}
}
