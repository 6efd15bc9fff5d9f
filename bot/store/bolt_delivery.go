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
// A queued delivery lives in exactly one of two places: dlv_queue (due,
// leased or not) or dlv_delayed (not due yet). Which queued deliveries are
// leased, to whom and since when, is kept in memory (boltWork): only this
// process can hold them, and when it dies they are simply queued again.
// Sequence keys are 8-byte big-endian, so that cursors walk the queue
// oldest first and a lease reads only what it takes.
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
	// seq -> encoded delivery (encodeDelivery): queued, due.
	boltDlvQueue = "dlv_queue"
	// seq -> boltLeased with the encoded delivery: leased, not finished,
	// as releases before the leases moved to memory kept them; emptied
	// into the queue on open (releaseHeld), never written.
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
	tx                                                                                             *bolt.Tx
	anns, fanouts, queue, pending, delayed, sent, sentExpiry, expiry, dead, intake, meta, announce *bolt.Bucket

	wall  time.Time // for expiry
	cache map[string]*boltDlvAnn
	dirty map[string]bool
	added bool // work was queued or put aside: wake those waiting for it
	// decoded, when set, spares decoding announcements read before.
	decoded *boltAnnCache
}

// openDlvTx opens the delivery buckets in tx, reading or writing: they
// exist from the moment the file is opened (createDeliveryBuckets).
func openDlvTx(tx *bolt.Tx, wall time.Time) (*dlvTx, error) {
	t := &dlvTx{tx: tx, wall: wall, cache: map[string]*boltDlvAnn{}, dirty: map[string]bool{}}
	for _, b := range dlvBuckets(t) {
		*b.dst = tx.Bucket([]byte(b.name))
		if *b.dst == nil {
			return nil, fmt.Errorf("no bucket %s", b.name)
		}
	}
	return t, nil
}

type dlvBucket struct {
	name string
	dst  **bolt.Bucket
}

func dlvBuckets(t *dlvTx) []dlvBucket {
	return []dlvBucket{
		{boltDlvAnns, &t.anns}, {boltDlvFanouts, &t.fanouts}, {boltDlvQueue, &t.queue},
		{boltDlvPending, &t.pending}, {boltDlvDelayed, &t.delayed}, {boltDlvSent, &t.sent},
		{boltDlvSentExpiry, &t.sentExpiry}, {boltDlvExpiry, &t.expiry},
		{boltDlvDead, &t.dead}, {boltDlvIntake, &t.intake}, {boltDlvMeta, &t.meta},
		{boltAnnounce, &t.announce},
	}
}

// createDeliveryBuckets creates, once, the buckets the delivery methods
// use, so that reading transactions find them.
func (b *Bolt) createDeliveryBuckets() error {
	names := dlvBuckets(&dlvTx{})
	return b.updateIf(func(tx *bolt.Tx) bool {
		for _, n := range names {
			if tx.Bucket([]byte(n.name)) == nil {
				return true
			}
		}
		return false
	}, func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists([]byte(n.name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", n.name, err)
			}
		}
		return nil
	})
}

// dlvUpdate runs fn in one writing transaction on the delivery buckets and
// writes back the announcements it changed; once committed, it wakes the
// callers waiting for work if fn queued or put aside some.
func (b *Bolt) dlvUpdate(fn func(t *dlvTx) error) error {
	added := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		t, err := openDlvTx(tx, b.now())
		if err != nil {
			return err
		}
		t.decoded = &b.anns
		if err := fn(t); err != nil {
			return err
		}
		added = t.added
		return t.flush()
	})
	if err == nil && added {
		b.changed.notify()
	}
	return err
}

