package bot

import (
	"testing"
	"time"
)

func TestMemberCache(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	k := memberKey{chat: -100, user: 1}
	tests := []struct {
		name      string
		admin     bool
		after     time.Duration
		wantAdmin bool
		wantOK    bool
	}{
		{"admin, fresh", true, 0, true, true},
		{"admin, just before the end", true, time.Minute - time.Nanosecond, true, true},
		{"admin, stale", true, time.Minute, false, false},
		{"not admin, fresh", false, 30 * time.Second, false, true},
		{"not admin, stale", false, 2 * time.Minute, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newMemberCache(10, time.Minute)
			c.put(k, tt.admin, t0)
			admin, ok := c.get(k, t0.Add(tt.after))
			if admin != tt.wantAdmin || ok != tt.wantOK {
				t.Errorf("got %v, %v, want %v, %v", admin, ok, tt.wantAdmin, tt.wantOK)
			}
			if other, ok := c.get(memberKey{chat: -100, user: 2}, t0); ok || other {
				t.Errorf("another user: got %v, %v, want nothing known", other, ok)
			}
		})
	}
}

func TestMemberCacheStaysBounded(t *testing.T) {
	const size = 100
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	c := newMemberCache(size, time.Minute)
	for i := range 10 * size {
		c.put(memberKey{chat: -1, user: int64(i)}, true, t0)
		if n := c.len(); n > size {
			t.Fatalf("after %d puts: got %d entries, want at most %d", i+1, n, size)
		}
	}
	// Stale entries are the first to go: a full cache of them makes room
	// without forgetting the fresh one.
	c = newMemberCache(size, time.Minute)
	for i := range size - 1 {
		c.put(memberKey{chat: -1, user: int64(i)}, true, t0)
	}
	later := t0.Add(2 * time.Minute)
	fresh := memberKey{chat: -2, user: 1}
	c.put(fresh, true, later.Add(-time.Second))
	c.put(memberKey{chat: -2, user: 2}, false, later)
	if n := c.len(); n != 2 {
		t.Errorf("got %d entries, want 2: the stale ones swept", n)
	}
	if admin, ok := c.get(fresh, later); !ok || !admin {
		t.Errorf("fresh entry: got %v, %v, want kept", admin, ok)
	}
}
