package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// prefixConsularMap is the card's map button.
const prefixConsularMap = "cmap"

// RussianHolidays are the Russian public holidays the consular section
// observes: the New Year holidays and Christmas (1 to 8 January), Defender
// of the Fatherland Day, International Women's Day, Spring and Labour Day,
// Victory Day, Russia Day and Unity Day. Days moved by a year's decree are
// the config's to add as "YYYY-MM-DD".
func RussianHolidays() []string {
	return []string{"01-01", "01-02", "01-03", "01-04", "01-05", "01-06", "01-07", "01-08",
		"02-23", "03-08", "05-01", "05-09", "06-12", "11-04"}
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// checkHours reports what is wrong with the hours and holidays.
func (c Consular) checkHours() error {
	var errs []error
	if h := c.Hours; h != nil {
		open, err1 := subscriptions.ParseClock(h.Open)
		cl, err2 := subscriptions.ParseClock(h.Close)
		if err1 != nil || err2 != nil || cl <= open {
			errs = append(errs, fmt.Errorf("hours: open %q and close %q must be times HH:MM, close after open", h.Open, h.Close))
		}
		if len(h.Days) == 0 {
			errs = append(errs, errors.New("hours: no days"))
		}
		for _, d := range h.Days {
			if _, ok := weekdays[strings.ToLower(d)]; !ok {
				errs = append(errs, fmt.Errorf("hours: day %q is not one of mon, tue, wed, thu, fri, sat, sun", d))
			}
		}
	}
	for _, d := range c.Holidays {
		if _, _, ok := holiday(d); !ok {
			errs = append(errs, fmt.Errorf("holiday %q is not MM-DD or YYYY-MM-DD", d))
		}
	}
	if m := c.Map; m != nil && (math.Abs(m.Latitude) > 90 || math.Abs(m.Longitude) > 180) {
		errs = append(errs, fmt.Errorf("map: latitude %v, longitude %v are not on Earth", m.Latitude, m.Longitude))
	}
	return errors.Join(errs...)
}

// holiday reads "MM-DD" (year 0: every year) or "YYYY-MM-DD".
func holiday(s string) (year int, md string, ok bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Year(), t.Format("01-02"), true
	}
	if t, err := time.Parse("01-02", s); err == nil {
		return 0, t.Format("01-02"), true
	}
	return 0, "", false
}

// isHoliday reports whether day (in London) is one of the holidays.
func (c Consular) isHoliday(day time.Time) bool {
	md := day.Format("01-02")
	return slices.ContainsFunc(c.Holidays, func(s string) bool {
		y, m, ok := holiday(s)
		return ok && m == md && (y == 0 || y == day.Year())
	})
}

func (c Consular) opensOn(day time.Time) bool {
	return slices.ContainsFunc(c.Hours.Days, func(d string) bool { return weekdays[strings.ToLower(d)] == day.Weekday() }) &&
		!c.isHoliday(day)
}

// openStatus is the card's "open now" line at now, in London time; "" when
// there are no hours or no opening in the coming weeks.
func (b *Bot) openStatus(lang string, c Consular, now time.Time) string {
	if c.Hours == nil {
		return ""
	}
	open, _ := subscriptions.ParseClock(c.Hours.Open) // checked by Validate
	cl, _ := subscriptions.ParseClock(c.Hours.Close)
	t := now.In(b.zone)
	mins := t.Hour()*60 + t.Minute()
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, b.zone)
	note := " " + b.cat.T(lang, i18n.ConsularZoneNote)
	if c.opensOn(today) {
		switch {
		case mins >= open && mins < cl:
			return b.cat.T(lang, i18n.ConsularOpenNow, "close", subscriptions.FormatClock(cl)) + note
		case mins < open:
			return b.cat.T(lang, i18n.ConsularOpensLater, "open", subscriptions.FormatClock(open)) + note
		}
	}
	for d := 1; d <= 31; d++ {
		day := today.AddDate(0, 0, d)
		if !c.opensOn(day) {
			continue
		}
		key := i18n.ConsularClosedNow
		if c.isHoliday(today) {
			key = i18n.ConsularClosedHoliday
		}
		return b.cat.T(lang, key, "day", i18n.Weekday(lang, day.Weekday()), "open", subscriptions.FormatClock(open)) + note
	}
	return ""
}

// cbConsularMap sends the section's address as a venue, which Telegram
// shows as a map.
func (b *Bot) cbConsularMap(ctx context.Context, r *Request) error {
	c := b.p.Settings.Consular
	def := b.cat.DefaultLanguage()
	title, address := c.Title.In(r.Lang, def), c.Address.In(r.Lang, def)
	if c.Map == nil || title == "" || address == "" {
		return r.Answer(ctx, r.Text(i18n.ConsularNoMap))
	}
	params := tgbotapi.Params{
		"latitude":  strconv.FormatFloat(c.Map.Latitude, 'f', -1, 64),
		"longitude": strconv.FormatFloat(c.Map.Longitude, 'f', -1, 64),
		"title":     title,
		"address":   address,
	}
	if r.Thread != 0 {
		params["message_thread_id"] = strconv.FormatInt(r.Thread, 10)
	}
	if _, err := b.call(ctx, "sendVenue", r.Chat.ID, params); err != nil {
		return err
	}
	return r.Answer(ctx, "")
}

// consularKeyboard is the card's map button, when there is a map.
func (b *Bot) consularKeyboard(lang string) Keyboard {
	if b.p.Settings.Consular.Map == nil {
		return nil
	}
	return Keyboard{{{Text: b.cat.Text(lang, i18n.ButtonConsularMap), Data: prefixConsularMap + ":"}}}
}

// consularContacts are the phone and e-mail the card shows: those the
// site's header showed last, each where known, unless the config pins its
// own.
func (b *Bot) consularContacts(ctx context.Context, c Consular) (phone, email string) {
	phone, email = c.Phone, c.Email
	if c.Pin || b.p.Contacts == nil {
		return phone, email
	}
	live, err := b.p.Contacts.ConsularContacts(ctx)
	if err != nil {
		b.log.Warn("cannot read the consular contacts from the site; showing the configured ones", slog.Any("error", err))
		return phone, email
	}
	if live.Phone != "" {
		phone = live.Phone
	}
	if live.Email != "" {
		email = live.Email
	}
	return phone, email
}
