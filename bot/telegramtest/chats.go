package telegramtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// groupAnonymousBotID is the user Telegram names as the sender of service
// messages that no user sent, such as a group's migration.
const groupAnonymousBotID = 1087968824

type user struct {
	id          int64
	firstName   string
	lang        string
	deactivated bool
}

type chat struct {
	id         int64
	typ        string // private, group, supergroup, channel
	title      string
	firstName  string // of the user, in a private chat
	username   string
	botStatus  string // member, administrator, left, kicked
	deleted    bool
	migratedTo int64
	lastMsgID  int
	messages   []*message // every message of the chat, the bot's and users', in order
	// members are the users' statuses in a group-like chat; the bot's is
	// botStatus.
	members map[int64]*member
	// forum marks a supergroup with topics; topics are the message ids of
	// their "topic created" messages, which are their thread ids.
	forum  bool
	topics map[int]bool
}

// message is the server's record of one message.
type message struct {
	id        int
	fromBot   bool
	fromUser  int64
	date      time.Time
	text      string
	raw       string
	parseMode string
	entities  []MessageEntity
	markup    *markup
	callbacks map[string]bool // callback_data of every inline button the message has had
	deleted   bool
	edits     int
	editDate  time.Time
	noPreview bool
	replyTo   int
	// silent: sent with disable_notification; thread: the forum topic.
	silent bool
	thread int
	venue  *Venue
	// media is the kind of a photo, document, video, audio or voice message
	// ("" for a text); its text and entities are then its caption's.
	media      string
	fileID     string
	mediaGroup string
	copyOf     CopySource // the bot's copy (copyMessage, copyMessages) of that message
}

func (c *chat) isGroupLike() bool { return c.typ != "private" }

func (c *chat) wire() wireChat {
	return wireChat{ID: c.id, Type: c.typ, Title: c.title, Username: c.username, FirstName: c.firstName, IsForum: c.forum}
}

func (c *chat) find(id int) *message {
	for _, m := range c.messages {
		if m.id == id {
			return m
		}
	}
	return nil
}

// AddPrivateChat registers a user who has started the bot: a private chat
// whose id is the user's id.
func (s *Server) AddPrivateChat(userID int64, firstName, languageCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[userID] = &user{id: userID, firstName: firstName, lang: languageCode}
	s.chats[userID] = &chat{id: userID, typ: "private", firstName: firstName, botStatus: "member"}
	s.notifyLocked()
}

// AddUser registers a user who has not started the bot: messages to them
// fail with "bot can't initiate conversation with a user".
func (s *Server) AddUser(userID int64, firstName, languageCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[userID] = &user{id: userID, firstName: firstName, lang: languageCode}
	s.notifyLocked()
}

