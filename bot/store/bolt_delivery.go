package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Buckets of the embedded delivery store: what the Redis {dlv} keys hold,
// with the same retention constants. Every method is one bbolt transaction,
// which gives it the atomicity a Lua script gives on Redis.
//
// A queued delivery lives in exactly one of three places: dlv_queue (not
// leased), dlv_pending (leased: the stream's pending entries list) or
// dlv_delayed (not due yet). Sequence keys are 8-byte big-endian, so that
// cursors walk the queue oldest first and a lease reads only what it takes.
//
// Leases, idle times and retention run on the wall clock, as Redis's server
// clock runs them; per-chat gaps, the pause and due times run on the clock
// the engine passes to Begin and Finish.
const (
	// id -> JSON boltDlvAnn.
	boltDlvAnns = "dlv_ann"
	// subKey(lease deadline ms) id -> empty: unfinished fan-outs, the
	// earliest deadline first.
	boltDlvFanouts = "dlv_fanouts"
	// seq -> encoded delivery (encodeDelivery): queued, not leased.
	boltDlvQueue = "dlv_queue"
	// seq -> boltLeased with the encoded delivery: leased, not finished.
	boltDlvPending = "dlv_pending"
	// subKey(due ms) seq -> encoded delivery: retries and deliveries
	// waiting for their chat.
	boltDlvDelayed = "dlv_delayed"
	// One nested bucket per announcement: subKey(chat id) -> 8-byte message
	// id. The record that a chat got an announcement, kept for recall.
	boltDlvSent = "dlv_sent"
	// id -> subKey(ms) when the announcement's sent records expire.
	boltDlvSentExpiry = "dlv_sent_expiry"
	// subKey(ms) kind id -> empty, kind 'a' (announcement) or 's' (its sent
	// records): what expires when, pruned a little at a time.
	boltDlvExpiry = "dlv_expiry"
	// Chat reservations, kept here before they moved to memory
	// (boltPacing); dropped on open.
	boltDlvChats = "dlv_chats"
	// seq -> JSON delivery.DeadLetter, newest last; at most deadLetterCap.
	boltDlvDead = "dlv_dead"
	// 8-byte big-endian seq of the poller's announce bucket -> boltLeased
	// without a body: new publications leased and not acknowledged.
	boltDlvIntake = "dlv_intake"
	// The keys below -> 8-byte values.
	boltDlvMeta = "dlv_meta"
)

// Keys of boltDlvMeta.
var (
	metaPause      = []byte("pause")        // subKey(ms) until which all sending is paused
	metaPauseID    = []byte("pause_id")     // delivery.Pause.ID of that pause; none: a 429 of the previous release
	metaProbe      = []byte("probe")        // delivery.Pause.ID of a pause owing a probe
	metaProbeUntil = []byte("probe_until")  // subKey(ms) after which the probe is no longer owed
	metaNotice     = []byte("pause_notice") // delivery.Pause.ID staff were last told of
	metaDead       = []byte("dead")         // all-time dead letters
	metaRate       = []byte("rate")         // the send limiter's state before it moved to memory; dropped on open
	metaChatSweep  = []byte("chat_sweep")   // the chat reservations' sweep before they moved to memory; dropped on open
	metaIntakeLast = []byte("intake_last")  // last announce seq handed out
)

const (
	boltExpireAnnouncement = 'a'
	boltExpireSent         = 's'
	// boltPrune bounds how many expiries one call handles.
	boltPrune = 64
	// boltReclaimScan is the fewest leased entries a reclaim looks at;
	// it looks at ten times what it may take when that is more, as
	// XAUTOCLAIM does.
	boltReclaimScan = 1000
	// Waiting for new work polls with a backoff between these: no other
	// process can write the file, but the poller writes it without telling.
	boltPollMin = 10 * time.Millisecond
	boltPollMax = 100 * time.Millisecond
)

// boltDlvAnn is an announcement with its fan-out and counters: the Redis
// announcement hash.
type boltDlvAnn struct {
	Kind     string            `json:"kind"`
	Pub      string            `json:"pub,omitempty"`
	Category string            `json:"category,omitempty"`
	Cats     []string          `json:"categories,omitempty"`
	Language string            `json:"language,omitempty"`
	Created  int64             `json:"created"` // ms
	Texts    map[string]string `json:"texts"`
	// Copies are absent from announcements of earlier releases.
	Copies map[string]delivery.Copy `json:"copies,omitempty"`
	State  string                   `json:"state"`
	Cursor string                   `json:"cursor,omitempty"`
	Token  string                   `json:"token,omitempty"`
	// LeaseUntil (ms) places the fan-out in boltDlvFanouts while fanning out.
	LeaseUntil int64 `json:"lease_until"`
	Expires    int64 `json:"expires"` // ms, wall clock
	Targeted   int64 `json:"targeted"`
	Delivered  int64 `json:"delivered"`
	Removed    int64 `json:"removed"`
	Failed     int64 `json:"failed"`
	Cancelled  int64 `json:"cancelled"`
	Retries    int64 `json:"retries"`
	Moved      int64 `json:"moved"`
}

