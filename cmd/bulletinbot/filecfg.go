package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/category"
	"github.com/bulletinbot/bulletinbot/poller/parse"

	"github.com/bulletinbot/bulletinbot/poller/redact"
)

// FileConfig is the optional YAML file named by CONFIG_FILE. Every part may
// be left out; what is left out keeps its default.
type FileConfig struct {
	category.Config `yaml:",inline"`
	// The bot's words: default_language, clocks, consular, texts.
	bot.Settings `yaml:",inline"`
	// Sources sets, per URL of SOURCES, how it is read: auto (default), feed or html.
	Sources []SourceConfig `yaml:"sources,omitempty"`
	// Health tunes source health alerts and readiness.
	Health HealthConfig `yaml:"health,omitempty"`
	// Delivery tunes how alerts are sent.
	Delivery DeliveryConfig `yaml:"delivery,omitempty"`
	// Polling tunes what a poll may announce.
	Polling PollingConfig `yaml:"polling,omitempty"`

	// dropped says what of the defaults was left out because the file
	// replaced the categories they name; run warns once.
	dropped droppedDefaults `yaml:"-"`
}

// droppedDefaults counts the built-in rules and feed mappings that name
// categories a file's own categories list leaves out.
type droppedDefaults struct{ rules, feedMappings int }

// PollingConfig tunes the poller.
type PollingConfig struct {
	// BurstLimit: when a source that was polled before shows more new
	// items than this in one poll, none is announced; admins are asked
	// (default 20; negative turns the guard off).
	BurstLimit int `yaml:"burst_limit,omitempty"`
	// BackfillPages is how many older pages of each HTML list source are
	// read once, following its pager, one a poll interval, and recorded
	// silently so that /search finds them (default 0: none; at most
	// maxBackfillPages).
	BackfillPages int `yaml:"backfill_pages,omitempty"`
}

// maxBackfillPages bounds the archive backfill: the embassy's lists hold
// about 15 entries a page; 200 pages is years of publications.
const maxBackfillPages = 200

// DeliveryConfig tunes sending.
type DeliveryConfig struct {
	// PaidBroadcast sends with allow_paid_broadcast, paid in Telegram Stars,
	// which lets SEND_RATE go above Telegram's free 30 a second, up to 1000.
	PaidBroadcast bool `yaml:"paid_broadcast,omitempty"`
	// LinkPreviews lets Telegram show a preview of each alert's link.
	LinkPreviews bool `yaml:"link_previews,omitempty"`
	// Lifetime is how long a message that keeps failing transiently
	// (Telegram down, a refused token) is retried before it becomes a
	// dead letter (default 24h, at least a minute).
	Lifetime time.Duration `yaml:"lifetime,omitempty"`
}

// freeSendRate is about what Telegram lets a bot send a second without paid
// broadcasts; above it the bot would be flood-limited.
const freeSendRate = 30

// checkWith reports problems that need both the settings and the file.
func (fc *FileConfig) checkWith(cfg *Config) error {
	if cfg.SendRate > freeSendRate && !fc.Delivery.PaidBroadcast {
		return fmt.Errorf("SEND_RATE %v exceeds the %d messages a second Telegram allows; lower it, or set delivery.paid_broadcast: true in CONFIG_FILE", cfg.SendRate, freeSendRate)
	}
	return nil
}

// HealthConfig tunes when a source counts as broken. Zero values keep the
// defaults.
type HealthConfig struct {
	// FailuresBeforeAlert polls failed in a row make admins get one alert
	// (default 3).
	FailuresBeforeAlert int `yaml:"failures_before_alert,omitempty"`
	// SilentAfter without a new publication raises one alert (default 14 days).
	SilentAfter time.Duration `yaml:"silent_after,omitempty"`
	// StaleAfter without a successful poll turns /readyz unhealthy
	// (default six poll intervals, at least 30 minutes).
	StaleAfter time.Duration `yaml:"stale_after,omitempty"`
}

func (h HealthConfig) staleAfter(pollInterval time.Duration) time.Duration {
	if h.StaleAfter > 0 {
		return h.StaleAfter
	}
	return max(6*pollInterval, 30*time.Minute)
}

// SourceConfig overrides how one source is read.
type SourceConfig struct {
	URL  string `yaml:"url"`
	Kind string `yaml:"kind"`
}

