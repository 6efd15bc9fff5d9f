package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The rigs in cluster.go and sentinel.go start real redis-server processes
// of their own (not the one TEST_REDIS_URL names), on free loopback ports
// in a temporary directory, and stop them when the test ends.

// rigTimeout bounds how long a rig may take to come up.
const rigTimeout = 30 * time.Second

// needServers skips the test, loudly, when redis-server or redis-cli is not
// installed: the rigs need both. Under BULLETINBOT_REQUIRE_REDIS the skip
// message says so too; a machine that has them never skips.
func needServers(t testing.TB, rig string) {
	t.Helper()
	var missing []string
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("storetest: SKIPPING the %s test: %s not on PATH (Debian/Ubuntu: apt-get install redis-server)",
		rig, strings.Join(missing, " and "))
	fmt.Fprintln(os.Stderr, "WARNING: "+msg)
	t.Skip(msg)
}

// server is one redis-server process of a rig.
type server struct {
	Port int
	cmd  *exec.Cmd
	dir  string
}

// Addr is the server's loopback address.
func (s *server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Kill stops the server at once (SIGKILL), as a crash would; it is safe to
// call more than once.
func (s *server) Kill() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// log returns the tail of the server's log, for failure messages.
func (s *server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// startServer runs redis-server with args (a config file's lines as
// "--name value" pairs) on a free port (and, for a cluster node, a free bus
// port at +10000) in a directory of its own, and waits until it answers PING.
// extraConf, when not empty, is written to a config file given first (a
// Sentinel needs one it can rewrite).
func startServer(t testing.TB, extraConf string, args ...string) *server {
	t.Helper()
	base := t.TempDir()
	var lastErr error
	for attempt := range 10 {
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		dir := filepath.Join(base, strconv.Itoa(attempt))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("storetest: %v", err)
		}
		var argv []string
		if extraConf != "" {
			conf := filepath.Join(dir, "redis.conf")
			if err := os.WriteFile(conf, []byte(strings.ReplaceAll(extraConf, "$PORT", strconv.Itoa(port))), 0o644); err != nil {
				t.Fatalf("storetest: %v", err)
			}
			argv = append(argv, conf)
		}
		argv = append(argv, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
		argv = append(argv, args...)
		s := &server{Port: port, dir: dir, cmd: exec.Command("redis-server", argv...)}
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("storetest: start redis-server: %v", err)
		}
		t.Cleanup(s.Kill)
		if err := s.waitPing(); err != nil {
			lastErr = fmt.Errorf("%w; log:\n%s", err, s.log())
			s.Kill()
			continue
		}
		return s
	}
	t.Fatalf("storetest: could not start a redis-server: %v", lastErr)
	return nil
}

func (s *server) waitPing() error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	return pollUntil(10*time.Second, func() (bool, error) {
		if s.cmd.ProcessState != nil {
			return false, fmt.Errorf("redis-server on port %d exited", s.Port)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Ping(ctx).Err() == nil, nil
	})
}

// freePort returns a loopback port that is free, and whose cluster bus port
// (+10000) is free too, at the time of asking.
func freePort() (int, error) {
	for range 50 {
		port := 20000 + rand.IntN(45000-20000)
		ok := true
		for _, p := range []int{port, port + 10000} {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			_ = l.Close()
		}
		if ok {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free loopback port pair found")
}

// pollUntil calls cond every 20 ms until it is true, fails, or within
// passes.
func pollUntil(within time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not reached within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
