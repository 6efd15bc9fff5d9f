package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Defaults of Params.
const (
	DefaultWorkers   = 64
	DefaultBatchSize = 256
	DefaultPageSize  = 500
	// DefaultQueuePages is the least of MaxQueued's default, in pages:
	// enough that sending never waits for a page to be queued.
	DefaultQueuePages   = 4
	DefaultLifetime     = 24 * time.Hour
	DefaultRetryBase    = time.Second
	DefaultRetryMax     = 5 * time.Minute
	DefaultSendTimeout  = 15 * time.Second
	DefaultClaimIdle    = time.Minute
	DefaultFanoutLease  = 10 * time.Second
	DefaultPollInterval = 5 * time.Second
	DefaultDrainTimeout = 10 * time.Second
	DefaultPauseCheck   = 500 * time.Millisecond
	DefaultProbeEvery   = 5 * time.Second
	DefaultProbeMax     = time.Minute
	DefaultStormPause   = 2 * time.Minute
	DefaultGoneHold     = time.Minute
	// PaidBroadcastMaxRate is Telegram's ceiling with allow_paid_broadcast.
	PaidBroadcastMaxRate = 1000
)

// Telegram's per-chat limits: about one message a second to a private
// chat, at most 20 a minute to a group or channel (one every 3 s keeps any
// minute at 20).
var defaultGaps = Gaps{Private: time.Second, Group: 3 * time.Second}

// Params configure an Engine. Store, Telegram and Subscribers are required.
type Params struct {
	Store       Store
	Telegram    Telegram
	Subscribers Subscribers
	// Intake and Publications bring new publications in; without an
	// Intake only Enqueue'd announcements are sent.
	Intake       Intake
	Publications Publications
	// Labels names a category in a language for alerts; nil shows the id.
	Labels func(category, lang string) string
	// Languages are those alerts are rendered in (default
	// subscriptions.Languages()); the first is the fallback.
	Languages []string
	// Render shapes alerts.
	Render render.Options
	// LinkPreviews lets Telegram show a preview of the alert's link.
	LinkPreviews bool
	// AlertMarkup (optional) gives a publication alert's buttons in a
	// language, as reply_markup JSON ("" for none); see alertMarkup.
	AlertMarkup func(p poller.Publication, lang string) string

	// Rate is SEND_RATE, messages a second over all replicas; zero or
	// less lifts the global limit (benchmarks).
	Rate float64
	// PaidBroadcast sends with allow_paid_broadcast, which lets Rate go
	// up to PaidBroadcastMaxRate for Telegram Stars.
	PaidBroadcast bool
	// Gaps are the least intervals between messages to one chat (default
	// 1 s private, 3 s groups and channels).
	Gaps *Gaps
	// Workers is how many sends may be in flight (DefaultWorkers): enough
	// that Telegram's latency does not lower throughput, Rate × latency.
	// The Telegram client's HTTP transport needs as many idle connections
	// per host.
	Workers int
	// BatchSize is the most deliveries leased at once (DefaultBatchSize).
	BatchSize int
	// PageSize is subscribers per fan-out page (DefaultPageSize).
	PageSize int
	// MaxQueued bounds the deliveries queued or leased in the store, all
	// announcements together (Store.Backlog): a fan-out queues a page
	// only while the queue leaves room for it, so it runs at most this far
	// ahead of sending and the store's memory does not grow with the
	// audience. Deliveries put aside (retries, busy chats) are not
	// counted. Default: a minute of sending at Rate, and at least
	// DefaultQueuePages pages.
	MaxQueued int
	// Lifetime is how long after its announcement was made a delivery
	// that keeps failing transiently (5xx, timeouts, connection errors,
	// 401) is retried before it is dead-lettered (DefaultLifetime).
	Lifetime time.Duration
	// RetryBase and RetryMax bound the backoff between attempts.
	RetryBase, RetryMax time.Duration
	// PauseCheck is the longest a replica goes without reading the pause
	// of all sending while it is paused, and between reads otherwise
	// (DefaultPauseCheck): a pause lifted anywhere is seen within it.
	PauseCheck time.Duration
	// ProbeEvery and ProbeMax bound the growing wait between probes of
	// Telegram while an outage or a refused token pauses sending.
	ProbeEvery, ProbeMax time.Duration
	// StormPause is how long sending stops when most of a window of sends
	// answers that the chat is gone (DefaultStormPause).
	StormPause time.Duration
	// GoneHold is how long a chat that answered it is gone waits for a
	// second try before it is removed, so that the first sends of a storm
	// of such answers remove nobody (DefaultGoneHold).
	GoneHold time.Duration
	// SendTimeout bounds one sendMessage call (DefaultSendTimeout).
	SendTimeout time.Duration
	// ClaimIdle is how long a leased delivery may sit unfinished before
	// another replica takes it over (DefaultClaimIdle). It must exceed
	// SendTimeout: a send begun is finished or abandoned within that.
	ClaimIdle time.Duration
	// FanoutLease is how long a fan-out stays with a replica that stopped
	// renewing it (DefaultFanoutLease). Every page renews it, so it only
	// needs to outlast one page; it bounds how long a dead replica's
	// fan-out waits to be resumed.
	FanoutLease time.Duration
	// Liveness, when set, keeps this replica's heartbeat in the store and
	// takes over dead replicas' work as soon as their heartbeat lapses;
	// ClaimIdle stays the backstop for a replica alive but stuck. Default:
	// Store, when it implements Liveness.
	Liveness Liveness
	// HeartbeatEvery and HeartbeatTTL pace the heartbeat
	// (DefaultHeartbeatEvery, DefaultHeartbeatTTL): a replica is taken for
	// dead HeartbeatTTL after its last beat. The TTL must allow several
	// beats, so that one slow store call does not pass for a death.
	HeartbeatEvery, HeartbeatTTL time.Duration
	// PollInterval is the longest wait for new work (DefaultPollInterval):
	// between looks for fan-outs nobody holds (this replica's own are
	// started at once), and the longest a read of the queues blocks. New
	// entries end such a read at once, and a stop ends it (the Redis store
	// unblocks it), so a long one costs neither latency nor shutdown time,
	// and saves an idle replica's store calls.
	PollInterval time.Duration
	// DrainTimeout bounds how long Run waits for sends in flight after its
	// context ends (DefaultDrainTimeout).
	DrainTimeout time.Duration
	// ReplicaID names this process among replicas; it must be unique per
	// running process. Default: host name, pid and a random suffix.
	ReplicaID string

	// Shape, when set, is asked about each subscriber a fan-out reaches:
	// it may set d's Silent and Thread, and returns false to leave the
	// subscriber out (a chat that gets publications in a daily digest).
	Shape func(a Announcement, s subscriptions.Subscriber, d *Delivery) bool

	Logger   *slog.Logger
	Now      func() time.Time
	Observer Observer
}

