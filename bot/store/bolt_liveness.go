package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// releaseHeld hands back, when the file is opened, all the delivery work
// the previous process held: one process opens the file at a time, so
// whatever is leased now was leased by a process that is gone (a crash, a
// kill -9) and waits for no one. Leased new publications and fan-outs
// become free to take at once, instead of after ClaimIdle or FanoutLease.
// Leased deliveries are held in memory and stay in the queue, so they need
// nothing; those an earlier release kept leased in dlv_pending go back to
// the queue in their place, which is that release's upgrade. It writes
// only when there is something to hand back.
func (b *Bolt) releaseHeld() error {
	held := false
	err := b.dlvView(func(t *dlvTx) error {
		held = t.holdsWork()
		return nil
	})
	if err != nil || !held {
		return err
	}
	return b.dlvUpdate(func(t *dlvTx) error {
		if err := requeueLeased(t.pending, t.queue); err != nil {
			return err
		}
		if err := idleLeased(t.intake); err != nil {
			return err
		}
		return t.freeFanouts()
	})
}

// requeueLeased moves every leased delivery back to the queue under its own
// sequence key, so it keeps its id and its place.
func requeueLeased(pending, queue *bolt.Bucket) error {
	var keys, bodies [][]byte
	err := pending.ForEach(func(k, v []byte) error {
		l, ok := decodeLeased(v)
		keys = append(keys, bytes.Clone(k))
		if ok {
			bodies = append(bodies, l.body)
		} else {
			bodies = append(bodies, nil) // no version of this code wrote it: dropped
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := pending.Delete(k); err != nil {
			return err
		}
		if bodies[i] == nil {
			continue
		}
		if err := queue.Put(k, bodies[i]); err != nil {
			return err
		}
	}
	return nil
}

// idleLeased makes every leased publication look idle since the epoch, so
// the first reclaiming read takes it.
func idleLeased(intake *bolt.Bucket) error {
	var keys, vals [][]byte
	err := intake.ForEach(func(k, v []byte) error {
		l, ok := decodeLeased(v)
		if !ok {
			return nil
		}
		l.at = 0
		keys, vals = append(keys, bytes.Clone(k)), append(vals, l.encode())
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := intake.Put(k, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// freeFanouts ends every fan-out lease: its deadline becomes the epoch.
// Fan-outs not leased, claimable already, keep their place (their
// creation time).
func (t *dlvTx) freeFanouts() error {
	var keys [][]byte
	err := t.fanouts.ForEach(func(k, _ []byte) error {
		if len(k) > 8 && subKeyID(k[:8]) > t.wall.UnixMilli() {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		id := string(k[8:])
		if err := t.fanouts.Delete(k); err != nil {
			return err
		}
		if err := t.fanouts.Put(fanoutKey(0, id), []byte{}); err != nil {
			return err
		}
		a, err := t.ann(id)
		if err != nil {
			return err
		}
		if a != nil {
			a.LeaseUntil = 0
			t.touch(id)
		}
	}
	return nil
}

// holdsWork reports whether releaseHeld has anything to hand back.
func (t *dlvTx) holdsWork() bool {
	if k, _ := t.pending.Cursor().First(); k != nil {
		return true
	}
	c := t.intake.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if l, ok := decodeLeased(v); ok && l.at != 0 {
			return true
		}
	}
	c = t.fanouts.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) > 8 && subKeyID(k[:8]) > t.wall.UnixMilli() {
			return true
		}
	}
	return false
}
