// Package bot owns everything Telegram: update intake (long polling under a
// lease so that one replica polls at a time, or a webhook) into per-chat
// queues behind a per-user flood limit, the command and callback registry
// with its middleware (panic recovery, admin guard, group and channel
// administrators' guard, logging), and the citizen commands, each answered
// in the chat's language. Only bot and its
// subpackages know the Telegram client library.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // /time must work in a container without zoneinfo

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/parse"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Store keeps the intake's state. *store.Redis and *store.Bolt implement it.
type Store interface {
	// Offset returns the getUpdates offset to poll from (0 when none).
	Offset(ctx context.Context) (int64, error)
	// SaveOffset stores the next offset; a stored offset never decreases.
	SaveOffset(ctx context.Context, offset int64) error
	// AcquireLease takes lease name for holder when it is free or already
	// holder's, for ttl, and reports whether holder holds it.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// RenewLease extends holder's lease; false when holder lost it.
	RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease frees the lease if holder holds it.
	ReleaseLease(ctx context.Context, name, holder string) error
	// MarkUpdate reports true the first time an update id is marked within
	// ttl: webhook retries are processed once.
	MarkUpdate(ctx context.Context, updateID int64, ttl time.Duration) (bool, error)
	// ForgetUpdate removes a mark, for an update refused after marking.
	ForgetUpdate(ctx context.Context, updateID int64) error
}

// PublicationReader gives /latest the newest publications.
type PublicationReader interface {
	// Latest returns up to n newest publications, of one category when
	// category is not empty.
	Latest(ctx context.Context, category string, n int) ([]poller.Publication, error)
	// Search returns the page [offset, offset+n) of the publications
	// matching query's terms (poller/terms), best matches first, and how
	// many matched (bounded by the store).
	Search(ctx context.Context, query []string, offset, n int) ([]poller.Publication, int, error)
}

// ContactsReader gives the consular contacts the poller last read from
// the site's header (*store.Redis and *store.Bolt).
type ContactsReader interface {
	ConsularContacts(ctx context.Context) (parse.Contacts, error)
}

// SendBudget paces the bot's own messages within the send budget that
// every sender shares, ahead of fan-outs (*delivery.Replies).
type SendBudget interface {
	// Take waits until a message to chatID may be sent, or says why not;
	// throughPause lets it go while all sending is paused (still within
	// the rate and the chat's limit).
	Take(ctx context.Context, chatID int64, throughPause bool) error
	// Paused shares a 429 with every sender, for d.
	Paused(ctx context.Context, d time.Duration) error
}

// Params wires a Bot. Client, Store, Subscriptions, Publications and
// Categorizer are required; zero tuning fields get the defaults noted.
type Params struct {
	Client        *tg.Client
	Store         Store
	Subscriptions *subscriptions.Service
	Publications  PublicationReader
	Categorizer   *category.Categorizer
	// Digests schedules the daily digests; nil: /digest cannot be turned
	// on.
	Digests DigestStore
	// Contacts gives /consular the phone and e-mail the site shows now;
	// nil: the configured ones.
	Contacts ContactsReader
	// Budget paces messages, edits and their retries; nil sends them at
	// once (tests of the bot alone).
	Budget   SendBudget
	Admins   []int64  // Telegram user ids allowed to use AdminOnly commands
	Settings Settings // parts left empty get DefaultSettings()'s
	// Webhook mode when WebhookURL is set: Run registers it with Telegram and
	// WebhookHandler serves it. WebhookSecret is then required.
	WebhookURL, WebhookSecret string
	Logger                    *slog.Logger     // default: discard
	Now                       func() time.Time // default time.Now
	ReplicaID                 string           // lease holder id; default hostname-pid-random

	Workers         int           // updates handled at once, each chat's in order; default 8
	PollTimeout     time.Duration // getUpdates long-poll timeout; default 25s
	LeaseTTL        time.Duration // polling lease; renewed every third of it; default 30s
	Backoff         time.Duration // first pause after a failed call, doubling up to 30s; default 1s
	ShutdownTimeout time.Duration // how long Run waits for handlers when stopping; default 10s
	UserEvery       time.Duration // a user may send a command every UserEvery...; default 1s
	UserBurst       int           // ...after a burst of UserBurst; default 10
}