func (a *boltDlvAnn) stats(id string) delivery.Stats {
	texts := make(map[string]string, len(a.Texts))
	for k, v := range a.Texts {
		texts[k] = v
	}
	s := delivery.Stats{
		Announcement: delivery.Announcement{
			ID:            id,
			Kind:          delivery.Kind(a.Kind),
			PublicationID: a.Pub,
			Texts:         texts,
			Copies:        cloneCopies(a.Copies),
			Filter:        subscriptions.Filter{Category: a.Category, Categories: slices.Clone(a.Cats), Language: a.Language},
			CreatedAt:     time.UnixMilli(a.Created).UTC(),
		},
		State:     delivery.State(a.State),
		Targeted:  a.Targeted,
		Delivered: a.Delivered,
		Removed:   a.Removed,
		Failed:    a.Failed,
		Cancelled: a.Cancelled,
		Retries:   a.Retries,
		Moved:     a.Moved,
	}
	s.Pending = max(0, s.Targeted-s.Delivered-s.Removed-s.Failed-s.Cancelled)
	if s.State == delivery.StateSending && s.Pending == 0 {
		s.State = delivery.StateDone
	}
	return s
}

func fanoutKey(until int64, id string) []byte { return append(subKey(until), id...) }

// boltLeased is a leased entry: who holds it, since when, and its body.
// Encoded as 8-byte unix ns, 2-byte consumer length, consumer, body.
type boltLeased struct {
	consumer string
	at       int64
	body     []byte
}

func (l boltLeased) encode() []byte {
	v := make([]byte, 0, 10+len(l.consumer)+len(l.body))
	v = binary.BigEndian.AppendUint64(v, uint64(l.at))
	v = binary.BigEndian.AppendUint16(v, uint16(len(l.consumer)))
	v = append(v, l.consumer...)
	return append(v, l.body...)
}

func decodeLeased(v []byte) (boltLeased, bool) {
	if len(v) < 10 {
		return boltLeased{}, false
	}
	n := int(binary.BigEndian.Uint16(v[8:10]))
	if len(v) < 10+n {
		return boltLeased{}, false
	}
	return boltLeased{at: int64(binary.BigEndian.Uint64(v)), consumer: string(v[10 : 10+n]), body: bytes.Clone(v[10+n:])}, true
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

// seqID is the delivery or event id of a sequence key, and parseSeqID its
// reverse; an id this store did not make is not found.
func seqID(k []byte) string { return strconv.FormatUint(binary.BigEndian.Uint64(k), 10) }

func parseSeqID(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, false
	}
	return seqKey(n), true
}

func metaInt(meta *bolt.Bucket, key []byte) (int64, bool) {
	if meta == nil {
		return 0, false
	}
	v := meta.Get(key)
	if len(v) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v)), true
}

func putMetaInt(meta *bolt.Bucket, key []byte, n int64) error {
	return meta.Put(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// dlvTx is one writing transaction on the delivery buckets. Announcements
// are decoded once and written back by flush.
type dlvTx struct {
	tx                                                                                   *bolt.Tx
	anns, fanouts, queue, pending, delayed, sent, sentExpiry, expiry, dead, intake, meta *bolt.Bucket

	wall  time.Time // for expiry
	cache map[string]*boltDlvAnn
	dirty map[string]bool
}

func openDlvTx(tx *bolt.Tx) (*dlvTx, error) {
	t := &dlvTx{tx: tx, wall: time.Now(), cache: map[string]*boltDlvAnn{}, dirty: map[string]bool{}}
	for _, b := range []struct {
		name string
		dst  **bolt.Bucket
	}{
		{boltDlvAnns, &t.anns}, {boltDlvFanouts, &t.fanouts}, {boltDlvQueue, &t.queue},
		{boltDlvPending, &t.pending}, {boltDlvDelayed, &t.delayed}, {boltDlvSent, &t.sent},
		{boltDlvSentExpiry, &t.sentExpiry}, {boltDlvExpiry, &t.expiry},
		{boltDlvDead, &t.dead}, {boltDlvIntake, &t.intake}, {boltDlvMeta, &t.meta},
	} {
		bucket, err := tx.CreateBucketIfNotExists([]byte(b.name))
		if err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", b.name, err)
		}
		*b.dst = bucket
	}
	return t, nil
}

// dlvUpdate runs fn in one writing transaction on the delivery buckets and
// writes back the announcements it changed.
func (b *Bolt) dlvUpdate(fn func(t *dlvTx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		t, err := openDlvTx(tx)
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		return t.flush()
	})
}

// rawAnn decodes a stored announcement, expired or not.
// cloneCopies copies an announcement's copies, nil for none.
func cloneCopies(in map[string]delivery.Copy) map[string]delivery.Copy {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]delivery.Copy, len(in))
	for k, c := range in {
		c.MessageIDs = slices.Clone(c.MessageIDs)
		out[k] = c
	}
	return out
}

