package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// finishBatch is the most results recorded in one store call.
const finishBatch = 256

// sender is one Run's sending pipeline: a dispatcher that leases, takes
// tokens and begins deliveries; one goroutine per send in flight, at most
// Workers; and a finisher that records results in batches.
type sender struct {
	e       *Engine
	slots   chan struct{} // one per send in flight
	results chan Result

	mu    sync.Mutex
	known map[string]struct{} // entry ids leased and not yet finished or dropped
}

func newSender(e *Engine) *sender {
	return &sender{
		e:       e,
		slots:   make(chan struct{}, e.p.Workers),
		results: make(chan Result, e.p.Workers+e.p.BatchSize),
		known:   map[string]struct{}{},
	}
}

// run sends until ctx ends, then drains: it stops leasing, hands back what
// it holds, waits for sends in flight (cut off after DrainTimeout) and
// records every result.
func (s *sender) run(ctx context.Context) {
	// Sends outlive ctx by up to DrainTimeout so that a shutdown does not
	// cut messages in half; this context ends at that deadline.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	stopDrainTimer := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(s.e.p.DrainTimeout, cancelSends)
		context.AfterFunc(sendCtx, func() { t.Stop() })
	})
	defer stopDrainTimer()

	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s.finisher(sendCtx)
	}()

	var sends sync.WaitGroup
	held := s.dispatch(ctx, sendCtx, &sends)

	// Hand back what was leased but not begun, so that other replicas
	// need not wait for it to go idle.
	now := s.e.p.Now()
	for _, d := range held {
		s.results <- Result{Delivery: d, Outcome: Requeued, Next: withoutID(d), At: now}
	}
	sends.Wait()
	close(s.results)
	<-finished
}

// dispatch leases and begins deliveries until ctx ends, starting a send
// for each, and returns the deliveries it holds but has not begun.
func (s *sender) dispatch(ctx, sendCtx context.Context, sends *sync.WaitGroup) []Delivery {
	e := s.e
	bo := &wait.Backoff{Base: loopBackoffBase, Max: loopBackoffMax}
	var held []Delivery
	nextReclaim := time.Time{}
	for ctx.Err() == nil {
		// Wait for a free slot before taking more work.
		select {
		case s.slots <- struct{}{}:
			<-s.slots
		case <-ctx.Done():
			return held
		}
		if len(held) == 0 {
			var reclaim time.Duration
			if now := time.Now(); now.After(nextReclaim) {
				reclaim, nextReclaim = e.p.ClaimIdle, now.Add(e.p.ClaimIdle/4)
			}
			ds, err := e.p.Store.Lease(ctx, e.p.ReplicaID, s.leaseSize(), e.p.PollInterval, reclaim)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Error("lease deliveries", slog.Any("error", err))
					wait.Sleep(ctx, bo.Next())
				}
				continue
			}
			bo.Reset()
			held = s.adopt(ds)
			continue
		}

		// Nothing is sent, nor a token spent, while sending is paused.
		if d := e.pausedFor(ctx); d > 0 {
			wait.Sleep(ctx, d)
			continue
		}
		free := cap(s.slots) - len(s.slots)
		k := min(len(held), max(free, 1))
		if e.p.Rate > 0 {
			n, retryIn, err := e.p.Store.AllowSends(ctx, e.p.Rate, e.burst, min(k, takeFor(e.burst)))
			if err != nil {
				if ctx.Err() == nil {
					e.log.Error("take send tokens", slog.Any("error", err))
					wait.Sleep(ctx, bo.Next())
				}
				continue
			}
			if n == 0 {
				wait.Sleep(ctx, retryIn)
				continue
			}
			k = n
		}
		chunk := held[:k]
		ready, pause, err := e.p.Store.Begin(ctx, e.p.ReplicaID, chunk, *e.p.Gaps, e.p.Now())
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("begin deliveries", slog.Any("error", err))
				wait.Sleep(ctx, bo.Next())
			}
			continue
		}
		bo.Reset()
		if pause > 0 {
			// Looked at again within PauseCheck: a pause lifted by
			// staff, or by a probe elsewhere, ends here too.
			e.pauses.suspect()
			wait.Sleep(ctx, min(pause, e.p.PauseCheck))
			continue
		}
		held = held[k:]
		s.forgetExcept(chunk, ready)
		for _, d := range ready {
			s.slots <- struct{}{} // never blocks for long: k <= free slots
			sends.Go(func() {
				r := s.e.send(sendCtx, d)
				<-s.slots
				s.results <- r
			})
		}
	}
	return held
}