func (p Params) withDefaults() (Params, error) {
	var missing []string
	if p.Store == nil {
		missing = append(missing, "Store")
	}
	if p.Telegram == nil {
		missing = append(missing, "Telegram")
	}
	if p.Subscribers == nil {
		missing = append(missing, "Subscribers")
	}
	if p.Intake != nil && p.Publications == nil {
		missing = append(missing, "Publications (needed with Intake)")
	}
	if len(missing) > 0 {
		return p, fmt.Errorf("delivery: params lack %v", missing)
	}
	if p.PaidBroadcast && p.Rate > PaidBroadcastMaxRate {
		return p, fmt.Errorf("delivery: rate %.0f exceeds Telegram's paid broadcast limit of %d a second", p.Rate, PaidBroadcastMaxRate)
	}
	if p.Labels == nil {
		p.Labels = func(category, _ string) string { return category }
	}
	if len(p.Languages) == 0 {
		p.Languages = subscriptions.Languages()
	}
	if p.Gaps == nil {
		g := defaultGaps
		p.Gaps = &g
	}
	setDefault(&p.Workers, DefaultWorkers)
	setDefault(&p.BatchSize, DefaultBatchSize)
	setDefault(&p.PageSize, DefaultPageSize)
	setDefault(&p.MaxQueued, max(int(math.Ceil(60*p.Rate)), DefaultQueuePages*p.PageSize))
	setDefault(&p.Lifetime, DefaultLifetime)
	setDefault(&p.PauseCheck, DefaultPauseCheck)
	setDefault(&p.ProbeEvery, DefaultProbeEvery)
	setDefault(&p.ProbeMax, DefaultProbeMax)
	setDefault(&p.StormPause, DefaultStormPause)
	setDefault(&p.GoneHold, DefaultGoneHold)
	setDefault(&p.RetryBase, DefaultRetryBase)
	setDefault(&p.RetryMax, DefaultRetryMax)
	setDefault(&p.SendTimeout, DefaultSendTimeout)
	setDefault(&p.ClaimIdle, DefaultClaimIdle)
	setDefault(&p.FanoutLease, DefaultFanoutLease)
	setDefault(&p.PollInterval, DefaultPollInterval)
	setDefault(&p.DrainTimeout, DefaultDrainTimeout)
	setDefault(&p.HeartbeatEvery, DefaultHeartbeatEvery)
	setDefault(&p.HeartbeatTTL, DefaultHeartbeatTTL)
	if p.HeartbeatTTL < 2*p.HeartbeatEvery {
		return p, fmt.Errorf("delivery: HeartbeatTTL %v must be at least twice HeartbeatEvery %v, or one late beat would pass for a death", p.HeartbeatTTL, p.HeartbeatEvery)
	}
	if l, ok := p.Store.(Liveness); ok && p.Liveness == nil {
		p.Liveness = l
	}
	if p.ClaimIdle <= p.SendTimeout {
		return p, fmt.Errorf("delivery: ClaimIdle %v must exceed SendTimeout %v, or a slow send could be taken over and sent twice", p.ClaimIdle, p.SendTimeout)
	}
	if p.ReplicaID == "" {
		host, _ := os.Hostname()
		p.ReplicaID = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Observer == nil {
		p.Observer = nopObserver{}
	}
	return p, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Engine delivers announcements. Create it with New and start it with Run;
// Enqueue, Stats, Cancel and DeadLetters may be used by any process, with
// or without a running engine.
type Engine struct {
	p     Params
	burst int
	log   *slog.Logger
	obs   Observer

	wake chan struct{} // nudges the fan-out loop after a local Enqueue

	annMu sync.Mutex
	anns  map[string]Announcement // texts of announcements being sent

	markups markupCache // alert keyboards of announcements being sent

	pauses  pauses
	window  window
	holding holds
	// lastCreated is the creation time, in unix ms, of the last
	// announcement this engine made.
	lastCreated atomic.Int64
	// finished counts the results this engine recorded; finishedCh is
	// nudged with each batch, for a fan-out waiting for room.
	finished   atomic.Int64
	finishedCh chan struct{}
}

// New returns an engine; it checks p and fills in defaults.
func New(p Params) (*Engine, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Engine{
		p:          p,
		burst:      burstFor(p.Rate),
		log:        p.Logger.With("replica", p.ReplicaID),
		obs:        p.Observer,
		wake:       make(chan struct{}, 1),
		finishedCh: make(chan struct{}, 1),
		anns:       map[string]Announcement{},
		holding:    holds{since: map[int64]time.Time{}},
	}, nil
}

// burstFor is the limiter's burst: small, so that no second ever carries
// much more than the rate (Telegram counts in short windows), but a
// twentieth of a second's worth at high rates so that each token call pays
// for a batch. Calls take at most half of it (takeFor): the other half
// keeps what accrues while a replica wakes late, which would otherwise be
// lost and bring the achieved rate under the limit.
func burstFor(rate float64) int {
	return max(2, int(rate/20))
}

// takeFor is the most tokens one call asks for: half the burst, but two
// even when that is the whole of it, so that at low rates sends go in
// pairs, each pair costing one wake of the dispatcher, one Begin and,
// as their results arrive together, often one write. A pair taken late
// loses the lateness (a timer's, well under a millisecond in 80 ms at the
// default rate); the bound of any second stays the rate plus the burst.
func takeFor(burst int) int {
	return min(burst, max(2, burst/2))
}

// Run delivers until ctx ends, then stops taking work, lets sends in
// flight finish within Params.DrainTimeout, records them, hands back
// deliveries leased but not begun, and returns nil. Only a failure to start
// is returned as an error.
func (e *Engine) Run(ctx context.Context) error {
	var loops sync.WaitGroup
	if e.p.Intake != nil {
		loops.Go(func() { e.intakeLoop(ctx) })
	}
	loops.Go(func() { e.fanoutLoop(ctx) })
	// The heartbeat outlives ctx until the sends in flight are drained:
	// a replica that stopped beating while it still sends would have its
	// deliveries taken over and sent twice.
	beating, stopBeating := context.WithCancel(context.WithoutCancel(ctx))
	if e.p.Liveness != nil {
		loops.Go(func() { e.heartbeat(beating) })
	}
	loops.Go(func() { e.pauseLoop(ctx) })
	s := newSender(e)
	s.run(ctx)
	stopBeating()
	loops.Wait()
	if e.p.Liveness != nil {
		e.depart(ctx)
	}
	return nil
}

// Enqueue stores an announcement for delivery. A broadcast needs Texts,
// each valid Telegram HTML that fits a message, or Copies; a publication without
// Texts is loaded and rendered. It returns ErrDuplicate when the id exists
// and ErrInvalid for an announcement that cannot be sent.
func (e *Engine) Enqueue(ctx context.Context, a Announcement) error {
	if err := checkID(a.ID); err != nil {
		return err
	}
	switch a.Kind {
	case KindBroadcast:
		if len(a.Texts) == 0 && len(a.Copies) == 0 {
			return fmt.Errorf("%w: broadcast %s has no text", ErrInvalid, a.ID)
		}
		for lang, c := range a.Copies {
			if !c.Valid() {
				return fmt.Errorf("%w: copy for language %q names no message to copy", ErrInvalid, lang)
			}
		}
	case KindPublication:
		if len(a.Texts) == 0 {
			full, err := e.publicationAnnouncement(ctx, a.PublicationID)
			if err != nil {
				return err
			}
			a.Texts, a.Filter = full.Texts, full.Filter
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, a.Kind)
	}
	for lang, text := range a.Texts {
		if err := render.Validate(text); err != nil {
			return fmt.Errorf("%w: text for language %q: %w", ErrInvalid, lang, err)
		}
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = e.createdAt()
	}
	if err := e.p.Store.AddAnnouncement(ctx, a); err != nil {
		return fmt.Errorf("delivery: enqueue: %w", err)
	}
	e.nudgeFanout()
	return nil
}

// nudgeFanout wakes this replica's fan-out loop for a new announcement.
func (e *Engine) nudgeFanout() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Stats returns an announcement's progress.
func (e *Engine) Stats(ctx context.Context, id string) (Stats, error) {
	s, err := e.p.Store.Announcement(ctx, id)
	if err != nil {
		return Stats{}, fmt.Errorf("delivery: stats: %w", err)
	}
	return s, nil
}

// Cancel stops an announcement's remaining deliveries: its fan-out ends
// and queued deliveries are dropped. Sends already in flight finish. It
// reports whether the announcement was still active.
func (e *Engine) Cancel(ctx context.Context, id string) (bool, error) {
	ok, err := e.p.Store.Cancel(ctx, id)
	if err != nil {
		return false, fmt.Errorf("delivery: cancel: %w", err)
	}
	return ok, nil
}

// DeadLetters returns the n most recent deliveries given up on, newest
// first, and how many there have been in all.
func (e *Engine) DeadLetters(ctx context.Context, n int) ([]DeadLetter, int64, error) {
	ds, total, err := e.p.Store.DeadLetters(ctx, n)
	if err != nil {
		return nil, 0, fmt.Errorf("delivery: dead letters: %w", err)
	}
	return ds, total, nil
}

// createdAt is the time to create an announcement at: now, or a
// millisecond after the last one this engine made. Stores claim fan-outs
// in order of creation, to the millisecond, and a poll's publications,
// announced one after the other within a millisecond or two, must keep
// their order.
func (e *Engine) createdAt() time.Time {
	for {
		last := e.lastCreated.Load()
		ms := max(e.p.Now().UnixMilli(), last+1)
		if e.lastCreated.CompareAndSwap(last, ms) {
			return time.UnixMilli(ms)
		}
	}
}

// PublicationAnnouncementID is the announcement id of a publication.
func PublicationAnnouncementID(publicationID string) string {
	sum := sha256.Sum256([]byte(publicationID))
	return "pub-" + hex.EncodeToString(sum[:12])
}

func checkID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("%w: id %q must be 1 to 64 bytes", ErrInvalid, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return fmt.Errorf("%w: id %q may hold only letters, digits and -_.:", ErrInvalid, id)
		}
	}
	return nil
}

