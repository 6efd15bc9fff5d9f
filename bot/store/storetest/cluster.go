package storetest

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ClusterRig is a real three-master Redis Cluster of the test's own.
type ClusterRig struct {
	nodes []*server
}

// Addrs returns the masters' addresses, the seeds of a cluster client.
func (c *ClusterRig) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// URL returns the cluster as a REDIS_URL (redis+cluster://).
func (c *ClusterRig) URL() string {
	return "redis+cluster://" + strings.Join(c.Addrs(), ",")
}

// Client returns a new cluster client on the rig, closed when the test ends.
func (c *ClusterRig) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Cluster starts a fresh Redis Cluster of three masters and no replicas
// (redis-server --cluster-enabled yes, joined with redis-cli --cluster
// create), waits until every node reports cluster_state:ok and its slots
// are served, and stops it when the test ends. A cluster has database 0
// only, so each test gets a cluster of its own rather than a database. It
// skips, loudly, where redis-server or redis-cli is not installed.
func Cluster(t testing.TB) *ClusterRig {
	t.Helper()
	needServers(t, "Redis Cluster")
	c := &ClusterRig{}
	for range 3 {
		c.nodes = append(c.nodes, startServer(t, "", "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("storetest: redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.nodes {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr()})
		err := pollUntil(rigTimeout, func() (bool, error) {
			info, err := cl.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:3"), nil
		})
		_ = cl.Close()
		if err != nil {
			t.Fatalf("storetest: cluster node %s not ready: %v\n%s", n.Addr(), err, n.log())
		}
	}
	// The client sees every slot served (its slot map is loaded from a
	// node that agrees with the others).
	rdb := c.Client(t)
	if err := pollUntil(rigTimeout, func() (bool, error) {
		slots, err := rdb.ClusterSlots(context.Background()).Result()
		if err != nil {
			return false, nil
		}
		served := 0
		for _, s := range slots {
			served += int(s.End-s.Start) + 1
		}
		return served == 16384, nil
	}); err != nil {
		t.Fatalf("storetest: cluster slots not all served: %v", err)
	}
	return c
}
