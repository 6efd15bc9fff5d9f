package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// boltWork is which queued deliveries are leased, to whom and since when:
// what Redis keeps in the stream's pending entries list so that replicas
// can take over each other's work. One process opens the file, so it is
// kept in memory and never written; a leased delivery stays in dlv_queue
// until it is finished, put aside or dropped, so a process that dies
// leaves it queued for the next one, as it was.
type boltWork struct {
	// leasing lets one Lease at a time read past after.
	leasing sync.Mutex
	// after is the last queue sequence handed out: entries after it are
	// new. Only read and written under leasing.
	after uint64

	mu   sync.Mutex
	held map[uint64]boltHeld // queue sequence -> lease
}

// boltHeld is a leased delivery.
type boltHeld struct {
	consumer string
	at       time.Time // when leased or begun: its idle time starts here
	d        delivery.Delivery
}

// holders returns the consumer holding each of seqs that is held.
func (w *boltWork) holders(seqs []uint64) map[uint64]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[uint64]string, len(seqs))
	for _, s := range seqs {
		if h, ok := w.held[s]; ok {
			out[s] = h.consumer
		}
	}
	return out
}

// hold leases the deliveries of seqs (in the same order as ds) to
// consumer from at.
func (w *boltWork) hold(consumer string, at time.Time, seqs []uint64, ds []delivery.Delivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == nil {
		w.held = map[uint64]boltHeld{}
	}
	for i, s := range seqs {
		w.held[s] = boltHeld{consumer: consumer, at: at, d: ds[i]}
	}
}

// restart starts the idle time of held deliveries again at at: their send
// begins, as XCLAIM restarts it on Redis.
func (w *boltWork) restart(seqs []uint64, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range seqs {
		if h, ok := w.held[s]; ok {
			h.at = at
			w.held[s] = h
		}
	}
}

// forget ends the leases of seqs.
func (w *boltWork) forget(seqs []uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range seqs {
		delete(w.held, s)
	}
}

// idle returns up to n held deliveries idle since before or earlier,
// oldest queued first.
func (w *boltWork) idle(before time.Time, n int) []uint64 {
	w.mu.Lock()
	var out []uint64
	for s, h := range w.held {
		if !h.at.After(before) {
			out = append(out, s)
		}
	}
	w.mu.Unlock()
	slices.Sort(out)
	return out[:min(n, len(out))]
}

func seqOf(key []byte) uint64 { return binary.BigEndian.Uint64(key) }

// Lease implements delivery.Store. It reads the file and writes only to
// move due retries into the queue or drop what must not be sent; waiting
// for new deliveries waits for a write that queues some, or for the
// earliest retry to fall due.
func (b *Bolt) Lease(ctx context.Context, consumer string, n int, block, reclaim time.Duration) ([]delivery.Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	deadline := time.Now().Add(block)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("store: lease deliveries: %w", err)
		}
		changed := b.changed.wait()
		ds, took, due, err := b.leaseOnce(consumer, n, reclaim)
		if err != nil {
			return nil, fmt.Errorf("store: lease deliveries: %w", err)
		}
		if took > 0 || !waitFor(ctx, changed, due, deadline) {
			return ds, nil
		}
		reclaim = 0 // taken over already; waiting is for new entries, as XREADGROUP's is
	}
}

// boltDrop is a queued delivery not to be sent: already sent, of an
// announcement gone or cancelled (cancelled counts it), or unreadable.
type boltDrop struct {
	seq          uint64
	announcement string
	cancelled    bool
}

