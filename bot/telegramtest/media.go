package telegramtest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The kinds of media message a user can send and the bot can copy.
const (
	MediaPhoto    = "photo"
	MediaDocument = "document"
	MediaVideo    = "video"
	MediaAudio    = "audio"
	MediaVoice    = "voice"
)

// maxCaptionLength is Telegram's limit on a caption after entity parsing.
const maxCaptionLength = 1024

// maxIDsPerCall is how many message ids copyMessages and deleteMessages take.
const maxIDsPerCall = 100

// Descriptions of the answers the media methods give.
const (
	descCopyNotFound   = "Bad Request: message to copy not found"
	descNoCaption      = "Bad Request: there is no caption in the message to edit"
	descNoText         = "Bad Request: there is no text in the message to edit"
	descCaptionTooLong = "Bad Request: message caption is too long"
	descIDsInvalid     = "Bad Request: message identifiers are invalid"
	descIDsOrder       = "Bad Request: message identifiers must be in strictly increasing order"
)

// CopySource is the message a copy was made of.
type CopySource struct {
	ChatID    int64
	MessageID int
}

// UserMessage is what a user writes: a text, or a photo, document, video,
// audio or voice message with an optional caption (Text). Entities nil
// gets the ones Telegram detects (commands, links...). ReplyTo names a
// message of the chat it replies to.
type UserMessage struct {
	Text     string
	Entities []MessageEntity
	Media    string // "" for a text, else one of the Media* kinds
	ReplyTo  int
	// MediaGroupID groups the parts of an album; SendAlbum sets it.
	MediaGroupID string
	// Thread is the forum topic the message is written in, 0 for none.
	Thread int
}

// Send has the user write m in the chat, as SendText does for a text, and
// returns the update id (0 when the bot gets none) and the message's id.
func (s *Server) Send(chatID, fromUserID int64, m UserMessage) (updateID int64, messageID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendLocked("Send", chatID, fromUserID, m)
}

// SendAlbum has the user send parts as one album (a media group): each is
// a message of its own sharing a media_group_id, received by the bot as
// an update each, in order. It returns the messages' ids.
func (s *Server) SendAlbum(chatID, fromUserID int64, parts ...UserMessage) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(parts) < 2 || len(parts) > 10 {
		panic(fmt.Sprintf("telegramtest: SendAlbum: an album has 2 to 10 parts, not %d", len(parts)))
	}
	s.nextGroup++
	group := strconv.FormatInt(13000000000000000+s.nextGroup, 10)
	ids := make([]int, len(parts))
	for i, p := range parts {
		if p.Media == "" {
			panic("telegramtest: SendAlbum: every part of an album is a media message")
		}
		p.MediaGroupID = group
		_, ids[i] = s.sendLocked("SendAlbum", chatID, fromUserID, p)
	}
	return ids
}

func (s *Server) sendLocked(caller string, chatID, fromUserID int64, um UserMessage) (int64, int) {
	switch um.Media {
	case "", MediaPhoto, MediaDocument, MediaVideo, MediaAudio, MediaVoice:
	default:
		panic(fmt.Sprintf("telegramtest: %s: unknown media %q", caller, um.Media))
	}
	c := s.mustChat(caller, chatID)
	u := s.userLocked(fromUserID)
	if u.deactivated {
		panic(fmt.Sprintf("telegramtest: %s: user %d is deactivated", caller, fromUserID))
	}
	if c.typ == "private" && chatID != fromUserID {
		panic(fmt.Sprintf("telegramtest: %s: user %d can't write in user %d's private chat", caller, fromUserID, chatID))
	}
	if c.typ == "private" && c.botStatus == "kicked" {
		s.memberUpdateLocked(c, u, "kicked", "member")
	}
	if c.isGroupLike() && c.typ != "channel" {
		s.joinLocked(caller, c, fromUserID)
	}
	entities := um.Entities
	if entities == nil {
		entities = detectEntities(um.Text)
	}
	now := s.now()
	c.lastMsgID++
	m := &message{id: c.lastMsgID, fromUser: fromUserID, date: now, text: um.Text, raw: um.Text, entities: entities,
		media: um.Media, mediaGroup: um.MediaGroupID, replyTo: um.ReplyTo, thread: um.Thread}
	if m.media != "" {
		m.fileID = fmt.Sprintf("%s-%d-%d", m.media, chatID, m.id)
	}
	if m.replyTo != 0 && c.find(m.replyTo) == nil {
		m.replyTo = 0
	}
	c.messages = append(c.messages, m)
	s.notifyLocked()
	if c.botStatus == "left" || c.botStatus == "kicked" {
		return 0, m.id
	}
	w := s.wireMessageLocked(c, m)
	if c.typ == "channel" {
		return s.enqueueLocked(&wireUpdate{ChannelPost: w}), m.id
	}
	if c.isGroupLike() && !s.opts.ReadAllGroupMessages && !s.meantForBot(um.Text, entities) {
		return 0, m.id
	}
	return s.enqueueLocked(&wireUpdate{Message: w}), m.id
}

