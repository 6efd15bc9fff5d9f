package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
)

// boltAnnCache keeps announcements decoded, each with the bytes it was
// decoded from: decoding an announcement's texts for every delivery that
// is begun or finished would cost more than the send. A cached one is used
// only when the stored bytes are still the same, so a write that rolled
// back or a change made elsewhere can never be hidden.
type boltAnnCache struct {
	mu sync.Mutex
	m  map[string]boltAnnDecoded
}

type boltAnnDecoded struct {
	raw []byte
	a   boltDlvAnn
}

// boltAnnCached bounds the cache: the announcements being sent at once.
const boltAnnCached = 64

// decode returns the announcement stored as v, a copy of its own whose
// counters and state the caller may change (texts and categories are
// shared and never changed).
func (c *boltAnnCache) decode(id string, v []byte) (*boltDlvAnn, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, v) {
		a := e.a
		return &a, nil
	}
	var a boltDlvAnn
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("decode announcement %s: %w", id, err)
	}
	c.keep(id, v, &a)
	return &a, nil
}

// keep caches a as stored in raw.
func (c *boltAnnCache) keep(id string, raw []byte, a *boltDlvAnn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]boltAnnDecoded{}
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= boltAnnCached {
		for k := range c.m { // drop any one: a miss costs one decode
			delete(c.m, k)
			break
		}
	}
	c.m[id] = boltAnnDecoded{raw: bytes.Clone(raw), a: *a}
}
