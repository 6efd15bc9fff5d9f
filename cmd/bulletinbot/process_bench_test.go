package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// BenchmarkEmbeddedProcess measures the whole bulletinbot process on the
// embedded store, run as a child process (this test binary as bulletinbot)
// so that its CPU time and writes are its own; the fake Telegram, with
// Telegram's limits, and the feed run in the benchmark process.
//
//   - idle: subscribers and a polled source (POLL_INTERVAL 5m), nothing to
//     send; reports CPU per idle minute, bytes written to storage and
//     fsyncs per minute (fsyncs need strace on PATH; the child then runs
//     under strace --seccomp-bpf, which stops it on fsync and fdatasync
//     only).
//     BULLETINBOT_BENCH_IDLE sets the measured period (default 1m).
//
//   - fanout: one alert to 2,000 subscribers at the default SEND_RATE (25
//     a second); reports CPU per 1,000 messages, from the first message to
//     the last.
//
//     go test -run '^$' -bench EmbeddedProcess -benchtime 1x -timeout 30m ./cmd/bulletinbot/
//
// BULLETINBOT_BENCH_CPUPROFILE=/tmp/bb.prof writes bulletinbot's CPU
// profile of each case to /tmp/bb.prof.<case>.
func BenchmarkEmbeddedProcess(b *testing.B) {
	b.Run("idle", benchEmbeddedIdle)
	b.Run("fanout", benchEmbeddedFanout)
}

func benchEmbeddedIdle(b *testing.B) {
	period := time.Minute
	if v := os.Getenv("BULLETINBOT_BENCH_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("BULLETINBOT_BENCH_IDLE: %v", err)
		}
		period = d
	}
	users := benchUsers(200)
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	for _, u := range users {
		tgSrv.AddPrivateChat(u, "user", "en")
	}
	src := newSource(b, 1) // recorded by the seed: nothing new to announce
	p := startBenchProcess(b, tgSrv, src, users, true, nil)
	defer p.stop(b)
	// Let start-up's writes and the first poll settle.
	time.Sleep(5 * time.Second)
	for b.Loop() {
		cpu0, io0, sync0 := p.cpu(b), p.io(b), p.fsyncs(b)
		time.Sleep(period)
		cpu1, io1, sync1 := p.cpu(b), p.io(b), p.fsyncs(b)
		minutes := period.Minutes()
		b.ReportMetric((cpu1-cpu0).Seconds()/minutes, "cpu-s/idle-min")
		b.ReportMetric(float64(io1["write_bytes"]-io0["write_bytes"])/minutes, "bytes-written/idle-min")
		b.ReportMetric(float64(io1["syscw"]-io0["syscw"])/minutes, "write-calls/idle-min")
		if sync0 >= 0 {
			b.ReportMetric(float64(sync1-sync0)/minutes, "fsyncs/idle-min")
		}
	}
	b.ReportMetric(0, "ns/op")
}

func benchEmbeddedFanout(b *testing.B) { benchFanout(b, "") }

// BenchmarkRedisProcess is BenchmarkEmbeddedProcess's fan-out on Redis
// (TEST_REDIS_URL, each run on an empty database of its own): the whole
// process's CPU, Redis's own not counted.
//
//	./.ci/with-redis go test -run '^$' -bench RedisProcess -benchtime 1x -timeout 30m ./cmd/bulletinbot/
func BenchmarkRedisProcess(b *testing.B) {
	b.Run("fanout", func(b *testing.B) {
		if os.Getenv("TEST_REDIS_URL") == "" {
			b.Skip("TEST_REDIS_URL is unset")
		}
		benchFanout(b, "redis")
	})
}

