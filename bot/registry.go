package bot

import (
	"context"
	"fmt"
	"maps"
	"regexp"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// HandlerFunc answers a command. An error it returns is logged and the user
// gets a short generic apology; a panic is recovered the same way.
type HandlerFunc func(ctx context.Context, r *Request) error

// CallbackFunc answers the press of an inline button. The callback query is
// answered for it (with no text) if it does not call r.Answer itself.
type CallbackFunc func(ctx context.Context, r *Request) error

// HandlerOption changes how a command or callback is served.
type HandlerOption func(*entry)

// AdminOnly serves the command only to the users in Params.Admins; anyone
// else gets a polite refusal without detail, and the refusal is logged with
// the user's id. Admin commands are listed in /help and in the command menu
// for admins only.
func AdminOnly() HandlerOption { return func(e *entry) { e.adminOnly = true } }

// GroupAdminOnly serves the command or button, in groups, supergroups and
// channels, to the chat's administrators only (its creator, administrators,
// an administrator writing anonymously as the group, and posts in the
// channel), as Telegram's getChatMember says; an answer is trusted for a
// minute. Anyone else is refused politely (a button press with an alert),
// and so is everyone, with a "try again", while Telegram cannot say.
// Private chats are not checked: their settings are their owner's.
func GroupAdminOnly() HandlerOption { return func(e *entry) { e.groupAdminOnly = true } }

// Describe gives the command's description per language ("en", "ru"), for
// /help and Telegram's command menu (plain text, at most 256 characters). A
// command without one works but is listed nowhere.
func Describe(texts map[string]string) HandlerOption {
	return func(e *entry) { e.desc = maps.Clone(texts) }
}

// describeKey describes a built-in command from the catalog.
func describeKey(c *i18n.Catalog, k i18n.Key) HandlerOption {
	texts := map[string]string{}
	for _, l := range i18n.Languages() {
		texts[l] = c.Text(l, k)
	}
	return Describe(texts)
}

// TextFunc is offered a message that is not a command, in a private chat,
// and reports whether it took it; when no handler takes it the bot answers
// with its usual hint. An error is logged and apologised for, as a
// command's is (the message then counts as taken).
type TextFunc func(ctx context.Context, r *Request) (bool, error)

// textEntry is a registered TextFunc.
type textEntry struct {
	h         TextFunc
	adminOnly bool
}

// HandleText registers h for private messages that are not commands, such
// as the answer to a question a command asked. With AdminOnly, h sees
// admins' messages only (others get the usual hint, not a refusal). Call it
// before Run. Handlers are asked in registration order.
func (b *Bot) HandleText(h TextFunc, opts ...HandlerOption) {
	if h == nil {
		panic("bot: nil text handler")
	}
	e := &entry{}
	for _, o := range opts {
		o(e)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.texts = append(b.texts, textEntry{h: h, adminOnly: e.adminOnly})
}

type entry struct {
	name           string
	adminOnly      bool
	groupAdminOnly bool
	desc           map[string]string
	serve          HandlerFunc // the handler inside its middleware
}

// description returns the entry's description in lang, else in the
// default language, else in any.
func (e *entry) description(lang, def string) string {
	return Localized(e.desc).In(lang, def)
}

var (
	commandName    = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	callbackPrefix = regexp.MustCompile(`^[a-z0-9_]{1,16}$`)
)

// Handle registers h for /cmd (lower case letters, digits and underscores,
// at most 32). Call it before Run; it panics on an invalid or duplicate
// name, as registering one is a programming error.
func (b *Bot) Handle(cmd string, h HandlerFunc, opts ...HandlerOption) {
	if !commandName.MatchString(cmd) {
		panic(fmt.Sprintf("bot: invalid command name %q", cmd))
	}
	if h == nil {
		panic("bot: nil handler for /" + cmd)
	}
	e := &entry{name: cmd}
	for _, o := range opts {
		o(e)
	}
	e.serve = b.middleware(h, e)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.commands[cmd]; dup {
		panic("bot: command /" + cmd + " registered twice")
	}
	b.commands[cmd] = e
	b.order = append(b.order, cmd)
}

// HandleCallback registers h for inline buttons whose callback data is
// "prefix:rest"; the handler finds rest in r.Data. The whole data must fit
// Telegram's 64 bytes. It panics on an invalid or duplicate prefix.
func (b *Bot) HandleCallback(prefix string, h CallbackFunc, opts ...HandlerOption) {
	if !callbackPrefix.MatchString(prefix) {
		panic(fmt.Sprintf("bot: invalid callback prefix %q", prefix))
	}
	if h == nil {
		panic("bot: nil handler for callback " + prefix)
	}
	e := &entry{name: prefix}
	for _, o := range opts {
		o(e)
	}
	e.serve = b.middleware(HandlerFunc(h), e)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.callbacks[prefix]; dup {
		panic("bot: callback prefix " + prefix + " registered twice")
	}
	b.callbacks[prefix] = e
}

func (b *Bot) command(name string) *entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.commands[name]
}

func (b *Bot) callback(prefix string) *entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.callbacks[prefix]
}

