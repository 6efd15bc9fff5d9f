package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/store"
	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// Secret holds a value that must never reach a log line, an error or a
// metric: it prints as [redacted] however it is formatted.
type Secret string

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return "[redacted]" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (s Secret) Reveal() string             { return string(s) }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// defaultSources are the embassy's two publication lists.
const defaultSources = "https://www.rusemb.org.uk/newarh/,https://www.rusemb.org.uk/apress_arh/"

// Config is every setting of bulletinbot. Each comes from an environment
// variable and a flag of the same name in lower case with dashes; the flag
// wins. Defaults are given beside each field.
type Config struct {
	Token         Secret        // TELEGRAM_BOT_TOKEN; required for run
	TokenFile     string        // TELEGRAM_BOT_TOKEN_FILE; read when TELEGRAM_BOT_TOKEN is empty
	APIEndpoint   string        // TELEGRAM_API_ENDPOINT; default https://api.telegram.org/bot%s/%s
	RedisURL      Secret        // REDIS_URL; unset = embedded store (may hold a password)
	DataDir       string        // DATA_DIR; default ./data
	Sources       []string      // SOURCES; default the embassy's /newarh/ and /apress_arh/
	PollInterval  time.Duration // POLL_INTERVAL; default 5m, at least 1s
	AdminIDs      []int64       // ADMIN_IDS; default none
	HTTPAddr      string        // HTTP_ADDR; default 127.0.0.1:8080
	SendRate      float64       // SEND_RATE; default 25 messages/s over all replicas
	WebhookURL    string        // WEBHOOK_URL; unset = long polling
	WebhookSecret Secret        // WEBHOOK_SECRET; required with WEBHOOK_URL
	ConfigFile    string        // CONFIG_FILE; optional YAML: categories, sources, consular card, clocks, texts
	LogLevel      string        // LOG_LEVEL; default info
	LogFormat     string        // LOG_FORMAT; default text

	// parseErrs are conversion problems, reported by Validate with the rest.
	parseErrs []error
	// parsedRate is set when SEND_RATE was a number, so that Validate
	// does not repeat an unreadable one as out of range.
	parsedRate bool
}

// rawConfig is every setting as the text it was given in.
type rawConfig struct {
	token, tokenFile, endpoint, redisURL, dataDir, sources, interval, admins   string
	httpAddr, rate, webhookURL, webhookSecret, configFile, logLevel, logFormat string
}

// setting describes one variable for parsing and for -h.
type setting struct {
	env, def, help string
	dst            *string
}

func (r *rawConfig) settings() []setting {
	return []setting{
		{"TELEGRAM_BOT_TOKEN", "", "bot token from @BotFather (required for run; never logged)", &r.token},
		{"TELEGRAM_BOT_TOKEN_FILE", "", "file holding the bot token, used when TELEGRAM_BOT_TOKEN is empty", &r.tokenFile},
		{"TELEGRAM_API_ENDPOINT", "https://api.telegram.org/bot%s/%s", "Bot API endpoint, with %s for the token and the method", &r.endpoint},
		{"REDIS_URL", "", "redis://, rediss://, redis+sentinel:// or redis+cluster:// URL (see README); unset = embedded store in DATA_DIR", &r.redisURL},
		{"DATA_DIR", "./data", "where the embedded store lives", &r.dataDir},
		{"SOURCES", defaultSources, "comma-separated source URLs (feeds or HTML publication lists)", &r.sources},
		{"POLL_INTERVAL", "5m", "time between polls of a source (Go duration, at least 1s)", &r.interval},
		{"ADMIN_IDS", "", "comma-separated Telegram user ids allowed to use staff commands", &r.admins},
		{"HTTP_ADDR", "127.0.0.1:8080", "listener for /healthz, /readyz, /metrics and the webhook", &r.httpAddr},
		{"SEND_RATE", "25", "messages per second over all replicas", &r.rate},
		{"WEBHOOK_URL", "", "public https URL for webhook mode (http only with a self-hosted TELEGRAM_API_ENDPOINT); unset = long polling", &r.webhookURL},
		{"WEBHOOK_SECRET", "", "secret Telegram sends with each webhook call (16-256 of A-Z a-z 0-9 _ -)", &r.webhookSecret},
		{"CONFIG_FILE", "", "optional YAML file: categories and rules, sources, consular card, clocks, texts", &r.configFile},
		{"LOG_LEVEL", "info", "debug, info, warn or error", &r.logLevel},
		{"LOG_FORMAT", "text", "text or json", &r.logFormat},
	}
}

