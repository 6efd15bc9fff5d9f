package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/poller"
)

// newBurstID names a burst: its source's tag, its time and a random suffix,
// short enough for a button's callback data.
func newBurstID(source string, now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return sourceTag(source) + "." + strconv.FormatInt(now.UnixMilli(), 36) + hex.EncodeToString(b[:])
}

// queuedPublications returns the publications of ids, in order: from pubs
// (this poll's) when there, else loaded; ids that cannot be loaded (expired)
// are left out. Like the stores, it keeps the first of repeated ids.
func queuedPublications(pubs []poller.Publication, ids []string, load func([]string) ([]poller.Publication, error)) ([]poller.Publication, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	byID := make(map[string]poller.Publication, len(pubs))
	for _, p := range pubs {
		if _, dup := byID[p.ID]; !dup {
			byID[p.ID] = p
		}
	}
	var missing []string
	for _, id := range ids {
		if _, ok := byID[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		loaded, err := load(missing)
		if err != nil {
			return nil, err
		}
		for _, p := range loaded {
			byID[p.ID] = p
		}
	}
	out := make([]poller.Publication, 0, len(ids))
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// claimBurstScript marks a burst noticed, once, and says whether staff are
// to be told: not when they were told of another burst of the same source
// within the quiet time, which a feed that changes its ids on every poll
// would otherwise turn into a notice per poll.
//
// KEYS[1] the burst hash  KEYS[2] its source's quiet key (burstQuietKey)
// ARGV[1] the quiet time in ms
// Returns 1 when this call marked it and staff are to be told, 0 when it
// was marked before, is gone, or its source is quiet.
var claimBurstScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'noticed', '1') == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
`)

// releaseBurstScript queues a burst's newest publications for announcement,
// once, oldest of them first (they are stored newest first).
//
// KEYS[1] the burst hash  KEYS[2] announcement stream
// ARGV[1] stream cap
// Returns 0 when the burst is gone (expired), 1 when it was released
// before, 2 when this call released it.
var releaseBurstScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'released', '1') == 0 then return 1 end
local source = redis.call('HGET', KEYS[1], 'source')
local newest = cjson.decode(redis.call('HGET', KEYS[1], 'newest'))
for i = #newest, 1, -1 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'id', newest[i], 'source', source)
end
return 2
`)

// Bursts returns the held bursts no replica has told staff of yet, oldest
// first.
func (r *Redis) Bursts(ctx context.Context) ([]poller.Burst, error) {
	ids, err := r.rdb.ZRange(ctx, burstsKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list bursts: %w", err)
	}
	var out []poller.Burst
	for _, id := range ids {
		b, noticed, ok, err := r.burst(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok && !noticed {
			out = append(out, b)
		}
	}
	return out, nil
}

// ClaimBurstNotice marks burst id told of and reports whether this call is
// the one to tell staff: true for at most one caller, and false for every
// caller when staff were told of another burst of the same source within
// quiet.
func (r *Redis) ClaimBurstNotice(ctx context.Context, id string, quiet time.Duration) (bool, error) {
	source, err := r.rdb.HGet(ctx, burstKey(id), "source").Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: claim burst %s: %w", id, err)
	}
	n, err := claimBurstScript.Run(ctx, r.rdb, []string{burstKey(id), burstQuietKey(source)}, max(quiet.Milliseconds(), 1)).Int()
	if err != nil {
		return false, fmt.Errorf("store: claim burst %s: %w", id, err)
	}
	return n == 1, nil
}

// ReleaseBurst queues burst id's newest publications for announcement unless
// that was done before. It returns the burst (ok false when it expired or
// never was) and whether this call queued them.
func (r *Redis) ReleaseBurst(ctx context.Context, id string) (b poller.Burst, ok, released bool, err error) {
	n, err := releaseBurstScript.Run(ctx, r.rdb, []string{burstKey(id), announceStreamKey()}, announceStreamCap).Int()
	if err != nil {
		return poller.Burst{}, false, false, fmt.Errorf("store: release burst %s: %w", id, err)
	}
	if n == 0 {
		return poller.Burst{}, false, false, nil
	}
	b, _, ok, err = r.burst(ctx, id)
	return b, ok, n == 2, err
}

func (r *Redis) burst(ctx context.Context, id string) (b poller.Burst, noticed, ok bool, err error) {
	h, err := r.rdb.HGetAll(ctx, burstKey(id)).Result()
	if err != nil {
		return poller.Burst{}, false, false, fmt.Errorf("store: load burst %s: %w", id, err)
	}
	if len(h) == 0 {
		return poller.Burst{}, false, false, nil
	}
	b = poller.Burst{ID: id, Source: h["source"], Released: h["released"] != ""}
	b.Count, _ = strconv.Atoi(h["count"])
	if ms, err := strconv.ParseInt(h["at"], 10, 64); err == nil {
		b.At = time.UnixMilli(ms).UTC()
	}
	// cjson writes an empty list as {}, which is no list.
	if nw := h["newest"]; nw != "{}" {
		if err := json.Unmarshal([]byte(nw), &b.Newest); err != nil {
			return poller.Burst{}, false, false, fmt.Errorf("store: decode burst %s: %w", id, err)
		}
	}
	return b, h["noticed"] != "", true, nil
}

