package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis does not interrupt a command in progress when its context ends
// (redis/go-redis#2556): a stopping engine would wait out every blocking
// stream read (XREADGROUP BLOCK), up to its PollInterval. So blocking reads
// run on connections of their own, whose ids are known, and a read whose
// context ends is ended at once by CLIENT UNBLOCK from another connection,
// which Redis answers as a timeout. A cluster client has no connections of
// its own to give, and a server may refuse CLIENT ID: there a read blocks
// at most clusterBlock at a time.
const clusterBlock = 150 * time.Millisecond

// blockingConns keeps the connections that blocking reads run on, one per
// read in progress, reused from one read to the next.
type blockingConns struct {
	mu     sync.Mutex
	free   []*blockingConn
	closed bool
	// refused is set when Redis refused CLIENT ID (an ACL without CLIENT,
	// a managed service that renamed it): reads block in short steps.
	refused atomic.Bool
}

type blockingConn struct {
	conn *redis.Conn
	id   int64 // CLIENT ID, for CLIENT UNBLOCK
}

func (b *blockingConns) get(ctx context.Context, c *redis.Client) (*blockingConn, error) {
	b.mu.Lock()
	if n := len(b.free); n > 0 {
		bc := b.free[n-1]
		b.free = b.free[:n-1]
		b.mu.Unlock()
		return bc, nil
	}
	b.mu.Unlock()
	conn := c.Conn()
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &blockingConn{conn: conn, id: id}, nil
}

// put gives a connection back after a read; one that failed other than
// with Redis's error reply is closed, for its id may no longer be its own.
func (b *blockingConns) put(bc *blockingConn, err error) {
	var reply redis.Error
	healthy := err == nil || errors.Is(err, redis.Nil) || errors.As(err, &reply)
	b.mu.Lock()
	if healthy && !b.closed {
		b.free = append(b.free, bc)
		bc = nil
	}
	b.mu.Unlock()
	if bc != nil {
		_ = bc.conn.Close()
	}
}

func (b *blockingConns) close() {
	b.mu.Lock()
	free := b.free
	b.free, b.closed = nil, true
	b.mu.Unlock()
	for _, bc := range free {
		_ = bc.conn.Close()
	}
}

// xReadGroup is XREADGROUP that returns as soon as ctx ends, with no
// entries, when it blocks (args.Block > 0).
func (r *Redis) xReadGroup(ctx context.Context, args *redis.XReadGroupArgs) ([]redis.XStream, error) {
	if args.Block <= 0 {
		return r.rdb.XReadGroup(ctx, args).Result()
	}
	c, ok := r.rdb.(*redis.Client)
	if !ok || r.blocking.refused.Load() {
		return r.xReadGroupShort(ctx, args)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bc, err := r.blocking.get(ctx, c)
	var reply redis.Error
	if errors.As(err, &reply) {
		r.blocking.refused.Store(true)
		return r.xReadGroupShort(ctx, args)
	}
	if err != nil {
		return nil, err
	}
	var done atomic.Bool
	stop := context.AfterFunc(ctx, func() { unblock(c, bc.id, &done) })
	res, err := bc.conn.XReadGroup(context.WithoutCancel(ctx), args).Result()
	done.Store(true)
	stop()
	r.blocking.put(bc, err)
	return res, err
}

// unblock ends the blocking command of client id. The read may not have
// reached Redis yet when its context ends: then CLIENT UNBLOCK finds
// nothing blocked, and is tried again a few times while the read lasts.
func unblock(c *redis.Client, id int64, done *atomic.Bool) {
	for range 20 {
		if done.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		n, err := c.ClientUnblock(ctx, id).Result()
		cancel()
		if err != nil || n == 1 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// xReadGroupShort blocks for args.Block in reads of at most clusterBlock,
// looking at ctx between them.
func (r *Redis) xReadGroupShort(ctx context.Context, args *redis.XReadGroupArgs) ([]redis.XStream, error) {
	deadline := time.Now().Add(args.Block)
	part := *args
	for {
		part.Block = min(clusterBlock, max(time.Until(deadline), time.Millisecond))
		res, err := r.rdb.XReadGroup(ctx, &part).Result()
		if !errors.Is(err, redis.Nil) || ctx.Err() != nil || !time.Now().Before(deadline) {
			return res, err
		}
	}
}
