package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/staff"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
	"github.com/bulletinbot/bulletinbot/poller/parse"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// stateStore is everything run needs of a store; *store.Redis and
// *store.Bolt both provide it.
type stateStore interface {
	poller.Store
	poller.Turns
	bot.Store
	bot.PublicationReader
	bot.DigestStore
	bot.ContactsReader
	SaveConsularContacts(ctx context.Context, c parse.Contacts) (parse.Contacts, error)
	subscriptions.Store
	subscriptions.TopicStore
	delivery.Store
	delivery.ReplyStore
	delivery.Intake
	delivery.Publications
	staff.Store
	staff.BurstStore
	poller.ArchiveStore
	SourceHealth(ctx context.Context) (map[string]poller.Health, error)
	Ping(ctx context.Context) error
	Close() error
}

// openStore opens Redis when REDIS_URL is set, else the embedded store.
func openStore(ctx context.Context, cfg *Config, logger *slog.Logger) (stateStore, error) {
	if cfg.RedisURL != "" {
		s, err := store.OpenRedis(ctx, cfg.RedisURL.Reveal())
		if err != nil {
			return nil, err
		}
		logger.Info("store opened", slog.String("store", "redis"))
		return s, nil
	}
	s, err := store.OpenBolt(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	logger.Info("store opened", slog.String("store", "embedded"), slog.String("path", s.Path()))
	return s, nil
}

// Delivery settings for the embedded store, which one process owns.
const (
	// embeddedPollInterval: a blocked wait for work ends as soon as this
	// process adds some (the store signals it), so the wait's bound only
	// decides how often an idle loop wakes.
	embeddedPollInterval = 10 * time.Second
	// embeddedPauseCheck: no other process can pause or lift a pause, but
	// staff can; a lift is seen within it, the second DESIGN promises.
	embeddedPauseCheck = time.Second
	// embeddedCountersFlush: /stats' "sent today" is written this often
	// rather than every second of a fan-out; a kill -9 loses at most this
	// much of the count (never a message).
	embeddedCountersFlush = 10 * time.Second
)

// embeddedDelivery tunes the engine for the embedded store.
func embeddedDelivery(p *delivery.Params) {
	p.PollInterval = embeddedPollInterval
	p.PauseCheck = embeddedPauseCheck
}

// run wires the parts and runs them until ctx ends. Shutdown order: intake
// (updates, polling) stops at once, delivery finishes its in-flight sends
// within its drain deadline, then the HTTP listener and the store close.
func run(ctx context.Context, cfg *Config, file *FileConfig, logger *slog.Logger) error {
	// The listener first: a taken HTTP_ADDR is found before the store
	// opens (and, embedded, locks DATA_DIR).
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	defer ln.Close()
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	categorizer, err := file.categorizer()
	if err != nil {
		return err
	}
	settings := file.Settings
	var ids []string
	for _, c := range categorizer.Categories() {
		ids = append(ids, c.ID)
	}
	subs := subscriptions.NewService(st, ids, settings.DefaultLanguage, nil).WithTopics(st)
	m := newMetrics()

	// Enough idle connections that delivery's workers reuse them.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = delivery.DefaultWorkers
	client := tg.New(cfg.Token.Reveal(), cfg.APIEndpoint, &http.Client{Transport: transport})

	// Replies, edits and staff messages draw from the engine's SEND_RATE,
	// ahead of its fan-outs.
	replies, err := delivery.NewReplies(delivery.RepliesParams{Store: st, Rate: cfg.SendRate})
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Params{
		Client: client, Store: st, Subscriptions: subs, Publications: st, Categorizer: categorizer, Budget: replies, Digests: st, Contacts: st,
		Admins: cfg.AdminIDs, Settings: settings, WebhookURL: cfg.WebhookURL, WebhookSecret: cfg.WebhookSecret.Reveal(),
		Logger: logger.With(slog.String("component", "bot")),
	})
	if err != nil {
		return err
	}
	// Counters keeps /stats' "sent today" and 429s, shared by replicas.
	cp := staff.CountersParams{Logger: logger.With(slog.String("component", "staff"))}
	if cfg.RedisURL == "" {
		cp.FlushEvery = embeddedCountersFlush
	}
	counters := staff.NewCounters(st, cp)
	dp := delivery.Params{
		Store: st, Telegram: client, Subscribers: subs, Intake: st, Publications: st,
		Labels: categorizer.Name, Rate: cfg.SendRate, AlertMarkup: b.AlertMarkup,
		PaidBroadcast: file.Delivery.PaidBroadcast, LinkPreviews: file.Delivery.LinkPreviews, Observer: staff.Tee(m, counters),
		Lifetime: file.Delivery.Lifetime, Shape: b.ShapeAlert,
		Logger: logger.With(slog.String("component", "delivery")),
	}
	if cfg.RedisURL == "" {
		embeddedDelivery(&dp)
	}
	engine, err := delivery.New(dp)
	if err != nil {
		return err
	}
	staffTools, err := staff.Register(b, staff.Params{
		Store: st, Engine: engine, Subscribers: subs, Categories: categorizer, Telegram: client,
		Admins: cfg.AdminIDs, Rate: cfg.SendRate, Budget: replies, Counters: counters, Location: settings.StaffLocation(),
		FailuresBeforeAlert: file.Health.FailuresBeforeAlert, SilentAfter: file.Health.SilentAfter,
		Bursts: st, Logger: logger.With(slog.String("component", "staff")),
	})
	if err != nil {
		return err
	}
	p := poller.New(poller.Params{
		Sources: file.sources(cfg.Sources), Interval: cfg.PollInterval, Store: st,
		Fetcher: fetch.New(fetch.Config{}), Categorizer: categorizer, Observer: m,
		BurstLimit: file.Polling.BurstLimit, Logger: logger.With(slog.String("component", "poller")),
		BackfillPages: file.Polling.BackfillPages, Archive: st,
		OnContacts: func(ctx context.Context, source string, c parse.Contacts) {
			watchContacts(ctx, st, staffTools, logger, c)
		},
		Turns: st, // replicas on one Redis share each source's polling
	})

	m.gauge("bulletinbot_subscribers", "Subscribed chats.", logger, func(ctx context.Context) (float64, error) {
		c, err := subs.Counts(ctx, time.Now())
		return float64(c.Total), err
	})
	m.gauge("bulletinbot_queue_depth", "Deliveries queued, being sent or waiting for a retry.", logger, func(ctx context.Context) (float64, error) {
		n, err := st.QueueDepth(ctx)
		return float64(n), err
	})
	m.pauseGauges(logger, engine.Paused)
	ready := readiness{
		ping: st.Ping, health: st.SourceHealth, pause: engine.Paused, sources: cfg.Sources,
		staleAfter: file.Health.staleAfter(cfg.PollInterval), now: time.Now,
	}
	var webhook http.Handler
	webhookPath := ""
	if cfg.WebhookURL != "" {
		u, _ := url.Parse(cfg.WebhookURL) // checked by Validate
		webhookPath = u.EscapedPath()
		if webhookPath == "" {
			webhookPath = "/"
		}
		webhook = b.WebhookHandler()
	}
	if cfg.insecureWebhook() {
		logger.Warn("WEBHOOK_URL is http://: updates travel unencrypted between the Bot API server and this listener",
			slog.String("webhook_path", webhookPath))
	}
	srv := newHTTPServer(newHTTPHandler(m, ready.check, webhookPath, webhook), defaultHTTPLimits())
	logger.Info("bulletinbot started", slog.String("http_addr", ln.Addr().String()),
		slog.Int("sources", len(cfg.Sources)), slog.Bool("webhook", cfg.WebhookURL != ""))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	fail := func(name string, err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			cancel(fmt.Errorf("%s: %w", name, err))
		}
	}
	wg.Go(func() { fail("bot", b.Run(ctx)) })
	wg.Go(func() { fail("digests", b.RunDigests(ctx)) })
	wg.Go(func() { fail("delivery", engine.Run(ctx)) })
	wg.Go(func() { fail("poller", p.Run(ctx)) })
	wg.Go(func() { fail("staff", staffTools.Run(ctx)) })
	wg.Go(func() { fail("counters", counters.Run(ctx)) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		fail("http", err)
	}
	wg.Wait()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	_ = srv.Shutdown(shutdownCtx)
	logger.Info("bulletinbot stopped")
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return nil
}

// watchContacts keeps the consular contacts the site's header shows, and
// logs and tells staff when they differ from those it showed before (not
// the first time they are read: that is no change).
func watchContacts(ctx context.Context, st interface {
	SaveConsularContacts(ctx context.Context, c parse.Contacts) (parse.Contacts, error)
}, staffTools interface {
	ConsularContactsChanged(ctx context.Context, old, now parse.Contacts)
}, logger *slog.Logger, c parse.Contacts) {
	old, err := st.SaveConsularContacts(ctx, c)
	if err != nil {
		logger.Warn("cannot save the consular contacts read from the site", slog.Any("error", err))
		return
	}
	if old == c || old == (parse.Contacts{}) {
		return
	}
	logger.Warn("the consular contacts on the site changed",
		slog.String("old_phone", old.Phone), slog.String("phone", c.Phone),
		slog.String("old_email", old.Email), slog.String("email", c.Email))
	staffTools.ConsularContactsChanged(ctx, old, c)
}