// publicationAnnouncement loads a publication and renders its alert in
// every language.
func (e *Engine) publicationAnnouncement(ctx context.Context, pubID string) (Announcement, error) {
	if e.p.Publications == nil {
		return Announcement{}, fmt.Errorf("%w: no Publications to load %s from", ErrInvalid, pubID)
	}
	p, ok, err := e.p.Publications.Publication(ctx, pubID)
	if err != nil {
		return Announcement{}, fmt.Errorf("delivery: load publication %s: %w", pubID, err)
	}
	if !ok {
		return Announcement{}, fmt.Errorf("%w: publication %s is not stored", ErrNotFound, pubID)
	}
	a := Announcement{
		ID:            PublicationAnnouncementID(pubID),
		Kind:          KindPublication,
		PublicationID: pubID,
		Texts:         make(map[string]string, len(e.p.Languages)+1),
		Filter:        subscriptions.Filter{Category: p.Category},
		CreatedAt:     e.createdAt(),
	}
	for i, lang := range e.p.Languages {
		text := render.Alert(p, e.p.Labels(p.Category, lang), lang, e.p.Render)
		a.Texts[lang] = text
		if i == 0 {
			a.Texts[""] = text
		}
	}
	return a, nil
}

// intakeLoop turns new publications into announcements.
func (e *Engine) intakeLoop(ctx context.Context) {
	bo := &wait.Backoff{Base: loopBackoffBase, Max: loopBackoffMax}
	next := time.Time{}
	for ctx.Err() == nil {
		var reclaim time.Duration
		if now := time.Now(); now.After(next) {
			reclaim, next = e.p.ClaimIdle, now.Add(e.p.ClaimIdle/4)
		}
		evs, err := e.p.Intake.NextPublications(ctx, e.p.ReplicaID, 16, e.p.PollInterval, reclaim)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("read new publications", slog.Any("error", err))
				wait.Sleep(ctx, bo.Next())
			}
			continue
		}
		bo.Reset()
		for _, ev := range evs {
			if err := e.announcePublication(ctx, ev); err != nil {
				if ctx.Err() == nil {
					e.log.Error("announce publication", slog.String("publication", ev.PublicationID), slog.Any("error", err))
				}
				// Not acknowledged: it is taken up again once idle.
				continue
			}
			if err := e.p.Intake.AckPublications(ctx, ev.ID); err != nil && ctx.Err() == nil {
				e.log.Error("acknowledge publication", slog.String("publication", ev.PublicationID), slog.Any("error", err))
			}
		}
	}
}

