package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulletinbot/bulletinbot/bot/store/storetest"
)

func TestNewRedisClientForms(t *testing.T) {
	tests := []struct {
		url   string
		check func(t *testing.T, c redis.UniversalClient)
	}{
		{"redis://:pw@127.0.0.1:6379/3", func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.Client).Options()
			if o.Addr != "127.0.0.1:6379" || o.DB != 3 || o.Password != "pw" {
				t.Fatalf("got addr %s db %d, want 127.0.0.1:6379 db 3 with the password", o.Addr, o.DB)
			}
		}},
		{"redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380/mymaster/2?dial_timeout=3s&sentinel_password=sp", func(t *testing.T, c redis.UniversalClient) {
			// A failover client is a *redis.Client whose dialer asks the
			// Sentinels; its options show the data servers' side.
			o := c.(*redis.Client).Options()
			if o.DB != 2 || o.Password != "s3cret" || o.DialTimeout != 3*time.Second {
				t.Fatalf("got db %d, dial timeout %v; want db 2, 3s and the password", o.DB, o.DialTimeout)
			}
		}},
		{"redis+cluster://user:pw@10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:7002?read_timeout=2s", func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.ClusterClient).Options()
			want := "10.0.0.1:7000 10.0.0.2:7001 10.0.0.3:7002"
			if got := strings.Join(o.Addrs, " "); got != want || o.Username != "user" || o.Password != "pw" || o.ReadTimeout != 2*time.Second {
				t.Fatalf("got addrs %s, user %q, read timeout %v; want %s, user, 2s", got, o.Username, o.ReadTimeout, want)
			}
		}},
	}
	for _, tt := range tests {
		c, err := NewRedisClient(tt.url)
		if err != nil {
			t.Fatalf("NewRedisClient: %v", err)
		}
		tt.check(t, c)
		_ = c.Close()
	}
}

func TestNewRedisClientSentinelOptions(t *testing.T) {
	o, err := parseSentinelURL("redis", ":s3cret@h1:26379,h2:26379/mymaster?sentinel_username=su&sentinel_password=sp&max_retries=7")
	if err != nil {
		t.Fatal(err)
	}
	if o.MasterName != "mymaster" || o.DB != 0 || o.Password != "s3cret" || o.SentinelUsername != "su" || o.SentinelPassword != "sp" ||
		o.MaxRetries != 7 || strings.Join(o.SentinelAddrs, ",") != "h1:26379,h2:26379" {
		t.Fatalf("got %+v, want master mymaster, db 0, both credentials, 7 retries, two sentinels", o)
	}
}

// TestRedisURLErrorsNeverEchoThePassword: every bad URL gets a clear error
// that names what is wrong, and none quotes the password.
func TestRedisURLErrorsNeverEchoThePassword(t *testing.T) {
	const pw = "hunter2secret"
	tests := []struct{ url, want string }{
		{"http://:" + pw + "@h:6379", "unknown scheme"},
		{"redis//:" + pw + "@h", "want redis://"},
		{"redis://:" + pw + "@h:6379/x", "database"},
		{"redis://:" + pw + "@h:6379/0?bogus=1", "bogus"},
		{"redis://:" + pw + "@h:%zz/0", "not a valid URL"},
		{"redis+sentinel://:" + pw + "@h1:26379,h2:26379", "mastername"},
		{"redis+sentinel://:" + pw + "@h1:26379/m/x", "not a number"},
		{"redis+sentinel://:" + pw + "@h1:26379,,h2/m", "empty host"},
		{"redis+sentinel://:" + pw + "@h1:26379/m?password=" + pw + "&nope=1", "nope"},
		{"redis+cluster://:" + pw + "@h1:7000,h2:7001/3", "database 0 only"},
		{"redis+cluster://:" + pw + "@h1:7000?unknown_opt=" + pw, "unknown_opt"},
	}
	for _, tt := range tests {
		_, err := NewRedisClient(tt.url)
		if err == nil {
			t.Errorf("NewRedisClient(%q): got no error", strings.ReplaceAll(tt.url, pw, "…"))
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error %q echoes the password", err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %q, want it to mention %q", err, tt.want)
		}
		if !errors.Is(err, ErrRedisURL) && !strings.HasPrefix(err.Error(), ErrRedisURL.Error()) {
			t.Errorf("error %q is not an ErrRedisURL", err)
		}
	}
}

// TestOpenRedisOnClusterAndSentinel opens the store by URL on real rigs.
func TestOpenRedisOnClusterAndSentinel(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func(t *testing.T) string{
		"cluster":  func(t *testing.T) string { return storetest.Cluster(t).URL() },
		"sentinel": func(t *testing.T) string { return storetest.Sentinel(t, time.Second).URL() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r, err := OpenRedis(ctx, url(t))
			if err != nil {
				t.Fatalf("OpenRedis: %v", err)
			}
			defer r.Close()
			if err := r.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			mine, _, err := r.ClaimPoll(ctx, "https://example.org/feed", time.Now(), time.Minute)
			if err != nil || !mine {
				t.Fatalf("ClaimPoll = %v, %v; want the turn", mine, err)
			}
		})
	}
}