// wireContent fills in the text or the media and caption of m.
func wireContent(w *wireMessage, m *message) {
	if m.media == "" {
		w.Text, w.Entities = m.text, m.entities
		return
	}
	w.Caption, w.CaptionEntities, w.MediaGroupID = m.text, m.entities, m.mediaGroup
	f := wireFile{FileID: m.fileID, FileUniqueID: "u" + m.fileID}
	switch m.media {
	case MediaPhoto:
		w.Photo = []wireFile{f}
	case MediaDocument:
		w.Document = &f
	case MediaVideo:
		w.Video = &f
	case MediaAudio:
		w.Audio = &f
	case MediaVoice:
		w.Voice = &f
	}
}

// copyableLocked finds the message copy methods name in the source chat:
// one that exists, is not deleted, and is in a chat the bot can read.
func (s *Server) copyableLocked(p params) (*chat, *APIError) {
	from, apiErr := s.lookupChatLocked(p["from_chat_id"])
	if apiErr != nil {
		return nil, apiErr
	}
	if from.botStatus == "left" || from.botStatus == "kicked" {
		return nil, errBadRequest(descChatNotFound)
	}
	return from, nil
}

// copyChatsLocked finds the two chats a copy method names: c, written to
// (chat_id), and from, copied from (from_chat_id).
func (s *Server) copyChatsLocked(p params) (c, from *chat, apiErr *APIError) {
	c, apiErr = s.writableChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, nil, apiErr
	}
	from, apiErr = s.copyableLocked(p)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	return c, from, nil
}

// copyTurnLocked is a copy method's last check before it writes: the
// forum topic it posts in, then its turn in c's flood limits.
func (s *Server) copyTurnLocked(c *chat, p params) (thread int, apiErr *APIError) {
	thread, apiErr = threadOf(c, p)
	if apiErr != nil {
		return 0, apiErr
	}
	if retry, ok := s.limits.take(s.now(), c.id, c.typ == "private", p.bool("allow_paid_broadcast")); !ok {
		return 0, errTooMany(retry)
	}
	return thread, nil
}

// copyLocked adds to c a copy of m by the bot: same content, no keyboard,
// the caption replaced when caption is given.
func (s *Server) copyLocked(c, from *chat, m *message, group string) *message {
	c.lastMsgID++
	cp := &message{
		id: c.lastMsgID, fromBot: true, date: s.now(), text: m.text, raw: m.raw, parseMode: m.parseMode,
		entities: slices.Clone(m.entities), media: m.media, fileID: m.fileID, mediaGroup: group,
		copyOf: CopySource{ChatID: from.id, MessageID: m.id}, noPreview: m.noPreview,
	}
	c.messages = append(c.messages, cp)
	return cp
}

func (s *Server) copyMessage(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, from, apiErr := s.copyChatsLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	id := p.int("message_id")
	if id == 0 {
		return nil, errBadRequest(descMessageIDInvalid)
	}
	m := from.find(id)
	if m == nil || m.deleted {
		return nil, errBadRequest(descCopyNotFound)
	}
	var f *formatted
	if p.has("caption") {
		if m.media == "" {
			return nil, errBadRequest(descNoCaption)
		}
		cf, apiErr := s.captionLocked(p)
		if apiErr != nil {
			return nil, apiErr
		}
		f = &cf
	}
	mk, apiErr := parseMarkup(p["reply_markup"])
	if apiErr != nil {
		return nil, apiErr
	}
	thread, apiErr := s.copyTurnLocked(c, p)
	if apiErr != nil {
		return nil, apiErr
	}
	cp := s.copyLocked(c, from, m, "")
	cp.thread, cp.silent = thread, p.bool("disable_notification")
	if f != nil {
		cp.text, cp.raw, cp.parseMode, cp.entities = f.text, f.raw, f.parseMode, f.entities
	}
	cp.markup = mk
	cp.rememberCallbacks()
	s.notifyLocked()
	return wireMessageID{MessageID: cp.id}, nil
}

