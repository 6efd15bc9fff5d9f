package staff_test

import "testing"

// TestStaffOnRedisCluster runs staff flows that touch every staff key and
// the delivery queue (dead letters listed, retried once, discarded) on a
// real three-master Redis Cluster.
func TestStaffOnRedisCluster(t *testing.T) {
	t.Run("retry once", func(t *testing.T) { testStaffDeadLettersRetryOnce(t, options{cluster: true}) })
	t.Run("discard", func(t *testing.T) { testStaffDeadLettersDiscard(t, options{cluster: true}) })
}
