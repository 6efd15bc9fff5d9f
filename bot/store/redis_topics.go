package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// addTopicScript adds a topic to a chat unless it has it or max topics.
//
// KEYS[1] the chat's topics hash  KEYS[2] the index zset of the topic's first term
// ARGV[1] key  ARGV[2] label  ARGV[3] max  ARGV[4] chat id
// Returns {added (1/0), topics the chat has}.
var addTopicScript = redis.NewScript(`
local n = redis.call('HLEN', KEYS[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or n >= tonumber(ARGV[3]) then
  return {0, n}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[4] .. '|' .. ARGV[1])
return {1, n + 1}
`)

// removeTopicScript removes one topic of a chat.
//
// KEYS[1] the chat's topics hash  KEYS[2] the index zset of the topic's first term
// ARGV[1] key  ARGV[2] chat id
// Returns 1 when it was there.
var removeTopicScript = redis.NewScript(`
redis.call('ZREM', KEYS[2], ARGV[2] .. '|' .. ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
`)

// AddTopic implements subscriptions.TopicStore.
func (r *Redis) AddTopic(ctx context.Context, chatID int64, t subscriptions.Topic, max int) (bool, int, error) {
	res, err := addTopicScript.Run(ctx, r.rdb, []string{subTopicsKey(chatID), subTopicIndexKey(subscriptions.TopicIndexTerm(t.Key))},
		t.Key, t.Label, max, chatID).Int64Slice()
	if err != nil || len(res) != 2 {
		return false, 0, fmt.Errorf("store: add topic of %d: %w", chatID, err)
	}
	return res[0] == 1, int(res[1]), nil
}

// RemoveTopic implements subscriptions.TopicStore.
func (r *Redis) RemoveTopic(ctx context.Context, chatID int64, key string) (bool, error) {
	n, err := removeTopicScript.Run(ctx, r.rdb, []string{subTopicsKey(chatID), subTopicIndexKey(subscriptions.TopicIndexTerm(key))},
		key, chatID).Int()
	if err != nil {
		return false, fmt.Errorf("store: remove topic of %d: %w", chatID, err)
	}
	return n == 1, nil
}

// Topics implements subscriptions.TopicStore.
func (r *Redis) Topics(ctx context.Context, chatID int64) ([]subscriptions.Topic, error) {
	h, err := r.rdb.HGetAll(ctx, subTopicsKey(chatID)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: topics of %d: %w", chatID, err)
	}
	out := make([]subscriptions.Topic, 0, len(h))
	for k, label := range h {
		out = append(out, subscriptions.Topic{Key: k, Label: label})
	}
	slices.SortFunc(out, func(a, b subscriptions.Topic) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// DeleteTopics implements subscriptions.TopicStore: at most MaxTopics
// index entries and the hash, in one transaction.
func (r *Redis) DeleteTopics(ctx context.Context, chatID int64) error {
	topics, err := r.Topics(ctx, chatID)
	if err != nil {
		return err
	}
	pipe := r.rdb.TxPipeline()
	for _, t := range topics {
		pipe.ZRem(ctx, subTopicIndexKey(subscriptions.TopicIndexTerm(t.Key)), strconv.FormatInt(chatID, 10)+"|"+t.Key)
	}
	pipe.Del(ctx, subTopicsKey(chatID))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store: delete topics of %d: %w", chatID, err)
	}
	return nil
}

// TopicFollowers implements subscriptions.TopicStore: one pipeline of a
// ZRANGEBYSCORE per term over the page's range of chat ids.
func (r *Redis) TopicFollowers(ctx context.Context, terms []string, after, upTo *int64) ([]subscriptions.Follower, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	lo, hi := "-inf", "+inf"
	if after != nil {
		lo = "(" + strconv.FormatInt(*after, 10)
	}
	if upTo != nil {
		hi = strconv.FormatInt(*upTo, 10)
	}
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(terms))
	for i, t := range terms {
		cmds[i] = pipe.ZRangeByScore(ctx, subTopicIndexKey(t), &redis.ZRangeBy{Min: lo, Max: hi})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("store: topic followers: %w", err)
	}
	var out []subscriptions.Follower
	for _, c := range cmds {
		for _, m := range c.Val() {
			chat, key, ok := strings.Cut(m, "|")
			id, err := strconv.ParseInt(chat, 10, 64)
			if ok && err == nil {
				out = append(out, subscriptions.Follower{ChatID: id, Key: key})
			}
		}
	}
	return out, nil
}

// SubscribersByID implements subscriptions.TopicStore: the subscriber
// script for each id, in one pipeline.
func (r *Redis) SubscribersByID(ctx context.Context, ids []int64) ([]subscriptions.Subscriber, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(ids))
	for i, id := range ids {
		cmds[i] = subscriberScript.Eval(ctx, pipe, subKeys(), subArgs(id)...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errorsIsNil(err) {
		return nil, fmt.Errorf("store: load subscribers: %w", err)
	}
	out := make([]subscriptions.Subscriber, 0, len(ids))
	for i, c := range cmds {
		rec, err := c.Text()
		if errorsIsNil(err) {
			continue // gone meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("store: load subscriber %d: %w", ids[i], err)
		}
		s, err := subFromRecord(ids[i], rec)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func errorsIsNil(err error) bool { return errors.Is(err, redis.Nil) }

var _ subscriptions.TopicStore = (*Redis)(nil)
