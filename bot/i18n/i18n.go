// Package i18n owns the bot's message catalog: every text the bot sends to
// citizens, in English and Russian, and the rules for filling it in. Texts
// are Telegram HTML templates with named placeholders such as {name}; the
// values put into them are escaped unless they are marked as HTML, so a
// title holding "<" can never break a message. A count is written as an
// ICU MessageFormat plural, {count, plural, one {# item} other {# items}},
// whose form is chosen by CLDR's plural rules for the language (from
// golang.org/x/text), so Russian reads "1 подписчик", "3 подписчика",
// "5 подписчиков" and English "1 subscriber".
package i18n

import (
	"errors"
	"fmt"
	"html"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Key names one text of the catalog.
type Key string

// HTML is markup the caller vouches for (built from escaped parts). T inserts
// it as it is; every other value is escaped.
type HTML string

// ErrInvalidText means an operator's text override is unusable.
var ErrInvalidText = errors.New("i18n: invalid text override")

// Catalog holds the texts of every language, with any overrides applied,
// parsed. It is immutable and safe for concurrent use.
type Catalog struct {
	texts map[string]map[Key][]segment
	raw   map[string]map[Key]string // as written, for Placeholders
	langs []string
	def   string
}

// tags are the languages' tags for CLDR plural rules and number formats.
var tags = map[string]language.Tag{"en": language.English, "ru": language.Russian}

// Languages returns the languages the catalog speaks, English first.
func Languages() []string { return []string{"en", "ru"} }

// Keys returns every key of the catalog, sorted.
func Keys() []Key { return slices.Sorted(maps.Keys(english())) }

// New returns the built-in catalog with overrides (language -> key -> text)
// applied. defaultLanguage answers for languages the catalog does not speak.
// An override must name a known language and key, use only the
// placeholders the built-in text uses, and write each plural with every
// form the language needs (English: one, other; Russian: one, few, many,
// other).
func New(defaultLanguage string, overrides map[string]map[string]string) (*Catalog, error) {
	c := &Catalog{
		texts: map[string]map[Key][]segment{},
		raw:   map[string]map[Key]string{"en": english(), "ru": russian()},
		langs: Languages(),
		def:   "en",
	}
	builtin := map[string]map[Key]string{"en": english(), "ru": russian()}
	var errs []error
	for _, lang := range c.langs {
		c.texts[lang] = make(map[Key][]segment, len(builtin[lang]))
		for k, text := range builtin[lang] {
			segs, err := check(lang, text)
			if err != nil {
				// A built-in text is checked by the package's tests.
				errs = append(errs, fmt.Errorf("i18n: built-in %s.%s: %w", lang, k, err))
				continue
			}
			c.texts[lang][k] = segs
		}
	}
	if defaultLanguage != "" {
		if !slices.Contains(c.langs, defaultLanguage) {
			errs = append(errs, fmt.Errorf("%w: default language %q is not one of %s", ErrInvalidText, defaultLanguage, strings.Join(c.langs, ", ")))
		} else {
			c.def = defaultLanguage
		}
	}
	for _, lang := range slices.Sorted(maps.Keys(overrides)) {
		texts, ok := builtin[lang]
		if !ok {
			errs = append(errs, fmt.Errorf("%w: texts.%s: unknown language (known: %s)", ErrInvalidText, lang, strings.Join(c.langs, ", ")))
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(overrides[lang])) {
			text := overrides[lang][k]
			builtin, ok := texts[Key(k)]
			if !ok {
				errs = append(errs, fmt.Errorf("%w: texts.%s.%s: unknown text", ErrInvalidText, lang, k))
				continue
			}
			if strings.TrimSpace(text) == "" {
				errs = append(errs, fmt.Errorf("%w: texts.%s.%s: empty", ErrInvalidText, lang, k))
				continue
			}
			segs, err := check(lang, text)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: texts.%s.%s: %w", ErrInvalidText, lang, k, err))
				continue
			}
			allowed := Placeholders(builtin)
			bad := false
			for _, p := range names(segs, nil) {
				if !slices.Contains(allowed, p) {
					bad = true
					errs = append(errs, fmt.Errorf("%w: texts.%s.%s: unknown placeholder {%s} (this text has: %s)", ErrInvalidText, lang, k, p, braced(allowed)))
				}
			}
			if !bad {
				c.texts[lang][Key(k)] = segs
				c.raw[lang][Key(k)] = text
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// rawText returns key's text in lang as written, overrides applied.
func (c *Catalog) rawText(lang string, key Key) string {
	return c.raw[lang][key]
}

// check parses text and makes sure each of its plurals has every form
// lang needs.
func check(lang, text string) ([]segment, error) {
	segs, err := parse(text)
	if err != nil {
		return nil, err
	}
	need := neededForms[lang]
	var errs []error
	plurals(segs, func(s segment) {
		var missing []string
		for _, f := range need {
			if _, ok := s.forms[formNames[f]]; !ok {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("the plural of {%s} lacks the form %s (%s needs %s)",
				s.name, strings.Join(missing, ", "), lang, strings.Join(need, ", ")))
		}
	})
	return segs, errors.Join(errs...)
}

// Forms returns the plural forms a text in lang must give, from CLDR's
// rules for whole numbers, and other.
func Forms(lang string) []string {
	if f, ok := neededForms[lang]; ok {
		return slices.Clone(f)
	}
	return cldrForms(lang)
}

// neededForms is Forms of each language, worked out once.
var neededForms = map[string][]string{"en": cldrForms("en"), "ru": cldrForms("ru")}

func cldrForms(lang string) []string {
	tag, ok := tags[lang]
	if !ok {
		tag = language.English
	}
	seen := map[plural.Form]bool{plural.Other: true}
	// Every CLDR cardinal rule for whole numbers repeats within 0..199
	// (they look at n, n%10 and n%100).
	for n := range 200 {
		seen[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)] = true
	}
	var out []string
	for _, f := range []plural.Form{plural.Zero, plural.One, plural.Two, plural.Few, plural.Many, plural.Other} {
		if seen[f] {
			out = append(out, formName(f))
		}
	}
	return out
}

func braced(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return strings.Join(out, ", ")
}

// DefaultLanguage returns the language used for languages not spoken.
func (c *Catalog) DefaultLanguage() string { return c.def }

// Language returns lang when the catalog speaks it, else the default.
func (c *Catalog) Language(lang string) string {
	if _, ok := c.texts[lang]; ok {
		return lang
	}
	return c.def
}

// Text is T for plain-text places (callback answers, button labels,
// command descriptions): values are inserted as they are, unescaped.
func (c *Catalog) Text(lang string, key Key, kv ...any) string {
	return c.fill(lang, key, kv, false)
}

// T returns the text key in lang with its placeholders filled from kv, a
// list of name, value pairs. Values are escaped for Telegram HTML unless
// they are HTML; integers are formatted as the language writes them
// ("1,234", "1 234") and pick the form of the plurals they count. A
// placeholder without a value stays as written, so a mistake shows instead
// of vanishing.
func (c *Catalog) T(lang string, key Key, kv ...any) string {
	return c.fill(lang, key, kv, true)
}

// All returns key's text in every language, filled like T.
func (c *Catalog) All(key Key, kv ...any) map[string]string {
	out := make(map[string]string, len(c.langs))
	for _, l := range c.langs {
		out[l] = c.T(l, key, kv...)
	}
	return out
}

func (c *Catalog) fill(lang string, key Key, kv []any, escape bool) string {
	lang = c.Language(lang)
	segs, ok := c.texts[lang][key]
	if !ok {
		lang = "en"
		segs = c.texts[lang][key]
	}
	return fillSegments(lang, segs, kv, escape)
}

func fillSegments(lang string, segs []segment, kv []any, escape bool) string {
	values := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		name, _ := kv[i].(string)
		values[name] = kv[i+1]
	}
	f := filler{lang: lang, values: values, escape: escape}
	var b strings.Builder
	f.write(&b, segs, "")
	return b.String()
}

type filler struct {
	lang   string
	values map[string]any
	escape bool
}

// write renders segs; count is what "#" stands for in a plural form.
func (f *filler) write(b *strings.Builder, segs []segment, count string) {
	for _, s := range segs {
		switch {
		case s.hash:
			b.WriteString(count)
		case s.forms != nil:
			v, ok := f.values[s.name]
			if !ok {
				f.write(b, s.forms[plural.Other], "{"+s.name+"}")
				continue
			}
			n, isNum := integer(v)
			if !isNum {
				// A count given as text ("1,234", "1 234") still picks
				// its form, and shows as given; other text takes other.
				if n, isNum = countText(v); !isNum {
					f.write(b, s.forms[plural.Other], f.render(v))
					continue
				}
			}
			body, ok := s.exact[n]
			if !ok {
				form := plural.Cardinal.MatchPlural(tags[f.lang], int(min(max(n, -n), 1<<31)), 0, 0, 0, 0)
				if body, ok = s.forms[form]; !ok {
					body = s.forms[plural.Other]
				}
			}
			f.write(b, body, f.render(v))
		case s.name != "":
			if v, ok := f.values[s.name]; ok {
				b.WriteString(f.render(v))
			} else {
				b.WriteString("{" + s.name + "}")
			}
		default:
			b.WriteString(s.lit)
		}
	}
}

// integer returns v as a whole number when it is one.
func integer(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case uint32:
		return int64(v), true
	}
	return 0, false
}

// countText reads a count written as text, its digits grouped or not.
func countText(v any) (int64, bool) {
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	s = strings.NewReplacer(",", "", " ", "", "\u00a0", "", "\u202f", "").Replace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func (f *filler) render(v any) string {
	var s string
	switch v := v.(type) {
	case HTML:
		return string(v)
	case string:
		s = v
	default:
		if n, ok := integer(v); ok {
			return Number(f.lang, n)
		}
		s = fmt.Sprint(v)
	}
	if f.escape {
		return html.EscapeString(s)
	}
	return s
}

// Number writes n as lang groups digits: "1,234" in English, "1 234" (with a
// no-break space) in Russian.
func Number(lang string, n int64) string {
	p, ok := printers[lang]
	if !ok {
		p = printers["en"]
	}
	return p.Sprint(number.Decimal(n))
}

// printers format numbers; built once (a Printer is costly to make) and
// never changed, safe for concurrent use.
var printers = map[string]*message.Printer{
	"en": message.NewPrinter(language.English),
	"ru": message.NewPrinter(language.Russian),
}

// Placeholders returns the distinct placeholder names in text, in order,
// with the counts of its plurals and the placeholders inside their forms.
func Placeholders(text string) []string {
	segs, err := parse(text)
	if err != nil {
		return nil
	}
	return names(segs, nil)
}

func validName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Date formats a day the way the embassy's site heads its pages:
// "17 October 2017", "17 октября 2017".
func Date(lang string, t time.Time) string {
	month := t.Month().String()
	if lang == "ru" {
		// The genitive case, as a date needs it.
		month = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля",
			"августа", "сентября", "октября", "ноября", "декабря"}[t.Month()-1]
	}
	return strconv.Itoa(t.Day()) + " " + month + " " + strconv.Itoa(t.Year())
}

// Weekday names a day of the week in lang, as a time of opening needs it
// ("opens Monday 9:30", "откроется в понедельник 9:30").
func Weekday(lang string, d time.Weekday) string {
	if lang == "ru" {
		// The accusative case, after "в".
		return [...]string{"воскресенье", "понедельник", "вторник", "среду", "четверг", "пятницу", "субботу"}[d]
	}
	return d.String()
}