// Defaults of Params and of the intake.
const (
	defaultWorkers         = 8
	defaultPollTimeout     = 25 * time.Second
	defaultLeaseTTL        = 30 * time.Second
	defaultBackoff         = time.Second
	maxBackoff             = 30 * time.Second
	defaultShutdownTimeout = 10 * time.Second
	defaultUserEvery       = time.Second
	defaultUserBurst       = 10
	// pollLease names the lease of long polling in the store.
	pollLease = "poll"
	// pollLimit is getUpdates' batch size (Telegram's maximum).
	pollLimit = 100
	// updateMarkTTL is how long a webhook update id is remembered; Telegram
	// gives up re-sending an update well within a day.
	updateMarkTTL = 24 * time.Hour
	// webhookBodyLimit caps a webhook request; updates are a few KiB.
	webhookBodyLimit = 1 << 20
)

// allowedUpdates are the update types the bot asks Telegram for. Edited
// messages are left out on purpose: editing a command must not run it again.
func allowedUpdates() []string {
	return []string{"message", "channel_post", "callback_query", "my_chat_member"}
}

// Bot is a Telegram bot. Register extra commands with Handle and
// HandleCallback before calling Run.
type Bot struct {
	p       Params
	log     *slog.Logger
	cat     *i18n.Catalog
	clocks  []clock
	admins  map[int64]bool
	limiter *userLimiter
	// groupAdmins caches who administers which group.
	groupAdmins *memberCache
	// zone is where chats' quiet hours and digests are reckoned unless
	// they name their own.
	zone *time.Location

	mu        sync.RWMutex
	commands  map[string]*entry
	order     []string // command names in registration order, for /help and the menu
	callbacks map[string]*entry
	texts     []textEntry

	username atomic.Pointer[string]
	running  atomic.Bool
	// staffMenus holds the admins (int64) whose private chat has the staff
	// command menu, set by this process.
	staffMenus sync.Map

	// intake is where the webhook handler hands updates while Run accepts
	// them; nil otherwise. Guarded by intakeMu.
	intakeMu sync.RWMutex
	intake   *dispatcher
	// queue is the last Run's dispatcher, for tests that wait until every
	// update taken is handled.
	queue atomic.Pointer[dispatcher]
}

type clock struct {
	loc   *time.Location
	label Localized
}

// New checks p and returns a Bot with the citizen commands registered.
func New(p Params) (*Bot, error) {
	var errs []error
	if p.Client == nil {
		errs = append(errs, errors.New("bot: Params.Client is nil"))
	}
	if p.Store == nil {
		errs = append(errs, errors.New("bot: Params.Store is nil"))
	}
	if p.Subscriptions == nil {
		errs = append(errs, errors.New("bot: Params.Subscriptions is nil"))
	}
	if p.Publications == nil {
		errs = append(errs, errors.New("bot: Params.Publications is nil"))
	}
	if p.Categorizer == nil {
		errs = append(errs, errors.New("bot: Params.Categorizer is nil"))
	}
	if p.WebhookURL != "" && p.WebhookSecret == "" {
		errs = append(errs, errors.New("bot: webhook mode needs WEBHOOK_SECRET"))
	}
	p.Settings = p.Settings.withDefaults()
	if err := p.Settings.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cat, err := i18n.New(p.Settings.DefaultLanguage, p.Settings.Texts)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.ReplicaID == "" {
		p.ReplicaID = replicaID()
	}
	p.Workers = cmp(p.Workers, defaultWorkers)
	p.PollTimeout = cmp(p.PollTimeout, defaultPollTimeout)
	p.LeaseTTL = cmp(p.LeaseTTL, defaultLeaseTTL)
	p.Backoff = cmp(p.Backoff, defaultBackoff)
	p.ShutdownTimeout = cmp(p.ShutdownTimeout, defaultShutdownTimeout)
	p.UserEvery = cmp(p.UserEvery, defaultUserEvery)
	p.UserBurst = cmp(p.UserBurst, defaultUserBurst)

	b := &Bot{
		p:           p,
		log:         p.Logger,
		cat:         cat,
		admins:      make(map[int64]bool, len(p.Admins)),
		limiter:     newUserLimiter(p.UserEvery, p.UserBurst, userLimiterSize),
		groupAdmins: newMemberCache(groupAdminCacheSize, groupAdminTTL),
		zone:        loadZone(defaultZone),
		commands:    map[string]*entry{},
		callbacks:   map[string]*entry{},
	}
	for _, id := range p.Admins {
		b.admins[id] = true
	}
	for _, c := range p.Settings.Clocks {
		loc, _ := time.LoadLocation(c.Zone) // checked by Validate
		b.clocks = append(b.clocks, clock{loc: loc, label: c.Label})
	}
	b.registerCitizenCommands()
	return b, nil
}