func (e *Engine) announcePublication(ctx context.Context, ev PublicationEvent) error {
	a, err := e.publicationAnnouncement(ctx, ev.PublicationID)
	if errors.Is(err, ErrNotFound) {
		e.log.Warn("publication to announce is gone", slog.String("publication", ev.PublicationID))
		return nil
	}
	if err != nil {
		return err
	}
	err = e.p.Store.AddAnnouncement(ctx, a)
	if errors.Is(err, ErrDuplicate) {
		return nil // announced before a crash that kept the event unacknowledged
	}
	if err != nil {
		return err
	}
	e.nudgeFanout()
	e.log.Info("publication queued for delivery", slog.String("publication", ev.PublicationID), slog.String("announcement", a.ID), slog.String("category", a.Filter.Category))
	return nil
}

// fanoutLoop leases unfinished fan-outs and walks their audiences.
func (e *Engine) fanoutLoop(ctx context.Context) {
	bo := &wait.Backoff{Base: loopBackoffBase, Max: loopBackoffMax}
	for ctx.Err() == nil {
		f, ok, err := e.p.Store.ClaimFanout(ctx, time.Now().Add(e.p.FanoutLease))
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("claim fan-out", slog.Any("error", err))
				wait.Sleep(ctx, bo.Next())
			}
			continue
		}
		bo.Reset()
		if !ok {
			t := time.NewTimer(e.p.PollInterval)
			select {
			case <-ctx.Done():
			case <-e.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if err := e.fanout(ctx, f); err != nil && ctx.Err() == nil {
			e.log.Error("fan-out stopped", slog.String("announcement", f.Announcement.ID), slog.Any("error", err))
			wait.Sleep(ctx, bo.Next())
		}
	}
}

