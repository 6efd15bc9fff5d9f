package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/bulletinbot/bulletinbot/subscriptions"
)

type topicStore interface {
	subscriptions.Store
	subscriptions.TopicStore
}

func TestTopics(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) topicStore{
		"redis": func(t *testing.T) topicStore { return openRedis(t) },
		"bolt":  func(t *testing.T) topicStore { return pubOpenBolt(t, t.TempDir()) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			svc := subscriptions.NewService(st, []string{"consular", "other"}, "en", nil).WithTopics(st)
			for _, chat := range []int64{-1001000000005, 1, 2, 3, 4, 5} {
				if _, _, err := svc.Subscribe(ctx, chat, subscriptions.ChatPrivate, "en"); err != nil {
					t.Fatal(err)
				}
			}
			must := func(_ any, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(svc.SetCategories(ctx, 1, []string{"consular"}))
			must(svc.SetCategories(ctx, 2, nil))
			must(svc.SetCategories(ctx, 3, []string{"consular"}))
			must(svc.SetCategories(ctx, 4, nil))
			must(svc.SetCategories(ctx, 5, []string{"other"}))
			must(svc.SetCategories(ctx, -1001000000005, nil))
			follow := func(chat int64, label string, ts ...string) {
				t.Helper()
				if _, _, err := svc.Follow(ctx, chat, ts, label); err != nil {
					t.Fatal(err)
				}
			}
			follow(2, "паспорт", "паспорт")
			follow(3, "паспорта", "паспорт") // also wants the category: once
			follow(4, "visa centre", "visa", "centr")
			follow(-1001000000005, "паспорт", "паспорт")
			follow(5, "погода", "погод")

			walk := func(f subscriptions.Filter) []int64 {
				t.Helper()
				var got []int64
				cursor := ""
				for {
					subs, next, err := svc.Page(ctx, f, cursor, 2)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range subs {
						got = append(got, s.ChatID)
					}
					if next == "" {
						return got
					}
					cursor = next
				}
			}
			if got := walk(subscriptions.Filter{Category: "consular", Terms: []string{"нов", "паспорт", "срок"}}); !slices.Equal(got, []int64{-1001000000005, 1, 2, 3}) {
				t.Errorf("consular publication on passports reaches %v, want the group, 1, 2, 3 (3 once)", got)
			}
			if got := walk(subscriptions.Filter{Category: "consular", Terms: []string{"visa", "close"}}); !slices.Equal(got, []int64{1, 3}) {
				t.Errorf("a topic of two terms matched one: %v, want 1, 3", got)
			}
			if got := walk(subscriptions.Filter{Category: "other", Terms: []string{"centr", "visa", "close"}}); !slices.Equal(got, []int64{4, 5}) {
				t.Errorf("visa centre publication reaches %v, want 4, 5", got)
			}

			// Limits, listing, removal, and /stop's cleanup.
			for i := range subscriptions.MaxTopics - 1 {
				follow(2, "t", fmt.Sprint("t", i))
			}
			if _, _, err := svc.Follow(ctx, 2, []string{"overflow"}, "overflow"); !errors.Is(err, subscriptions.ErrTooManyTopics) {
				t.Errorf("topic 21: %v, want ErrTooManyTopics", err)
			}
			if _, added, err := svc.Follow(ctx, 2, []string{"паспорт"}, "паспорт"); err != nil || added {
				t.Errorf("following again: added %v, %v; want not added, no error", added, err)
			}
			if ts, err := svc.Topics(ctx, 2); err != nil || len(ts) != subscriptions.MaxTopics {
				t.Errorf("topics = %d, %v; want %d", len(ts), err, subscriptions.MaxTopics)
			}
			if ok, err := svc.Unfollow(ctx, 2, "паспорт"); !ok || err != nil {
				t.Errorf("unfollow = %v, %v", ok, err)
			}
			if _, err := svc.Unsubscribe(ctx, 3); err != nil {
				t.Fatal(err)
			}
			if ts, _ := svc.Topics(ctx, 3); len(ts) != 0 {
				t.Errorf("topics after /stop: %v", ts)
			}
			if got := walk(subscriptions.Filter{Category: "other", Terms: []string{"паспорт"}}); !slices.Equal(got, []int64{-1001000000005, 5}) {
				t.Errorf("after unfollow and /stop: %v, want the group and 5", got)
			}
			// A group upgraded to a supergroup keeps its topics.
			if err := svc.Migrate(ctx, -1001000000005, -1001000000099); err != nil {
				t.Fatal(err)
			}
			if got := walk(subscriptions.Filter{Category: "other", Terms: []string{"паспорт"}}); !slices.Equal(got, []int64{-1001000000099, 5}) {
				t.Errorf("after the migration: %v, want the supergroup and 5", got)
			}
		})
	}
}
