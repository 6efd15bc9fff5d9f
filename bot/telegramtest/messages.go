package telegramtest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// deleteWindow is how long after sending a message can be deleted for
// everyone.
const deleteWindow = 48 * time.Hour

// Message is the current state of a message the bot sent.
type Message struct {
	ChatID    int64
	MessageID int
	// Text is the plain text after entity parsing: tags removed, HTML
	// entities decoded, surrounding whitespace trimmed.
	Text string
	// HTML is the text as the bot sent it, whatever the parse mode.
	HTML                  string
	ParseMode             string
	Entities              []MessageEntity
	ReplyMarkup           json.RawMessage // canonical JSON, nil without markup
	Deleted               bool
	Edits                 int
	DisableWebPagePreview bool
	Date                  time.Time
	ReplyToMessageID      int
	// DisableNotification: sent silently. ThreadID: the forum topic it
	// was sent to, 0 for none. Venue: set for a sendVenue message.
	DisableNotification bool
	ThreadID            int
	Venue               *Venue
	// Media is the kind of a media message (MediaPhoto...), whose Text,
	// HTML and Entities are its caption's; "" for a text.
	Media        string
	MediaGroupID string
	// CopyOf is the message this one is a copy of (copyMessage,
	// copyMessages); zero for a message sent otherwise.
	CopyOf CopySource
}

