package store

import (
	"context"
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/poller/parse"
)

type contactsStore interface {
	SaveConsularContacts(ctx context.Context, c parse.Contacts) (parse.Contacts, error)
	ConsularContacts(ctx context.Context) (parse.Contacts, error)
}

func TestConsularContactsRedis(t *testing.T) { testConsularContacts(t, NewRedis(storetest.Redis(t))) }
func TestConsularContactsBolt(t *testing.T)  { testConsularContacts(t, subOpenBolt(t)) }

func testConsularContacts(t *testing.T, st contactsStore) {
	ctx := context.Background()
	if c, err := st.ConsularContacts(ctx); err != nil || c != (parse.Contacts{}) {
		t.Fatalf("before any: got %+v, %v, want none", c, err)
	}
	first := parse.Contacts{Phone: "+44 (0) 203 668 7474", Email: "info@rusemb.org.uk"}
	if old, err := st.SaveConsularContacts(ctx, first); err != nil || old != (parse.Contacts{}) {
		t.Fatalf("first save: got old %+v, %v, want none", old, err)
	}
	next := parse.Contacts{Phone: "+44 (0) 203 161 8858"}
	if old, err := st.SaveConsularContacts(ctx, next); err != nil || old != first {
		t.Fatalf("second save: got old %+v, %v, want %+v", old, err, first)
	}
	if c, err := st.ConsularContacts(ctx); err != nil || c != next {
		t.Fatalf("read: got %+v, %v, want %+v", c, err, next)
	}
}
