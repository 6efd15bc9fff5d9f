package telegramtest

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxCommands is how many commands one scope and language can hold.
const maxCommands = 100

type callbackQuery struct {
	chatID     int64
	messageID  int
	fromUserID int64
	data       string
	answered   bool
}

// CallbackAnswer is one answerCallbackQuery the bot made, with the query it
// answered.
type CallbackAnswer struct {
	QueryID    string
	ChatID     int64
	MessageID  int
	FromUserID int64
	Data       string
	Text       string
	ShowAlert  bool
	URL        string
	CacheTime  int
}

// CallbackAnswers lists the bot's answers to callback queries, in order.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallbackAnswer, len(s.answers))
	copy(out, s.answers)
	return out
}

func (s *Server) answerCallbackQuery(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := p["callback_query_id"]
	q := s.queries[id]
	if q == nil || q.answered {
		return nil, errBadRequest(descQueryTooOld)
	}
	text := p["text"]
	if utf8.RuneCountInString(text) > 200 {
		return nil, errBadRequest(descCallbackTextLong)
	}
	q.answered = true
	s.answers = append(s.answers, CallbackAnswer{
		QueryID: id, ChatID: q.chatID, MessageID: q.messageID, FromUserID: q.fromUserID, Data: q.data,
		Text: text, ShowAlert: p.bool("show_alert"), URL: p["url"], CacheTime: p.int("cache_time"),
	})
	s.notifyLocked()
	return true, nil
}

// BotCommand is one command of the bot's menu.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// CommandScope is a BotCommandScope: Type is one of default,
// all_private_chats, all_group_chats, all_chat_administrators, chat,
// chat_administrators, chat_member; ChatID and UserID as the type needs.
type CommandScope struct {
	Type   string
	ChatID int64
	UserID int64
}

type commandKey struct {
	scope CommandScope
	lang  string
}

// CommandSet is the command list of one scope and language.
type CommandSet struct {
	Scope        CommandScope
	LanguageCode string
	Commands     []BotCommand
}

// Commands is what setMyCommands stored for exactly this scope and language
// (Telegram's fallback between scopes is the client's business, not
// getMyCommands'). A zero scope is the default scope.
func (s *Server) Commands(scope CommandScope, languageCode string) []BotCommand {
	if scope.Type == "" {
		scope.Type = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands[commandKey{scope, languageCode}]...)
}

// CommandSets lists every non-empty command list the bot has set.
func (s *Server) CommandSets() []CommandSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CommandSet
	for k, cmds := range s.commands {
		out = append(out, CommandSet{Scope: k.scope, LanguageCode: k.lang, Commands: append([]BotCommand(nil), cmds...)})
	}
	return out
}

// commandKeyLocked reads scope and language_code with Telegram's checks.
func (s *Server) commandKeyLocked(p params) (commandKey, *APIError) {
	key := commandKey{scope: CommandScope{Type: "default"}, lang: p["language_code"]}
	if l := key.lang; l != "" && (len(l) != 2 || !isLower(l[0]) || !isLower(l[1])) {
		return key, errBadRequest(descLanguageCode)
	}
	raw := strings.TrimSpace(p["scope"])
	if raw == "" || raw == "null" {
		return key, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return key, errBadRequest(descScopePrefix + "BotCommandScope must be an Object")
	}
	var typ string
	if t, ok := obj["type"]; !ok || json.Unmarshal(t, &typ) != nil {
		return key, errBadRequest(descScopePrefix + "Can't find field \"type\"")
	}
	key.scope.Type = typ
	switch typ {
	case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		return key, nil
	case "chat", "chat_administrators", "chat_member":
	default:
		return key, errBadRequest(descScopePrefix + "Unsupported type specified")
	}
	chatRaw, ok := obj["chat_id"]
	if !ok {
		return key, errBadRequest(descScopePrefix + "Can't find field \"chat_id\"")
	}
	var chatID string
	if json.Unmarshal(chatRaw, &chatID) != nil {
		chatID = string(chatRaw) // a number
	}
	c, apiErr := s.lookupChatLocked(chatID)
	if apiErr != nil {
		return key, apiErr
	}
	if c.migratedTo != 0 {
		return key, errMigrated(c.migratedTo)
	}
	key.scope.ChatID = c.id
	switch {
	case c.typ == "private" && typ != "chat":
		return key, errBadRequest(descScopePrivate)
	case c.typ == "channel":
		return key, errBadRequest(descScopeChannel)
	}
	if typ == "chat_member" {
		userRaw, ok := obj["user_id"]
		if !ok {
			return key, errBadRequest(descScopePrefix + "Can't find field \"user_id\"")
		}
		userID, err := strconv.ParseInt(strings.Trim(string(userRaw), `"`), 10, 64)
		if err != nil || userID <= 0 {
			return key, errBadRequest(descScopePrefix + "Invalid user_id specified")
		}
		if s.users[userID] == nil {
			return key, errBadRequest("Bad Request: user not found")
		}
		key.scope.UserID = userID
	}
	return key, nil
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func (s *Server) setMyCommands(_ context.Context, p params) (any, *APIError) {
	if !p.has("commands") {
		return nil, errBadRequest("Bad Request: parameter \"commands\" is required")
	}
	var cmds []BotCommand
	if _, err := p.json("commands", &cmds); err != nil {
		return nil, errBadRequest(descCommandsJSON)
	}
	if len(cmds) > maxCommands {
		return nil, errBadRequest(descCommandsTooMuch)
	}
	// First what Telegram's client library checks, then what its server does.
	for i, c := range cmds {
		c.Command = strings.TrimPrefix(strings.TrimSpace(c.Command), "/")
		c.Description = strings.TrimSpace(c.Description)
		switch {
		case c.Command == "":
			return nil, errBadRequest(descCommandEmpty)
		case utf8.RuneCountInString(c.Command) > 32:
			return nil, errBadRequest(descCommandLong)
		case c.Description == "":
			return nil, errBadRequest(descCommandDescEmpty)
		case utf8.RuneCountInString(c.Description) > 256:
			return nil, errBadRequest(descCommandDescLong)
		}
		cmds[i] = c
	}
	for _, c := range cmds {
		for j := 0; j < len(c.Command); j++ {
			if b := c.Command[j]; !isLower(b) && !(b >= '0' && b <= '9') && b != '_' {
				return nil, errBadRequest(descCommandInvalid)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, apiErr := s.commandKeyLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	if len(cmds) == 0 {
		delete(s.commands, key) // an empty list clears, as in Telegram
	} else {
		s.commands[key] = cmds
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) getMyCommands(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, apiErr := s.commandKeyLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	out := make([]BotCommand, 0, len(s.commands[key]))
	return append(out, s.commands[key]...), nil
}

func (s *Server) deleteMyCommands(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, apiErr := s.commandKeyLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	delete(s.commands, key)
	s.notifyLocked()
	return true, nil
}