// Venue is a location with a title and an address, as sendVenue sends it.
type Venue struct {
	Location struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"location"`
	Title   string `json:"title"`
	Address string `json:"address"`
}

// InlineButton is one button of an inline keyboard.
type InlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// InlineKeyboard is the message's inline keyboard by rows, nil if it has none.
func (m Message) InlineKeyboard() [][]InlineButton {
	var kb struct {
		InlineKeyboard [][]InlineButton `json:"inline_keyboard"`
	}
	if len(m.ReplyMarkup) == 0 || json.Unmarshal(m.ReplyMarkup, &kb) != nil {
		return nil
	}
	return kb.InlineKeyboard
}

// Messages is the current state of every message the bot sent to the chat,
// in the order sent, deleted ones included and marked.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.messages {
		if !m.fromBot {
			continue
		}
		out = append(out, Message{
			ChatID: chatID, MessageID: m.id, Text: m.text, HTML: m.raw, ParseMode: m.parseMode,
			Entities: slices.Clone(m.entities), ReplyMarkup: slices.Clone(m.markup.rawOrNil()),
			Deleted: m.deleted, Edits: m.edits, DisableWebPagePreview: m.noPreview, Date: m.date,
			ReplyToMessageID: m.replyTo, DisableNotification: m.silent, ThreadID: m.thread, Venue: m.venue,
			Media: m.media, MediaGroupID: m.mediaGroup, CopyOf: m.copyOf,
		})
	}
	return out
}

// formatted is a validated message text.
type formatted struct {
	text      string
	raw       string
	parseMode string
	entities  []MessageEntity
	noPreview bool
}

// formatLocked validates text, parse_mode, entities and link preview
// options as sendMessage and editMessageText do.
func (s *Server) formatLocked(p params) (formatted, *APIError) {
	raw := p["text"]
	f := formatted{raw: raw, parseMode: p["parse_mode"]}
	if strings.TrimSpace(raw) == "" {
		return f, errBadRequest(descTextEmpty)
	}
	var plain string
	var entities []MessageEntity
	switch strings.ToLower(f.parseMode) {
	case "":
		plain = raw
		if _, err := p.json("entities", &entities); err != nil {
			return f, errBadRequest("Bad Request: can't parse entities JSON object")
		}
	case "html":
		var err error
		plain, entities, err = parseHTML(raw, s.opts.LenientHTML)
		if err != nil {
			return f, errBadRequest(descParsePrefix + err.Error())
		}
	default:
		// Markdown and MarkdownV2 are Telegram's too, but this fake does not
		// parse them; the bot under test uses HTML.
		return f, errBadRequest(descParseMode)
	}
	plain, entities = trimFormatted(plain, entities)
	if plain == "" {
		return f, errBadRequest(descTextEmpty)
	}
	if utf16Count(plain) > maxTextLength {
		return f, errBadRequest(descTooLong)
	}
	f.text, f.entities = plain, entities
	f.noPreview = p.bool("disable_web_page_preview")
	var lpo wireLinkPreviewOptions
	if ok, err := p.json("link_preview_options", &lpo); err != nil {
		return f, errBadRequest("Bad Request: can't parse link preview options JSON object")
	} else if ok {
		f.noPreview = lpo.IsDisabled
	}
	return f, nil
}

func (s *Server) sendMessage(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, apiErr := s.writableChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, apiErr
	}
	f, apiErr := s.formatLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	mk, apiErr := parseMarkup(p["reply_markup"])
	if apiErr != nil {
		return nil, apiErr
	}
	replyTo, allowWithout := p.int("reply_to_message_id"), p.bool("allow_sending_without_reply")
	var rp struct {
		MessageID                int  `json:"message_id"`
		AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
	}
	if ok, err := p.json("reply_parameters", &rp); err != nil {
		return nil, errBadRequest("Bad Request: can't parse reply parameters JSON object")
	} else if ok {
		replyTo, allowWithout = rp.MessageID, rp.AllowSendingWithoutReply
	}
	if replyTo != 0 {
		if m := c.find(replyTo); m == nil || m.deleted {
			if !allowWithout {
				return nil, errBadRequest(descReplyNotFound)
			}
			replyTo = 0
		}
	}
	m := &message{
		text: f.text, raw: f.raw, parseMode: f.parseMode,
		entities: f.entities, markup: mk, noPreview: f.noPreview, replyTo: replyTo,
	}
	m.rememberCallbacks()
	return s.postLocked(c, p, m)
}

// postLocked checks what every send shares (the topic, the flood limits),
// then gives m its id, date, thread and notification setting and adds it
// to the chat.
func (s *Server) postLocked(c *chat, p params, m *message) (any, *APIError) {
	thread, apiErr := threadOf(c, p)
	if apiErr != nil {
		return nil, apiErr
	}
	now := s.now()
	if retry, ok := s.limits.take(now, c.id, c.typ == "private", p.bool("allow_paid_broadcast")); !ok {
		return nil, errTooMany(retry)
	}
	c.lastMsgID++
	m.id, m.fromBot, m.date, m.thread, m.silent = c.lastMsgID, true, now, thread, p.bool("disable_notification")
	c.messages = append(c.messages, m)
	s.notifyLocked()
	return s.wireMessageLocked(c, m), nil
}

func (m *message) rememberCallbacks() {
	if m.markup == nil {
		return
	}
	if m.callbacks == nil {
		m.callbacks = map[string]bool{}
	}
	for _, d := range m.markup.callbacks {
		m.callbacks[d] = true
	}
}

// threadOf checks a send's message_thread_id as Telegram does: only a
// forum's existing topics take one.
func threadOf(c *chat, p params) (int, *APIError) {
	if !p.has("message_thread_id") {
		return 0, nil
	}
	t := p.int("message_thread_id")
	if t == 0 {
		return 0, nil
	}
	if !c.forum || !c.topics[t] {
		return 0, errBadRequest(descThreadNotFound)
	}
	return t, nil
}

// wireMessageLocked is the message as the Bot API shows it.
func (s *Server) wireMessageLocked(c *chat, m *message) *wireMessage {
	w := &wireMessage{
		MessageID: m.id, Date: m.date.Unix(), Chat: c.wire(), ReplyMarkup: m.markup.inlineRaw(),
		MessageThreadID: m.thread, IsTopicMessage: m.thread != 0, Venue: m.venue,
	}
	wireContent(w, m)
	switch {
	case c.typ == "channel":
		sc := c.wire()
		w.SenderChat = &sc
	case m.fromBot:
		b := s.botUser(false)
		w.From = &b
	default:
		u := s.userLocked(m.fromUser).wire()
		w.From = &u
	}
	if !m.editDate.IsZero() {
		w.EditDate = m.editDate.Unix()
	}
	if m.noPreview {
		w.LinkPreviewOptions = &wireLinkPreviewOptions{IsDisabled: true}
	}
	if m.replyTo != 0 {
		if r := c.find(m.replyTo); r != nil {
			inner := *s.wireMessageLocked(c, &message{
				id: r.id, fromBot: r.fromBot, fromUser: r.fromUser, date: r.date, text: r.text,
				entities: r.entities, markup: r.markup, editDate: r.editDate,
				media: r.media, fileID: r.fileID, mediaGroup: r.mediaGroup,
			})
			w.ReplyToMessage = &inner
		}
	}
	return w
}

// editableLocked finds the bot message an edit method names.
func (s *Server) editableLocked(p params) (*chat, *message, *APIError) {
	if p["inline_message_id"] != "" {
		return nil, nil, errBadRequest(descInlineUnsupported)
	}
	c, apiErr := s.writableChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, nil, apiErr
	}
	id := p.int("message_id")
	if id == 0 {
		return nil, nil, errBadRequest(descMessageIDInvalid)
	}
	m := c.find(id)
	if m == nil || m.deleted {
		return nil, nil, errBadRequest(descEditNotFound)
	}
	if !m.fromBot {
		return nil, nil, errBadRequest(descCantEdit)
	}
	return c, m, nil
}

// editMarkup reads reply_markup for an edit: only inline keyboards, and no
// markup means the keyboard is removed.
func editMarkup(p params) (*markup, *APIError) {
	mk, apiErr := parseMarkup(p["reply_markup"])
	if apiErr != nil {
		return nil, apiErr
	}
	if mk != nil && !mk.inline {
		return nil, errBadRequest("Bad Request: inline keyboard expected")
	}
	return mk, nil
}

func sameEntities(a, b []MessageEntity) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func sameMarkup(a, b *markup) bool {
	return string(a.inlineRaw()) == string(b.inlineRaw())
}

func (s *Server) editMessageText(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, apiErr := s.editableLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	if m.media != "" {
		return nil, errBadRequest(descNoText)
	}
	f, apiErr := s.formatLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	mk, apiErr := editMarkup(p)
	if apiErr != nil {
		return nil, apiErr
	}
	return s.contentEditedLocked(c, m, f, mk)
}

// contentEditedLocked finishes editMessageText and editMessageCaption: an
// edit that changes nothing is refused, the chat's flood limit applies,
// and the new text or caption is kept.
func (s *Server) contentEditedLocked(c *chat, m *message, f formatted, mk *markup) (any, *APIError) {
	if f.text == m.text && sameEntities(f.entities, m.entities) && sameMarkup(mk, m.markup) {
		return nil, errBadRequest(descNotModified)
	}
	now := s.now()
	if retry, ok := s.limits.take(now, c.id, c.typ == "private", false); !ok {
		return nil, errTooMany(retry)
	}
	m.text, m.raw, m.parseMode, m.entities, m.noPreview = f.text, f.raw, f.parseMode, f.entities, f.noPreview
	return s.editedLocked(c, m, mk, now), nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, apiErr := s.editableLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	mk, apiErr := editMarkup(p)
	if apiErr != nil {
		return nil, apiErr
	}
	if sameMarkup(mk, m.markup) {
		return nil, errBadRequest(descNotModified)
	}
	return s.editedLocked(c, m, mk, s.now()), nil
}

// editedLocked finishes an edit of m, whichever method made it: the new
// markup's buttons become pressable, the edit is counted and waiters woken.
func (s *Server) editedLocked(c *chat, m *message, mk *markup, now time.Time) *wireMessage {
	m.markup = mk
	m.rememberCallbacks()
	m.edits++
	m.editDate = now
	s.notifyLocked()
	return s.wireMessageLocked(c, m)
}

func (s *Server) deleteMessage(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, apiErr := s.writableChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, apiErr
	}
	id := p.int("message_id")
	if id == 0 {
		return nil, errBadRequest(descMessageIDInvalid)
	}
	m := c.find(id)
	if m == nil || m.deleted {
		return nil, errBadRequest(descDeleteNotFound)
	}
	if s.now().Sub(m.date) >= deleteWindow {
		return nil, errBadRequest(descCantDelete)
	}
	if !m.fromBot && c.isGroupLike() && c.botStatus != "administrator" {
		// Deleting others' messages in a group takes admin rights.
		return nil, errBadRequest(descCantDelete)
	}
	m.deleted = true
	s.notifyLocked()
	return true, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, apiErr := s.writableChatLocked(p["chat_id"]); apiErr != nil {
		return nil, apiErr
	}
	if !chatActions[p["action"]] {
		return nil, errBadRequest(descActionInvalid)
	}
	return true, nil
}

func (s *Server) getChat(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, apiErr := s.lookupChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, apiErr
	}
	if c.migratedTo != 0 {
		return nil, errMigrated(c.migratedTo)
	}
	return c.wire(), nil
}
