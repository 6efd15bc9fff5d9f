package bot_test

import (
	"testing"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

// TestCommandsOnRedisCluster runs the bot's intake (update lease, offset)
// and the citizens' commands on a real three-master Redis Cluster, in both
// languages: subscribe, read, change categories, unsubscribe.
func TestCommandsOnRedisCluster(t *testing.T) {
	rig := storetest.Cluster(t)
	e := newEnvOn(t, store.NewRedis(rig.Client(t)))
	e.seedCitizenPubs()
	e.start()
	for _, lc := range languageCases() {
		t.Run(lc.lang, func(t *testing.T) {
			e.tg.AddPrivateChat(lc.user, "Anna", lc.lang)
			next := e.dialog(t, lc.user).next
			mustContain(t, "/start", next("/start"), lc.welcome)
			if sub, ok := e.subscriber(lc.user); !ok || sub.Language != lc.lang || len(sub.Categories) != len(e.cats.Categories()) {
				t.Fatalf("after /start: got %+v, %v; want a %s subscriber of every category", sub, ok, lc.lang)
			}
			mustContain(t, "/latest", next("/latest"), lc.latest, "Statement on <Catalonia> & Spain", "15.10.2017")
			mustContain(t, "/latest statements", next("/latest 1 statements"), "Statement on <Catalonia> & Spain")
			mustContain(t, "/time", next("/time"), lc.time...)
			mustContain(t, "/consular", next("/consular"), lc.consular...)
			mustContain(t, "/categories", next("/categories"), lc.categories)
			mustContain(t, "/stop", next("/stop"), lc.stopped)
			if _, ok := e.subscriber(lc.user); ok {
				t.Error("after /stop: still subscribed")
			}
		})
	}
}
