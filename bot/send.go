package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/internal/wait"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// Limits of replies.
const (
	// maxMessageLen is Telegram's limit on a message's text, in UTF-16 code
	// units after entity parsing.
	maxMessageLen = render.MaxLength
	// maxReplyWait is the longest flood-control pause a reply waits out;
	// past it the reply is dropped: the user has moved on.
	maxReplyWait = 10 * time.Second
	// replyAttempts bounds the tries of one call.
	replyAttempts = 3
	// callbackDataMax is Telegram's limit on a button's callback data.
	callbackDataMax = 64
)

// Button is one inline keyboard button: Data for a callback, or URL.
type Button struct {
	Text string // plain text
	Data string // "prefix:rest", at most 64 bytes
	URL  string
}

// Keyboard is an inline keyboard, row by row.
type Keyboard [][]Button

// markup renders the keyboard as Telegram's reply_markup JSON.
func (k Keyboard) markup() (string, error) {
	type button struct {
		Text string `json:"text"`
		Data string `json:"callback_data,omitempty"`
		URL  string `json:"url,omitempty"`
	}
	rows := make([][]button, 0, len(k))
	for _, row := range k {
		out := make([]button, 0, len(row))
		for _, bt := range row {
			if len(bt.Data) > callbackDataMax {
				return "", fmt.Errorf("bot: callback data %q is longer than %d bytes", bt.Data, callbackDataMax)
			}
			out = append(out, button{Text: bt.Text, Data: bt.Data, URL: bt.URL})
		}
		rows = append(rows, out)
	}
	body, err := json.Marshal(map[string]any{"inline_keyboard": rows})
	if err != nil {
		return "", fmt.Errorf("bot: encode keyboard: %w", err)
	}
	return string(body), nil
}

// SendHTML sends text in Telegram HTML (the caller escapes what it puts
// in) to a chat, with an optional keyboard, and returns the message id. It
// waits out a short flood-control pause, follows a group's move to a
// supergroup (moving its subscription), and unsubscribes a chat that blocked
// the bot or is gone.
func (b *Bot) SendHTML(ctx context.Context, chatID int64, text string, kb Keyboard) (int, error) {
	return b.sendHTML(ctx, chatID, text, kb, 0)
}

// sendHTML is SendHTML to a forum topic (thread), or to the chat itself
// when thread is 0.
func (b *Bot) sendHTML(ctx context.Context, chatID int64, text string, kb Keyboard, thread int64) (int, error) {
	if err := checkLength(text); err != nil {
		return 0, err
	}
	params := tgbotapi.Params{
		"text":                 text,
		"parse_mode":           "HTML",
		"link_preview_options": `{"is_disabled":true}`,
	}
	if thread != 0 {
		params["message_thread_id"] = strconv.FormatInt(thread, 10)
	}
	if kb != nil {
		m, err := kb.markup()
		if err != nil {
			return 0, err
		}
		params["reply_markup"] = m
	}
	raw, err := b.call(ctx, "sendMessage", chatID, params)
	if err != nil {
		return 0, err
	}
	var m struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return 0, fmt.Errorf("bot: decode sendMessage result: %w", err)
	}
	return m.MessageID, nil
}

// checkLength refuses a text whose markup, once parsed, is longer than
// Telegram takes. The markup itself may be longer: tags do not count.
func checkLength(text string) error {
	if utf16Len(text) <= maxMessageLen {
		return nil // the parsed text can only be shorter
	}
	if n := render.Length(text); n > maxMessageLen {
		return fmt.Errorf("bot: message of %d characters is over Telegram's %d", n, maxMessageLen)
	}
	return nil
}

// CallChat makes a Bot API call that sends to, or edits in, chatID (such as
// copyMessage or copyMessages) as SendHTML does: within the send budget,
// waiting out a short flood-control pause and following a migrated group.
func (b *Bot) CallChat(ctx context.Context, method string, chatID int64, params tgbotapi.Params) (json.RawMessage, error) {
	return b.call(ctx, method, chatID, params)
}

// EditHTML replaces the text (Telegram HTML) and inline keyboard of a
// message the bot sent; a nil keyboard removes the message's keyboard. An
// edit that changes nothing is not an error. Failures are handled as
// SendHTML's are.
func (b *Bot) EditHTML(ctx context.Context, chatID int64, messageID int, text string, kb Keyboard) error {
	return b.editText(ctx, chatID, messageID, text, kb)
}