// encodeSentIDs is a sent record's value: the message id, 8 bytes big
// endian, or an album copy's ids one after the other.
func encodeSentIDs(res delivery.Result) []byte {
	if len(res.MessageIDs) == 0 {
		return binary.BigEndian.AppendUint64(nil, uint64(res.MessageID))
	}
	out := make([]byte, 0, 8*len(res.MessageIDs))
	for _, id := range res.MessageIDs {
		out = binary.BigEndian.AppendUint64(out, uint64(id))
	}
	return out
}

// decodeSentIDs reads encodeSentIDs.
func decodeSentIDs(chat int64, v []byte) (delivery.SentCopy, bool) {
	if len(v) < 8 || len(v)%8 != 0 {
		return delivery.SentCopy{}, false
	}
	c := delivery.SentCopy{ChatID: chat, MessageID: int(binary.BigEndian.Uint64(v))}
	if len(v) > 8 {
		for i := 0; i < len(v); i += 8 {
			c.MessageIDs = append(c.MessageIDs, int(binary.BigEndian.Uint64(v[i:])))
		}
	}
	return c, true
}

func rawAnn(anns *bolt.Bucket, id string) (*boltDlvAnn, error) {
	if anns == nil || id == "" {
		return nil, nil
	}
	v := anns.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var a boltDlvAnn
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("decode announcement %s: %w", id, err)
	}
	return &a, nil
}

// ann returns a live announcement, nil when there is none or it expired (as
// a Redis key that expired is gone, though not pruned yet).
func (t *dlvTx) ann(id string) (*boltDlvAnn, error) {
	if a, ok := t.cache[id]; ok {
		return a, nil
	}
	a, err := rawAnn(t.anns, id)
	if err != nil {
		return nil, err
	}
	if a != nil && a.Expires <= t.wall.UnixMilli() {
		a = nil
	}
	t.cache[id] = a
	return a, nil
}

func (t *dlvTx) touch(id string) { t.dirty[id] = true }

func (t *dlvTx) flush() error {
	for id := range t.dirty {
		a := t.cache[id]
		if a == nil {
			continue
		}
		body, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode announcement %s: %w", id, err)
		}
		if err := t.anns.Put([]byte(id), body); err != nil {
			return err
		}
	}
	clear(t.dirty)
	return nil
}

// sentTo reports whether chat has a sent record of announcement id.
func (t *dlvTx) sentTo(id string, chat int64) bool {
	sb := t.sent.Bucket([]byte(id))
	return sb != nil && sb.Get(subKey(chat)) != nil
}

// prune deletes up to boltPrune expired announcements and sent records.
func (t *dlvTx) prune() error {
	now := t.wall.UnixMilli()
	var due [][]byte
	c := t.expiry.Cursor()
	for k, _ := c.First(); k != nil && len(due) < boltPrune && len(k) > 9 && subKeyID(k[:8]) <= now; k, _ = c.Next() {
		due = append(due, bytes.Clone(k))
	}
	for _, k := range due {
		id := k[9:]
		switch k[8] {
		case boltExpireAnnouncement:
			// The id may have been added again after it expired: only
			// a record that is itself expired goes.
			a, err := rawAnn(t.anns, string(id))
			if err != nil {
				return err
			}
			if a != nil && a.Expires <= now {
				if err := t.fanouts.Delete(fanoutKey(a.LeaseUntil, string(id))); err != nil {
					return err
				}
				if err := t.anns.Delete(id); err != nil {
					return err
				}
				delete(t.cache, string(id))
			}
		case boltExpireSent:
			if bytes.Equal(t.sentExpiry.Get(id), k[:8]) {
				if err := t.sent.DeleteBucket(id); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
					return err
				}
				if err := t.sentExpiry.Delete(id); err != nil {
					return err
				}
			}
		}
		if err := t.expiry.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func expiryKey(ms int64, kind byte, id string) []byte {
	return append(append(subKey(ms), kind), id...)
}

// keepSent moves the expiry of an announcement's sent records to
// sentRetention from now, as each new record does on Redis.
func (t *dlvTx) keepSent(id string) error {
	at := subKey(t.wall.Add(sentRetention).UnixMilli())
	if old := t.sentExpiry.Get([]byte(id)); len(old) == 8 {
		if err := t.expiry.Delete(append(append(bytes.Clone(old), boltExpireSent), id...)); err != nil {
			return err
		}
	}
	if err := t.sentExpiry.Put([]byte(id), at); err != nil {
		return err
	}
	return t.expiry.Put(append(append(bytes.Clone(at), boltExpireSent), id...), []byte{})
}

// push appends an encoded delivery to the queue, due now.
func (t *dlvTx) push(body []byte) error {
	seq, err := t.queue.NextSequence()
	if err != nil {
		return err
	}
	return t.queue.Put(seqKey(seq), body)
}

// delay puts an encoded delivery aside until due (ms).
func (t *dlvTx) delay(body []byte, due int64) error {
	seq, err := t.delayed.NextSequence()
	if err != nil {
		return err
	}
	return t.delayed.Put(append(subKey(due), seqKey(seq)...), body)
}

// Ping reports whether the embedded store answers.
func (b *Bolt) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: ping embedded store: %w", err)
	}
	if err := b.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("store: ping embedded store: %w", err)
	}
	return nil
}