// loadFileConfig reads path; an empty path gives the defaults.
func loadFileConfig(path string) (*FileConfig, error) {
	// The file is decoded over the defaults: a consular card that names
	// only a new phone number keeps the rest of the default card.
	fc := &FileConfig{Settings: bot.DefaultSettings()}
	if path == "" {
		return fc, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CONFIG_FILE: cannot read %s: %w", path, unwrapPath(err))
	}
	if err := decodeYAML(path, b, fc); err != nil {
		return nil, err
	}
	var errs []error
	for _, s := range fc.Sources {
		if _, err := parse.ParseKind(s.Kind); err != nil {
			errs = append(errs, fmt.Errorf("CONFIG_FILE %s: source %s: %w", path, redact.URL(s.URL), err))
		}
	}
	if h := fc.Health; h.FailuresBeforeAlert < 0 || h.SilentAfter < 0 || h.StaleAfter < 0 {
		errs = append(errs, fmt.Errorf("CONFIG_FILE %s: health: values must not be negative", path))
	}
	if n := fc.Polling.BackfillPages; n < 0 || n > maxBackfillPages {
		errs = append(errs, fmt.Errorf("CONFIG_FILE %s: polling: backfill_pages %d is out of range; give 0 (none) to %d", path, n, maxBackfillPages))
	}
	if l := fc.Delivery.Lifetime; l != 0 && l < time.Minute {
		errs = append(errs, fmt.Errorf("CONFIG_FILE %s: delivery: lifetime %v is too short; give at least 1m (default 24h)", path, l))
	}
	if err := fc.Settings.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("CONFIG_FILE %s: %w", path, err))
	}
	if _, err := fc.categorizer(); err != nil {
		errs = append(errs, fmt.Errorf("CONFIG_FILE %s: %w", path, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return fc, nil
}

// categorizer merges the file's categories over the defaults. A file that
// replaces the categories but keeps the built-in rules or feed mappings
// keeps only those that name one of its categories: the others would be
// errors the user never wrote (fc.dropped counts them).
func (fc *FileConfig) categorizer() (*category.Categorizer, error) {
	cfg := category.Default()
	fc.dropped = droppedDefaults{}
	if len(fc.Categories) > 0 {
		cfg.Categories = fc.Categories
		known := make(map[string]bool, len(fc.Categories))
		for _, c := range fc.Categories {
			known[c.ID] = true
		}
		if len(fc.Rules) == 0 {
			kept := cfg.Rules[:0:0]
			for _, r := range cfg.Rules {
				if known[r.Category] {
					kept = append(kept, r)
				}
			}
			fc.dropped.rules = len(cfg.Rules) - len(kept)
			cfg.Rules = kept
		}
		if len(fc.FeedMap) == 0 {
			kept := make(map[string]string, len(cfg.FeedMap))
			for k, id := range cfg.FeedMap {
				if known[id] {
					kept[k] = id
				}
			}
			fc.dropped.feedMappings = len(cfg.FeedMap) - len(kept)
			cfg.FeedMap = kept
		}
	}
	if len(fc.Rules) > 0 {
		cfg.Rules = fc.Rules
	}
	if len(fc.FeedMap) > 0 {
		cfg.FeedMap = fc.FeedMap
	}
	return category.New(cfg)
}

// warnDropped logs, once, what of the defaults the file's categories
// left out.
func (fc *FileConfig) warnDropped(logger *slog.Logger) {
	if d := fc.dropped; d.rules+d.feedMappings > 0 {
		logger.Warn("CONFIG_FILE replaces the categories: built-in rules and feed categories naming other categories are left out; add your own rules",
			slog.Int("rules_dropped", d.rules), slog.Int("feed_categories_dropped", d.feedMappings))
	}
}

// unwrapPath drops the *PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sources pairs each URL with how the file says to read it.
func (fc *FileConfig) sources(urls []string) []poller.Source {
	kinds := make(map[string]parse.Kind, len(fc.Sources))
	for _, s := range fc.Sources {
		k, _ := parse.ParseKind(s.Kind)
		kinds[s.URL] = k
	}
	out := make([]poller.Source, len(urls))
	for i, u := range urls {
		out[i] = poller.Source{URL: u, Kind: kinds[u]}
	}
	return out
}