func flagName(env string) string { return strings.ReplaceAll(strings.ToLower(env), "_", "-") }

// runSynopsis is the usage line of the service.
const runSynopsis = `Usage: bulletinbot [run] [flags]
       bulletinbot preview [-json] [flags] [URL...]

Runs the service: polls the sources and announces new publications in Telegram.`

// previewSynopsis is the usage line of preview.
const previewSynopsis = `Usage: bulletinbot preview [-json] [flags] [URL...]

Fetches the sources (SOURCES, or the URLs given) once and prints what would be
announced, touching no store and no Telegram.`

// parseConfig reads the environment, then the flags in args, and returns the
// arguments left over. With -h it prints every setting to stdout and
// returns flag.ErrHelp; a flag it does not know is said on stderr.
func parseConfig(name string, args []string, getenv func(string) string, stdout, stderr io.Writer) (*Config, []string, error) {
	return parseConfigWith(name, runSynopsis, args, getenv, stdout, stderr, nil)
}

// parseConfigWith is parseConfig with the usage line and extra flags of a
// subcommand.
func parseConfigWith(name, synopsis string, args []string, getenv func(string) string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (*Config, []string, error) {
	var raw rawConfig
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own messages are replaced by ours below.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	settings := raw.settings()
	for _, s := range settings {
		val := s.def
		if v := getenv(s.env); v != "" {
			val = v
		}
		fs.StringVar(s.dst, flagName(s.env), val, s.help)
	}
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, synopsis, settings, fs)
			return nil, nil, err
		}
		fmt.Fprintf(stderr, "%s: %v\nSee %s -h for every flag and setting.\n", name, err, name)
		return nil, nil, err
	}
	return raw.build(), fs.Args(), nil
}

func isSetting(settings []setting, flag string) bool {
	for _, s := range settings {
		if flagName(s.env) == flag {
			return true
		}
	}
	return false
}

func printUsage(w io.Writer, synopsis string, settings []setting, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\n", synopsis)
	var own []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !isSetting(settings, f.Name) {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprintf(w, "Flags:\n")
		for _, f := range own {
			fmt.Fprintf(w, "  -%s\n        %s\n", f.Name, f.Usage)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Settings: each is an environment variable and a flag; the flag wins.\n\n")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "unset"
		}
		fmt.Fprintf(w, "  -%s, %s\n        %s (default: %s)\n", flagName(s.env), s.env, s.help, def)
	}
}

