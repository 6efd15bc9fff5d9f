package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// handleUpdate routes one update. It runs on its chat's goroutine, after the
// previous update of the same chat.
func (b *Bot) handleUpdate(ctx context.Context, u tg.Update) {
	defer func() {
		// Handlers recover their own panics; this catches the routing's.
		if v := recover(); v != nil {
			b.log.Error("update routing panicked", slog.Int("update_id", u.UpdateID), slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
		}
	}()
	switch {
	case u.Message != nil:
		b.onMessage(ctx, int64(u.UpdateID), u.Message, u.Thread)
	case u.ChannelPost != nil:
		b.onMessage(ctx, int64(u.UpdateID), u.ChannelPost, u.Thread)
	case u.CallbackQuery != nil:
		b.onCallback(ctx, int64(u.UpdateID), u.CallbackQuery, u.Thread)
	case u.MyChatMember != nil:
		b.onMyChatMember(ctx, u.MyChatMember)
	default:
		b.log.Debug("update of a kind the bot ignores", slog.Int("update_id", u.UpdateID))
	}
}

func (b *Bot) onMessage(ctx context.Context, updateID int64, m *tgbotapi.Message, thread int64) {
	if m.Chat == nil {
		return
	}
	// Telegram reports a group's upgrade twice: in the old group (migrate
	// to) and in the new supergroup (migrate from). Either moves it.
	if m.MigrateToChatID != 0 {
		b.migrate(ctx, m.Chat.ID, m.MigrateToChatID)
		return
	}
	if m.MigrateFromChatID != 0 {
		b.migrate(ctx, m.MigrateFromChatID, m.Chat.ID)
		return
	}
	private := m.Chat.Type == "private"
	if private && m.From != nil && b.admins[m.From.ID] {
		// After the message is handled, so the answer does not wait.
		defer b.staffMenuOnce(ctx, m.From.ID)
	}
	if m.Text == "" {
		// Photos, files... in a private chat may be an admin's
		// announcement; anything else without text (joins, pins...) is
		// for nobody.
		if private && mediaOf(m) != "" {
			r := b.newRequest(ctx, updateID, m.Chat, m.From)
			r.MessageID = m.MessageID
			r.Message = messageOf(m)
			b.onText(ctx, r)
		}
		return
	}
	cmd, isCommand := parseCommand(m.Text)
	if isCommand && cmd.Mention != "" && !strings.EqualFold(cmd.Mention, b.Username()) {
		return // for another bot in the group
	}
	r := b.newRequest(ctx, updateID, m.Chat, m.From)
	r.MessageID, r.Thread = m.MessageID, thread
	if m.SenderChat != nil {
		r.senderChat = m.SenderChat.ID
	}
	r.Message = messageOf(m)
	if !isCommand {
		if private && !b.onText(ctx, r) {
			b.hint(ctx, r, i18n.TextHint)
		}
		return
	}
	r.Command, r.Args = cmd.Name, cmd.Args
	e := b.command(cmd.Name)
	if e == nil {
		// In a group a bare unknown command is probably another bot's.
		if private || cmd.Mention != "" {
			b.hint(ctx, r, i18n.UnknownCommand)
		}
		return
	}
	_ = e.serve(ctx, r)
}

// onText offers a private non-command message to the text handlers in
// the order they were registered, and reports whether one took it. An
// AdminOnly text handler sees admins' messages only; for anyone else it
// is skipped without a refusal: they sent no staff command.
func (b *Bot) onText(ctx context.Context, r *Request) bool {
	b.mu.RLock()
	texts := b.texts
	b.mu.RUnlock()
	for _, t := range texts {
		if t.adminOnly && !r.IsAdmin() {
			continue
		}
		var took bool
		h := b.logged(b.recovered(func(ctx context.Context, r *Request) error {
			var err error
			took, err = t.h(ctx, r)
			if err != nil {
				took = true
			}
			return err
		}))
		_ = h(ctx, r)
		if took {
			return true
		}
	}
	return false
}

// messageOf keeps what handlers may need of a received message: its text
// and formatting, and those of the message it replies to (a text, or a
// media caption).
func messageOf(m *tgbotapi.Message) *Message {
	out := oneMessage(m)
	if rt := m.ReplyToMessage; rt != nil {
		if rt.Chat == nil {
			rt.Chat = m.Chat
		}
		out.ReplyTo = oneMessage(rt)
	}
	return out
}

func oneMessage(m *tgbotapi.Message) *Message {
	out := &Message{Text: m.Text, Entities: entitiesOf(m.Entities), ID: m.MessageID, Media: mediaOf(m), MediaGroupID: m.MediaGroupID}
	if m.Chat != nil {
		out.ChatID = m.Chat.ID
	}
	if out.Text == "" {
		out.Text, out.Entities = m.Caption, entitiesOf(m.CaptionEntities)
	}
	return out
}

// mediaOf is Message.Media of m.
func mediaOf(m *tgbotapi.Message) string {
	switch {
	case m.Text != "":
		return ""
	case len(m.Photo) > 0:
		return "photo"
	case m.Document != nil:
		return "document"
	case m.Video != nil:
		return "video"
	case m.Audio != nil:
		return "audio"
	case m.Voice != nil:
		return "voice"
	case m.Animation != nil:
		return "animation"
	case m.Sticker != nil, m.VideoNote != nil, m.Poll != nil, m.Location != nil, m.Contact != nil, m.Dice != nil, m.Venue != nil:
		return MediaOther
	}
	return ""
}

func entitiesOf(es []tgbotapi.MessageEntity) []Entity {
	if len(es) == 0 {
		return nil
	}
	out := make([]Entity, len(es))
	for i, e := range es {
		out[i] = Entity{Type: e.Type, Offset: e.Offset, Length: e.Length, URL: e.URL, Language: e.Language}
		if e.User != nil {
			out[i].UserID = e.User.ID
		}
	}
	return out
}

// hint answers text the bot does not understand (flood-limited at intake
// like commands).
func (b *Bot) hint(ctx context.Context, r *Request, key i18n.Key) {
	h := b.logged(b.recovered(func(ctx context.Context, r *Request) error {
		return r.Reply(ctx, r.T(key))
	}))
	_ = h(ctx, r)
}

func (b *Bot) onCallback(ctx context.Context, updateID int64, q *tgbotapi.CallbackQuery, thread int64) {
	chat := &tgbotapi.Chat{ID: 0, Type: "private"}
	if q.Message != nil && q.Message.Chat != nil {
		chat = q.Message.Chat
	} else if q.From != nil {
		chat = &tgbotapi.Chat{ID: q.From.ID, Type: "private"}
	}
	r := b.newRequest(ctx, updateID, chat, q.From)
	r.callbackID = q.ID
	if q.Message != nil {
		// A button's new messages (Similar's results, the map) go to
		// the forum topic of the message holding it.
		r.MessageID, r.PressedText, r.Thread = q.Message.MessageID, q.Message.Text, thread
		r.keyboard = keyboardOf(q.Message.ReplyMarkup)
	}
	prefix, data, _ := strings.Cut(q.Data, ":")
	r.route, r.Data = prefix, data
	if r.Chat.Type == subscriptions.ChatPrivate && r.UserID != r.Chat.ID {
		// Telegram shows a private chat's buttons to its owner only: this
		// press was forged to act for someone else's chat.
		b.log.Warn("button press for another user's private chat refused", logAttrs(r)...)
		if err := r.answer(ctx, r.Text(i18n.NotYourChat), true); err != nil {
			b.log.Debug("cannot answer a refused callback", append(logAttrs(r), slog.Any("error", err))...)
		}
		return
	}
	if e := b.callback(prefix); e != nil && q.Message != nil {
		_ = e.serve(ctx, r)
	} else if err := r.Answer(ctx, r.Text(i18n.ButtonStale)); err != nil {
		b.log.Debug("cannot answer a stale callback", append(logAttrs(r), slog.Any("error", err))...)
	}
	// Telegram shows a spinner on the button until the query is answered.
	if err := r.Answer(ctx, ""); err != nil {
		b.log.Debug("cannot answer a callback", append(logAttrs(r), slog.Any("error", err))...)
	}
}

// newRequest describes an update's chat and sender and picks the language:
// the chat's subscription's, else the sender's Telegram language, else the
// default.
func (b *Bot) newRequest(ctx context.Context, updateID int64, chat *tgbotapi.Chat, from *tgbotapi.User) *Request {
	r := &Request{
		UpdateID: updateID,
		Chat:     Chat{ID: chat.ID, Type: subscriptions.ChatType(chat.Type), Title: chat.Title},
		bot:      b,
	}
	if from != nil {
		r.UserID, r.FirstName, r.userLang = from.ID, from.FirstName, from.LanguageCode
	}
	r.Lang = b.cat.Language(subscriptions.NormalizeLanguage(r.userLang, i18n.Languages(), b.cat.DefaultLanguage()))
	sub, ok, err := b.p.Subscriptions.Get(ctx, chat.ID)
	if err != nil {
		b.log.Warn("cannot read the chat's subscription; answering in the sender's language", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		return r
	}
	if !ok {
		// A chat the bot removed as gone writes again: the removal was a
		// mistake (or the chat came back); undo it.
		if sub, ok, err = b.p.Subscriptions.Restore(ctx, chat.ID); err != nil {
			b.log.Warn("cannot restore a removed chat that wrote again", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		} else if ok {
			b.log.Info("a chat removed as gone wrote again; subscription restored", slog.Int64("chat_id", chat.ID))
		}
	}
	r.setSubscriber(sub, ok)
	return r
}

// onMyChatMember follows the bot's own membership: blocked, kicked or left
// unsubscribes at once; added to a group or channel subscribes it.
func (b *Bot) onMyChatMember(ctx context.Context, m *tgbotapi.ChatMemberUpdated) {
	chat := m.Chat
	switch status := m.NewChatMember.Status; status {
	case "kicked", "left":
		existed, err := b.p.Subscriptions.Unsubscribe(ctx, chat.ID)
		if err != nil {
			b.log.Error("cannot unsubscribe a chat that removed the bot", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
			return
		}
		b.log.Info("bot removed from chat; unsubscribed", slog.Int64("chat_id", chat.ID), slog.String("chat_type", chat.Type), slog.String("status", status), slog.Bool("was_subscribed", existed))
	case "member", "administrator":
		if chat.Type == "private" {
			return // unblocked: the user sends /start when they want alerts
		}
		if was := m.OldChatMember.Status; was == "member" || was == "administrator" || was == "creator" {
			return // promoted or demoted, still in the chat
		}
		sub, created, err := b.p.Subscriptions.Subscribe(ctx, chat.ID, subscriptions.ChatType(chat.Type), m.From.LanguageCode)
		if err != nil {
			b.log.Error("cannot subscribe a chat the bot was added to", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
			return
		}
		b.log.Info("bot added to chat; subscribed", slog.Int64("chat_id", chat.ID), slog.String("chat_type", chat.Type), slog.Bool("new", created))
		if chat.Type == "channel" {
			return // a channel's readers did not ask to hear from the bot
		}
		text := b.cat.T(sub.Language, i18n.WelcomeGroup, "chat", chat.Title)
		if _, err := b.SendHTML(ctx, chat.ID, text, nil); err != nil {
			b.log.Warn("cannot greet a group", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		}
	}
}

// migrate moves a group's subscription to its supergroup's id.
func (b *Bot) migrate(ctx context.Context, from, to int64) {
	if err := b.p.Subscriptions.Migrate(ctx, from, to); err != nil {
		b.log.Error("cannot move a migrated group's subscription", slog.Int64("chat_id", from), slog.Int64("new_chat_id", to), slog.Any("error", err))
		return
	}
	b.log.Info("group became a supergroup; subscription moved", slog.Int64("chat_id", from), slog.Int64("new_chat_id", to))
}

// gone unsubscribes a chat Telegram says will never take messages again,
// keeping a tombstone: if Telegram was wrong, the chat's next message, or
// staff's /restore, brings the subscription back.
func (b *Bot) gone(ctx context.Context, chatID int64, cause error) {
	existed, err := b.p.Subscriptions.Remove(ctx, chatID, cause.Error())
	if err != nil {
		b.log.Error("cannot unsubscribe a chat that is gone", slog.Int64("chat_id", chatID), slog.Any("error", err))
		return
	}
	if existed {
		b.log.Info("chat is gone; unsubscribed", slog.Int64("chat_id", chatID), slog.Any("cause", cause))
	}
}

// command is a parsed "/name@bot args".
type command struct {
	Name    string // lower case
	Mention string // the bot named after "@", if any
	Args    string
}

// parseCommand reads a command at the start of text, as Telegram marks
// them: "/" then 1 to 32 Latin letters, digits or underscores, optionally
// "@botname", then whitespace or the end.
func parseCommand(text string) (command, bool) {
	if !strings.HasPrefix(text, "/") {
		return command{}, false
	}
	head, args := text[1:], ""
	if i := strings.IndexFunc(head, isSpace); i >= 0 {
		head, args = head[:i], head[i:]
	}
	name, mention, hasAt := strings.Cut(head, "@")
	if len(name) == 0 || len(name) > 32 || !isCommandWord(name) {
		return command{}, false
	}
	if hasAt && (mention == "" || !isCommandWord(mention)) {
		return command{}, false
	}
	return command{Name: strings.ToLower(name), Mention: mention, Args: strings.TrimSpace(args)}, true
}

func isCommandWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isSpace(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\u00a0' }
