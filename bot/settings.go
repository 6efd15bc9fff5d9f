package bot

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
)

// Settings are what an operator may change about the bot's words without
// touching code; cmd loads them from the CONFIG_FILE YAML over
// DefaultSettings. Every field left out keeps its default.
type Settings struct {
	// DefaultLanguage answers chats whose Telegram language the bot does not
	// speak: "en" or "ru".
	DefaultLanguage string `yaml:"default_language,omitempty"`
	// Clocks are shown by /time, in order; the first one's date heads the
	// answer, as on the embassy's site.
	Clocks []Clock `yaml:"clocks,omitempty"`
	// Consular is the card /consular shows.
	Consular Consular `yaml:"consular,omitempty"`
	// Texts replace texts of the message catalog: language -> key -> text
	// (Telegram HTML with the same {placeholders} as the built-in text; a
	// count as a plural, {count, plural, one {# chat} other {# chats}}).
	Texts map[string]map[string]string `yaml:"texts,omitempty"`
	// StaffZone is the IANA time zone of the times staff see (/stats,
	// /broadcasts, reports and notices); default Europe/London.
	StaffZone string `yaml:"staff_zone,omitempty"`
}

// StaffLocation returns StaffZone loaded; Validate has checked it.
func (s Settings) StaffLocation() *time.Location {
	if loc, err := time.LoadLocation(s.StaffZone); err == nil && s.StaffZone != "" {
		return loc
	}
	return time.UTC
}

// Clock is one time zone of /time.
type Clock struct {
	Zone  string    `yaml:"zone"`  // IANA name, e.g. Europe/Moscow
	Label Localized `yaml:"label"` // e.g. {en: Moscow, ru: Москва}
}

// Consular is the consular section's card. Empty fields are left out.
type Consular struct {
	Title       Localized `yaml:"title,omitempty"`
	Phone       string    `yaml:"phone,omitempty"`
	Email       string    `yaml:"email,omitempty"`
	Address     Localized `yaml:"address,omitempty"`
	OpeningDays Localized `yaml:"opening_days,omitempty"`
	Link        string    `yaml:"link,omitempty"`         // http(s) URL
	LastChecked string    `yaml:"last_checked,omitempty"` // YYYY-MM-DD: when someone last checked the card against the site
	// Pin keeps Phone and Email as written here even when the header of
	// the embassy's pages shows others (the poller reads them from there).
	Pin bool `yaml:"pin,omitempty"`
	// Hours are the opening hours in London time; none leaves out the
	// "open now" line.
	Hours *OfficeHours `yaml:"hours,omitempty"`
	// Holidays are the days the section is closed: "MM-DD" every year, or
	// "YYYY-MM-DD" once. The default is the Russian public holidays.
	Holidays []string `yaml:"holidays,omitempty"`
	// Map is where the section is, for the button that sends it as a map.
	Map *Place `yaml:"map,omitempty"`
}

// OfficeHours are the days and times the consular section opens.
type OfficeHours struct {
	Days  []string `yaml:"days"`  // mon, tue, wed, thu, fri, sat, sun
	Open  string   `yaml:"open"`  // HH:MM
	Close string   `yaml:"close"` // HH:MM, after Open
}

// Place is a point on the map.
type Place struct {
	Latitude  float64 `yaml:"latitude"`
	Longitude float64 `yaml:"longitude"`
}

// Localized is a text per language. In YAML it is either a mapping
// ({en: ..., ru: ...}) or one string for every language.
type Localized map[string]string

// UnmarshalYAML accepts a plain string as the text for every language, and
// replaces rather than merges a default, so that a file's value is exactly
// what it says.
func (l *Localized) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = Localized{"": s}
		return nil
	}
	m := map[string]string{}
	if err := n.Decode(&m); err != nil {
		return err
	}
	*l = m
	return nil
}

// In returns the text for lang, else for def, else the language-neutral
// one, else English, else any (the first language in sorted order).
func (l Localized) In(lang, def string) string {
	for _, k := range []string{lang, def, "", "en"} {
		if s, ok := l[k]; ok && s != "" {
			return s
		}
	}
	for _, k := range slices.Sorted(maps.Keys(l)) {
		if l[k] != "" {
			return l[k]
		}
	}
	return ""
}