// leaseOnce is one Lease without waiting. took counts the entries leased,
// including those dropped on the way; due is when the earliest delivery
// put aside falls due (zero: none is).
func (b *Bolt) leaseOnce(consumer string, n int, reclaim time.Duration) (out []delivery.Delivery, took int, due time.Time, err error) {
	w := &b.work
	w.leasing.Lock()
	defer w.leasing.Unlock()
	if err := b.promoteDue(); err != nil {
		return nil, 0, time.Time{}, err
	}
	var (
		seqs, gone []uint64
		drops      []boltDrop
		now        time.Time
		last       = w.after
	)
	err = b.dlvView(func(t *dlvTx) error {
		now = t.wall
		var cands []uint64
		if reclaim > 0 {
			cands = w.idle(now.Add(-reclaim), n)
		}
		var bodies [][]byte
		for _, s := range cands {
			v := t.queue.Get(seqKey(s))
			if v == nil {
				gone = append(gone, s) // finished while it was looked at
				continue
			}
			seqs, bodies = append(seqs, s), append(bodies, v)
		}
		c := t.queue.Cursor()
		for k, v := c.Seek(seqKey(w.after + 1)); k != nil && len(seqs) < n; k, v = c.Next() {
			last = seqOf(k)
			seqs, bodies = append(seqs, last), append(bodies, v)
		}
		took = len(seqs)
		kept := seqs[:0]
		for i, s := range seqs {
			d, drop, err := t.screenQueued(s, bodies[i])
			if err != nil {
				return err
			}
			if drop != nil {
				drops = append(drops, *drop)
				continue
			}
			kept, out = append(kept, s), append(out, d)
		}
		seqs = kept
		if k, _ := t.delayed.Cursor().First(); len(k) >= 8 {
			due = time.UnixMilli(subKeyID(k[:8]))
		}
		return nil
	})
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	w.after = last
	w.forget(gone)
	w.hold(consumer, now, seqs, out)
	if len(drops) > 0 {
		if err := b.drop(drops); err != nil {
			return nil, 0, time.Time{}, err
		}
	}
	return out, took, due, nil
}

// screenQueued decodes a queued delivery and tells whether it must be
// dropped rather than sent: sent already (a reclaimed delivery whose
// sender recorded it), of a cancelled or expired announcement, or written
// by no version of this code.
func (t *dlvTx) screenQueued(seq uint64, body []byte) (delivery.Delivery, *boltDrop, error) {
	key := seqKey(seq)
	d, err := decodeDelivery(seqID(key), string(body))
	if err != nil {
		return delivery.Delivery{}, &boltDrop{seq: seq}, nil
	}
	drop, err := t.screen(seq, d)
	return d, drop, err
}

// screen tells whether d, queued under seq, must be dropped: sent
// already, or of a cancelled or expired announcement.
func (t *dlvTx) screen(seq uint64, d delivery.Delivery) (*boltDrop, error) {
	a, err := t.ann(d.AnnouncementID)
	if err != nil {
		return nil, err
	}
	if a == nil || a.State == string(delivery.StateCancelled) {
		return &boltDrop{seq: seq, announcement: d.AnnouncementID, cancelled: a != nil}, nil
	}
	if t.sentTo(d.AnnouncementID, d.ChatID) {
		return &boltDrop{seq: seq}, nil
	}
	return nil, nil
}

