package bot

import (
	"context"
	"errors"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Callback prefixes of an alert's keyboard: mute its category, and undo
// that. The data after the prefix is the category id.
const (
	prefixMute   = "mute"
	prefixUnmute = "unmute"
)

// defaultZone is where quiet hours and digests are reckoned for a chat
// that has not named its own zone: the embassy's.
const defaultZone = "Europe/London"

// ShapeAlert is delivery.Params.Shape: how each subscriber gets an
// announcement. A publication goes silently unless its category is
// urgent; anything else (a staff broadcast) goes silently in the chat's
// quiet hours, which urgent publications ring through. A chat that takes
// the daily digest gets no publication alert (the digest lists it), and a
// forum chat gets its alerts in the topic it chose.
func (b *Bot) ShapeAlert(a delivery.Announcement, s subscriptions.Subscriber, d *delivery.Delivery) bool {
	d.Thread = s.Prefs.Thread
	if a.Kind != delivery.KindPublication {
		d.Silent = s.Prefs.InQuiet(b.p.Now(), b.zone)
		return true
	}
	if s.Prefs.Digest {
		return false
	}
	d.Silent = !b.p.Categorizer.Urgent(a.Filter.Category)
	return true
}

func (b *Bot) muteButton(lang, category string) Button {
	return Button{
		Text: b.cat.Text(lang, i18n.ButtonMute, "category", b.p.Categorizer.Name(category, lang)),
		Data: prefixMute + ":" + category,
	}
}

func (b *Bot) undoButton(lang, category string) Button {
	return Button{
		Text: b.cat.Text(lang, i18n.ButtonUndo, "category", b.p.Categorizer.Name(category, lang)),
		Data: prefixUnmute + ":" + category,
	}
}

// cbMute mutes the alert's category and puts an Undo in the button's
// place; cbUnmute turns it back on and restores the button. Both are
// idempotent, so a double tap or a replayed press changes nothing more; a
// category the bot does not know (forged data, or one since removed from
// the configuration) changes nothing.
func (b *Bot) cbMute(ctx context.Context, r *Request) error   { return b.muteOrUndo(ctx, r, false) }
func (b *Bot) cbUnmute(ctx context.Context, r *Request) error { return b.muteOrUndo(ctx, r, true) }

func (b *Bot) muteOrUndo(ctx context.Context, r *Request, on bool) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Answer(ctx, r.Text(i18n.ButtonNeedsStart))
	}
	if !b.p.Categorizer.Known(r.Data) {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	if sub, _ := r.Subscriber(); !on && !sub.Wants(r.Data) {
		// The alert came for a followed topic (or the category was muted
		// elsewhere): muting changes nothing, and an Undo in its place
		// would turn on a category the chat never took.
		return r.Answer(ctx, r.Text(i18n.AnswerNotMuted, "category", b.p.Categorizer.Name(r.Data, r.Lang)))
	}
	sub, err := b.p.Subscriptions.Want(ctx, r.Chat.ID, r.Data, on)
	if errors.Is(err, subscriptions.ErrNotSubscribed) {
		return r.Answer(ctx, r.Text(i18n.ButtonNeedsStart))
	}
	if err != nil {
		return err
	}
	r.setSubscriber(sub, true)
	from, to, notice := prefixMute, b.undoButton(r.Lang, r.Data), i18n.AnswerMuted
	if on {
		from, to, notice = prefixUnmute, b.muteButton(r.Lang, r.Data), i18n.AnswerUndone
	}
	kb := swapButton(r.keyboard, from+":"+r.Data, to)
	if err := r.EditKeyboard(ctx, kb); err != nil && !staleMessage(err) {
		return err
	}
	return r.Answer(ctx, r.Text(notice, "category", b.p.Categorizer.Name(r.Data, r.Lang)))
}

// swapButton returns kb with the button whose data is data replaced by to,
// keeping every other button; a keyboard without it (or none) becomes to
// alone.
func swapButton(kb Keyboard, data string, to Button) Keyboard {
	out := make(Keyboard, 0, len(kb))
	found := false
	for _, row := range kb {
		nr := make([]Button, len(row))
		for i, bt := range row {
			if bt.Data == data {
				bt, found = to, true
			}
			nr[i] = bt
		}
		out = append(out, nr)
	}
	if !found {
		return Keyboard{{to}}
	}
	return out
}

// keyboardOf reads a received message's inline keyboard, so that a button
// press can redraw it with one button changed.
func keyboardOf(m *tgbotapi.InlineKeyboardMarkup) Keyboard {
	if m == nil {
		return nil
	}
	kb := make(Keyboard, 0, len(m.InlineKeyboard))
	for _, row := range m.InlineKeyboard {
		out := make([]Button, 0, len(row))
		for _, bt := range row {
			nb := Button{Text: bt.Text}
			if bt.CallbackData != nil {
				nb.Data = *bt.CallbackData
			}
			if bt.URL != nil {
				nb.URL = *bt.URL
			}
			out = append(out, nb)
		}
		kb = append(kb, out)
	}
	return kb
}

// loadZone returns the named zone, UTC when it cannot be loaded (tzdata is
// embedded, so only a bad name does that).
func loadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