// dlvView runs fn in one reading transaction on the delivery buckets: it
// may look, not change.
func (b *Bolt) dlvView(fn func(t *dlvTx) error) error {
	return b.db.View(func(tx *bolt.Tx) error {
		t, err := openDlvTx(tx, b.now())
		if err != nil {
			return err
		}
		t.decoded = &b.anns
		return fn(t)
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
	var (
		a   *boltDlvAnn
		err error
	)
	if t.decoded != nil && id != "" {
		if v := t.anns.Get([]byte(id)); v != nil {
			a, err = t.decoded.decode(id, v)
		}
	} else {
		a, err = rawAnn(t.anns, id)
	}
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
		if t.decoded != nil {
			t.decoded.keep(id, body, a)
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
	t.added = true
	return t.queue.Put(seqKey(seq), body)
}

// delay puts an encoded delivery aside until due (ms).
func (t *dlvTx) delay(body []byte, due int64) error {
	seq, err := t.delayed.NextSequence()
	if err != nil {
		return err
	}
	t.added = true
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
			LeaseUntil: fanoutQueuedAt(a.CreatedAt, t.wall),
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
	if a == nil || a.Expires <= b.now().UnixMilli() {
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
	// Looked for in a reading transaction first: an idle bot asks for a
	// fan-out every second and must not write for it.
	due := false
	err := b.dlvView(func(t *dlvTx) error {
		k, _ := t.fanouts.Cursor().First()
		due = len(k) > 8 && subKeyID(k[:8]) <= t.wall.UnixMilli()
		return nil
	})
	if err != nil || !due {
		if err != nil {
			return delivery.Fanout{}, false, fmt.Errorf("store: claim fan-out: %w", err)
		}
		return delivery.Fanout{}, false, nil
	}
	err = b.dlvUpdate(func(t *dlvTx) error {
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
	seqs := make([]uint64, 0, len(rs))
	for _, res := range rs {
		if key, ok := parseSeqID(res.Delivery.ID); ok {
			seqs = append(seqs, seqOf(key))
		}
	}
	holders := b.work.holders(seqs)
	var acked []uint64
	err := b.dlvUpdate(func(t *dlvTx) error {
		acked = acked[:0]
		if err := t.prune(); err != nil {
			return err
		}
		kept := map[string]bool{}
		for _, op := range ops {
			ok, err := t.finish(op, ms, kept, holders)
			if err != nil {
				return err
			}
			if ok {
				seq, _ := finishedSeq(op)
				acked = append(acked, seq)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish %d deliveries: %w", len(rs), err)
	}
	b.work.forget(acked)
	return nil
}

// finish records one result and reports whether it acknowledged its
// delivery: leased (held in memory) and still queued. kept holds the
// announcements whose sent records' expiry this transaction moved already.
func (t *dlvTx) finish(op finishOp, now int64, kept map[string]bool, holders map[uint64]string) (acked bool, err error) {
	if seq, ok := finishedSeq(op); ok {
		if _, held := holders[seq]; held && t.queue.Get(seqKey(seq)) != nil {
			if err := t.queue.Delete(seqKey(seq)); err != nil {
				return false, err
			}
			acked = true
		}
	}
	return acked, t.record(op, now, kept, acked)
}

// finishedSeq is the queue sequence of the delivery op finishes.
func finishedSeq(op finishOp) (uint64, bool) {
	key, ok := parseSeqID(op.res.Delivery.ID)
	if !ok {
		return 0, false
	}
	return seqOf(key), true
}

// record applies one result's effects; all but a sent record need acked.
func (t *dlvTx) record(op finishOp, now int64, kept map[string]bool, acked bool) error {
	res, d := op.res, op.res.Delivery
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
	deadline := time.Now().Add(block) // real time: a wait, not the store's clock
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("store: next publications: %w", err)
		}
		changed := b.changed.wait()
		evs, err := b.nextPublicationsOnce(consumer, n, reclaim)
		if err != nil {
			return nil, fmt.Errorf("store: next publications: %w", err)
		}
		if len(evs) > 0 || !waitFor(ctx, changed, time.Time{}, deadline) {
			return evs, nil
		}
		reclaim = 0
	}
}

// publicationsWaiting reports whether a lease of publications would find
// any: not handed out yet, or handed out and idle for reclaim (0: not
// looked for).
func (t *dlvTx) publicationsWaiting(reclaim time.Duration) bool {
	last, _ := metaInt(t.meta, metaIntakeLast)
	if k, _ := t.announce.Cursor().Seek(seqKey(uint64(last) + 1)); k != nil {
		return true
	}
	if reclaim <= 0 {
		return false
	}
	c := t.intake.Cursor()
	scan := boltReclaimScan
	for k, v := c.First(); k != nil && scan > 0; k, v = c.Next() {
		scan--
		if l, ok := decodeLeased(v); !ok || time.Duration(t.wall.UnixNano()-l.at) >= reclaim {
			return true
		}
	}
	return false
}

func (b *Bolt) nextPublicationsOnce(consumer string, n int, reclaim time.Duration) ([]delivery.PublicationEvent, error) {
	// Looked for in a reading transaction first: an idle bot asks every
	// second and must not write for it.
	waiting := false
	if err := b.dlvView(func(t *dlvTx) error { waiting = t.publicationsWaiting(reclaim); return nil }); err != nil || !waiting {
		return nil, err
	}
	var out []delivery.PublicationEvent
	err := b.dlvUpdate(func(t *dlvTx) error {
		out = nil
		ann := t.announce
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