// addBurst stores a held burst and forgets those past burstTTL, and the
// oldest beyond burstsKept, as the Redis TTL and trim do.
func (bs pubBuckets) addBurst(b poller.Burst) error {
	// Expiry is on the wall clock, as Redis's EXPIRE is (see expiring).
	body, err := json.Marshal(boltBurst{Source: b.Source, Count: b.Count, At: b.At.UnixMilli(), Newest: b.Newest,
		Expires: bs.now.Add(burstTTL).UnixMilli()})
	if err != nil {
		return fmt.Errorf("encode burst of %s: %w", b.Source, err)
	}
	if err := bs.bursts.Put([]byte(b.ID), body); err != nil {
		return err
	}
	type aged struct {
		id          []byte
		at, expires int64
	}
	var all []aged
	err = bs.bursts.ForEach(func(k, v []byte) error {
		var x boltBurst
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("decode burst %s: %w", k, err)
		}
		all = append(all, aged{bytes.Clone(k), x.At, x.Expires})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b aged) int { return cmp.Compare(b.at, a.at) })
	wall := bs.now.UnixMilli()
	for i, a := range all {
		if i >= burstsKept || a.expires <= wall {
			if err := bs.bursts.Delete(a.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// boltBurstLoad reads one burst; ok is false when there is none or it
// expired.
func boltBurstLoad(bursts *bolt.Bucket, id string, now time.Time) (boltBurst, bool, error) {
	if bursts == nil {
		return boltBurst{}, false, nil
	}
	v := bursts.Get([]byte(id))
	if v == nil {
		return boltBurst{}, false, nil
	}
	var x boltBurst
	if err := json.Unmarshal(v, &x); err != nil {
		return boltBurst{}, false, fmt.Errorf("decode burst %s: %w", id, err)
	}
	return x, x.Expires > now.UnixMilli(), nil
}

func (x boltBurst) burst(id string) poller.Burst {
	return poller.Burst{ID: id, Source: x.Source, Count: x.Count, At: time.UnixMilli(x.At).UTC(), Newest: x.Newest, Released: x.Released}
}

// Bursts returns the held bursts no one has told staff of yet, oldest first.
func (b *Bolt) Bursts(ctx context.Context) ([]poller.Burst, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: list bursts: %w", err)
	}
	var out []poller.Burst
	err := b.db.View(func(tx *bolt.Tx) error {
		bursts := tx.Bucket([]byte(boltPubBursts))
		if bursts == nil {
			return nil
		}
		return bursts.ForEach(func(k, _ []byte) error {
			x, ok, err := boltBurstLoad(bursts, string(k), b.now())
			if err == nil && ok && !x.Noticed {
				out = append(out, x.burst(string(k)))
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list bursts: %w", err)
	}
	slices.SortFunc(out, func(a, b poller.Burst) int { return a.At.Compare(b.At) })
	return out, nil
}

// ClaimBurstNotice marks burst id told of and reports whether this call is
// the one to tell staff; see Redis.ClaimBurstNotice.
func (b *Bolt) ClaimBurstNotice(ctx context.Context, id string, quiet time.Duration) (bool, error) {
	won := false
	err := b.updateBurst(ctx, id, func(bs pubBuckets, x *boltBurst) error {
		if x.Noticed {
			return nil
		}
		x.Noticed = true
		key := []byte(x.Source)
		if _, told := live(bs.burstQuiet.Get(key), bs.now); told {
			return nil
		}
		won = true
		if err := pruneExpiring(bs.burstQuiet, bs.now); err != nil {
			return err
		}
		return bs.burstQuiet.Put(key, expiring(nil, quiet, bs.now))
	})
	if err != nil {
		return false, fmt.Errorf("store: claim burst %s: %w", id, err)
	}
	return won, nil
}

// ReleaseBurst queues burst id's newest publications for announcement unless
// that was done before; see Redis.ReleaseBurst.
func (b *Bolt) ReleaseBurst(ctx context.Context, id string) (burst poller.Burst, ok, released bool, err error) {
	err = b.updateBurst(ctx, id, func(bs pubBuckets, x *boltBurst) error {
		ok = true
		if !x.Released {
			released, x.Released = true, true
			for _, pid := range slices.Backward(x.Newest) { // oldest first
				if err := bs.enqueue(boltAnnouncement{ID: pid, Source: x.Source}); err != nil {
					return err
				}
			}
		}
		burst = x.burst(id)
		return nil
	})
	if err != nil {
		return poller.Burst{}, false, false, fmt.Errorf("store: release burst %s: %w", id, err)
	}
	if released {
		b.changed.notify() // new publications for NextPublications
	}
	return burst, ok, released, nil
}

// updateBurst runs fn on burst id in one transaction and saves what it
// leaves; a burst that is gone is left alone.
func (b *Bolt) updateBurst(ctx context.Context, id string, fn func(pubBuckets, *boltBurst) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		bs, err := openPubBuckets(tx, b.now())
		if err != nil {
			return err
		}
		x, ok, err := boltBurstLoad(bs.bursts, id, bs.now)
		if err != nil || !ok {
			return err
		}
		if err := fn(bs, &x); err != nil {
			return err
		}
		body, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("encode burst %s: %w", id, err)
		}
		return bs.bursts.Put([]byte(id), body)
	})
}
