package telegramtest

import (
	"context"
	"fmt"
)

// Chat member statuses, as getChatMember reports them.
const (
	StatusCreator       = "creator"
	StatusAdministrator = "administrator"
	StatusMember        = "member"
	StatusRestricted    = "restricted"
	StatusLeft          = "left"
	StatusKicked        = "kicked"
)

// member is a user's standing in a group, supergroup or channel. Users with
// no record there are "left", as Telegram reports users who never joined.
type member struct {
	status    string
	anonymous bool // an administrator who posts as the group
}

// anonymousAdminUser is the sender Telegram puts in from for messages an
// anonymous administrator sends as the group, and for service messages.
func anonymousAdminUser() wireUser {
	return wireUser{ID: groupAnonymousBotID, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot"}
}

// SetChatAdmin makes the user an administrator of the group, supergroup or
// channel. A creator stays the creator: Telegram cannot demote one.
func (s *Server) SetChatAdmin(chatID, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.memberChat("SetChatAdmin", chatID)
	if m := c.members[userID]; m != nil && m.status == StatusCreator {
		return
	}
	s.setMemberLocked(c, userID, StatusAdministrator)
}

// SetChatCreator makes the user the chat's creator (owner). A previous
// creator becomes an administrator, as after a transfer of ownership.
func (s *Server) SetChatCreator(chatID, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.memberChat("SetChatCreator", chatID)
	for id, m := range c.members {
		if m.status == StatusCreator && id != userID {
			m.status = StatusAdministrator
		}
	}
	s.setMemberLocked(c, userID, StatusCreator)
}

// SetChatMemberStatus gives the user any status in the chat: "creator",
// "administrator", "member", "restricted" (may read, may not write),
// "left" or "kicked" (banned).
func (s *Server) SetChatMemberStatus(chatID, userID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.memberChat("SetChatMemberStatus", chatID)
	switch status {
	case StatusCreator, StatusAdministrator, StatusMember, StatusRestricted, StatusLeft, StatusKicked:
	default:
		panic(fmt.Sprintf("telegramtest: SetChatMemberStatus: unknown status %q", status))
	}
	s.setMemberLocked(c, userID, status)
}

// memberChat is the group-like chat a membership helper names.
func (s *Server) memberChat(helper string, chatID int64) *chat {
	c := s.mustChat(helper, chatID)
	if !c.isGroupLike() {
		panic(fmt.Sprintf("telegramtest: %s: chat %d is a private chat", helper, chatID))
	}
	return c
}

func (s *Server) setMemberLocked(c *chat, userID int64, status string) {
	if userID <= 0 || userID == s.botID {
		panic(fmt.Sprintf("telegramtest: user %d cannot be given a status; the bot's own follows AddBotToGroup and friends", userID))
	}
	s.userLocked(userID)
	if c.members == nil {
		c.members = map[int64]*member{}
	}
	m := c.members[userID]
	if m == nil {
		m = &member{}
		c.members[userID] = m
	}
	m.status = status
	if status != StatusCreator && status != StatusAdministrator {
		m.anonymous = false
	}
	s.notifyLocked()
}

// memberStatus is the user's status in a group-like chat.
func (c *chat) memberStatus(userID int64) string {
	if m := c.members[userID]; m != nil {
		return m.status
	}
	return StatusLeft
}

// joinLocked records that the user wrote in the group: someone who had left
// (or never joined) is a member now. A banned or restricted user cannot
// write, so that is a bug in the test.
func (s *Server) joinLocked(helper string, c *chat, userID int64) {
	switch st := c.memberStatus(userID); st {
	case StatusKicked, StatusRestricted:
		panic(fmt.Sprintf("telegramtest: %s: user %d is %s in chat %d and cannot write there", helper, userID, st, c.id))
	case StatusLeft:
		if c.members == nil {
			c.members = map[int64]*member{}
		}
		c.members[userID] = &member{status: StatusMember}
	}
}

// cloneMembers copies a group's members, for its supergroup.
func cloneMembers(in map[int64]*member) map[int64]*member {
	out := make(map[int64]*member, len(in))
	for id, m := range in {
		cp := *m
		out[id] = &cp
	}
	return out
}

// SendTextAsAnonymousAdmin has an administrator who chose to remain
// anonymous write text in a supergroup, and returns the update id (0 as
// SendText says). As in Telegram the message comes from GroupAnonymousBot
// (id 1087968824) with sender_chat the supergroup itself, so the bot cannot
// tell which administrator wrote it; the user is marked anonymous, which
// getChatMember then reports.
func (s *Server) SendTextAsAnonymousAdmin(chatID, adminUserID int64, text string) (updateID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("SendTextAsAnonymousAdmin", chatID)
	if c.typ != "supergroup" {
		// Turning anonymity on upgrades a basic group to a supergroup.
		panic(fmt.Sprintf("telegramtest: SendTextAsAnonymousAdmin: chat %d is a %s; only supergroups have anonymous administrators", chatID, c.typ))
	}
	m := c.members[adminUserID]
	if m == nil || (m.status != StatusCreator && m.status != StatusAdministrator) {
		panic(fmt.Sprintf("telegramtest: SendTextAsAnonymousAdmin: user %d is not an administrator of chat %d; use SetChatAdmin", adminUserID, chatID))
	}
	m.anonymous = true
	now := s.now()
	c.lastMsgID++
	entities := detectEntities(text)
	c.messages = append(c.messages, &message{id: c.lastMsgID, fromUser: groupAnonymousBotID, date: now, text: text, raw: text, entities: entities})
	s.notifyLocked()
	if c.botStatus == StatusLeft || c.botStatus == StatusKicked {
		return 0
	}
	if !s.opts.ReadAllGroupMessages && !s.meantForBot(text, entities) {
		return 0
	}
	from, sc := anonymousAdminUser(), c.wire()
	return s.enqueueLocked(&wireUpdate{Message: &wireMessage{
		MessageID: c.lastMsgID, From: &from, SenderChat: &sc, Date: now.Unix(), Chat: c.wire(), Text: text, Entities: entities,
	}})
}

// getChatMember answers as Telegram does: the member's status and user for
// anyone the bot knows, "left" for a known user who is not in the chat,
// "user not found" for a user the bot has never met. Telegram's sporadic
// "Bad Request: PARTICIPANT_ID_INVALID" (members hidden from a bot that is
// not an administrator) is left to Fail.
func (s *Server) getChatMember(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, apiErr := s.lookupChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, apiErr
	}
	if c.isGroupLike() {
		// A bot removed from a group can no longer look into it.
		if c, apiErr = s.writableChatLocked(p["chat_id"]); apiErr != nil {
			return nil, apiErr
		}
	} else if c.migratedTo != 0 {
		return nil, errMigrated(c.migratedTo)
	}
	userID := p.int64("user_id")
	if userID <= 0 {
		return nil, errBadRequest(descUserIDInvalid)
	}
	if userID == s.botID {
		status := c.botStatus
		if c.typ == "private" && status != StatusKicked {
			status = StatusMember
		}
		return s.wireMember(s.botUser(false), &member{status: status}), nil
	}
	u := s.users[userID]
	if u == nil {
		return nil, errBadRequest(descUserNotFound)
	}
	m := &member{status: StatusLeft}
	switch {
	case c.typ == "private" && c.id == userID:
		m.status = StatusMember
	case c.isGroupLike() && c.members[userID] != nil:
		m = c.members[userID]
	}
	return s.wireMember(u.wire(), m), nil
}

// wireMember is the ChatMember object of one status: each status has its
// own fields in the Bot API (ChatMemberOwner, ChatMemberAdministrator...).
func (s *Server) wireMember(u wireUser, m *member) wireChatMember {
	// Fresh values: the result is encoded after the server's lock is let go.
	yes, no, forever, anonymous := true, false, int64(0), m.anonymous
	w := wireChatMember{User: u, Status: m.status}
	switch m.status {
	case StatusCreator:
		w.IsAnonymous = &anonymous
	case StatusAdministrator:
		w.IsAnonymous = &anonymous
		w.CanBeEdited = &no
		w.CanManageChat, w.CanChangeInfo, w.CanDeleteMessages = &yes, &yes, &yes
		w.CanInviteUsers, w.CanRestrictMembers, w.CanPinMessages = &yes, &yes, &yes
		w.CanPromoteMembers = &no
	case StatusRestricted:
		w.IsMember, w.CanSendMessages, w.UntilDate = &yes, &no, &forever
	case StatusKicked:
		w.UntilDate = &forever
	}
	return w
}
