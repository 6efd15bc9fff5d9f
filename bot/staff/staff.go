// Package staff owns the embassy staff's tools in the bot: /broadcast (an
// announcement written in Telegram with its formatting, previewed exactly
// as subscribers will see it, sent to everyone, one category or one
// language through the delivery engine, with live progress, stop and
// recall), the audit log of broadcasts (/broadcasts), statistics (/stats),
// the daily counters behind them (Counters, a delivery.Observer), alerts to
// admins when a source breaks or falls silent, and the notice of a burst of
// new items the poller held back, with a button to announce the newest.
//
// All state lives in the store, so any replica can answer any button and
// take over a broadcast's progress from a replica that died: the replica
// holding a broadcast's lease edits its status message; the one that wins
// an alert's state change sends the alert.
package staff

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Store is what the staff tools keep. *store.Redis and *store.Bolt
// implement it. Records are opaque bytes to the store.
type Store interface {
	// Leases, as the bot's intake uses them.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error

	// SaveDraft, Draft and DeleteDraft keep broadcast drafts, expiring.
	SaveDraft(ctx context.Context, id string, body []byte, ttl time.Duration) error
	Draft(ctx context.Context, id string) ([]byte, bool, error)
	DeleteDraft(ctx context.Context, id string) (bool, error)
	// SetAwaiting and TakeAwaiting keep what an admin's next message is
	// for; TakeAwaiting reads and forgets at once.
	SetAwaiting(ctx context.Context, userID int64, body []byte, ttl time.Duration) error
	TakeAwaiting(ctx context.Context, userID int64) ([]byte, bool, error)

	// AddBroadcast adds a record to the audit log unless its id exists,
	// and marks it active; it reports whether it added it.
	AddBroadcast(ctx context.Context, id string, at time.Time, body []byte) (bool, error)
	Broadcast(ctx context.Context, id string) ([]byte, bool, error)
	// UpdateBroadcast changes a record atomically (fn may run more than
	// once); false when there is no such record.
	UpdateBroadcast(ctx context.Context, id string, fn func([]byte) ([]byte, error)) (bool, error)
	RecentBroadcasts(ctx context.Context, n int) ([][]byte, error)
	ActiveBroadcasts(ctx context.Context) ([]string, error)
	SetBroadcastActive(ctx context.Context, id string, active bool) error

	// SwapAlertState moves alert key from old to next ("" is none) and
	// reports whether this call did: one replica wins each transition. It
	// refuses when version, that of the health snapshot deciding, is older
	// than the version that made the current state.
	SwapAlertState(ctx context.Context, key, old, next string, version int64) (bool, error)

	CounterStore
	DeadLetterStore
	ScheduleStore

	// QueueDepth counts deliveries not finished.
	QueueDepth(ctx context.Context) (int64, error)
	// SentCopies walks an announcement's delivered copies.
	SentCopies(ctx context.Context, announcementID, cursor string, n int) ([]delivery.SentCopy, string, error)
	// AllowSends, SendPause and PauseSends are the engine's shared rate
	// and 429 pause, which recall deletions and staff messages honour.
	AllowSends(ctx context.Context, rate float64, burst, n int) (int, time.Duration, error)
	SendPause(ctx context.Context) (time.Duration, error)
	PauseSends(ctx context.Context, d time.Duration) error

	// SourceHealth is the poller's view of every source.
	SourceHealth(ctx context.Context) (map[string]poller.Health, error)

	// ClaimPauseNotice and ReleasePauseNotice make one replica tell staff
	// of each pause of sending.
	ClaimPauseNotice(ctx context.Context, id string) (bool, error)
	ReleasePauseNotice(ctx context.Context, id string) error
}

// Engine is the part of *delivery.Engine the staff tools use.
type Engine interface {
	Enqueue(ctx context.Context, a delivery.Announcement) error
	Stats(ctx context.Context, id string) (delivery.Stats, error)
	Cancel(ctx context.Context, id string) (bool, error)
	DeadLetters(ctx context.Context, n int) ([]delivery.DeadLetter, int64, error)
	// Paused and Resume show and lift the pause of all sending.
	Paused(ctx context.Context) (delivery.Pause, bool, error)
	Resume(ctx context.Context, id string) (bool, error)
}