// cmp returns v, or def when v is zero or less.
func cmp[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func replicaID() string {
	host, _ := os.Hostname()
	var r [4]byte
	_, _ = rand.Read(r[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(r[:])
}

// Catalog returns the bot's message catalog, with the operator's text
// overrides, for components that speak to users outside a request.
func (b *Bot) Catalog() *i18n.Catalog { return b.cat }

// Username returns the bot's username, known once Run has called getMe.
func (b *Bot) Username() string {
	if u := b.username.Load(); u != nil {
		return *u
	}
	return ""
}

// Run takes updates until ctx ends: it identifies the bot (getMe, retried),
// publishes the command menu (failure is logged, not fatal), then long-polls
// under the store's lease, standing by while another replica holds it, or in
// webhook mode registers the webhook and handles what WebhookHandler
// receives. On return every update taken has been handled (or the shutdown
// timeout ran out) and no goroutine is left. It returns nil on a clean stop.
func (b *Bot) Run(ctx context.Context) error {
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("bot: Run is already running")
	}
	defer b.running.Store(false)

	me, err := b.getMe(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	name := me.UserName
	b.username.Store(&name)
	b.log.Info("telegram bot identified", slog.String("username", name), slog.String("replica", b.p.ReplicaID), slog.Bool("webhook", b.p.WebhookURL != ""))
	b.publishCommands(ctx)

	// Handlers outlive ctx by up to ShutdownTimeout, so that a batch taken
	// from Telegram is finished and its offset saved.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	d := newDispatcher(hctx, b.p.Workers, b.runJob)
	b.queue.Store(d)

	if b.p.WebhookURL != "" {
		err = b.serveWebhook(ctx, d)
	} else {
		b.poll(ctx, hctx, d)
	}
	b.drain(d, cancel)
	return err
}

// drain closes the queues and waits until what they hold is handled, cancelling the
// handlers' context if they take longer than ShutdownTimeout.
func (b *Bot) drain(d *dispatcher, cancel context.CancelFunc) {
	d.close()
	done := make(chan struct{})
	go func() {
		d.wait()
		close(done)
	}()
	t := time.NewTimer(b.p.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		b.log.Warn("handlers still running at shutdown; cancelling them", slog.Duration("timeout", b.p.ShutdownTimeout))
		cancel()
		<-done
	}
}

// getMe identifies the bot, retrying until Telegram answers. A refusal
// (wrong token) is returned at once.
func (b *Bot) getMe(ctx context.Context) (tgbotapi.User, error) {
	bo := &wait.Backoff{Base: b.p.Backoff, Max: maxBackoff}
	for {
		me, err := b.p.Client.GetMe(ctx)
		if err == nil {
			return me, nil
		}
		if ctx.Err() != nil {
			return tgbotapi.User{}, ctx.Err()
		}
		if k := tg.Classify(err); k == tg.KindPermanent || k == tg.KindGone || k == tg.KindUnauthorized {
			return tgbotapi.User{}, fmt.Errorf("bot: telegram refused getMe (is the bot token right?): %w", err)
		}
		pause := bo.Next()
		if d, ok := tg.RetryAfter(err); ok {
			pause = d
		}
		if bo.Failures() == 1 || bo.Failures()%10 == 0 {
			b.log.Warn("telegram getMe failed; retrying", slog.Any("error", err), slog.Int("failures", bo.Failures()), slog.Duration("wait", pause))
		}
		if !wait.Sleep(ctx, pause) {
			return tgbotapi.User{}, ctx.Err()
		}
	}
}