// AddGroup registers a group (or a supergroup) the bot is a member of.
// Telegram's group ids are negative, supergroups' start with -100.
func (s *Server) AddGroup(chatID int64, title string, supergroup bool) {
	typ := "group"
	if supergroup {
		typ = "supergroup"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[chatID] = &chat{id: chatID, typ: typ, title: title, botStatus: "member"}
	s.notifyLocked()
}

// AddChannel registers a channel the bot is an administrator of.
func (s *Server) AddChannel(chatID int64, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[chatID] = &chat{id: chatID, typ: "channel", title: title, botStatus: "administrator"}
	s.notifyLocked()
}

// SetUsername gives a chat a public username, so that chat_id "@username"
// finds it.
func (s *Server) SetUsername(chatID int64, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("SetUsername", chatID)
	if c.username != "" {
		delete(s.usernames, strings.ToLower(c.username))
	}
	c.username = strings.TrimPrefix(username, "@")
	s.usernames[strings.ToLower(c.username)] = chatID
	s.notifyLocked()
}

// ChatIDs lists the ids of every chat the server knows, deleted and
// migrated ones included, in ascending order.
func (s *Server) ChatIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.chats))
	for id := range s.chats {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// mustChat is the chat for a test helper; an unknown chat is a bug in the
// test, not a case to simulate.
func (s *Server) mustChat(helper string, chatID int64) *chat {
	c := s.chats[chatID]
	if c == nil {
		panic(fmt.Sprintf("telegramtest: %s: unknown chat %d; add it with AddPrivateChat, AddGroup or AddChannel", helper, chatID))
	}
	if c.deleted {
		panic(fmt.Sprintf("telegramtest: %s: chat %d was deleted", helper, chatID))
	}
	if c.migratedTo != 0 {
		panic(fmt.Sprintf("telegramtest: %s: group %d migrated to %d", helper, chatID, c.migratedTo))
	}
	return c
}

// userLocked returns the user, registering an unknown one met in a group.
func (s *Server) userLocked(id int64) *user {
	u := s.users[id]
	if u == nil {
		u = &user{id: id, firstName: "User " + strconv.FormatInt(id, 10)}
		s.users[id] = u
	}
	return u
}

func (u *user) wire() wireUser {
	return wireUser{ID: u.id, FirstName: u.firstName, LanguageCode: u.lang}
}

// SendText has the user write text in the chat and returns the update id.
// Commands, mentions, hashtags and links get their entities as Telegram
// gives them. A user who had blocked the bot unblocks it first (a
// my_chat_member update), as pressing "Restart" does. The update id is 0
// when the bot gets no update: in a group the bot is not in, in a group
// under privacy mode for a message not meant for the bot, or when
// allowed_updates filters it out.
func (s *Server) SendText(chatID, fromUserID int64, text string) (updateID int64) {
	return s.sendText(chatID, fromUserID, text, 0)
}

func (s *Server) sendText(chatID, fromUserID int64, text string, thread int) (updateID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	updateID, _ = s.sendLocked("SendText", chatID, fromUserID, UserMessage{Text: text, Thread: thread})
	return updateID
}

// meantForBot is privacy mode's test: commands (bare or to this bot) and
// mentions of the bot reach it; other group chatter does not.
func (s *Server) meantForBot(text string, entities []MessageEntity) bool {
	for _, e := range entities {
		if e.Type != "bot_command" && e.Type != "mention" {
			continue
		}
		tok := substrUTF16(text, e.Offset, e.Length)
		at := strings.IndexByte(tok, '@')
		switch {
		case e.Type == "bot_command" && at < 0:
			return true
		case at >= 0 && strings.EqualFold(tok[at+1:], s.opts.BotUsername):
			return true
		}
	}
	return false
}

// substrUTF16 cuts s by UTF-16 offsets.
func substrUTF16(s string, offset, length int) string {
	pos, start := 0, -1
	for i, r := range s {
		if pos == offset {
			start = i
		}
		if start >= 0 && pos == offset+length {
			return s[start:i]
		}
		pos += utf16Len(r)
	}
	if start < 0 {
		return ""
	}
	return s[start:]
}

// PressButton has the user press the inline button with callback_data data
// on the bot's message and returns the callback query id. The data must be
// that of a button the message has or had: pressing a button of an older
// keyboard is possible in Telegram until the client refreshes.
func (s *Server) PressButton(chatID, fromUserID int64, messageID int, data string) (callbackQueryID string) {
	return s.press(chatID, fromUserID, messageID, data, false)
}

// PressForgedButton is PressButton with callback data the message never
// had: what a modified client can send (Telegram passes any data of at
// most 64 bytes on), to test that the bot answers it harmlessly.
func (s *Server) PressForgedButton(chatID, fromUserID int64, messageID int, data string) (callbackQueryID string) {
	if len(data) == 0 || len(data) > 64 {
		panic(fmt.Sprintf("telegramtest: PressForgedButton: data of %d bytes; Telegram takes 1 to 64", len(data)))
	}
	return s.press(chatID, fromUserID, messageID, data, true)
}

// StartLink has the user open https://t.me/<bot>?start=<payload>: their
// private chat with the bot gets "/start <payload>", as Telegram's apps
// send it. Telegram accepts only A-Z a-z 0-9 _ - and at most 64
// characters in a payload; another is refused here as Telegram's apps
// refuse to open the link.
func (s *Server) StartLink(userID int64, payload string) (updateID int64) {
	if len(payload) == 0 || len(payload) > 64 || strings.IndexFunc(payload, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) >= 0 {
		panic(fmt.Sprintf("telegramtest: StartLink: %q is not a start parameter Telegram accepts (A-Z a-z 0-9 _ -, 1 to 64)", payload))
	}
	return s.SendText(userID, userID, "/start "+payload)
}

func (s *Server) press(chatID, fromUserID int64, messageID int, data string, forged bool) (callbackQueryID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("PressButton", chatID)
	m := c.find(messageID)
	if m == nil || !m.fromBot || m.deleted {
		panic(fmt.Sprintf("telegramtest: PressButton: no message %d from the bot in chat %d", messageID, chatID))
	}
	if !forged && !m.callbacks[data] {
		panic(fmt.Sprintf("telegramtest: PressButton: message %d in chat %d has no button with callback_data %q", messageID, chatID, data))
	}
	if c.isGroupLike() && c.memberStatus(fromUserID) == StatusKicked {
		panic(fmt.Sprintf("telegramtest: PressButton: user %d is banned from chat %d", fromUserID, chatID))
	}
	// Pressing is no sign of membership: a public group's messages can be
	// read, and their buttons pressed, by anyone.
	u := s.userLocked(fromUserID)
	s.nextQID++
	id := strconv.FormatInt(s.botID*1000000000+s.nextQID, 10)
	s.queries[id] = &callbackQuery{chatID: chatID, messageID: messageID, fromUserID: fromUserID, data: data}
	wm := s.wireMessageLocked(c, m)
	s.enqueueLocked(&wireUpdate{CallbackQuery: &wireCallbackQuery{
		ID:           id,
		From:         u.wire(),
		Message:      wm,
		ChatInstance: strconv.FormatInt(chatID*7919+s.botID, 10),
		Data:         data,
	}})
	return id
}

// BlockBot has the user block the bot: sends to them fail with 403 and the
// bot gets a my_chat_member update from "member" to "kicked".
func (s *Server) BlockBot(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("BlockBot", userID)
	if c.typ != "private" {
		panic(fmt.Sprintf("telegramtest: BlockBot: chat %d is not a private chat", userID))
	}
	if c.botStatus == "kicked" {
		return
	}
	s.memberUpdateLocked(c, s.userLocked(userID), "member", "kicked")
}

// UnblockBot has the user unblock (restart) the bot: a my_chat_member update
// from "kicked" to "member".
func (s *Server) UnblockBot(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("UnblockBot", userID)
	if c.botStatus != "kicked" {
		return
	}
	s.memberUpdateLocked(c, s.userLocked(userID), "kicked", "member")
}

// RemoveBotFromGroup has the user remove the bot. As in Telegram the bot
// "left" a basic group but is "kicked" (banned) from a supergroup or
// channel; either way it gets a my_chat_member update and sends fail with 403.
func (s *Server) RemoveBotFromGroup(chatID, byUserID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("RemoveBotFromGroup", chatID)
	if !c.isGroupLike() {
		panic(fmt.Sprintf("telegramtest: RemoveBotFromGroup: chat %d is a private chat", chatID))
	}
	if c.botStatus == "left" || c.botStatus == "kicked" {
		return
	}
	newStatus := "kicked"
	if c.typ == "group" {
		newStatus = "left"
	}
	s.memberUpdateLocked(c, s.userLocked(byUserID), c.botStatus, newStatus)
}

// AddBotToGroup has the user add the bot back to a group it had left: a
// my_chat_member update to "member" ("administrator" in a channel) and, in
// groups, the service message listing the bot in new_chat_members.
func (s *Server) AddBotToGroup(chatID, byUserID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("AddBotToGroup", chatID)
	if !c.isGroupLike() {
		panic(fmt.Sprintf("telegramtest: AddBotToGroup: chat %d is a private chat", chatID))
	}
	if c.botStatus == "member" || c.botStatus == "administrator" {
		return
	}
	by := s.userLocked(byUserID)
	newStatus := "member"
	if c.typ == "channel" {
		newStatus = "administrator"
	}
	s.memberUpdateLocked(c, by, c.botStatus, newStatus)
	if c.typ == "channel" {
		return
	}
	now := s.now()
	c.lastMsgID++
	c.messages = append(c.messages, &message{id: c.lastMsgID, fromUser: byUserID, date: now})
	from := by.wire()
	s.enqueueLocked(&wireUpdate{Message: &wireMessage{
		MessageID: c.lastMsgID, From: &from, Date: now.Unix(), Chat: c.wire(),
		NewChatMembers: []wireUser{s.botUser(false)},
	}})
}

// memberUpdateLocked changes the bot's status in c and queues the
// my_chat_member update telling the bot.
func (s *Server) memberUpdateLocked(c *chat, by *user, oldStatus, newStatus string) {
	c.botStatus = newStatus
	bot := s.botUser(false)
	old := wireChatMember{User: bot, Status: oldStatus}
	nw := wireChatMember{User: bot, Status: newStatus}
	if newStatus == "kicked" {
		var forever int64
		nw.UntilDate = &forever
	}
	s.enqueueLocked(&wireUpdate{MyChatMember: &wireChatMemberUpdated{
		Chat: c.wire(), From: by.wire(), Date: s.now().Unix(), OldChatMember: old, NewChatMember: nw,
	}})
}

// MigrateGroup upgrades a basic group to a supergroup with a new id. Sends
// to the old id then fail with 400 and migrate_to_chat_id; the bot gets the
// two service messages Telegram sends (migrate_to_chat_id in the old group,
// migrate_from_chat_id in the new supergroup).
func (s *Server) MigrateGroup(chatID, newSupergroupID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.mustChat("MigrateGroup", chatID)
	if old.typ != "group" {
		panic(fmt.Sprintf("telegramtest: MigrateGroup: chat %d is a %s, not a group", chatID, old.typ))
	}
	if _, taken := s.chats[newSupergroupID]; taken {
		panic(fmt.Sprintf("telegramtest: MigrateGroup: chat %d already exists", newSupergroupID))
	}
	sg := &chat{id: newSupergroupID, typ: "supergroup", title: old.title, botStatus: old.botStatus, members: cloneMembers(old.members)}
	s.chats[newSupergroupID] = sg
	now := s.now()
	anon := anonymousAdminUser()
	old.lastMsgID++
	old.messages = append(old.messages, &message{id: old.lastMsgID, fromUser: anon.ID, date: now})
	oldWire := old.wire()
	old.migratedTo = newSupergroupID
	sg.lastMsgID++
	sg.messages = append(sg.messages, &message{id: sg.lastMsgID, fromUser: anon.ID, date: now})
	if old.botStatus == "left" || old.botStatus == "kicked" {
		s.notifyLocked()
		return
	}
	s.enqueueLocked(&wireUpdate{Message: &wireMessage{
		MessageID: old.lastMsgID, From: &anon, Date: now.Unix(), Chat: oldWire, MigrateToChatID: newSupergroupID,
	}})
	s.enqueueLocked(&wireUpdate{Message: &wireMessage{
		MessageID: sg.lastMsgID, From: &anon, Date: now.Unix(), Chat: sg.wire(), MigrateFromChatID: chatID,
	}})
}

// DeactivateUser deletes the user's account: sends to them fail with
// "Forbidden: user is deactivated".
func (s *Server) DeactivateUser(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(userID).deactivated = true
	s.notifyLocked()
}

// DeleteChat makes the chat vanish: sends to it fail with "chat not found".
func (s *Server) DeleteChat(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		panic(fmt.Sprintf("telegramtest: DeleteChat: unknown chat %d", chatID))
	}
	c.deleted = true
	if c.username != "" {
		delete(s.usernames, strings.ToLower(c.username))
	}
	s.notifyLocked()
}