// fanout queues one delivery per matching subscriber, a page at a time,
// each page with its cursor in one atomic step.
func (e *Engine) fanout(ctx context.Context, f Fanout) error {
	a := f.Announcement
	audience, err := e.audience(ctx, a)
	if err != nil {
		return err
	}
	for {
		if err := e.awaitRoom(ctx, f); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				e.log.Warn("fan-out taken over by another replica, or cancelled", slog.String("announcement", a.ID))
				return nil
			}
			return err
		}
		subs, next, err := e.p.Subscribers.Page(ctx, audience, f.Cursor, e.p.PageSize)
		if errors.Is(err, subscriptions.ErrUnknownCategory) || errors.Is(err, subscriptions.ErrUnknownLanguage) {
			e.log.Error("announcement has an audience that cannot exist; nobody gets it", slog.String("announcement", a.ID), slog.Any("error", err))
			subs, next = nil, ""
		} else if err != nil {
			return fmt.Errorf("delivery: page of subscribers: %w", err)
		}
		ds := make([]Delivery, 0, len(subs))
		for _, s := range subs {
			d := Delivery{AnnouncementID: a.ID, ChatID: s.ChatID, ChatType: s.Type, Language: s.Language}
			if e.p.Shape == nil || e.p.Shape(a, s, &d) {
				ds = append(ds, d)
			}
		}
		done := next == ""
		if err := e.p.Store.AddDeliveries(ctx, f, next, done, ds, time.Now().Add(e.p.FanoutLease)); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				e.log.Warn("fan-out taken over by another replica", slog.String("announcement", a.ID))
				return nil
			}
			return err
		}
		f.Cursor = next
		if done {
			e.log.Info("fan-out finished", slog.String("announcement", a.ID))
			return nil
		}
	}
}

