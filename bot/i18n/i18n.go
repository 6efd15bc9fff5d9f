// Package i18n owns the bot's message catalog: every text the bot sends to
// citizens, in English and Russian, and the rules for filling it in. Texts
// are Telegram HTML templates with named placeholders such as {name}; the
// values put into them are escaped unless they are marked as HTML, so a
// title holding "<" can never break a message.
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
)

// Key names one text of the catalog.
type Key string

// HTML is markup the caller vouches for (built from escaped parts). T inserts
// it as it is; every other value is escaped.
type HTML string

// ErrInvalidText means an operator's text override is unusable.
var ErrInvalidText = errors.New("i18n: invalid text override")

// Catalog holds the texts of every language, with any overrides applied. It
// is immutable and safe for concurrent use.
type Catalog struct {
	texts map[string]map[Key]string
	langs []string
	def   string
}

// Languages returns the languages the catalog speaks, English first.
func Languages() []string { return []string{"en", "ru"} }

// Keys returns every key of the catalog, sorted.
func Keys() []Key { return slices.Sorted(maps.Keys(english())) }

// New returns the built-in catalog with overrides (language -> key -> text)
// applied. defaultLanguage answers for languages the catalog does not speak.
// An override must name a known language and key, and use only the
// placeholders the built-in text uses.
func New(defaultLanguage string, overrides map[string]map[string]string) (*Catalog, error) {
	c := &Catalog{
		texts: map[string]map[Key]string{"en": english(), "ru": russian()},
		langs: Languages(),
		def:   "en",
	}
	var errs []error
	if defaultLanguage != "" {
		if !slices.Contains(c.langs, defaultLanguage) {
			errs = append(errs, fmt.Errorf("%w: default language %q is not one of %s", ErrInvalidText, defaultLanguage, strings.Join(c.langs, ", ")))
		} else {
			c.def = defaultLanguage
		}
	}
	for _, lang := range slices.Sorted(maps.Keys(overrides)) {
		texts, ok := c.texts[lang]
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
			allowed := Placeholders(builtin)
			for _, p := range Placeholders(text) {
				if !slices.Contains(allowed, p) {
					errs = append(errs, fmt.Errorf("%w: texts.%s.%s: unknown placeholder {%s} (this text has: %s)", ErrInvalidText, lang, k, p, braced(allowed)))
				}
			}
			texts[Key(k)] = text
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
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
	text, ok := c.texts[c.Language(lang)][key]
	if !ok {
		text = c.texts["en"][key]
	}
	if len(kv) == 0 {
		return text
	}
	return fill(text, kv, false)
}

// T returns the text key in lang with its placeholders filled from kv, a
// list of name, value pairs. Values are escaped for Telegram HTML unless
// they are HTML; numbers are formatted plainly. A placeholder without a
// value stays as written, so a mistake shows instead of vanishing.
func (c *Catalog) T(lang string, key Key, kv ...any) string {
	text, ok := c.texts[c.Language(lang)][key]
	if !ok {
		text = c.texts["en"][key]
	}
	if len(kv) == 0 {
		return text
	}
	return fill(text, kv, true)
}

// All returns key's text in every language, filled like T.
func (c *Catalog) All(key Key, kv ...any) map[string]string {
	out := make(map[string]string, len(c.langs))
	for _, l := range c.langs {
		out[l] = c.T(l, key, kv...)
	}
	return out
}

func fill(text string, kv []any, escape bool) string {
	values := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		name, _ := kv[i].(string)
		values[name] = render(kv[i+1], escape)
	}
	var b strings.Builder
	b.Grow(len(text))
	for {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(text[open:], '}')
		if end < 0 {
			break
		}
		name := text[open+1 : open+end]
		if v, ok := values[name]; ok && validName(name) {
			b.WriteString(text[:open])
			b.WriteString(v)
		} else {
			b.WriteString(text[:open+end+1])
		}
		text = text[open+end+1:]
	}
	b.WriteString(text)
	return b.String()
}

func render(v any, escape bool) string {
	var s string
	switch v := v.(type) {
	case HTML:
		return string(v)
	case string:
		s = v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	default:
		s = fmt.Sprint(v)
	}
	if escape {
		return html.EscapeString(s)
	}
	return s
}

// Placeholders returns the distinct placeholder names in text, in order.
func Placeholders(text string) []string {
	var out []string
	for {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			return out
		}
		end := strings.IndexByte(text[open:], '}')
		if end < 0 {
			return out
		}
		name := text[open+1 : open+end]
		if validName(name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
		text = text[open+end+1:]
	}
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
