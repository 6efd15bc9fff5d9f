// Package store keeps all of bulletinbot's state: seen publications and the
// announcement queue for the poller, subscribers, update offsets, leases and
// delivery state for the bot. It has two implementations of the same
// behaviour: Redis, for production and several replicas, and an embedded
// bbolt file for a single process. The interfaces they satisfy are declared
// by their users (poller.Store, subscriptions.Store and the bot's own).
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Redis-backed store. It is safe for concurrent use by any
// number of goroutines and processes.
type Redis struct {
	rdb   redis.UniversalClient
	clock func() time.Time
	// blocking holds the connections of blocking reads (redis_block.go).
	blocking blockingConns
}

// NewRedis returns a store on an existing client; the caller closes it.
func NewRedis(rdb redis.UniversalClient, opts ...Option) *Redis {
	return &Redis{rdb: rdb, clock: applyOptions(opts).clock}
}

// OpenRedis connects to the Redis that url names (one server, Sentinel or
// Cluster: see NewRedisClient), checks that it answers and upgrades data an
// earlier release wrote.
func OpenRedis(ctx context.Context, url string, opts ...Option) (*Redis, error) {
	rdb, err := NewRedisClient(url)
	if err != nil {
		return nil, err
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("store: connect to redis: %w", scrubSecrets(err, url))
	}
	r := NewRedis(rdb, opts...)
	if err := r.UpgradeSubscribers(ctx); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	if err := r.UpgradeSearchIndex(ctx); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return r, nil
}

// Client returns the underlying client, for components such as the shared
// send-rate limiter that speak to Redis directly.
func (r *Redis) Client() redis.UniversalClient { return r.rdb }

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: ping redis: %w", err)
	}
	return nil
}

// Close closes the client, and the connections of blocking reads.
func (r *Redis) Close() error {
	r.blocking.close()
	return r.rdb.Close()
}