// awaitRoom returns once the queue has room for a page of f, keeping f's
// lease meanwhile with empty pages that leave its cursor where it is. It
// reads the store's Backlog when this engine has finished about as many
// deliveries as the queue is over (other replicas' sends are seen every
// PollInterval), so that a full queue costs a read per page, not one per
// message sent. It returns ErrLeaseLost when the lease is gone or the
// announcement cancelled, and nil when ctx ends.
func (e *Engine) awaitRoom(ctx context.Context, f Fanout) error {
	room := int64(max(e.p.MaxQueued-e.p.PageSize, 0))
	renewed := time.Now()
	for {
		n, err := e.p.Store.Backlog(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("delivery: backlog: %w", err)
		}
		if n <= room {
			return nil
		}
		over, mark := n-room, e.finished.Load()
		t := time.NewTimer(min(e.p.PollInterval, e.p.FanoutLease/3))
	wait:
		for e.finished.Load()-mark < over {
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
				break wait
			case <-e.finishedCh:
			}
		}
		t.Stop()
		if time.Since(renewed) >= e.p.FanoutLease/3 {
			if err := e.p.Store.AddDeliveries(ctx, f, f.Cursor, false, nil, time.Now().Add(e.p.FanoutLease)); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			renewed = time.Now()
		}
	}
}

// announcement returns the texts of an announcement being sent, cached:
// they never change.
func (e *Engine) announcement(ctx context.Context, id string) (Announcement, error) {
	e.annMu.Lock()
	a, ok := e.anns[id]
	e.annMu.Unlock()
	if ok {
		return a, nil
	}
	st, err := e.p.Store.Announcement(ctx, id)
	if err != nil {
		return Announcement{}, err
	}
	e.annMu.Lock()
	defer e.annMu.Unlock()
	if len(e.anns) >= 256 {
		for k := range e.anns { // drop any one: a miss costs one read
			delete(e.anns, k)
			break
		}
	}
	e.anns[id] = st.Announcement
	return st.Announcement, nil
}

// loopBackoffBase and loopBackoffMax pace a loop that keeps failing on the
// store: quick to retry a blip, never more than a few seconds behind.
const (
	loopBackoffBase = 100 * time.Millisecond
	loopBackoffMax  = 5 * time.Second
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