// AddAnnouncement implements delivery.Store.
func (b *Bolt) AddAnnouncement(ctx context.Context, a delivery.Announcement) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: add announcement %s: %w", a.ID, err)
	}
	if a.ID == "" {
		return fmt.Errorf("store: add announcement: %w: empty id", delivery.ErrInvalid)
	}
	dup := false
	err := b.dlvUpdate(func(t *dlvTx) error {
		if err := t.prune(); err != nil {
			return err
		}
		cur, err := t.ann(a.ID)
		if err != nil {
			return err
		}
		if cur != nil {
			dup = true
			return nil
		}
		// An expired record not pruned yet gives way, with its fan-out.
		if old, err := rawAnn(t.anns, a.ID); err != nil {
			return err
		} else if old != nil {
			if err := t.fanouts.Delete(fanoutKey(old.LeaseUntil, a.ID)); err != nil {
				return err
			}
		}
		texts := make(map[string]string, len(a.Texts))
		for k, v := range a.Texts {
			texts[k] = v
		}
		rec := &boltDlvAnn{
			Kind: string(a.Kind), Pub: a.PublicationID, Category: a.Filter.Category, Cats: slices.Clone(a.Filter.Categories),
			Language: a.Filter.Language, Created: a.CreatedAt.UnixMilli(), Texts: texts, Copies: cloneCopies(a.Copies),
			State:   string(delivery.StateFanningOut),
			Expires: t.wall.Add(announcementRetention).UnixMilli(),
			// Unleased, it waits in the fan-outs in creation order, as
			// on Redis.
			LeaseUntil: fanoutQueuedAt(a.CreatedAt),
		}
		t.cache[a.ID] = rec
		t.touch(a.ID)
		if err := t.expiry.Put(expiryKey(rec.Expires, boltExpireAnnouncement, a.ID), []byte{}); err != nil {
			return err
		}
		return t.fanouts.Put(fanoutKey(rec.LeaseUntil, a.ID), []byte{})
	})
	if err != nil {
		return fmt.Errorf("store: add announcement %s: %w", a.ID, err)
	}
	if dup {
		return fmt.Errorf("store: add announcement %s: %w", a.ID, delivery.ErrDuplicate)
	}
	return nil
}

// Announcement implements delivery.Store.
func (b *Bolt) Announcement(ctx context.Context, id string) (delivery.Stats, error) {
	if err := ctx.Err(); err != nil {
		return delivery.Stats{}, fmt.Errorf("store: announcement %s: %w", id, err)
	}
	var a *boltDlvAnn
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		a, err = rawAnn(tx.Bucket([]byte(boltDlvAnns)), id)
		return err
	})
	if err != nil {
		return delivery.Stats{}, fmt.Errorf("store: announcement %s: %w", id, err)
	}
	if a == nil || a.Expires <= time.Now().UnixMilli() {
		return delivery.Stats{}, fmt.Errorf("store: announcement %s: %w", id, delivery.ErrNotFound)
	}
	return a.stats(id), nil
}

// Cancel implements delivery.Store.
func (b *Bolt) Cancel(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: cancel announcement %s: %w", id, err)
	}
	found, cancelled := false, false
	err := b.dlvUpdate(func(t *dlvTx) error {
		a, err := t.ann(id)
		if err != nil || a == nil {
			return err
		}
		found = true
		if a.State == string(delivery.StateCancelled) {
			return nil
		}
		cancelled = true
		a.State = string(delivery.StateCancelled)
		t.touch(id)
		return t.fanouts.Delete(fanoutKey(a.LeaseUntil, id))
	})
	if err != nil {
		return false, fmt.Errorf("store: cancel announcement %s: %w", id, err)
	}
	if !found {
		return false, fmt.Errorf("store: cancel announcement %s: %w", id, delivery.ErrNotFound)
	}
	return cancelled, nil
}