// benchFanout measures one fan-out on the embedded store, or on Redis
// when kind is "redis".
func benchFanout(b *testing.B, kind string) {
	users := benchUsers(2000)
	tgSrv := telegramtest.NewServer(telegramtest.Options{})
	defer tgSrv.Close()
	for _, u := range users {
		tgSrv.AddPrivateChat(u, "user", "en")
	}
	src := newSource(b, 2) // the seed recorded item 1: the first poll announces item 2
	var p *benchProcess
	for b.Loop() {
		var extra []string
		if kind == "redis" {
			url := testRedisURL(b)
			st, err := store.OpenRedis(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			seedInto(b, st, src.URL+"/feed", users)
			_ = st.Close()
			extra = []string{"REDIS_URL=" + url}
		}
		p = startBenchProcess(b, tgSrv, src, users, false, extra)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		var (
			first, last time.Duration
			firstN      int
			began       time.Time
		)
		tick := time.NewTicker(250 * time.Millisecond)
		for n := 0; n < len(users); {
			select {
			case <-ctx.Done():
				b.Fatalf("%d of %d alerts after 10 minutes", n, len(users))
			case <-tick.C:
			}
			n = 0
			for _, u := range users {
				n += len(tgSrv.Messages(u))
			}
			switch {
			case n > 0 && firstN == 0:
				first, firstN, began = p.cpu(b), n, time.Now()
			case n == len(users):
				last = p.cpu(b)
			}
		}
		tick.Stop()
		cancel()
		elapsed := time.Since(began)
		msgs := float64(len(users) - firstN)
		b.ReportMetric((last-first).Seconds()/msgs*1000, "cpu-s/1k-msgs")
		b.ReportMetric(msgs/elapsed.Seconds(), "msgs/s")
		p.stop(b)
	}
	b.ReportMetric(0, "ns/op")
}

func benchUsers(n int) []int64 {
	users := make([]int64, n)
	for i := range users {
		users[i] = int64(7_000_000_000 + i)
	}
	return users
}

// benchProcess is bulletinbot running in a child process.
type benchProcess struct {
	cmd    *exec.Cmd
	pid    int    // bulletinbot's, which under strace is the child's child
	trace  string // strace's output file; "" without strace
	logs   *syncBuffer
	exited chan error
}

// startBenchProcess seeds an embedded store with users subscribed and the
// source's first item recorded, starts bulletinbot on it and waits until
// it is ready; with trace, under strace when there is one, to count
// fsyncs (each costs the process a stop, so not where CPU is measured).
func startBenchProcess(b *testing.B, tgSrv *telegramtest.Server, src *source, users []int64, trace bool, extra []string) *benchProcess {
	b.Helper()
	dir := b.TempDir()
	if !slices.ContainsFunc(extra, func(v string) bool { return strings.HasPrefix(v, "REDIS_URL=") }) {
		seedStore(b, dir, src.URL+"/feed", users)
	}
	addr := freeAddr(b)
	args := []string{os.Args[0], "-test.run=^$"}
	p := &benchProcess{logs: &syncBuffer{}, exited: make(chan error, 1)}
	if path, err := exec.LookPath("strace"); err == nil && trace {
		p.trace = filepath.Join(b.TempDir(), "fsyncs")
		args = append([]string{path, "-f", "--seccomp-bpf", "-e", "trace=fsync,fdatasync", "-qq", "-o", p.trace}, args...)
	}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Env = append(os.Environ(),
		"TELEGRAM_BOT_TOKEN="+tgSrv.Token(), "TELEGRAM_API_ENDPOINT="+tgSrv.Endpoint(),
		"DATA_DIR="+dir, "SOURCES="+src.URL+"/feed", "REDIS_URL=", "WEBHOOK_URL=", "CONFIG_FILE=",
		"LOG_LEVEL=warn", "BULLETINBOT_RUN_MAIN=run -http-addr "+addr)
	p.cmd.Env = append(p.cmd.Env, extra...)
	if path := os.Getenv("BULLETINBOT_BENCH_CPUPROFILE"); path != "" {
		p.cmd.Env = append(p.cmd.Env, "BULLETINBOT_CPUPROFILE="+path+"."+b.Name()[strings.LastIndexByte(b.Name(), '/')+1:])
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitReady(b, ctx, addr)
	p.pid = p.cmd.Process.Pid
	if p.trace != "" {
		kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p.pid, p.pid))
		if err != nil || len(strings.Fields(string(kids))) != 1 {
			b.Fatalf("find bulletinbot under strace: %q %v", kids, err)
		}
		p.pid, _ = strconv.Atoi(strings.Fields(string(kids))[0])
	}
	return p
}

// cpu is the process's user and system CPU time so far.
func (p *benchProcess) cpu(b *testing.B) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		b.Fatalf("read process CPU (Linux only): %v", err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks of 1/100 s.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// io is the process's /proc/<pid>/io counters.
func (p *benchProcess) io(b *testing.B) map[string]int64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/io", p.pid))
	if err != nil {
		b.Fatalf("read process I/O (Linux only): %v", err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		out[k], _ = strconv.ParseInt(v, 10, 64)
	}
	return out
}

// fsyncs counts the fsync and fdatasync calls strace saw so far; -1
// without strace.
func (p *benchProcess) fsyncs(b *testing.B) int {
	b.Helper()
	if p.trace == "" {
		return -1
	}
	body, err := os.ReadFile(p.trace)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		// A call may be split in two lines by a thread switch ("<unfinished
		// ...>" and "resumed"): count each call once.
		if (strings.Contains(line, "fsync(") || strings.Contains(line, "fdatasync(")) && !strings.Contains(line, "resumed>") {
			n++
		}
	}
	return n
}

func (p *benchProcess) stop(b *testing.B) {
	b.Helper()
	// To bulletinbot itself: strace exits when it does.
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		b.Errorf("bulletinbot did not stop within 30s of SIGTERM\n%s", p.logs.String())
	}
}
