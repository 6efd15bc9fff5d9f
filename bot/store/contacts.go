package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"github.com/bulletinbot/bulletinbot/poller/parse"
)

// The consular contacts the site's header last showed: one value, phone
// and e-mail joined by a NUL (neither can hold one).

func packContacts(c parse.Contacts) string { return c.Phone + "\x00" + c.Email }

func unpackContacts(s string) parse.Contacts {
	phone, email, _ := strings.Cut(s, "\x00")
	return parse.Contacts{Phone: phone, Email: email}
}

// SaveConsularContacts stores the contacts and returns those stored before
// (zero the first time), in one step: of several replicas seeing a change
// at once, one sees the old value.
func (r *Redis) SaveConsularContacts(ctx context.Context, c parse.Contacts) (parse.Contacts, error) {
	old, err := r.rdb.SetArgs(ctx, consularContactsKey(), packContacts(c), redis.SetArgs{Get: true}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return parse.Contacts{}, fmt.Errorf("store: save consular contacts: %w", err)
	}
	return unpackContacts(old), nil
}

// ConsularContacts returns the contacts last saved, zero when none.
func (r *Redis) ConsularContacts(ctx context.Context) (parse.Contacts, error) {
	v, err := r.rdb.Get(ctx, consularContactsKey()).Result()
	if errors.Is(err, redis.Nil) {
		return parse.Contacts{}, nil
	}
	if err != nil {
		return parse.Contacts{}, fmt.Errorf("store: consular contacts: %w", err)
	}
	return unpackContacts(v), nil
}

// boltConsular holds the contacts under boltContactsKey.
const (
	boltConsular    = "consular"
	boltContactsKey = "contacts"
)

// SaveConsularContacts is Redis's, in one transaction.
func (b *Bolt) SaveConsularContacts(_ context.Context, c parse.Contacts) (parse.Contacts, error) {
	var old parse.Contacts
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(boltConsular))
		if err != nil {
			return err
		}
		if v := bk.Get([]byte(boltContactsKey)); v != nil {
			old = unpackContacts(string(v))
		}
		return bk.Put([]byte(boltContactsKey), []byte(packContacts(c)))
	})
	if err != nil {
		return parse.Contacts{}, fmt.Errorf("store: save consular contacts: %w", err)
	}
	return old, nil
}

// ConsularContacts is Redis's.
func (b *Bolt) ConsularContacts(_ context.Context) (parse.Contacts, error) {
	var c parse.Contacts
	err := b.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(boltConsular)); bk != nil {
			if v := bk.Get([]byte(boltContactsKey)); v != nil {
				c = unpackContacts(string(v))
			}
		}
		return nil
	})
	if err != nil {
		return parse.Contacts{}, fmt.Errorf("store: consular contacts: %w", err)
	}
	return c, nil
}
