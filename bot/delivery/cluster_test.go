package delivery_test

import (
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
)

// TestDeliveryOnRedisCluster runs two engines on a real three-master Redis
// Cluster: a publication recorded as the poller records it reaches each of
// 100 subscribers exactly once, and both engines share the fan-out. Every
// script and multi-key call of the path (record, intake, fan-out, claim,
// finish, the shared limiter) runs on a cluster here.
func TestDeliveryOnRedisCluster(t *testing.T) {
	t.Parallel()
	rig := storetest.Cluster(t)
	e := newEnvWith(t, store.NewRedis(rig.Client(t)), telegramtest.Options{})
	chats := e.privateSubscribers(1, 100)
	e.fake.SetLatency(5 * time.Millisecond)
	observers := []*observer{newObserver(), newObserver()}
	for i, o := range observers {
		e.run(e.engine(func(p *delivery.Params) {
			p.Observer, p.ReplicaID, p.PageSize = o, []string{"replica-a", "replica-b"}[i], 10
		}))
	}
	pub := poller.Publication{ID: "https://www.rusemb.org.uk/fnapr/9001", URL: "https://www.rusemb.org.uk/fnapr/9001",
		Title: "Statement on the cluster", Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Category: "statements",
		SeenAt: time.Now()}
	e.publish(pub)
	st := e.waitDone(delivery.PublicationAnnouncementID(pub.ID), 30*time.Second)
	if st.Targeted != int64(len(chats)) || st.Delivered != int64(len(chats)) {
		t.Fatalf("got %+v, want %d targeted and delivered", st, len(chats))
	}
	total, dup, missing := e.copies(chats)
	if total != len(chats) || dup != 0 || missing != 0 {
		t.Fatalf("got %d messages, %d duplicates, %d missing; want exactly one each", total, dup, missing)
	}
	for i, o := range observers {
		if res, _, _, _ := o.counts(); res["sent"] == 0 {
			t.Errorf("engine %d sent nothing, want the fan-out shared", i)
		}
	}
}