func (b *Bot) editText(ctx context.Context, chatID int64, messageID int, text string, kb Keyboard) error {
	if err := checkLength(text); err != nil {
		return err
	}
	params := tgbotapi.Params{
		"message_id":           strconv.Itoa(messageID),
		"text":                 text,
		"parse_mode":           "HTML",
		"link_preview_options": `{"is_disabled":true}`,
	}
	if kb != nil {
		m, err := kb.markup()
		if err != nil {
			return err
		}
		params["reply_markup"] = m
	}
	_, err := b.call(ctx, "editMessageText", chatID, params)
	if tg.Classify(err) == tg.KindNotModified {
		return nil
	}
	return err
}

func (b *Bot) editKeyboard(ctx context.Context, chatID int64, messageID int, kb Keyboard) error {
	params := tgbotapi.Params{"message_id": strconv.Itoa(messageID)}
	m, err := kb.markup()
	if err != nil {
		return err
	}
	params["reply_markup"] = m
	_, err = b.call(ctx, "editMessageReplyMarkup", chatID, params)
	if tg.Classify(err) == tg.KindNotModified {
		return nil
	}
	return err
}

func (b *Bot) answerCallback(ctx context.Context, id, text string, alert bool) error {
	params := tgbotapi.Params{"callback_query_id": id}
	params.AddNonEmpty("text", text)
	params.AddBool("show_alert", alert)
	_, err := b.call(ctx, "answerCallbackQuery", 0, params)
	return err
}

// paced are the methods that put a message in a chat, or change one, and
// so count against Telegram's limits; answering a callback does not.
func paced(method string) bool {
	switch method {
	case "sendMessage", "editMessageText", "editMessageReplyMarkup",
		"copyMessage", "copyMessages", "editMessageCaption":
		return true
	}
	return false
}

// unpacedKey marks a context whose sends skip the send budget.
type unpacedKey struct{}

// Unpaced returns ctx with its sends outside the send budget: for the one
// message that tells staff all sending is paused, which the budget would
// hold back until the pause it tells of is over.
func Unpaced(ctx context.Context) context.Context {
	return context.WithValue(ctx, unpacedKey{}, true)
}

// call invokes method, for chatID when it is not 0, and handles what
// Telegram's answer means: a short flood pause is waited out (and shared
// with every sender), a network failure retried, a migrated group followed
// to its new id, and a chat that is gone unsubscribed. Every attempt of a
// paced method first takes its turn in the send budget.
func (b *Bot) call(ctx context.Context, method string, chatID int64, params tgbotapi.Params) (json.RawMessage, error) {
	bo := &wait.Backoff{Base: b.p.Backoff, Max: maxBackoff}
	for attempt := 1; ; attempt++ {
		if chatID != 0 {
			params["chat_id"] = strconv.FormatInt(chatID, 10)
		}
		if b.p.Budget != nil && chatID != 0 && paced(method) && ctx.Value(unpacedKey{}) == nil {
			// An admin's own chat is served through a pause: what staff
			// ask for then (/stats, the pause's Resume) is how they act on it.
			if err := b.p.Budget.Take(ctx, chatID, b.admins[chatID]); err != nil {
				return nil, fmt.Errorf("bot: %s: %w", method, err)
			}
		}
		raw, err := b.p.Client.Call(ctx, method, params)
		if err == nil {
			return raw, nil
		}
		if ctx.Err() != nil || attempt >= replyAttempts {
			return nil, err
		}
		switch tg.Classify(err) {
		case tg.KindMigrated:
			to, _ := tg.MigratedTo(err)
			if chatID == 0 || to == 0 {
				return nil, err
			}
			b.migrate(ctx, chatID, to)
			chatID = to
		case tg.KindRetryAfter:
			pause, _ := tg.RetryAfter(err)
			if b.p.Budget != nil {
				if perr := b.p.Budget.Paused(ctx, max(pause, time.Second)); perr != nil {
					b.log.Error("share a 429 pause", slog.Any("error", perr))
				}
			}
			if pause > maxReplyWait {
				return nil, err
			}
			if !wait.Sleep(ctx, pause) {
				return nil, err
			}
		case tg.KindTransient:
			if !wait.Sleep(ctx, bo.Next()) {
				return nil, err
			}
		case tg.KindGone:
			if chatID != 0 {
				b.gone(ctx, chatID, err)
			}
			return nil, err
		default:
			return nil, err
		}
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