// Subscribers is the part of *subscriptions.Service the staff tools use.
type Subscribers interface {
	Counts(ctx context.Context, since time.Time) (subscriptions.Counts, error)
	// Count sizes an audience Counts cannot: a union of categories.
	Count(ctx context.Context, f subscriptions.Filter) (int, error)
	Get(ctx context.Context, chatID int64) (subscriptions.Subscriber, bool, error)
	// Restore, RestoreSince and Removed undo removals of gone chats.
	Restore(ctx context.Context, chatID int64) (subscriptions.Subscriber, bool, error)
	RestoreSince(ctx context.Context, since time.Time) (int, error)
	Removed(ctx context.Context, since time.Time, n int) ([]subscriptions.Tombstone, error)
}

// Categories names categories (*category.Categorizer).
type Categories interface {
	Categories() []category.Category
	Name(id, lang string) string
}

// Telegram is the part of *tg.Client recall uses, for deleteMessage.
type Telegram interface {
	Call(ctx context.Context, method string, params tgbotapi.Params) (json.RawMessage, error)
}

// Defaults of Params.
const (
	DefaultFailuresBeforeAlert = 3
	DefaultSilentAfter         = 14 * 24 * time.Hour
	DefaultCheckEvery          = time.Minute
	DefaultProgressEvery       = 3 * time.Second
	DefaultDraftTTL            = 24 * time.Hour
	DefaultAwaitTTL            = 15 * time.Minute
	DefaultWatchLease          = 30 * time.Second
)

// Params wire the staff tools. Store, Engine, Subscribers, Categories and
// Telegram are required; zero tuning fields get the defaults above.
type Params struct {
	Store       Store
	Engine      Engine
	Subscribers Subscribers
	Categories  Categories
	Telegram    Telegram
	// Admins get source alerts in their private chats (ADMIN_IDS). Who
	// may use the commands is the bot's Params.Admins.
	Admins []int64
	// Rate is SEND_RATE: recall deletions and staff messages take their
	// turn in the engine's shared budget. Zero or less: no limit.
	Rate float64
	// Budget, when set, is the bot's send budget (*delivery.Replies):
	// corrections take their turn in it, keeping each chat's gap too;
	// without it they take the shared rate alone, as recall does.
	Budget bot.SendBudget
	// Counters, when set, also counts the 429s recall meets.
	Counters *Counters
	// Bursts, when set, are the poller's held bursts: admins are told of
	// each and may announce its newest items (burst.go).
	Bursts BurstStore

	// FailuresBeforeAlert failed polls in a row raise a source alert.
	FailuresBeforeAlert int
	// SilentAfter without a new item raises a silence alert, for a source
	// that has had items.
	SilentAfter time.Duration
	// CheckEvery is how often source health is read.
	CheckEvery time.Duration
	// ProgressEvery is the least time between two edits of a broadcast's
	// status message.
	ProgressEvery time.Duration
	// DraftTTL is how long an unsent draft's buttons work; AwaitTTL how
	// long the bot waits for the text after a bare /broadcast.
	DraftTTL, AwaitTTL time.Duration
	// WatchLease is how long a replica that stopped renewing it keeps a
	// broadcast's progress from the others.
	WatchLease time.Duration
	// Location is the time zone of times shown (named), of "today" and of
	// the times staff schedule broadcasts at; default Europe/London (cmd
	// passes the settings' staff_zone).
	Location *time.Location
	// ScheduleEvery is how often each replica looks for scheduled
	// broadcasts that fell due.
	ScheduleEvery time.Duration
	// ReplicaID names this process among replicas; default host-pid-random.
	ReplicaID string
	Logger    *slog.Logger
	Now       func() time.Time
}