// DefaultSettings returns the embassy's settings. Each call builds a fresh
// value, so callers may change it.
func DefaultSettings() Settings {
	return Settings{
		DefaultLanguage: "en",
		StaffZone:       "Europe/London",
		Clocks: []Clock{
			{Zone: "Europe/Moscow", Label: Localized{"en": "Moscow", "ru": "Москва"}},
			{Zone: "Europe/London", Label: Localized{"en": "London", "ru": "Лондон"}},
		},
		Consular: Consular{
			Title: Localized{
				"en": "Consular Section of the Embassy of Russia in the UK",
				"ru": "Консульский отдел посольства России в Великобритании",
			},
			Phone: "+44 (0) 203 668 7474",
			Email: "info@rusemb.org.uk",
			Address: Localized{
				"en": "Consular Section, 5 Kensington Palace Gardens, London W8 4QS",
				"ru": "Консульский отдел, 5 Kensington Palace Gardens, London W8 4QS",
			},
			OpeningDays: Localized{
				"en": "Monday to Friday, except public holidays; please check the site before you come",
				"ru": "с понедельника по пятницу, кроме праздничных дней; перед визитом проверьте на сайте",
			},
			Link:        "https://www.rusemb.org.uk/",
			LastChecked: "2026-11-29",
			Hours:       &OfficeHours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:30", Close: "12:30"},
			Holidays:    RussianHolidays(),
			Map:         &Place{Latitude: 51.5069, Longitude: -0.1887},
		},
	}
}

// withDefaults fills the parts left empty from DefaultSettings.
func (s Settings) withDefaults() Settings {
	def := DefaultSettings()
	if s.DefaultLanguage == "" {
		s.DefaultLanguage = def.DefaultLanguage
	}
	if s.StaffZone == "" {
		s.StaffZone = def.StaffZone
	}
	if len(s.Clocks) == 0 {
		s.Clocks = def.Clocks
	}
	c := s.Consular
	if len(c.Title)+len(c.Address)+len(c.OpeningDays) == 0 && c.Phone == "" && c.Email == "" && c.Link == "" && c.LastChecked == "" {
		s.Consular = def.Consular
	}
	return s
}

// Validate reports every problem of the settings at once.
func (s Settings) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("bot settings: "+format, args...)) }
	if s.DefaultLanguage != "" && !slices.Contains(i18n.Languages(), s.DefaultLanguage) {
		bad("default_language %q is not one of %s", s.DefaultLanguage, strings.Join(i18n.Languages(), ", "))
	}
	if _, err := time.LoadLocation(s.StaffZone); err != nil || s.StaffZone == "" {
		bad("staff_zone %q is not a known time zone (use IANA names such as Europe/London)", s.StaffZone)
	}
	if _, err := time.LoadLocation(s.StaffZone); err != nil || s.StaffZone == "" {
		bad("staff_zone %q is not a known time zone (use IANA names such as Europe/London)", s.StaffZone)
	}
	if len(s.Clocks) == 0 {
		bad("clocks: at least one clock is needed for /time")
	}
	for i, c := range s.Clocks {
		if _, err := time.LoadLocation(c.Zone); err != nil || c.Zone == "" {
			bad("clocks[%d].zone %q is not a known time zone (use IANA names such as Europe/London)", i, c.Zone)
		}
		if c.Label.In("en", "en") == "" {
			bad("clocks[%d].label is empty", i)
		}
	}
	if l := s.Consular.Link; l != "" {
		if u, err := url.Parse(l); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("consular.link %q is not an http(s) URL", l)
		}
	}
	if err := s.Consular.checkHours(); err != nil {
		bad("consular: %v", err)
	}
	if d := s.Consular.LastChecked; d != "" {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			bad("consular.last_checked %q is not a date like 2025-01-31", d)
		}
	}
	if _, err := i18n.New(s.DefaultLanguage, s.Texts); err != nil {
		errs = append(errs, fmt.Errorf("bot settings: %w", err))
	}
	return errors.Join(errs...)
}
