// Package category owns the classification of publications: the list of
// category ids subscribers choose from, their display names, and the ordered
// rules that give every publication exactly one of those ids, from the
// category its feed declares or else from its title.
//
// Rules are matched against the normalised title (see Normalize). A prefix
// matches when the title, less any leading punctuation, starts with it; a
// contains-pattern matches when it occurs at the start of a word anywhere in
// the title, so "visa" matches "visas" and "visa-free" but not "advisable".
// Patterns are therefore word beginnings: "заявлени" matches "заявление" and
// "заявления".
package category

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Other is the id every configuration must define; it is given to a
// publication that no feed category and no rule claims.
const Other = "other"

// maxIDLen keeps ids short enough to sit, with room to spare, in Telegram
// callback data (64 bytes) next to other fields.
const maxIDLen = 32

// Category is one category subscribers can choose.
type Category struct {
	ID    string            `yaml:"id"`
	Names map[string]string `yaml:"names"` // by language: "en", "ru"
	// Urgent alerts ring the phone even in a chat's quiet hours; the
	// others are sent silently. Left out: urgent for the "consular"
	// category (notices, closures), routine for the rest.
	Urgent *bool `yaml:"urgent,omitempty"`
}

// Consular is the category urgent by default.
const Consular = "consular"

// Rule assigns Category to a title that starts with any of Prefixes or
// contains any of Contains (both compared after Normalize).
type Rule struct {
	Category string   `yaml:"category"`
	Prefixes []string `yaml:"prefixes,omitempty"` // title starts with (after normalisation)
	Contains []string `yaml:"contains,omitempty"` // title contains, at a word start
}

// Config is the `categories:` part of the YAML config file; any field left
// empty keeps the default (see Default). Rules are tried in order and the
// first match wins, so a custom Rules list replaces the default one whole.
type Config struct {
	Categories []Category        `yaml:"categories,omitempty"`
	Rules      []Rule            `yaml:"rules,omitempty"`
	FeedMap    map[string]string `yaml:"feed_categories,omitempty"` // a feed's own category (normalised) -> id
}

// ErrInvalidConfig is matched (errors.Is) by every error New returns.
var ErrInvalidConfig = errors.New("category: invalid config")

// ConfigError is one problem in a Config; New joins all of them.
type ConfigError struct {
	Field   string // e.g. "rules[2].category"
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("category: %s: %s", e.Field, e.Problem)
}

// Unwrap lets callers test any problem with errors.Is(err, ErrInvalidConfig).
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Categorizer assigns categories. It is immutable after New and safe for
// concurrent use.
type Categorizer struct {
	categories []Category
	known      map[string]int // id -> index in categories
	rules      []rule
	feedMap    map[string]string // normalised feed category -> id
}

// rule is a Rule with its patterns normalised once.
type rule struct {
	category string
	prefixes []string
	contains []string
}

// New checks cfg, with empty fields taken from Default, and returns a
// Categorizer. It reports every problem at once, joined with errors.Join:
// unknown or duplicate ids, a missing "other", rules without patterns,
// patterns or feed categories that normalise to nothing, and feed categories
// that collide after normalisation.
func New(cfg Config) (*Categorizer, error) {
	def := Default()
	if len(cfg.Categories) == 0 {
		cfg.Categories = def.Categories
	}
	if len(cfg.Rules) == 0 {
		cfg.Rules = def.Rules
	}
	if len(cfg.FeedMap) == 0 {
		cfg.FeedMap = def.FeedMap
	}

	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}

	c := &Categorizer{
		known:   make(map[string]int, len(cfg.Categories)),
		feedMap: make(map[string]string, len(cfg.FeedMap)),
	}
	for i, cat := range cfg.Categories {
		field := fmt.Sprintf("categories[%d].id", i)
		if problem := checkID(cat.ID); problem != "" {
			bad(field, "%s", problem)
			continue
		}
		if _, dup := c.known[cat.ID]; dup {
			bad(field, "duplicate category %q", cat.ID)
			continue
		}
		names := make(map[string]string, len(cat.Names))
		for lang, name := range cat.Names {
			names[strings.ToLower(lang)] = name
		}
		c.known[cat.ID] = len(c.categories)
		urgent := cat.ID == Consular
		if cat.Urgent != nil {
			urgent = *cat.Urgent
		}
		c.categories = append(c.categories, Category{ID: cat.ID, Names: names, Urgent: &urgent})
	}
	if _, ok := c.known[Other]; !ok {
		bad("categories", "category %q must exist: it takes what no rule claims", Other)
	}

	for i, r := range cfg.Rules {
		if _, ok := c.known[r.Category]; !ok {
			bad(fmt.Sprintf("rules[%d].category", i), "unknown category %q", r.Category)
		}
		if len(r.Prefixes)+len(r.Contains) == 0 {
			bad(fmt.Sprintf("rules[%d]", i), "no prefixes and no contains: the rule can never match")
		}
		cr := rule{category: r.Category}
		for j, p := range r.Prefixes {
			n := Normalize(p)
			if n == "" {
				bad(fmt.Sprintf("rules[%d].prefixes[%d]", i, j), "empty pattern")
				continue
			}
			cr.prefixes = append(cr.prefixes, n)
		}
		for j, p := range r.Contains {
			n := Normalize(p)
			if n == "" {
				bad(fmt.Sprintf("rules[%d].contains[%d]", i, j), "empty pattern")
				continue
			}
			cr.contains = append(cr.contains, n)
		}
		c.rules = append(c.rules, cr)
	}

	original := make(map[string]string, len(cfg.FeedMap)) // normalised -> key as written
	for _, key := range slices.Sorted(maps.Keys(cfg.FeedMap)) {
		id := cfg.FeedMap[key]
		field := fmt.Sprintf("feed_categories[%q]", key)
		if _, ok := c.known[id]; !ok {
			bad(field, "unknown category %q", id)
		}
		n := Normalize(key)
		if n == "" {
			bad(field, "empty feed category")
			continue
		}
		if prev, dup := original[n]; dup && c.feedMap[n] != id {
			bad(field, "same as %q after normalisation but maps to %q, not %q", prev, id, c.feedMap[n])
			continue
		}
		original[n] = key
		c.feedMap[n] = id
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// checkID returns why id is unusable, or "".
func checkID(id string) string {
	if id == "" {
		return "empty id"
	}
	if len(id) > maxIDLen {
		return fmt.Sprintf("id %q is longer than %d bytes", id, maxIDLen)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Sprintf("id %q may hold only a-z, 0-9, '-' and '_'", id)
		}
	}
	return ""
}

