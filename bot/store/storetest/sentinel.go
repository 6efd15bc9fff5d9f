package storetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master name the Sentinel rig monitors.
const SentinelMaster = "bbmaster"

// SentinelRig is a real master, a replica and a Sentinel watching them, of
// the test's own.
type SentinelRig struct {
	master, replica, sentinel *server
}

// SentinelAddr is the Sentinel's address.
func (s *SentinelRig) SentinelAddr() string { return s.sentinel.Addr() }

// URL returns the rig as a REDIS_URL (redis+sentinel://).
func (s *SentinelRig) URL() string {
	return "redis+sentinel://" + s.SentinelAddr() + "/" + SentinelMaster + "/0"
}

// MasterAddr is the address of the server that was master at the start.
func (s *SentinelRig) MasterAddr() string { return s.master.Addr() }

// KillMaster kills the master (SIGKILL, as a crash would); the Sentinel
// then promotes the replica after its down-after period.
func (s *SentinelRig) KillMaster() { s.master.Kill() }

// CurrentMaster asks the Sentinel which address is master now.
func (s *SentinelRig) CurrentMaster(ctx context.Context) (string, error) {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.SentinelAddr()})
	defer sc.Close()
	addr, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
	if err != nil {
		return "", fmt.Errorf("storetest: ask sentinel for the master: %w", err)
	}
	return strings.Join(addr, ":"), nil
}

// Client returns a new failover client on the rig, closed when the test
// ends.
func (s *SentinelRig) Client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: SentinelMaster, SentinelAddrs: []string{s.SentinelAddr()},
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Sentinel starts a master, a replica of it and a Sentinel (redis-server
// --sentinel) that declares the master down after downAfter without an
// answer and then promotes the replica. It returns once the replica is in
// sync and the Sentinel knows it, and stops all three when the test ends.
// It skips, loudly, where redis-server or redis-cli is not installed.
func Sentinel(t testing.TB, downAfter time.Duration) *SentinelRig {
	t.Helper()
	needServers(t, "Redis Sentinel")
	s := &SentinelRig{}
	s.master = startServer(t, "")
	s.replica = startServer(t, "", "--replicaof", "127.0.0.1", strconv.Itoa(s.master.Port),
		"--replica-announce-ip", "127.0.0.1")
	ctx := context.Background()
	mc := redis.NewClient(&redis.Options{Addr: s.master.Addr()})
	defer mc.Close()
	if err := pollUntil(rigTimeout, func() (bool, error) {
		info, err := mc.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online"), nil
	}); err != nil {
		t.Fatalf("storetest: replica not in sync: %v\n%s", err, s.replica.log())
	}
	ms := max(downAfter.Milliseconds(), 100)
	conf := fmt.Sprintf("port $PORT\nsentinel resolve-hostnames no\n"+
		"sentinel monitor %[1]s 127.0.0.1 %[2]d 1\n"+
		"sentinel down-after-milliseconds %[1]s %[3]d\n"+
		"sentinel failover-timeout %[1]s %[4]d\n"+
		"sentinel parallel-syncs %[1]s 1\n",
		SentinelMaster, s.master.Port, ms, max(4*ms, 2000))
	s.sentinel = startServer(t, conf, "--sentinel")
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel.Addr()})
	defer sc.Close()
	if err := pollUntil(rigTimeout, func() (bool, error) {
		replicas, err := sc.Replicas(ctx, SentinelMaster).Result()
		if err != nil || len(replicas) != 1 {
			return false, nil
		}
		return replicas[0]["flags"] == "slave", nil
	}); err != nil {
		t.Fatalf("storetest: sentinel does not see the replica: %v\n%s", err, s.sentinel.log())
	}
	return s
}