// leaseSize is how many deliveries to lease at once: a batch, but no more
// than about a second's worth at the global rate, so that deliveries do not
// wait here for tokens while other replicas could send them, nor spend
// tokens after their announcement is cancelled.
func (s *sender) leaseSize() int {
	n := s.e.p.BatchSize
	if r := s.e.p.Rate; r > 0 {
		n = min(n, max(1, int(math.Ceil(r))))
	}
	return n
}

// adopt keeps the leased deliveries this replica does not hold already: a
// delivery held here while waiting for tokens can be reclaimed by this very
// replica once idle, and must not be sent twice.
func (s *sender) adopt(ds []Delivery) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := ds[:0]
	for _, d := range ds {
		if _, ok := s.known[d.ID]; ok {
			continue
		}
		s.known[d.ID] = struct{}{}
		out = append(out, d)
	}
	return out
}

// forgetExcept forgets the deliveries of chunk that Begin did not return:
// those are dropped or put back by the store.
func (s *sender) forgetExcept(chunk, ready []Delivery) {
	keep := make(map[string]struct{}, len(ready))
	for _, d := range ready {
		keep[d.ID] = struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range chunk {
		if _, ok := keep[d.ID]; !ok {
			delete(s.known, d.ID)
		}
	}
}

// finisher records results in batches: whatever has arrived by the time
// the previous batch is written. A failed write is retried until it
// succeeds or ctx, the drain deadline, ends: a send that is not recorded is
// sent again after a crash, so it is worth waiting for the store.
func (s *sender) finisher(ctx context.Context) {
	e := s.e
	batch := make([]Result, 0, finishBatch)
	bo := &wait.Backoff{Base: loopBackoffBase, Max: loopBackoffMax}
	for r := range s.results {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < finishBatch {
			select {
			case r, ok := <-s.results:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		for {
			// A write already under way is let finish even after the
			// drain deadline: it is quick, and it saves duplicates.
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := e.p.Store.Finish(wctx, batch, e.p.Now())
			cancel()
			if err == nil {
				bo.Reset()
				break
			}
			if ctx.Err() != nil {
				e.log.Error("results lost at shutdown; their deliveries will be taken over and may be sent again", slog.Int("results", len(batch)), slog.Any("error", err))
				break
			}
			e.log.Error("record delivery results", slog.Int("results", len(batch)), slog.Any("error", err))
			wait.Sleep(ctx, bo.Next())
		}
		s.mu.Lock()
		for _, r := range batch {
			delete(s.known, r.Delivery.ID)
		}
		s.mu.Unlock()
		e.finished.Add(int64(len(batch)))
		select {
		case e.finishedCh <- struct{}{}:
		default:
		}
	}
}

// withoutID is d to be queued again: a new entry, which holds no slot.
func withoutID(d Delivery) Delivery {
	d.ID = ""
	d.Slot = time.Time{}
	return d
}

// send makes one sendMessage or copyMessage(s) call and decides, from Telegram's answer,
// what becomes of the delivery.
func (e *Engine) send(ctx context.Context, d Delivery) Result {
	now := e.p.Now()
	a, err := e.announcement(ctx, d.AnnouncementID)
	if errors.Is(err, ErrNotFound) {
		return Result{Delivery: d, Outcome: Failed, Error: "announcement expired before it was sent"}
	}
	if err != nil {
		// The store is unreachable: try again shortly, no attempt spent.
		return Result{Delivery: d, Outcome: Requeued, Next: withoutID(d), At: now.Add(wait.Jitter(e.p.RetryBase))}
	}
	method, params, text, ok := e.request(a, d)
	if !ok {
		return Result{Delivery: d, Outcome: Failed, Error: "announcement has no text"}
	}
	// Both sendMessage and copyMessage(s) take these.
	if d.Silent {
		params["disable_notification"] = "true"
	}
	if d.Thread != 0 {
		params["message_thread_id"] = strconv.FormatInt(d.Thread, 10)
	}
	if method == "sendMessage" {
		if markup := e.alertMarkup(ctx, a, d.Language); markup != "" {
			params["reply_markup"] = markup
		}
	}

	callCtx, cancel := context.WithTimeout(ctx, e.p.SendTimeout)
	start := time.Now()
	raw, err := e.p.Telegram.Call(callCtx, method, params)
	latency := time.Since(start)
	cancel()
	kind := tg.Classify(err)
	result := "sent"
	if kind != tg.KindNone {
		result = kind.String()
	}
	e.obs.SendDone(result, latency)
	now = e.p.Now()
	log := e.log.With(slog.Int64("chat_id", d.ChatID), slog.String("announcement", d.AnnouncementID))
	// Put back as it was, to go once sending resumes: a send that failed
	// because all of Telegram did is not the delivery's attempt.
	again := Result{Delivery: d, Outcome: Requeued, Next: withoutID(d), At: now}

	switch kind {
	case tg.KindNone:
		e.window.add(now, classOK)
		ids, err := sentIDs(method, raw)
		if err != nil {
			log.Error("answer without a message id; counted as sent", slog.String("method", method), slog.Any("error", err))
		}
		r := Result{Delivery: d, Outcome: Sent}
		if len(ids) > 0 {
			r.MessageID = ids[0]
		}
		if len(ids) > 1 {
			r.MessageIDs = ids
		}
		return r

	case tg.KindRetryAfter:
		wait, ok := tg.RetryAfter(err)
		if !ok || wait <= 0 {
			wait = time.Second
		}
		e.obs.Paused(wait)
		log.Warn("flood limit: all replicas pause sending", slog.Duration("retry_after", wait))
		// Paused at once, so that no send starts while the result waits
		// for its batch, and again with the result, with the requeue.
		e.pause(ctx, PauseFlood, wait, false, true)
		again.Pause = wait
		return again

	case tg.KindGone:
		return e.gone(ctx, d, again, err, log)

	case tg.KindMigrated:
		e.window.add(now, classOther)
		to, _ := tg.MigratedTo(err)
		if merr := e.p.Subscribers.Migrate(ctx, d.ChatID, to); merr != nil {
			log.Error("move subscriber of a migrated group", slog.Int64("to", to), slog.Any("error", merr))
			return Result{Delivery: d, Outcome: Requeued, Next: withoutID(d), At: now.Add(wait.Jitter(e.p.RetryBase))}
		}
		log.Info("group migrated: subscriber moved, message follows", slog.Int64("to", to))
		next := withoutID(d)
		next.ChatID, next.ChatType = to, subscriptions.ChatSupergroup
		return Result{Delivery: d, Outcome: Requeued, Next: next, At: now, Moved: true}

	case tg.KindBadMarkup:
		e.window.add(now, classOther)
		if d.Plain || method != "sendMessage" {
			log.Error("Telegram cannot parse even the plain text of this message", slog.Any("error", err))
			e.obs.DeadLettered()
			return Result{Delivery: d, Outcome: Failed, Error: err.Error()}
		}
		// Rendering guarantees valid markup: this is a bug to fix, so
		// it is loud; the subscriber still gets the message.
		log.Error("BUG: Telegram could not parse a message's HTML; resending it as plain text", slog.Any("error", err), slog.String("html", truncateForLog(text)))
		next := withoutID(d)
		next.Plain = true
		return Result{Delivery: d, Outcome: Requeued, Next: next, At: now}

	case tg.KindUnauthorized:
		// Once per episode and replica, however many sends meet it.
		if e.pause(ctx, PauseUnauthorized, e.p.ProbeEvery, true, false) {
			log.Error("TELEGRAM REFUSES THE BOT TOKEN (401): all sending paused until it is accepted again; check TELEGRAM_BOT_TOKEN", slog.Any("error", err))
		}
		return again

	case tg.KindTransient:
		total, failed := e.window.add(now, classTransient)
		if _, paused := e.pauses.current(); paused {
			return again
		}
		if mostly(total, failed, outageMin) {
			if e.pause(ctx, PauseOutage, e.p.ProbeEvery, true, false) {
				log.Warn("most recent sends failed: Telegram looks down; all sending paused until a probe succeeds",
					slog.Int("failed", failed), slog.Int("sends", total), slog.Any("error", err))
			}
			return again
		}
		if age := now.Sub(a.CreatedAt); age >= e.p.Lifetime {
			log.Error("delivery failed for its whole lifetime; dead-lettered", slog.Duration("age", age.Round(time.Second)), slog.Int("attempts", d.Attempt+1), slog.Any("error", err))
			e.obs.DeadLettered()
			return Result{Delivery: d, Outcome: Failed, Error: err.Error()}
		}
		attempt := d.Attempt + 1
		e.obs.Retried()
		log.Warn("send failed; will retry", slog.Int("attempt", attempt), slog.Any("error", err))
		next := withoutID(d)
		next.Attempt = attempt
		pause := wait.Jitter(wait.Capped(e.p.RetryBase, e.p.RetryMax, attempt))
		return Result{Delivery: d, Outcome: Requeued, Next: next, At: now.Add(pause), Retry: true}

	default: // permanent, too long, not modified: retrying cannot help
		e.window.add(now, classOther)
		if d.Thread != 0 && kind == tg.KindPermanent && strings.Contains(strings.ToLower(err.Error()), "thread not found") {
			// The chat's forum topic is gone (or its topics are off): the
			// message goes to the chat itself rather than nowhere.
			log.Warn("forum topic gone; sending to the chat itself", slog.Int64("thread", d.Thread))
			next := withoutID(d)
			next.Thread = 0
			return Result{Delivery: d, Outcome: Requeued, Next: next, At: now}
		}
		log.Error("Telegram refused the message; dead-lettered", slog.Any("error", err))
		e.obs.DeadLettered()
		return Result{Delivery: d, Outcome: Failed, Error: err.Error()}
	}
}

// request is the call that sends d: a copy of the staff's message when the
// announcement has one for d's language (copyMessage, or copyMessages for
// an album), else its text (sendMessage). text is what a log may show.
func (e *Engine) request(a Announcement, d Delivery) (method string, params tgbotapi.Params, text string, ok bool) {
	params = tgbotapi.Params{"chat_id": strconv.FormatInt(d.ChatID, 10)}
	if e.p.PaidBroadcast {
		params["allow_paid_broadcast"] = "true"
	}
	c, text, isCopy, ok := a.Content(d.Language, e.p.Languages[0])
	if !ok {
		return "", nil, "", false
	}
	if isCopy {
		params["from_chat_id"] = strconv.FormatInt(c.FromChatID, 10)
		if len(c.MessageIDs) == 1 {
			params["message_id"] = strconv.Itoa(c.MessageIDs[0])
			return "copyMessage", params, "", true
		}
		ids, _ := json.Marshal(c.MessageIDs)
		params["message_ids"] = string(ids)
		return "copyMessages", params, "", true
	}
	if d.Plain {
		params["text"] = render.PlainText(text)
	} else {
		params["text"] = text
		params["parse_mode"] = "HTML"
	}
	if !e.p.LinkPreviews {
		params["link_preview_options"] = `{"is_disabled":true}`
	}
	return "sendMessage", params, text, true
}

// sentIDs reads the message ids of a successful send: a Message
// (sendMessage), a MessageId (copyMessage) or an array of them
// (copyMessages).
func sentIDs(method string, raw json.RawMessage) ([]int, error) {
	type id struct {
		MessageID int `json:"message_id"`
	}
	if method == "copyMessages" {
		var ms []id
		if err := json.Unmarshal(raw, &ms); err != nil {
			return nil, err
		}
		out := make([]int, 0, len(ms))
		for _, m := range ms {
			out = append(out, m.MessageID)
		}
		return out, nil
	}
	var m id
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return []int{m.MessageID}, nil
}

// gone decides what a "chat gone" answer (403, chat not found) does: the
// subscriber is removed when a second answer confirms it, unless most of
// the recent sends say the same, which is a storm of a proxy or of
// Telegram, not users leaving: then nobody is removed and sending pauses.
func (e *Engine) gone(ctx context.Context, d Delivery, again Result, err error, log *slog.Logger) Result {
	now := again.At
	total, gone := e.window.add(now, classGone)
	if mostly(total, gone, stormMin) {
		if e.pause(ctx, PauseGoneStorm, e.p.StormPause, false, false) {
			e.holding.clear()
			log.Warn("most recent sends answer that the chat is gone: a storm, not users leaving; removals stopped, sending paused",
				slog.Int("gone", gone), slog.Int("sends", total), slog.Duration("pause", e.p.StormPause), slog.Any("error", err))
		}
		return again
	}
	if _, paused := e.pauses.current(); paused {
		return again
	}
	if !e.holding.confirm(d.ChatID, now, e.p.GoneHold) {
		log.Info("chat answered it is gone; trying once more before removing it", slog.Duration("in", e.p.GoneHold), slog.Any("error", err))
		again.At = now.Add(e.p.GoneHold)
		return again
	}
	if _, uerr := e.p.Subscribers.Remove(ctx, d.ChatID, goneReason(err)); uerr != nil {
		log.Error("remove subscriber whose chat is gone", slog.Any("error", uerr))
		again.At = now.Add(wait.Jitter(e.p.RetryBase))
		return again
	}
	log.Info("chat gone: subscriber removed", slog.Any("error", err))
	return Result{Delivery: d, Outcome: Removed}
}

// goneReason is Telegram's answer that a chat is gone, for its tombstone.
func goneReason(err error) string {
	var te *tg.Error
	if errors.As(err, &te) {
		return strconv.Itoa(te.Code) + " " + te.Description
	}
	return err.Error()
}

func truncateForLog(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