func (p Params) withDefaults() (Params, error) {
	var missing []string
	for name, nilValue := range map[string]bool{
		"Store": p.Store == nil, "Engine": p.Engine == nil, "Subscribers": p.Subscribers == nil,
		"Categories": p.Categories == nil, "Telegram": p.Telegram == nil,
	} {
		if nilValue {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return p, fmt.Errorf("staff: params lack %s", strings.Join(missing, ", "))
	}
	setDefault(&p.FailuresBeforeAlert, DefaultFailuresBeforeAlert)
	setDefault(&p.SilentAfter, DefaultSilentAfter)
	setDefault(&p.CheckEvery, DefaultCheckEvery)
	setDefault(&p.ProgressEvery, DefaultProgressEvery)
	setDefault(&p.DraftTTL, DefaultDraftTTL)
	setDefault(&p.AwaitTTL, DefaultAwaitTTL)
	setDefault(&p.WatchLease, DefaultWatchLease)
	setDefault(&p.ScheduleEvery, DefaultScheduleEvery)
	if p.Location == nil {
		// The embassy's own zone; the bot package embeds the zone data.
		p.Location = time.UTC
		if london, err := time.LoadLocation("Europe/London"); err == nil {
			p.Location = london
		}
	}
	if p.ReplicaID == "" {
		host, _ := os.Hostname()
		p.ReplicaID = host + "-" + strconv.Itoa(os.Getpid()) + "-" + newID()[:4]
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Staff is the staff tools of one process. Register creates it; Run
// watches broadcasts and source health until its context ends.
type Staff struct {
	p    Params
	b    *bot.Bot
	cat  *i18n.Catalog
	log  *slog.Logger
	pace *pacer

	running sync.Mutex // one Run at a time
}

// Register checks p, registers /broadcast, /broadcasts, /stats,
// /deadletters and /restore (staff only, in admins' command menus) and their
// buttons on b, and returns the component whose Run must run for progress,
// recall and alerts. Call it
// before b.Run.
func Register(b *bot.Bot, p Params) (*Staff, error) {
	if b == nil {
		return nil, errors.New("staff: nil bot")
	}
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Staff{
		p:    p,
		b:    b,
		cat:  b.Catalog(),
		log:  p.Logger,
		pace: &pacer{store: p.Store, rate: p.Rate, burst: delivery.RateBurst(p.Rate)},
	}
	describe := func(k i18n.Key) bot.HandlerOption {
		texts := map[string]string{}
		for _, l := range i18n.Languages() {
			texts[l] = s.cat.Text(l, k)
		}
		return bot.Describe(texts)
	}
	b.Handle("broadcast", s.cmdBroadcast, bot.AdminOnly(), describe(i18n.CmdBroadcast))
	b.Handle("broadcasts", s.cmdBroadcasts, bot.AdminOnly(), describe(i18n.CmdBroadcasts))
	b.Handle("stats", s.cmdStats, bot.AdminOnly(), describe(i18n.CmdStats))
	b.Handle("deadletters", s.cmdDeadLetters, bot.AdminOnly(), describe(i18n.CmdDeadLetters))
	b.HandleCallback(callbackPrefix, s.onButton, bot.AdminOnly())
	b.HandleCallback(deadPrefix, s.onDeadButton, bot.AdminOnly())
	b.Handle("restore", s.cmdRestore, bot.AdminOnly(), describe(i18n.CmdRestore))
	b.HandleCallback(pauseCallbackPrefix, s.onPauseButton, bot.AdminOnly())
	if p.Bursts != nil {
		b.HandleCallback(burstPrefix, s.onBurstButton, bot.AdminOnly())
	}
	b.HandleText(s.onText, bot.AdminOnly())
	return s, nil
}

// Run follows broadcasts (status edits, final reports, recalls), source
// health and the pause of sending until ctx ends, then returns nil once its goroutines have
// stopped.
func (s *Staff) Run(ctx context.Context) error {
	if !s.running.TryLock() {
		return errors.New("staff: Run is already running")
	}
	defer s.running.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { s.watchBroadcasts(ctx) })
	wg.Go(func() { s.watchHealth(ctx) })
	wg.Go(func() { s.watchPause(ctx) })
	wg.Go(func() { s.watchSchedule(ctx) })
	if s.p.Bursts != nil {
		wg.Go(func() { s.watchBursts(ctx) })
	}
	wg.Wait()
	return nil
}

// newID returns 12 random characters of lower-case base32: a draft id,
// short enough for callback data, unguessable enough for a TTL's life.
func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var b [12]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return string(b[:])
}

// pacer makes the calls staff tools make to Telegram themselves (recall
// deletions) take their turn in the engine's shared send budget, as a
// fan-out does, and wait out a 429 pause that any replica reported. What
// they send through the bot (status edits, alerts) the bot paces.
type pacer struct {
	store interface {
		AllowSends(ctx context.Context, rate float64, burst, n int) (int, time.Duration, error)
		SendPause(ctx context.Context) (time.Duration, error)
	}
	rate  float64
	burst int
}

// take waits for a pause to end and for one token.
func (p *pacer) take(ctx context.Context) error {
	for {
		pause, err := p.store.SendPause(ctx)
		if err != nil {
			return err
		}
		if pause > 0 {
			// Looked at again every second: a pause lifted by staff
			// ends here too.
			if !wait.Sleep(ctx, min(pause, pauseWatchEvery)) {
				return ctx.Err()
			}
			continue
		}
		if p.rate <= 0 {
			return nil
		}
		n, retryIn, err := p.store.AllowSends(ctx, p.rate, p.burst, 1)
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if !wait.Sleep(ctx, retryIn) {
			return ctx.Err()
		}
	}
}