// lookupChatLocked finds the chat a chat_id parameter names, with
// Telegram's errors for an empty, unknown or deleted chat.
func (s *Server) lookupChatLocked(chatID string) (*chat, *APIError) {
	chatID = strings.TrimSpace(chatID)
	if chatID == "" {
		return nil, errBadRequest(descChatIDEmpty)
	}
	var id int64
	if name, ok := strings.CutPrefix(chatID, "@"); ok {
		found, ok := s.usernames[strings.ToLower(name)]
		if !ok {
			return nil, errBadRequest(descChatNotFound)
		}
		id = found
	} else {
		n, err := strconv.ParseInt(chatID, 10, 64)
		if err != nil {
			return nil, errBadRequest(descChatNotFound)
		}
		id = n
	}
	c := s.chats[id]
	if c == nil || c.deleted {
		if u := s.users[id]; u != nil && id > 0 {
			if u.deactivated {
				return nil, errForbidden(descDeactivated)
			}
			return nil, errForbidden(descCantInitiate)
		}
		return nil, errBadRequest(descChatNotFound)
	}
	return c, nil
}

// writableChatLocked is lookupChatLocked plus the checks of a method that
// acts in the chat: migration, blocked or deactivated users, a bot that is
// no longer a member.
func (s *Server) writableChatLocked(chatID string) (*chat, *APIError) {
	c, err := s.lookupChatLocked(chatID)
	if err != nil {
		return nil, err
	}
	if c.migratedTo != 0 {
		return nil, errMigrated(c.migratedTo)
	}
	if c.typ == "private" {
		if u := s.users[c.id]; u != nil && u.deactivated {
			return nil, errForbidden(descDeactivated)
		}
		if c.botStatus == "kicked" {
			return nil, errForbidden(descBlocked)
		}
		return c, nil
	}
	switch {
	case c.botStatus == "kicked" && c.typ == "group":
		return nil, errForbidden(descKickedGroup)
	case c.botStatus == "kicked" && c.typ == "supergroup":
		return nil, errForbidden(descKickedSupergroup)
	case (c.botStatus == "kicked" || c.botStatus == "left") && c.typ == "channel":
		return nil, errForbidden(descNotMemberChannel)
	case c.botStatus == "left" && c.typ == "group":
		return nil, errForbidden(descNotMemberGroup)
	case c.botStatus == "left" && c.typ == "supergroup":
		return nil, errForbidden(descNotMemberSuper)
	}
	return c, nil
}