// ClaimFanout implements delivery.Store.
func (b *Bolt) ClaimFanout(ctx context.Context, until time.Time) (delivery.Fanout, bool, error) {
	if err := ctx.Err(); err != nil {
		return delivery.Fanout{}, false, fmt.Errorf("store: claim fan-out: %w", err)
	}
	var (
		f  delivery.Fanout
		ok bool
	)
	err := b.dlvUpdate(func(t *dlvTx) error {
		now := t.wall.UnixMilli()
		var stale [][]byte
		var claim []byte
		c := t.fanouts.Cursor()
		for k, _ := c.First(); k != nil && len(k) > 8 && subKeyID(k[:8]) <= now && len(stale) < boltPrune; k, _ = c.Next() {
			a, err := t.ann(string(k[8:]))
			if err != nil {
				return err
			}
			if a == nil || a.State != string(delivery.StateFanningOut) {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			claim = bytes.Clone(k)
			break
		}
		for _, k := range stale {
			if err := t.fanouts.Delete(k); err != nil {
				return err
			}
		}
		if claim == nil {
			return nil
		}
		id := string(claim[8:])
		a, _ := t.ann(id)
		a.Token = strconv.FormatUint(rand.Uint64(), 36)
		a.LeaseUntil = until.UnixMilli()
		t.touch(id)
		if err := t.fanouts.Delete(claim); err != nil {
			return err
		}
		if err := t.fanouts.Put(fanoutKey(a.LeaseUntil, id), []byte{}); err != nil {
			return err
		}
		f = delivery.Fanout{Announcement: a.stats(id).Announcement, Cursor: a.Cursor, Token: a.Token}
		ok = true
		return nil
	})
	if err != nil {
		return delivery.Fanout{}, false, fmt.Errorf("store: claim fan-out: %w", err)
	}
	return f, ok, nil
}

// AddDeliveries implements delivery.Store.
func (b *Bolt) AddDeliveries(ctx context.Context, f delivery.Fanout, next string, done bool, ds []delivery.Delivery, until time.Time) error {
	id := f.Announcement.ID
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: queue deliveries of %s: %w", id, err)
	}
	lost := false
	err := b.dlvUpdate(func(t *dlvTx) error {
		a, err := t.ann(id)
		if err != nil {
			return err
		}
		if a == nil || a.Token != f.Token || a.Cursor != f.Cursor || a.State != string(delivery.StateFanningOut) {
			lost = true
			return nil
		}
		for _, d := range ds {
			if err := t.push([]byte(encodeDelivery(d))); err != nil {
				return err
			}
		}
		a.Targeted += int64(len(ds))
		a.Cursor = next
		t.touch(id)
		if err := t.fanouts.Delete(fanoutKey(a.LeaseUntil, id)); err != nil {
			return err
		}
		if done {
			a.State = string(delivery.StateSending)
			return nil
		}
		a.LeaseUntil = until.UnixMilli()
		return t.fanouts.Put(fanoutKey(a.LeaseUntil, id), []byte{})
	})
	if err != nil {
		return fmt.Errorf("store: queue deliveries of %s: %w", id, err)
	}
	if lost {
		return fmt.Errorf("store: queue deliveries of %s: %w", id, delivery.ErrLeaseLost)
	}
	return nil
}

// Lease implements delivery.Store. Waiting for new deliveries polls the
// file, the only way to learn of them without a channel shared with their
// writer.
func (b *Bolt) Lease(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]delivery.Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	deadline := time.Now().Add(block)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("store: lease deliveries: %w", err)
		}
		ds, took, err := b.leaseOnce(consumer, n, reclaim)
		if err != nil {
			return nil, fmt.Errorf("store: lease deliveries: %w", err)
		}
		if took > 0 || !b.pollWait(ctx, deadline, b.deliveriesWaiting) {
			return ds, nil
		}
		reclaim = 0 // taken over already; waiting is for new entries, as XREADGROUP's is
	}
}

