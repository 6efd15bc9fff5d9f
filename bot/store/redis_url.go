package store

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The REDIS_URL forms:
//
//	redis://[user:password@]host:6379/db           one server
//	rediss://...                                   the same over TLS
//	redis+sentinel://[user:password@]host1:26379,host2:26379/master/db[?options]
//	redis+cluster://[user:password@]host1:7000,host2:7001[?options]
//
// (rediss+sentinel:// and rediss+cluster:// for TLS). The credentials are
// the data servers'; a Sentinel's own are the sentinel_username and
// sentinel_password options. The other options are go-redis's
// (dial_timeout, read_timeout, max_retries, pool_size, ...: see
// redis.ParseFailoverURL and redis.ParseClusterURL).

// ErrRedisURL is wrapped by every REDIS_URL error; none echoes the URL,
// which may hold a password.
var ErrRedisURL = errors.New("store: invalid REDIS_URL")

// NewRedisClient returns the client REDIS_URL names: a plain client, a
// Sentinel-backed failover client or a Cluster client. It does not connect.
func NewRedisClient(rawURL string) (redis.UniversalClient, error) {
	rdb, err := newRedisClient(rawURL)
	if err != nil {
		return nil, scrubSecrets(err, rawURL)
	}
	return rdb, nil
}

// CheckRedisURL reports what is wrong with a REDIS_URL, without echoing it.
func CheckRedisURL(rawURL string) error {
	rdb, err := NewRedisClient(rawURL)
	if err != nil {
		return err
	}
	return rdb.Close()
}

func newRedisClient(rawURL string) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("%w: want redis://, rediss://, redis+sentinel:// or redis+cluster://", ErrRedisURL)
	}
	switch scheme {
	case "redis", "rediss":
		opts, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, urlError(err)
		}
		return redis.NewClient(opts), nil
	case "redis+sentinel", "rediss+sentinel":
		opts, err := parseSentinelURL(strings.TrimSuffix(scheme, "+sentinel"), rest)
		if err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(opts), nil
	case "redis+cluster", "rediss+cluster":
		opts, err := parseClusterURL(strings.TrimSuffix(scheme, "+cluster"), rest)
		if err != nil {
			return nil, err
		}
		return redis.NewClusterClient(opts), nil
	default:
		return nil, fmt.Errorf("%w: unknown scheme %q: want redis://, rediss://, redis+sentinel:// or redis+cluster://", ErrRedisURL, scheme)
	}
}

// multiHost is a URL with several comma-separated hosts, split up.
type multiHost struct {
	userinfo string // with its "@", or empty
	hosts    []string
	path     []string // the path's segments
	query    url.Values
}

func splitMultiHost(rest string) (multiHost, error) {
	var m multiHost
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		m.userinfo, authority = authority[:i+1], authority[i+1:]
	}
	for h := range strings.SplitSeq(authority, ",") {
		if h == "" {
			return m, fmt.Errorf("%w: an empty host in the host list", ErrRedisURL)
		}
		m.hosts = append(m.hosts, h)
	}
	if len(m.hosts) == 0 {
		return m, fmt.Errorf("%w: no host", ErrRedisURL)
	}
	path, rawQuery, _ := strings.Cut(tail, "?")
	m.path = strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return m, fmt.Errorf("%w: the options after ? are not a valid query", ErrRedisURL)
	}
	m.query = q
	return m, nil
}

// goRedisURL rebuilds m as the one-host URL with addr= options that
// go-redis's parsers take.
func (m multiHost) goRedisURL(scheme, path string) string {
	q := m.query
	for _, h := range m.hosts[1:] {
		q.Add("addr", h)
	}
	u := scheme + "://" + m.userinfo + m.hosts[0] + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func parseSentinelURL(scheme, rest string) (*redis.FailoverOptions, error) {
	m, err := splitMultiHost(rest)
	if err != nil {
		return nil, err
	}
	if len(m.path) < 1 || len(m.path) > 2 {
		return nil, fmt.Errorf("%w: a Sentinel URL's path is /mastername or /mastername/db", ErrRedisURL)
	}
	master, db := m.path[0], "0"
	if len(m.path) == 2 {
		db = m.path[1]
	}
	if _, err := strconv.Atoi(db); err != nil {
		return nil, fmt.Errorf("%w: the database %q is not a number", ErrRedisURL, db)
	}
	// go-redis takes the URL's userinfo as the Sentinels' credentials and
	// the data servers' as options; this URL says it the other way round,
	// as one writes it for a plain server.
	user, pass := "", ""
	if m.userinfo != "" {
		ui, err := url.Parse("redis://" + m.userinfo + "x")
		if err != nil || ui.User == nil {
			return nil, fmt.Errorf("%w: the credentials before @ are not valid", ErrRedisURL)
		}
		user = ui.User.Username()
		pass, _ = ui.User.Password()
	}
	sentinelUser, sentinelPass := m.query.Get("sentinel_username"), m.query.Get("sentinel_password")
	m.query.Del("sentinel_username")
	m.query.Del("sentinel_password")
	m.userinfo = ""
	if sentinelUser != "" || sentinelPass != "" {
		m.userinfo = url.UserPassword(sentinelUser, sentinelPass).String() + "@"
	}
	m.query.Set("master_name", master)
	opts, err := redis.ParseFailoverURL(m.goRedisURL(scheme, "/"+db))
	if err != nil {
		return nil, urlError(err)
	}
	opts.Username, opts.Password = user, pass
	return opts, nil
}

func parseClusterURL(scheme, rest string) (*redis.ClusterOptions, error) {
	m, err := splitMultiHost(rest)
	if err != nil {
		return nil, err
	}
	if len(m.path) > 1 || (len(m.path) == 1 && m.path[0] != "0") {
		return nil, fmt.Errorf("%w: a Redis Cluster has database 0 only; leave the path out", ErrRedisURL)
	}
	opts, err := redis.ParseClusterURL(m.goRedisURL(scheme, ""))
	if err != nil {
		return nil, urlError(err)
	}
	return opts, nil
}

// urlError words a go-redis parse error without the URL: net/url's errors
// quote it whole, password included; go-redis's own name only the option
// or the part at fault.
func urlError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%w: not a valid URL", ErrRedisURL)
	}
	return fmt.Errorf("%w: %s", ErrRedisURL, strings.TrimPrefix(err.Error(), "redis: "))
}

// scrubSecrets is the last guard: should err's message quote a password of
// rawURL (its userinfo, or a password option), it returns an error of the
// same text with the password masked.
func scrubSecrets(err error, rawURL string) error {
	var secrets []string
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		authority := rest
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			authority = rest[:i]
		}
		if i := strings.LastIndex(authority, "@"); i >= 0 {
			if _, pass, ok := strings.Cut(authority[:i], ":"); ok {
				secrets = append(secrets, pass)
				if p, err := url.PathUnescape(pass); err == nil {
					secrets = append(secrets, p)
				}
			}
		}
		if _, rawQuery, ok := strings.Cut(rest, "?"); ok {
			if q, err := url.ParseQuery(rawQuery); err == nil {
				secrets = append(secrets, q["password"]...)
				secrets = append(secrets, q["sentinel_password"]...)
			}
		}
	}
	msg := err.Error()
	masked := msg
	for _, s := range secrets {
		if s != "" {
			masked = strings.ReplaceAll(masked, s, "xxxxx")
		}
	}
	if masked == msg {
		return err
	}
	return errors.New(masked) // the original could be unwrapped to the secret
}
