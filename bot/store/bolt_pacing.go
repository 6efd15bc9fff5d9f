package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltPacing is the embedded store's send limiter and chat reservations.
// One process owns the file, so they are coordinated in memory and never
// written: a restart forgets them, which costs at most one burst of the
// global rate and one message to a chat within its gap, while every send
// and reply spares an fsync.
type boltPacing struct {
	mu  sync.Mutex
	tat int64 // the global limiter's theoretical arrival time, unix ns (GCRA)
	// chats holds each chat's reservation, as a Redis chat key does.
	chats   map[int64]chatRes
	sweepAt int // sweep lapsed reservations when chats grows to this
}

// chatRes is a chat's reservation: when it ends, and when the chat's last
// message went (ms).
type chatRes struct{ stop, last int64 }

// minChatSweep is the fewest chat reservations worth a sweep.
const minChatSweep = 1024

// allow is GCRA as redis_rate runs it: n tokens, all or none, at rate a
// second with at most burst at once; with none granted, the wait.
func (p *boltPacing) allow(now time.Time, rate float64, burst, n int) (int, time.Duration) {
	burst = max(1, burst)
	n = min(n, burst)
	interval := float64(time.Second) / rate
	p.mu.Lock()
	defer p.mu.Unlock()
	ns := now.UnixNano()
	tat := max(p.tat, ns)
	next := tat + int64(interval*float64(n))
	if early := next - int64(interval*float64(burst)) - ns; early > 0 {
		return 0, max(time.Duration(early), time.Millisecond)
	}
	p.tat = next
	return n, 0
}

// beginChat decides, as Redis's beginScript does, whether a delivery to
// chat with slot (0 for none) may go at now (all in ms): due is 0 when it
// may, else when to look again, with the slot it keeps.
func (p *boltPacing) beginChat(chat, gap, slot, now int64) (due, keep int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.chats[chat]
	if r.stop <= now {
		r = chatRes{stop: now}
	}
	switch {
	case slot > 0 && slot <= now && r.last+gap <= now:
		p.reserveLocked(chat, chatRes{stop: max(r.stop, now+gap), last: now}, now)
		return 0, 0
	case slot > 0:
		return max(slot, r.last+gap), slot
	case r.stop <= now:
		p.reserveLocked(chat, chatRes{stop: now + gap, last: now}, now)
		return 0, 0
	default:
		p.reserveLocked(chat, chatRes{stop: r.stop + gap, last: r.last}, now)
		return r.stop, r.stop
	}
}

// reserveChat reserves chat's next message when it conforms to one every
// gap with bursts of burst (GCRA on the reservation's end), and otherwise
// returns the wait until it would, reserving nothing.
func (p *boltPacing) reserveChat(chat, gap int64, burst int, now int64) (wait int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stop := max(p.chats[chat].stop, now) + gap
	if early := stop - now - gap*int64(max(1, burst)); early > 0 {
		return early
	}
	p.reserveLocked(chat, chatRes{stop: stop, last: now}, now)
	return 0
}

func (p *boltPacing) reserveLocked(chat int64, r chatRes, now int64) {
	if p.chats == nil {
		p.chats = map[int64]chatRes{}
	}
	p.chats[chat] = r
	if len(p.chats) < max(p.sweepAt, minChatSweep) {
		return
	}
	// Amortised: a sweep at least doubles the size before the next.
	for c, r := range p.chats {
		if r.stop <= now {
			delete(p.chats, c)
		}
	}
	p.sweepAt = 2 * len(p.chats)
}

// AllowSends implements delivery.Store with the GCRA limiter redis_rate
// runs on Redis, in memory: the same all-or-none answer and wait, for the
// one process that can open the file.
func (b *Bolt) AllowSends(ctx context.Context, rate float64, burst, n int) (int, time.Duration, error) {
	if rate <= 0 || n <= 0 {
		return n, 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("store: allow sends: %w", err)
	}
	got, wait := b.pace.allow(b.now(), rate, burst, n)
	return got, wait, nil
}

// ReserveChat implements delivery.ReplyStore: the reservation Begin
// honours, taken ahead of the engine's deliveries.
func (b *Bolt) ReserveChat(ctx context.Context, chatID int64, gap time.Duration, burst int, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: reserve chat: %w", err)
	}
	if gap <= 0 {
		return 0, nil
	}
	wait := b.pace.reserveChat(chatID, gap.Milliseconds(), burst, now.UnixMilli())
	return time.Duration(wait) * time.Millisecond, nil
}

// dropPacingState removes what releases before the pacing moved to memory
// kept in the file: the chat reservations and the limiter's state. Safe to
// run on every open.
func (b *Bolt) dropPacingState() error {
	return b.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(boltDlvChats)) != nil {
			if err := tx.DeleteBucket([]byte(boltDlvChats)); err != nil {
				return err
			}
		}
		meta := tx.Bucket([]byte(boltDlvMeta))
		if meta == nil {
			return nil
		}
		for _, k := range [][]byte{metaRate, metaChatSweep} {
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