// pollWait waits until ready reports work, checking with a growing pause,
// and reports false when the deadline passes or ctx ends first.
func (b *Bolt) pollWait(ctx context.Context, deadline time.Time, ready func() bool) bool {
	for step := boltPollMin; ; step = min(2*step, boltPollMax) {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		timer := time.NewTimer(min(step, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
		if ready() {
			return true
		}
	}
}

// deliveriesWaiting reports whether a lease would find something new.
func (b *Bolt) deliveriesWaiting() bool {
	found := false
	_ = b.db.View(func(tx *bolt.Tx) error {
		if q := tx.Bucket([]byte(boltDlvQueue)); q != nil {
			if k, _ := q.Cursor().First(); k != nil {
				found = true
				return nil
			}
		}
		if d := tx.Bucket([]byte(boltDlvDelayed)); d != nil {
			if k, _ := d.Cursor().First(); len(k) >= 8 && subKeyID(k[:8]) <= time.Now().UnixMilli() {
				found = true
			}
		}
		return nil
	})
	return found
}

// leaseOnce is one Lease without waiting. took counts the entries leased,
// including those dropped on the way.
func (b *Bolt) leaseOnce(consumer string, n int, reclaim time.Duration) ([]delivery.Delivery, int, error) {
	var out []delivery.Delivery
	took := 0
	err := b.dlvUpdate(func(t *dlvTx) error {
		out, took = nil, 0
		if err := t.promote(); err != nil {
			return err
		}
		now := t.wall.UnixNano()
		var got []leasedEntry
		if reclaim > 0 {
			var err error
			if got, err = reclaimIdle(t.pending, consumer, n, reclaim, now); err != nil {
				return err
			}
		}
		if len(got) < n {
			fresh, err := takeNew(t.queue, t.pending, consumer, n-len(got), now)
			if err != nil {
				return err
			}
			got = append(got, fresh...)
		}
		took = len(got)
		for _, e := range got {
			d, err := decodeDelivery(seqID(e.key), string(e.body))
			if err != nil {
				// Entries no version of this code wrote: drop them
				// rather than choke on them forever.
				if err := t.pending.Delete(e.key); err != nil {
					return err
				}
				continue
			}
			keep, err := t.screen(e.key, d)
			if err != nil {
				return err
			}
			if keep {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, took, err
}

// screen drops a leased delivery that must not be sent: already sent (a
// reclaimed delivery whose sender died after recording it), or of a
// cancelled or expired announcement. It reports whether d stays.
func (t *dlvTx) screen(key []byte, d delivery.Delivery) (bool, error) {
	a, err := t.ann(d.AnnouncementID)
	if err != nil {
		return false, err
	}
	if a == nil || a.State == string(delivery.StateCancelled) {
		if a != nil {
			a.Cancelled++
			t.touch(d.AnnouncementID)
		}
		return false, t.pending.Delete(key)
	}
	if t.sentTo(d.AnnouncementID, d.ChatID) {
		return false, t.pending.Delete(key)
	}
	return true, nil
}

// promote moves up to promoteBatch due deliveries from the delayed bucket
// into the queue.
func (t *dlvTx) promote() error {
	now := t.wall.UnixMilli()
	var due, bodies [][]byte
	c := t.delayed.Cursor()
	for k, v := c.First(); k != nil && len(due) < promoteBatch && len(k) >= 8 && subKeyID(k[:8]) <= now; k, v = c.Next() {
		due, bodies = append(due, bytes.Clone(k)), append(bodies, bytes.Clone(v))
	}
	for _, k := range due {
		if err := t.delayed.Delete(k); err != nil {
			return err
		}
	}
	// In slot order, as on Redis (promoteScript).
	slices.SortStableFunc(bodies, func(a, b []byte) int { return bytes.Compare(slotPrefix(a), slotPrefix(b)) })
	for _, body := range bodies {
		if err := t.push(body); err != nil {
			return err
		}
	}
	return nil
}

// slotPrefix is the "~slot|" an encoded delivery put aside starts with, or
// nothing.
func slotPrefix(body []byte) []byte {
	if len(body) >= 17 && body[0] == '~' {
		return body[:17]
	}
	return nil
}

// leasedEntry is an entry just leased: its sequence key and body.
type leasedEntry struct {
	key, body []byte
}

// reclaimIdle gives consumer up to n entries of pending leased by anyone and
// idle for at least idle, looking at boltReclaimScan entries or ten times n.
func reclaimIdle(pending *bolt.Bucket, consumer string, n int, idle time.Duration, now int64) ([]leasedEntry, error) {
	var got []leasedEntry
	var junk [][]byte
	scan := max(boltReclaimScan, 10*n)
	c := pending.Cursor()
	for k, v := c.First(); k != nil && len(got) < n && scan > 0; k, v = c.Next() {
		scan--
		l, ok := decodeLeased(v)
		if !ok {
			junk = append(junk, bytes.Clone(k))
			continue
		}
		if time.Duration(now-l.at) >= idle {
			got = append(got, leasedEntry{key: bytes.Clone(k), body: l.body})
		}
	}
	for _, k := range junk {
		if err := pending.Delete(k); err != nil {
			return nil, err
		}
	}
	for _, e := range got {
		if err := pending.Put(e.key, boltLeased{consumer: consumer, at: now, body: e.body}.encode()); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// takeNew moves up to n entries from the head of queue to pending, leased
// to consumer.
func takeNew(queue, pending *bolt.Bucket, consumer string, n int, now int64) ([]leasedEntry, error) {
	var got []leasedEntry
	c := queue.Cursor()
	for k, v := c.First(); k != nil && len(got) < n; k, v = c.Next() {
		got = append(got, leasedEntry{key: bytes.Clone(k), body: bytes.Clone(v)})
	}
	for _, e := range got {
		if err := queue.Delete(e.key); err != nil {
			return nil, err
		}
		if err := pending.Put(e.key, boltLeased{consumer: consumer, at: now, body: e.body}.encode()); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// Begin implements delivery.Store.
func (b *Bolt) Begin(ctx context.Context, consumer string, ds []delivery.Delivery, gaps delivery.Gaps, now time.Time) ([]delivery.Delivery, time.Duration, error) {
	if len(ds) == 0 {
		return nil, 0, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: begin deliveries: %w", err)
	}
	var (
		ready []delivery.Delivery
		pause time.Duration
	)
	ms := now.UnixMilli()
	err := b.dlvUpdate(func(t *dlvTx) error {
		ready, pause = nil, 0
		if until, ok := metaInt(t.meta, metaPause); ok && until > ms {
			pause = time.Duration(until-ms) * time.Millisecond
			return nil
		}
		for _, d := range ds {
			key, ok := parseSeqID(d.ID)
			if !ok {
				continue
			}
			l, ok := decodeLeased(t.pending.Get(key))
			if !ok || l.consumer != consumer {
				continue // taken over, finished or dropped elsewhere
			}
			keep, err := t.screen(key, d)
			if err != nil {
				return err
			}
			if !keep {
				continue
			}
			if gap := gaps.Of(d.ChatType).Milliseconds(); gap > 0 {
				var slot int64
				if !d.Slot.IsZero() {
					slot = d.Slot.UnixMilli()
				}
				if due, keep := b.pace.beginChat(d.ChatID, gap, slot, ms); due > 0 {
					// Put aside with its slot, out of this consumer's
					// hands.
					d.Slot = time.UnixMilli(keep)
					if err := t.delay([]byte(encodeDelivery(d)), due); err != nil {
						return err
					}
					if err := t.pending.Delete(key); err != nil {
						return err
					}
					continue
				}
			}
			// Restart the idle time, as XCLAIM does: the send begins now.
			l.at = t.wall.UnixNano()
			if err := t.pending.Put(key, l.encode()); err != nil {
				return err
			}
			ready = append(ready, d)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin deliveries: %w", err)
	}
	return ready, pause, nil
}

// finishOp is a Result made ready for the transaction.
type finishOp struct {
	res     delivery.Result
	payload []byte // dead letter JSON or encoded next delivery
}

// Finish implements delivery.Store. A sent record is written whether or not
// the delivery is still leased: the message went out. Every other effect
// needs this call to take the lease, so a result for a delivery finished
// elsewhere counts once.
func (b *Bolt) Finish(ctx context.Context, rs []delivery.Result, now time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: finish %d deliveries: %w", len(rs), err)
	}
	ops := make([]finishOp, len(rs))
	for i, res := range rs {
		ops[i].res = res
		switch res.Outcome {
		case delivery.Sent, delivery.Removed:
		case delivery.Failed:
			body, err := json.Marshal(delivery.NewDeadLetter(res.Delivery, res.Error, now))
			if err != nil {
				return fmt.Errorf("store: encode dead letter: %w", err)
			}
			ops[i].payload = body
		case delivery.Requeued:
			ops[i].payload = []byte(encodeDelivery(res.Next))
		default:
			return fmt.Errorf("store: finish delivery %s: unknown outcome %d", res.Delivery.ID, res.Outcome)
		}
	}
	ms := now.UnixMilli()
	err := b.dlvUpdate(func(t *dlvTx) error {
		if err := t.prune(); err != nil {
			return err
		}
		kept := map[string]bool{}
		for _, op := range ops {
			if err := t.finish(op, ms, kept); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish %d deliveries: %w", len(rs), err)
	}
	return nil
}

// finish records one result; kept holds the announcements whose sent
// records' expiry this transaction moved already.
func (t *dlvTx) finish(op finishOp, now int64, kept map[string]bool) error {
	res, d := op.res, op.res.Delivery
	acked := false
	if key, ok := parseSeqID(d.ID); ok && t.pending.Get(key) != nil {
		if err := t.pending.Delete(key); err != nil {
			return err
		}
		acked = true
	}
	a, err := t.ann(d.AnnouncementID)
	if err != nil {
		return err
	}
	live := a != nil
	if live {
		t.touch(d.AnnouncementID)
	}
	switch res.Outcome {
	case delivery.Sent:
		if d.AnnouncementID == "" {
			return nil
		}
		sb, err := t.sent.CreateBucketIfNotExists([]byte(d.AnnouncementID))
		if err != nil {
			return err
		}
		if sb.Get(subKey(d.ChatID)) != nil {
			return nil
		}
		if err := sb.Put(subKey(d.ChatID), encodeSentIDs(res)); err != nil {
			return err
		}
		if !kept[d.AnnouncementID] {
			kept[d.AnnouncementID] = true
			if err := t.keepSent(d.AnnouncementID); err != nil {
				return err
			}
		}
		if live {
			a.Delivered++
		}
		return nil
	}
	if !acked {
		return nil
	}
	switch res.Outcome {
	case delivery.Removed:
		if live {
			a.Removed++
		}
	case delivery.Failed:
		if live {
			a.Failed++
		}
		return t.deadLetter(op.payload)
	case delivery.Requeued:
		if due := res.At.UnixMilli(); due > now {
			if err := t.delay(op.payload, due); err != nil {
				return err
			}
		} else if err := t.push(op.payload); err != nil {
			return err
		}
		if live && res.Retry {
			a.Retries++
		}
		if live && res.Moved {
			a.Moved++
		}
		if p := res.Pause.Milliseconds(); p > 0 {
			return lengthenPause(t.meta, delivery.Pause{Reason: delivery.PauseFlood, Until: time.UnixMilli(now + p)}, now)
		}
	}
	return nil
}

// deadLetter keeps a dead letter, dropping the oldest beyond deadLetterCap,
// and counts it.
func (t *dlvTx) deadLetter(body []byte) error {
	seq, err := t.dead.NextSequence()
	if err != nil {
		return err
	}
	if err := t.dead.Put(seqKey(seq), body); err != nil {
		return err
	}
	total, _ := metaInt(t.meta, metaDead)
	if err := putMetaInt(t.meta, metaDead, total+1); err != nil {
		return err
	}
	if seq <= deadLetterCap {
		return nil
	}
	cutoff := seqKey(seq - deadLetterCap + 1)
	var old [][]byte
	c := t.dead.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := t.dead.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// DeadLetters implements delivery.Store.
func (b *Bolt) DeadLetters(ctx context.Context, n int) ([]delivery.DeadLetter, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	var (
		out   []delivery.DeadLetter
		total int64
	)
	err := b.db.View(func(tx *bolt.Tx) error {
		total, _ = metaInt(tx.Bucket([]byte(boltDlvMeta)), metaDead)
		dead := tx.Bucket([]byte(boltDlvDead))
		if dead == nil || n <= 0 {
			return nil
		}
		c := dead.Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var d delivery.DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode dead letter: %w", err)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	return out, total, nil
}

// NextPublications implements delivery.Intake on the poller's announce
// bucket, keeping what a Redis consumer group keeps: the last entry handed
// out and the entries leased and not acknowledged.
func (b *Bolt) NextPublications(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]delivery.PublicationEvent, error) {
	if n <= 0 {
		return nil, nil
	}
	deadline := time.Now().Add(block)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("store: next publications: %w", err)
		}
		evs, err := b.nextPublicationsOnce(consumer, n, reclaim)
		if err != nil {
			return nil, fmt.Errorf("store: next publications: %w", err)
		}
		if len(evs) > 0 || !b.pollWait(ctx, deadline, b.publicationsWaiting) {
			return evs, nil
		}
		reclaim = 0
	}
}

// publicationsWaiting reports whether the announce bucket holds entries
// not handed out yet.
func (b *Bolt) publicationsWaiting() bool {
	found := false
	_ = b.db.View(func(tx *bolt.Tx) error {
		ann := tx.Bucket([]byte(boltAnnounce))
		if ann == nil {
			return nil
		}
		last, _ := metaInt(tx.Bucket([]byte(boltDlvMeta)), metaIntakeLast)
		k, _ := ann.Cursor().Seek(seqKey(uint64(last) + 1))
		found = k != nil
		return nil
	})
	return found
}

func (b *Bolt) nextPublicationsOnce(consumer string, n int, reclaim time.Duration) ([]delivery.PublicationEvent, error) {
	var out []delivery.PublicationEvent
	err := b.dlvUpdate(func(t *dlvTx) error {
		out = nil
		ann, err := t.tx.CreateBucketIfNotExists([]byte(boltAnnounce))
		if err != nil {
			return err
		}
		now := t.wall.UnixNano()
		var keys [][]byte
		if reclaim > 0 {
			got, err := reclaimIdle(t.intake, consumer, n, reclaim, now)
			if err != nil {
				return err
			}
			for _, e := range got {
				// An entry the poller's cap dropped is forgotten, as
				// XAUTOCLAIM forgets deleted entries.
				if ann.Get(e.key) == nil {
					if err := t.intake.Delete(e.key); err != nil {
						return err
					}
					continue
				}
				keys = append(keys, e.key)
			}
		}
		if len(keys) < n {
			last, _ := metaInt(t.meta, metaIntakeLast)
			var fresh [][]byte
			c := ann.Cursor()
			for k, _ := c.Seek(seqKey(uint64(last) + 1)); k != nil && len(keys)+len(fresh) < n; k, _ = c.Next() {
				fresh = append(fresh, bytes.Clone(k))
			}
			for _, k := range fresh {
				if err := t.intake.Put(k, boltLeased{consumer: consumer, at: now}.encode()); err != nil {
					return err
				}
			}
			if len(fresh) > 0 {
				if err := putMetaInt(t.meta, metaIntakeLast, int64(binary.BigEndian.Uint64(fresh[len(fresh)-1]))); err != nil {
					return err
				}
			}
			keys = append(keys, fresh...)
		}
		for _, k := range keys {
			var e boltAnnouncement
			// A malformed entry goes out with no publication id, as it
			// would from Redis; the engine acknowledges it.
			_ = json.Unmarshal(ann.Get(k), &e)
			out = append(out, delivery.PublicationEvent{ID: seqID(k), PublicationID: e.ID})
		}
		return nil
	})
	return out, err
}

// AckPublications implements delivery.Intake. The entries stay in the
// announce bucket, which the poller caps.
func (b *Bolt) AckPublications(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: ack publications: %w", err)
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		intake := tx.Bucket([]byte(boltDlvIntake))
		if intake == nil {
			return nil
		}
		for _, id := range ids {
			if k, ok := parseSeqID(id); ok {
				if err := intake.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: ack publications %s: %w", strings.Join(ids, ","), err)
	}
	return nil
}

var (
	_ delivery.Store  = (*Bolt)(nil)
	_ delivery.Intake = (*Bolt)(nil)
)
