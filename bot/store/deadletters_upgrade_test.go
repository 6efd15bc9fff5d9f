package store

import (
	"context"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/staff"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// oldDeadLetters are dead letters as the previous release wrote them: no
// chat type, language or plain flag.
var oldDeadLetters = []string{
	`{"announcement_id":"b-1","chat_id":-1001,"attempts":5,"error":"tg: sendMessage: 500 down","at":"2026-11-30T10:00:00Z"}`,
	`{"announcement_id":"b-1","chat_id":42,"attempts":5,"error":"tg: sendMessage: 500 down","at":"2026-11-30T11:00:00Z"}`,
}

// retryStore is the engine's store with the staff's dead-letter tools.
type retryStore interface {
	delivery.Store
	staff.DeadLetterStore
}

// TestDeadLettersOfPreviousRelease retries letters written the old way, on
// both stores: a group's by its id's sign (the group gap), each in the
// announcement's default text.
func TestDeadLettersOfPreviousRelease(t *testing.T) {
	ctx := context.Background()
	backends := map[string]func(t *testing.T) retryStore{
		"redis": func(t *testing.T) retryStore {
			r := NewRedis(storetest.Redis(t))
			for _, l := range oldDeadLetters { // as the old finish script did
				r.rdb.LPush(ctx, deliveryDeadKey(), l)
				r.rdb.HIncrBy(ctx, deliveryCountersKey(), "dead", 1)
			}
			return r
		},
		"bolt": func(t *testing.T) retryStore {
			b := subOpenBolt(t)
			err := b.dlvUpdate(func(t *dlvTx) error {
				for _, l := range oldDeadLetters {
					if err := t.deadLetter([]byte(l)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			a := delivery.Announcement{ID: "b-1", Kind: delivery.KindBroadcast, Texts: map[string]string{"": "hi"}, CreatedAt: time.Now()}
			if err := s.AddAnnouncement(ctx, a); err != nil {
				t.Fatal(err)
			}
			sum, err := s.DeadLetterSummary(ctx)
			if err != nil || sum.Count != 2 || sum.Mark != 2 || len(sum.Reasons) != 1 || sum.Reasons[0].Count != 2 ||
				!sum.Oldest.Equal(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)) {
				t.Fatalf("summary of old letters: got %+v, %v; want 2, one reason, oldest at 10:00", sum, err)
			}
			if n, err := s.RetryDeadLetters(ctx, sum.Mark); err != nil || n != 2 {
				t.Fatalf("RetryDeadLetters: got %d, %v; want 2", n, err)
			}
			ds, err := s.Lease(ctx, "c", 10, -1, 0)
			if err != nil || len(ds) != 2 {
				t.Fatalf("Lease: got %+v, %v; want the 2 letters", ds, err)
			}
			want := map[int64]subscriptions.ChatType{-1001: subscriptions.ChatGroup, 42: subscriptions.ChatPrivate}
			for _, d := range ds {
				if d.ChatType != want[d.ChatID] || d.Language != "" || d.Attempt != 0 || d.Plain {
					t.Errorf("retried old letter: got %+v, want chat type %q, default language, no attempts", d, want[d.ChatID])
				}
			}
		})
	}
}