// Categorize returns the category of a publication: the first of
// feedCategories that FeedMap knows, else the category of the first rule
// matching the title, else Other. The result is always Known.
func (c *Categorizer) Categorize(title string, feedCategories []string) string {
	for _, fc := range feedCategories {
		if id, ok := c.feedMap[Normalize(fc)]; ok {
			return id
		}
	}
	t := Normalize(title)
	// Titles sometimes open with a quote or a bullet; prefixes are about the
	// first word.
	head := strings.TrimLeftFunc(t, func(r rune) bool { return !isWordRune(r) })
	for _, r := range c.rules {
		if r.matches(t, head) {
			return r.category
		}
	}
	return Other
}

func (r *rule) matches(title, head string) bool {
	for _, p := range r.prefixes {
		if strings.HasPrefix(head, p) || strings.HasPrefix(title, p) {
			return true
		}
	}
	for _, p := range r.contains {
		if containsAtWordStart(title, p) {
			return true
		}
	}
	return false
}

// containsAtWordStart reports whether pattern occurs in s where it is not
// glued to a preceding letter or digit. A pattern that itself starts with
// punctuation ("'s address") may follow anything.
func containsAtWordStart(s, pattern string) bool {
	first, _ := utf8.DecodeRuneInString(pattern)
	needBoundary := isWordRune(first)
	for from := 0; from <= len(s)-len(pattern); {
		i := strings.Index(s[from:], pattern)
		if i < 0 {
			return false
		}
		i += from
		if !needBoundary {
			return true
		}
		prev, _ := utf8.DecodeLastRuneInString(s[:i])
		if i == 0 || !isWordRune(prev) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		from = i + size
	}
	return false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// Categories returns the categories in display order. The result is a copy.
func (c *Categorizer) Categories() []Category {
	out := make([]Category, len(c.categories))
	for i, cat := range c.categories {
		names := make(map[string]string, len(cat.Names))
		for k, v := range cat.Names {
			names[k] = v
		}
		urgent := *cat.Urgent
		out[i] = Category{ID: cat.ID, Names: names, Urgent: &urgent}
	}
	return out
}

// Name returns the name of category id in lang ("ru", or "en-GB" which falls
// back to "en"), else its English name, else id itself.
func (c *Categorizer) Name(id, lang string) string {
	i, ok := c.known[id]
	if !ok {
		return id
	}
	names := c.categories[i].Names
	lang = strings.ToLower(lang)
	base, _, _ := strings.Cut(lang, "-")
	for _, l := range []string{lang, base, "en"} {
		if n := names[l]; n != "" {
			return n
		}
	}
	return id
}

// Urgent reports whether alerts of category id ring even in quiet hours;
// an unknown id is routine.
func (c *Categorizer) Urgent(id string) bool {
	i, ok := c.known[id]
	return ok && *c.categories[i].Urgent
}

// Known reports whether id is a configured category.
func (c *Categorizer) Known(id string) bool {
	_, ok := c.known[id]
	return ok
}