// idListParam reads message_ids: 1 to 100 ids, in any order.
func idListParam(p params) ([]int, *APIError) {
	var ids []int
	if ok, err := p.json("message_ids", &ids); err != nil || !ok || len(ids) == 0 || len(ids) > maxIDsPerCall {
		return nil, errBadRequest(descIDsInvalid)
	}
	return ids, nil
}

// idsParam reads message_ids: 1 to 100 ids in strictly increasing order,
// as the copy methods want them.
func idsParam(p params) ([]int, *APIError) {
	ids, apiErr := idListParam(p)
	if apiErr != nil {
		return nil, apiErr
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return nil, errBadRequest(descIDsOrder)
		}
	}
	return ids, nil
}

// copyMessages copies what it finds of message_ids, skipping missing
// ones, and keeps an album's parts together in a new album.
func (s *Server) copyMessages(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, from, apiErr := s.copyChatsLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	ids, apiErr := idsParam(p)
	if apiErr != nil {
		return nil, apiErr
	}
	var found []*message
	for _, id := range ids {
		if m := from.find(id); m != nil && !m.deleted {
			found = append(found, m)
		}
	}
	if len(found) == 0 {
		return nil, errBadRequest(descCopyNotFound)
	}
	thread, apiErr := s.copyTurnLocked(c, p)
	if apiErr != nil {
		return nil, apiErr
	}
	groups := map[string]string{}
	out := make([]wireMessageID, 0, len(found))
	for _, m := range found {
		group := ""
		if m.mediaGroup != "" {
			if groups[m.mediaGroup] == "" {
				s.nextGroup++
				groups[m.mediaGroup] = strconv.FormatInt(13000000000000000+s.nextGroup, 10)
			}
			group = groups[m.mediaGroup]
		}
		cp := s.copyLocked(c, from, m, group)
		cp.thread, cp.silent = thread, p.bool("disable_notification")
		out = append(out, wireMessageID{MessageID: cp.id})
	}
	s.notifyLocked()
	return out, nil
}

// deleteMessages deletes what it may of message_ids, skipping the rest,
// as Telegram does; it fails only when it deletes none.
func (s *Server) deleteMessages(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, apiErr := s.writableChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, apiErr
	}
	ids, apiErr := idListParam(p)
	if apiErr != nil {
		return nil, apiErr
	}
	now, deleted := s.now(), 0
	for _, id := range ids {
		m := c.find(id)
		if m == nil || m.deleted || now.Sub(m.date) >= deleteWindow {
			continue
		}
		if !m.fromBot && c.isGroupLike() && c.botStatus != "administrator" {
			continue
		}
		m.deleted = true
		deleted++
	}
	if deleted == 0 {
		return nil, errBadRequest(descDeleteNotFound)
	}
	s.notifyLocked()
	return true, nil
}

// captionLocked validates caption, parse_mode and caption_entities as
// editMessageCaption and copyMessage do: an empty caption removes it.
func (s *Server) captionLocked(p params) (formatted, *APIError) {
	raw := p["caption"]
	if strings.TrimSpace(raw) == "" {
		return formatted{parseMode: p["parse_mode"]}, nil
	}
	q := params{"text": raw, "parse_mode": p["parse_mode"], "entities": p["caption_entities"]}
	f, apiErr := s.formatLocked(q)
	if apiErr != nil {
		if apiErr.Description == descTooLong {
			return f, errBadRequest(descCaptionTooLong)
		}
		return f, apiErr
	}
	if utf16Count(f.text) > maxCaptionLength {
		return f, errBadRequest(descCaptionTooLong)
	}
	return f, nil
}

func (s *Server) editMessageCaption(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, apiErr := s.editableLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	if m.media == "" {
		return nil, errBadRequest(descNoCaption)
	}
	f, apiErr := s.captionLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	mk, apiErr := editMarkup(p)
	if apiErr != nil {
		return nil, apiErr
	}
	f.noPreview = m.noPreview // a caption has no link preview to change
	return s.contentEditedLocked(c, m, f, mk)
}