// listed returns the described commands in registration order: the public
// ones, then (when staff is set) the admin-only ones.
func (b *Bot) listed(staff bool) []*entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*entry
	for _, name := range b.order {
		if e := b.commands[name]; e.adminOnly == staff && len(e.desc) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// Chat is the chat an update came from.
type Chat struct {
	ID    int64
	Type  subscriptions.ChatType // private, group, supergroup or channel
	Title string                 // groups and channels
}

// Request is one command, text or button press being handled.
type Request struct {
	UpdateID  int64
	Chat      Chat
	UserID    int64  // the sender; 0 for channel posts
	FirstName string // the sender's first name, for greetings
	Command   string // the command without "/" and "@bot", lower case
	Args      string // the text after the command, trimmed
	Data      string // a button's callback data after "prefix:"
	MessageID int    // the command's message, or the message holding the pressed button
	Thread    int64  // the forum topic the message was written in, 0 outside topics; replies go there
	Lang      string // the language to answer in: the chat's, else the sender's, else the default

	// Message is the received message's text with its formatting, for
	// commands and text; nil for a button press.
	Message *Message
	// PressedText is the plain text of the message whose button was
	// pressed, as it is now (Telegram sends the message as last edited):
	// a button of a keyboard that was since replaced can tell.
	PressedText string

	bot        *Bot
	route      string // the callback prefix, for logs
	senderChat int64  // the chat a message was sent as (sender_chat), if any
	userLang   string // the sender's Telegram language_code
	sub        subscriptions.Subscriber
	subscribed bool
	callbackID string
	answered   bool
	// keyboard is the pressed button's message's keyboard, as received.
	keyboard Keyboard
}

// Message is the text of a message the bot received, with its formatting.
type Message struct {
	// Text and Entities are the message's text, or its caption when it is
	// a photo or a file.
	Text     string
	Entities []Entity
	// ReplyTo is the message this one replies to, if any.
	ReplyTo *Message
	// ID and ChatID name the message, for copying it.
	ID     int
	ChatID int64
	// Media is the kind of a message that is not a text: photo, document,
	// video, audio, voice, animation (captioned kinds) or other (a
	// sticker, a poll...); "" for a text.
	Media string
	// MediaGroupID is an album part's album.
	MediaGroupID string
}

// Captioned reports whether m is a media message that has or may have a
// caption (what editMessageCaption changes).
func (m *Message) Captioned() bool { return m.Media != "" && m.Media != MediaOther }

// MediaOther is the Media of a non-text message without a caption.
const MediaOther = "other"

// Entity is one formatting span of a message's text, as Telegram reports
// it: Offset and Length count UTF-16 code units.
type Entity struct {
	Type     string // bold, italic, underline, strikethrough, spoiler, code, pre, text_link, text_mention, blockquote...
	Offset   int
	Length   int
	URL      string // text_link
	Language string // pre
	UserID   int64  // text_mention
}

// T is the catalog text key in the request's language.
func (r *Request) T(key i18n.Key, kv ...any) string { return r.bot.cat.T(r.Lang, key, kv...) }

// Text is the plain catalog text key in the request's language.
func (r *Request) Text(key i18n.Key, kv ...any) string { return r.bot.cat.Text(r.Lang, key, kv...) }

// Reply sends text (Telegram HTML: escape what you put in it) to the chat.
func (r *Request) Reply(ctx context.Context, text string) error {
	_, err := r.bot.sendHTML(ctx, r.Chat.ID, text, nil, r.Thread)
	return err
}

// ReplyKeyboard sends text with an inline keyboard to the chat.
func (r *Request) ReplyKeyboard(ctx context.Context, text string, kb Keyboard) error {
	_, err := r.bot.sendHTML(ctx, r.Chat.ID, text, kb, r.Thread)
	return err
}

// Edit replaces the text and keyboard of the message whose button was
// pressed. An edit that changes nothing is not an error.
func (r *Request) Edit(ctx context.Context, text string, kb Keyboard) error {
	return r.bot.editText(ctx, r.Chat.ID, r.MessageID, text, kb)
}

// EditKeyboard redraws the keyboard of the message whose button was pressed.
func (r *Request) EditKeyboard(ctx context.Context, kb Keyboard) error {
	return r.bot.editKeyboard(ctx, r.Chat.ID, r.MessageID, kb)
}

// Answer answers the pressed button's callback query with a short plain
// notice (text may be empty). Only the first answer counts; on anything
// but a button press it does nothing.
func (r *Request) Answer(ctx context.Context, text string) error {
	return r.answer(ctx, text, false)
}

// answer is Answer, as an alert the user must dismiss when alert is set.
func (r *Request) answer(ctx context.Context, text string, alert bool) error {
	if r.callbackID == "" || r.answered {
		return nil
	}
	r.answered = true
	return r.bot.answerCallback(ctx, r.callbackID, text, alert)
}

// IsCallback reports whether the request is a button press.
func (r *Request) IsCallback() bool { return r.callbackID != "" }

// IsAdmin reports whether the sender is one of Params.Admins.
func (r *Request) IsAdmin() bool { return r.UserID != 0 && r.bot.admins[r.UserID] }

// Subscriber returns the chat's subscription as it was when the request
// arrived (or as the handler last changed it).
func (r *Request) Subscriber() (subscriptions.Subscriber, bool) { return r.sub, r.subscribed }

// setSubscriber records a change of the chat's subscription.
func (r *Request) setSubscriber(s subscriptions.Subscriber, ok bool) {
	r.sub, r.subscribed = s, ok
	if ok {
		r.Lang = r.bot.cat.Language(s.Language)
	}
}
