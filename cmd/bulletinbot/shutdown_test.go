package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// TestMain lets a test run this binary's main in a subprocess: with
// BULLETINBOT_RUN_MAIN set, the test binary is bulletinbot. With
// BULLETINBOT_CPUPROFILE also set, that process writes its CPU profile
// there (BenchmarkEmbeddedProcess passes -cpuprofile on this way).
func TestMain(m *testing.M) {
	if os.Getenv("BULLETINBOT_RUN_MAIN") != "" {
		os.Args = append([]string{"bulletinbot"}, strings.Fields(os.Getenv("BULLETINBOT_RUN_MAIN"))...)
		if path := os.Getenv("BULLETINBOT_CPUPROFILE"); path != "" {
			os.Exit(profiled(path))
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// profiled runs main's body with the CPU profiler on.
func profiled(path string) int {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pprof.StopCPUProfile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return realMain(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
}

// seedStore prepares an embedded store as an earlier run would have left
// it: subscribers, and the source's items recorded by its first poll.
func seedStore(t testing.TB, dir, source string, users []int64) {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seedInto(t, st, source, users)
}

// seedInto subscribes users in st and records the source's first item.
func seedInto(t testing.TB, st interface {
	subscriptions.Store
	Record(ctx context.Context, source string, pubs []poller.Publication, v poller.Validators, now time.Time) ([]poller.Publication, error)
}, source string, users []int64) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, c := range category.Default().Categories {
		ids = append(ids, c.ID)
	}
	subs := subscriptions.NewService(st, ids, "en", nil)
	for _, u := range users {
		if _, _, err := subs.Subscribe(ctx, u, subscriptions.ChatPrivate, "en"); err != nil {
			t.Fatal(err)
		}
	}
	old := poller.Publication{ID: "https://www.rusemb.org.uk/fnapr/1", Source: source, URL: "https://www.rusemb.org.uk/fnapr/1",
		Title: "Press release on talks <1> & more", Category: "press-releases", SeenAt: time.Now()}
	if _, err := st.Record(ctx, source, []poller.Publication{old}, poller.Validators{}, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestSIGTERMDrainsAndLeavesTheRestQueued sends SIGTERM to a real process in
// the middle of a fan-out: it must exit 0 promptly, finish what was in
// flight, and leave the rest queued for the next start, which delivers it
// with no duplicates.
func TestSIGTERMDrainsAndLeavesTheRestQueued(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	tgSrv.SetLatency(20 * time.Millisecond)
	var users []int64
	for i := range 120 {
		id := int64(5000 + i)
		users = append(users, id)
		tgSrv.AddPrivateChat(id, fmt.Sprintf("user%d", i), "en")
	}
	src := newSource(t, 2)
	dir := t.TempDir()
	seedStore(t, dir, src.URL+"/feed", users)

	environ := append(os.Environ(),
		"TELEGRAM_BOT_TOKEN="+tgSrv.Token(), "TELEGRAM_API_ENDPOINT="+tgSrv.Endpoint(),
		"DATA_DIR="+dir, "SOURCES="+src.URL+"/feed", "POLL_INTERVAL=1s", "SEND_RATE=20",
		"REDIS_URL=", "WEBHOOK_URL=", "CONFIG_FILE=")
	start := func() (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(environ, "BULLETINBOT_RUN_MAIN=run -http-addr "+freeAddr(t))
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, logs
	}
	delivered := func() int {
		n := 0
		for _, u := range users {
			for _, m := range tgSrv.Messages(u) {
				if strings.Contains(m.Text, "<2>") {
					n++
				}
			}
		}
		return n
	}

	cmd, logs := start()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := tgSrv.WaitFor(ctx, func() bool { return delivered() >= 15 }); err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("no alerts went out: %v\n%s", err, logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("still running 20s after SIGTERM\n%s", logs.String())
	}
	atStop := delivered()
	if atStop >= len(users) {
		t.Fatalf("all %d alerts were sent before SIGTERM took effect; the test proves nothing", atStop)
	}
	if !strings.Contains(logs.String(), "bulletinbot stopped") {
		t.Fatalf("no clean stop in the log:\n%s", logs.String())
	}

	// The rest was left queued: the next start delivers it, once each.
	cmd, logs = start()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := tgSrv.WaitFor(ctx, func() bool { return delivered() >= len(users) }); err != nil {
		t.Fatalf("only %d of %d alerts after the restart: %v\n%s", delivered(), len(users), err, logs.String())
	}
	for _, u := range users {
		n := 0
		for _, m := range tgSrv.Messages(u) {
			if strings.Contains(m.Text, "<2>") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("chat %d got %d copies of the alert, want 1", u, n)
		}
	}
	t.Logf("SIGTERM after %d of %d alerts; the restart sent the other %d", atStop, len(users), len(users)-atStop)
}