// drop deletes queued deliveries not to be sent, counting those of
// cancelled announcements, and ends their leases.
func (b *Bolt) drop(drops []boltDrop) error {
	seqs := make([]uint64, len(drops))
	err := b.dlvUpdate(func(t *dlvTx) error {
		for i, x := range drops {
			seqs[i] = x.seq
			if err := t.dropQueued(x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.work.forget(seqs)
	return nil
}

// dropQueued deletes one queued delivery not to be sent; one that is gone
// already (finished meanwhile) counts nothing.
func (t *dlvTx) dropQueued(x boltDrop) error {
	key := seqKey(x.seq)
	if t.queue.Get(key) == nil {
		return nil
	}
	if err := t.queue.Delete(key); err != nil {
		return err
	}
	if !x.cancelled {
		return nil
	}
	a, err := t.ann(x.announcement)
	if err != nil || a == nil {
		return err
	}
	a.Cancelled++
	t.touch(x.announcement)
	return nil
}

// promoteDue moves deliveries put aside whose time has come into the
// queue, writing only when there are some.
func (b *Bolt) promoteDue() error {
	due := false
	err := b.dlvView(func(t *dlvTx) error {
		k, _ := t.delayed.Cursor().First()
		due = len(k) >= 8 && subKeyID(k[:8]) <= t.wall.UnixMilli()
		return nil
	})
	if err != nil || !due {
		return err
	}
	return b.dlvUpdate(func(t *dlvTx) error { return t.promote() })
}

// boltBegin is one delivery Begin looks at: dropped, put aside until due
// (ms) with its slot, or ready.
type boltBegin struct {
	seq  uint64
	d    delivery.Delivery
	drop *boltDrop
	due  int64
}

// Begin implements delivery.Store. The leases and chat reservations it
// checks and takes are in memory; it writes only to drop a delivery or put
// one aside for its chat.
func (b *Bolt) Begin(ctx context.Context, consumer string, ds []delivery.Delivery, gaps delivery.Gaps, now time.Time) ([]delivery.Delivery, time.Duration, error) {
	if len(ds) == 0 {
		return nil, 0, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: begin deliveries: %w", err)
	}
	ms := now.UnixMilli()
	var (
		ops   []boltBegin
		pause time.Duration
		wall  time.Time
	)
	seqs := make([]uint64, 0, len(ds))
	for _, d := range ds {
		if key, ok := parseSeqID(d.ID); ok {
			seqs = append(seqs, seqOf(key))
		}
	}
	holders := b.work.holders(seqs)
	err := b.dlvView(func(t *dlvTx) error {
		wall = t.wall
		if until, ok := metaInt(t.meta, metaPause); ok && until > ms {
			pause = time.Duration(until-ms) * time.Millisecond
			return nil
		}
		for _, d := range ds {
			key, ok := parseSeqID(d.ID)
			if !ok || holders[seqOf(key)] != consumer {
				continue // taken over, finished or dropped elsewhere
			}
			op := boltBegin{seq: seqOf(key), d: d}
			if t.queue.Get(key) == nil {
				op.drop = &boltDrop{seq: op.seq} // finished meanwhile
			} else {
				drop, err := t.screen(op.seq, d)
				if err != nil {
					return err
				}
				op.drop = drop
			}
			ops = append(ops, op)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin deliveries: %w", err)
	}
	if pause > 0 {
		return nil, pause, nil
	}
	var (
		ready     []delivery.Delivery
		readySeqs []uint64
		write     bool
	)
	for i := range ops {
		op := &ops[i]
		if op.drop != nil {
			write = true
			continue
		}
		if gap := gaps.Of(op.d.ChatType).Milliseconds(); gap > 0 {
			var slot int64
			if !op.d.Slot.IsZero() {
				slot = op.d.Slot.UnixMilli()
			}
			if due, keep := b.pace.beginChat(op.d.ChatID, gap, slot, ms); due > 0 {
				// Put aside with its slot, out of this consumer's hands.
				op.due, op.d.Slot, write = due, time.UnixMilli(keep), true
				continue
			}
		}
		ready, readySeqs = append(ready, op.d), append(readySeqs, op.seq)
	}
	if write {
		if err := b.putAside(ops); err != nil {
			return nil, 0, fmt.Errorf("store: begin deliveries: %w", err)
		}
	}
	b.work.restart(readySeqs, wall)
	return ready, 0, nil
}

// putAside writes what Begin decided for the deliveries it does not
// send: dropped, or put aside until their chat's slot.
func (b *Bolt) putAside(ops []boltBegin) error {
	var done []uint64
	err := b.dlvUpdate(func(t *dlvTx) error {
		done = done[:0]
		for _, op := range ops {
			switch {
			case op.drop != nil:
				if err := t.dropQueued(*op.drop); err != nil {
					return err
				}
			case op.due > 0:
				key := seqKey(op.seq)
				if t.queue.Get(key) == nil {
					break // finished meanwhile
				}
				if err := t.queue.Delete(key); err != nil {
					return err
				}
				if err := t.delay([]byte(encodeDelivery(op.d)), op.due); err != nil {
					return err
				}
			default:
				continue
			}
			done = append(done, op.seq)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.work.forget(done)
	return nil
}