// build converts the raw text and reads the token file; conversion problems
// are kept for Validate, which reports them with every other problem.
func (r *rawConfig) build() *Config {
	c := &Config{
		Token: Secret(r.token), TokenFile: r.tokenFile, APIEndpoint: r.endpoint,
		RedisURL: Secret(r.redisURL), DataDir: r.dataDir, Sources: splitList(r.sources),
		HTTPAddr: r.httpAddr, WebhookURL: r.webhookURL, WebhookSecret: Secret(r.webhookSecret),
		ConfigFile: r.configFile, LogLevel: r.logLevel, LogFormat: r.logFormat,
	}
	var errs []error
	for _, a := range splitList(r.admins) {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("ADMIN_IDS: %q is not a Telegram user id (a whole number)", a))
			continue
		}
		c.AdminIDs = append(c.AdminIDs, id)
	}
	if d, err := time.ParseDuration(r.interval); err != nil {
		errs = append(errs, fmt.Errorf("POLL_INTERVAL: %q is not a duration such as 90s or 5m", r.interval))
	} else {
		c.PollInterval = d
	}
	if rate, err := strconv.ParseFloat(r.rate, 64); err != nil {
		errs = append(errs, fmt.Errorf("SEND_RATE: %q is not a number of messages per second", r.rate))
	} else {
		c.SendRate, c.parsedRate = rate, true
	}
	if c.Token == "" && c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("TELEGRAM_BOT_TOKEN_FILE: %w", err))
		} else {
			c.Token = Secret(strings.TrimSpace(string(b)))
		}
	}
	c.parseErrs = errs
	return c
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate returns every problem of the configuration at once, in words a
// user understands. needToken is false for commands that never talk to
// Telegram (preview).
func (c *Config) Validate(needToken bool) error {
	errs := append([]error(nil), c.parseErrs...)
	if needToken {
		switch {
		case c.Token == "":
			errs = append(errs, errors.New("TELEGRAM_BOT_TOKEN: required (or TELEGRAM_BOT_TOKEN_FILE); get one from @BotFather"))
		case !strings.Contains(c.Token.Reveal(), ":"):
			errs = append(errs, errors.New("TELEGRAM_BOT_TOKEN: does not look like a bot token (<id>:<secret>)"))
		}
	}
	if strings.Count(c.APIEndpoint, "%s") != 2 {
		errs = append(errs, errors.New("TELEGRAM_API_ENDPOINT: must hold two %s, for the token and the method"))
	}
	if r := c.RedisURL.Reveal(); r != "" {
		if err := store.CheckRedisURL(r); err != nil {
			errs = append(errs, fmt.Errorf("REDIS_URL: %s", strings.TrimPrefix(err.Error(), store.ErrRedisURL.Error()+": ")))
		}
	}
	if c.RedisURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("DATA_DIR: required when REDIS_URL is unset"))
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("SOURCES: at least one source URL is needed"))
	}
	for _, s := range c.Sources {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("SOURCES: %q is not an http(s) URL", redact.URL(s)))
		}
	}
	if c.PollInterval != 0 && c.PollInterval < time.Second {
		errs = append(errs, fmt.Errorf("POLL_INTERVAL: %s is too short; at least 1s", c.PollInterval))
	}
	switch {
	case c.parsedRate && c.SendRate <= 0:
		errs = append(errs, fmt.Errorf("SEND_RATE: %v would send nothing; give the messages per second to send, more than 0 (default 25)", c.SendRate))
	case c.SendRate > maxSendRate:
		errs = append(errs, fmt.Errorf("SEND_RATE: %v is more than Telegram lets any bot send, %d messages per second (with paid broadcasts)", c.SendRate, maxSendRate))
	}
	if err := checkHTTPAddr(c.HTTPAddr); err != nil {
		errs = append(errs, err)
	}
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			errs = append(errs, errors.New("WEBHOOK_URL: must be an https:// URL that reaches HTTP_ADDR through your proxy"))
		case u.Scheme == "http" && c.officialAPI():
			errs = append(errs, errors.New("WEBHOOK_URL: api.telegram.org only calls https:// webhooks; http:// is for a self-hosted Bot API server set in TELEGRAM_API_ENDPOINT"))
		}
		if !validWebhookSecret(c.WebhookSecret.Reveal()) {
			errs = append(errs, fmt.Errorf("WEBHOOK_SECRET: required with WEBHOOK_URL; %d to %d characters of A-Z a-z 0-9 _ - (for example the output of: openssl rand -hex 24)", minWebhookSecret, maxWebhookSecret))
		}
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT: %q is neither text nor json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// maxSendRate is Telegram's ceiling with paid broadcasts.
const maxSendRate = 1000

// checkHTTPAddr checks HTTP_ADDR's form, host:port, before anything starts;
// whether the port is free is found when run listens, before the store
// opens.
func checkHTTPAddr(addr string) error {
	if addr == "" {
		return errors.New("HTTP_ADDR: required, e.g. 127.0.0.1:8080")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %q is not host:port, e.g. 127.0.0.1:8080 or :8080", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("HTTP_ADDR: %q has no port number from 0 to 65535", addr)
	}
	return nil
}

// checkDataDir makes sure the embedded store can live in DATA_DIR: it
// exists or can be made, is a directory, and is writable.
func checkDataDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("DATA_DIR: %s is a file, not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("DATA_DIR: cannot create %s: %w", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("DATA_DIR: cannot write in %s: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return nil
}

// Bounds of WEBHOOK_SECRET: Telegram takes at most 256 characters, and
// fewer than 16 could be guessed by anyone who can reach the listener.
const (
	minWebhookSecret = 16
	maxWebhookSecret = 256
)

// officialAPI reports whether TELEGRAM_API_ENDPOINT is Telegram's own
// server, which calls webhooks over https only; a self-hosted Bot API
// server (--local) calls http:// too.
func (c *Config) officialAPI() bool {
	u, err := url.Parse(strings.Replace(c.APIEndpoint, "%s", "x", 2))
	if err != nil {
		return true // the endpoint's own check reports it
	}
	// "api.telegram.org." (a fully qualified name) is the same server.
	return strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), "api.telegram.org")
}

// insecureWebhook reports an http:// WEBHOOK_URL, which Validate allows only
// with a self-hosted Bot API server; run warns about it.
func (c *Config) insecureWebhook() bool {
	u, err := url.Parse(c.WebhookURL)
	return err == nil && u.Scheme == "http"
}

func validWebhookSecret(s string) bool {
	if len(s) < minWebhookSecret || len(s) > maxWebhookSecret {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}
