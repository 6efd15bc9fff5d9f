package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestSentinelFailoverMidFanout runs the bot on a real master + replica +
// Sentinel through a redis+sentinel:// REDIS_URL, kills the master (SIGKILL)
// while an alert fans out, and checks that /readyz is 503 during the gap
// and 200 after, that every subscriber gets the alert, and that the
// duplicates are at most the sends that could be in flight.
func TestSentinelFailoverMidFanout(t *testing.T) {
	rig := storetest.Sentinel(t, 1500*time.Millisecond)
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	tgSrv.SetLatency(20 * time.Millisecond)

	// Subscribers straight into the store, as earlier /start commands left them.
	ctx := context.Background()
	st, err := store.OpenRedis(ctx, rig.URL())
	if err != nil {
		t.Fatalf("OpenRedis(%s): %v", rig.URL(), err)
	}
	subs := subscriptions.NewService(st, []string{"press-releases", "statements", "other"}, "en", nil)
	const n = 150
	chats := make([]int64, n)
	for i := range chats {
		chats[i] = int64(5000 + i)
		tgSrv.AddPrivateChat(chats[i], "citizen", "en")
		if _, _, err := subs.Subscribe(ctx, chats[i], subscriptions.ChatPrivate, "en"); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
	}
	_ = st.Close()

	src := newSource(t, 2)
	addr := freeAddr(t)
	logs := &syncBuffer{}
	stop := runBot(t, botVars(tgSrv, src.URL+"/feed", addr, map[string]string{
		"REDIS_URL": rig.URL(),
		"SEND_RATE": "30",
		"LOG_LEVEL": "debug",
	}), logs)
	defer stop()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	status := func() int {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitStatus := func(want int) {
		t.Helper()
		var seen []string
		for {
			got := status()
			if got == want {
				return
			}
			seen = append(seen, fmt.Sprintf("%s:%d", time.Now().Format("15:04:05.000"), got))
			select {
			case <-wctx.Done():
				t.Fatalf("/readyz never answered %d (answers: %v): %v\n%s", want, seen, wctx.Err(), logs.String())
			case <-time.After(20 * time.Millisecond): // the endpoint has no signal to wait on
			}
		}
	}
	waitStatus(http.StatusOK)

	src.items.Store(3) // a new press release: fan-out to every subscriber
	received := func() int {
		got := 0
		for _, c := range chats {
			if len(tgSrv.Messages(c)) > 0 {
				got++
			}
		}
		return got
	}
	if err := tgSrv.WaitFor(wctx, func() bool { return received() >= n/4 }); err != nil {
		t.Fatalf("the fan-out did not start: %v\n%s", err, logs.String())
	}
	old := rig.MasterAddr()
	rig.KillMaster()
	killedAt := received()

	// /readyz: 503 while no master answers, then 200 once Sentinel has
	// promoted the replica and the client follows it.
	waitStatus(http.StatusServiceUnavailable)
	waitStatus(http.StatusOK)
	if now, err := rig.CurrentMaster(wctx); err != nil || now == old {
		t.Fatalf("master after failover %q, %v; want the promoted replica, not %s", now, err, old)
	}

	if err := tgSrv.WaitFor(wctx, func() bool { return received() == n }); err != nil {
		t.Fatalf("after failover %d of %d subscribers have the alert: %v\n%s", received(), n, err, logs.String())
	}
	dup := 0
	for _, c := range chats {
		msgs := tgSrv.Messages(c)
		if len(msgs) > 1 {
			dup += len(msgs) - 1
		}
		if !strings.Contains(msgs[0].Text, "<3>") {
			t.Fatalf("chat %d got %q, want the press release <3>", c, msgs[0].Text)
		}
	}
	t.Logf("killed the master with %d of %d delivered; %d duplicates", killedAt, n, dup)
	if dup > delivery.DefaultWorkers {
		t.Fatalf("got %d duplicates, want at most the %d sends that can be in flight", dup, delivery.DefaultWorkers)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", code, logs.String())
	}
}
