package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestRedisSubscriberBucketsStayListpack checks the point of layout 2:
// however many subscribers, every bucket and the counters stay
// listpack-encoded, and buckets hold a few dozen chats or more.
func TestRedisSubscriberBucketsStayListpack(t *testing.T) {
	ctx := context.Background()
	r := NewRedis(storetest.Redis(t))
	const n = 3000
	saved := make(map[string]bool, n)
	for i, s := range subGen(n, subT0) {
		saved[strconv.FormatInt(s.ChatID, 10)] = true
		subSave(t, r, s)
		if i%7 == 0 { // churn: buckets split and shrink
			if _, err := r.DeleteSubscriber(ctx, s.ChatID, subT0); err != nil {
				t.Fatal(err)
			}
		}
	}
	bounds, err := r.rdb.ZRange(ctx, subBucketsKey(), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(bounds) < 2 || len(bounds) > n/40 {
		t.Errorf("buckets: got %d for %d subscribers, want between 2 and %d", len(bounds), n, n/40)
	}
	for _, b := range bounds {
		if saved[b] {
			t.Errorf("bucket bound %s is a chat's id: its key would name the chat after it leaves", b)
		}
	}
	for _, key := range append([]string{subCountsKey(), subCategoryBitsKey()}, prefixAll(subBucketPrefix(), bounds)...) {
		if enc := r.rdb.ObjectEncoding(ctx, key).Val(); enc != "listpack" {
			t.Errorf("%s: encoding %q, want listpack", key, enc)
		}
	}
	subAssertIndexes(t, r)
}

func prefixAll(prefix string, s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = prefix + v
	}
	return out
}

// TestRedisCategoryBits checks the category registry: bits are given in
// order of first use and never change, so a record's mask keeps its
// meaning when the configured categories change, and masks past 32 bits
// (Lua's bit operations are 32-bit) work.
func TestRedisCategoryBits(t *testing.T) {
	ctx := context.Background()
	r := NewRedis(storetest.Redis(t))
	var many []string
	for i := range 40 {
		many = append(many, fmt.Sprintf("c%02d", i))
	}
	subSave(t, r, subNew(1, "en", "statements"))
	subSave(t, r, subNew(2, "ru", many...))
	subSave(t, r, subNew(3, "en", "c39", "statements"))
	// The configuration drops "statements": chat 1 keeps it, and its bit
	// is not given to anything else.
	if _, err := r.DeleteSubscriber(ctx, 3, subT0); err != nil {
		t.Fatal(err)
	}
	subSave(t, r, subNew(4, "en", "late"))
	bits, err := r.rdb.HGetAll(ctx, subCategoryBitsKey()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if bits["statements"] != "0" || bits["c00"] != "1" || bits["c39"] != "40" || bits["late"] != "41" || len(bits) != 42 {
		t.Errorf("registry: got %v, want statements 0, c00..c39 1..40, late 41", bits)
	}
	subAssertGet(t, r, subNew(1, "en", "statements"))
	want := subNew(2, "ru", many...)
	slices.Sort(want.Categories)
	subAssertGet(t, r, want)
	for cat, ids := range map[string][]int64{"c39": {2}, "c31": {2}, "c32": {2}, "statements": {1}, "late": {4}} {
		if got := subIDs(subWalk(t, r, subscriptions.Filter{Category: cat}, 10, nil)); !slices.Equal(got, ids) {
			t.Errorf("category %s: got %v, want %v", cat, got, ids)
		}
	}
	subAssertIndexes(t, r)
	if _, err := r.SaveSubscriber(ctx, subscriptions.Subscriber{ChatID: 5, Type: "two words", Language: "en"}); err == nil || !strings.Contains(err.Error(), "chat type") {
		t.Errorf("a chat type with a space: got %v, want an error naming it", err)
	}
}
