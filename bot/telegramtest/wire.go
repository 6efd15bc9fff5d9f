package telegramtest

import "encoding/json"

// The wire types below mirror the Bot API's JSON objects, limited to the
// fields the fake fills in. They are what getUpdates, webhooks and method
// results carry.

type wireUser struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	LastName                string `json:"last_name,omitempty"`
	Username                string `json:"username,omitempty"`
	LanguageCode            string `json:"language_code,omitempty"`
	CanJoinGroups           *bool  `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages *bool  `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   *bool  `json:"supports_inline_queries,omitempty"`
}

type wireChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

// MessageEntity is one formatting or auto-detected entity of a text, with
// offset and length in UTF-16 code units as Telegram counts them.
type MessageEntity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
	User          *struct {
		ID int64 `json:"id"`
	} `json:"user,omitempty"`
}

type wireLinkPreviewOptions struct {
	IsDisabled bool `json:"is_disabled,omitempty"`
}

type wireMessage struct {
	MessageID          int                     `json:"message_id"`
	MessageThreadID    int                     `json:"message_thread_id,omitempty"`
	IsTopicMessage     bool                    `json:"is_topic_message,omitempty"`
	Venue              *Venue                  `json:"venue,omitempty"`
	From               *wireUser               `json:"from,omitempty"`
	SenderChat         *wireChat               `json:"sender_chat,omitempty"`
	Date               int64                   `json:"date"`
	EditDate           int64                   `json:"edit_date,omitempty"`
	Chat               wireChat                `json:"chat"`
	ReplyToMessage     *wireMessage            `json:"reply_to_message,omitempty"`
	Text               string                  `json:"text,omitempty"`
	Entities           []MessageEntity         `json:"entities,omitempty"`
	Caption            string                  `json:"caption,omitempty"`
	CaptionEntities    []MessageEntity         `json:"caption_entities,omitempty"`
	MediaGroupID       string                  `json:"media_group_id,omitempty"`
	Photo              []wireFile              `json:"photo,omitempty"`
	Document           *wireFile               `json:"document,omitempty"`
	Video              *wireFile               `json:"video,omitempty"`
	Audio              *wireFile               `json:"audio,omitempty"`
	Voice              *wireFile               `json:"voice,omitempty"`
	LinkPreviewOptions *wireLinkPreviewOptions `json:"link_preview_options,omitempty"`
	NewChatMembers     []wireUser              `json:"new_chat_members,omitempty"`
	LeftChatMember     *wireUser               `json:"left_chat_member,omitempty"`
	GroupChatCreated   bool                    `json:"group_chat_created,omitempty"`
	MigrateToChatID    int64                   `json:"migrate_to_chat_id,omitempty"`
	MigrateFromChatID  int64                   `json:"migrate_from_chat_id,omitempty"`
	ReplyMarkup        json.RawMessage         `json:"reply_markup,omitempty"`
}

// wireFile is a PhotoSize, Document, Video, Audio or Voice, reduced to
// the ids every one of them has.
type wireFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
}

type wireMessageID struct {
	MessageID int `json:"message_id"`
}

type wireCallbackQuery struct {
	ID           string       `json:"id"`
	From         wireUser     `json:"from"`
	Message      *wireMessage `json:"message,omitempty"`
	ChatInstance string       `json:"chat_instance"`
	Data         string       `json:"data,omitempty"`
}

// wireChatMember is any of the Bot API's ChatMember objects: which fields
// are set depends on the status.
type wireChatMember struct {
	User               wireUser `json:"user"`
	Status             string   `json:"status"`
	UntilDate          *int64   `json:"until_date,omitempty"`
	IsAnonymous        *bool    `json:"is_anonymous,omitempty"`
	CanBeEdited        *bool    `json:"can_be_edited,omitempty"`
	CanManageChat      *bool    `json:"can_manage_chat,omitempty"`
	CanChangeInfo      *bool    `json:"can_change_info,omitempty"`
	CanDeleteMessages  *bool    `json:"can_delete_messages,omitempty"`
	CanInviteUsers     *bool    `json:"can_invite_users,omitempty"`
	CanRestrictMembers *bool    `json:"can_restrict_members,omitempty"`
	CanPinMessages     *bool    `json:"can_pin_messages,omitempty"`
	CanPromoteMembers  *bool    `json:"can_promote_members,omitempty"`
	IsMember           *bool    `json:"is_member,omitempty"`
	CanSendMessages    *bool    `json:"can_send_messages,omitempty"`
}

type wireChatMemberUpdated struct {
	Chat          wireChat       `json:"chat"`
	From          wireUser       `json:"from"`
	Date          int64          `json:"date"`
	OldChatMember wireChatMember `json:"old_chat_member"`
	NewChatMember wireChatMember `json:"new_chat_member"`
}

type wireUpdate struct {
	UpdateID          int64                  `json:"update_id"`
	Message           *wireMessage           `json:"message,omitempty"`
	EditedMessage     *wireMessage           `json:"edited_message,omitempty"`
	ChannelPost       *wireMessage           `json:"channel_post,omitempty"`
	EditedChannelPost *wireMessage           `json:"edited_channel_post,omitempty"`
	CallbackQuery     *wireCallbackQuery     `json:"callback_query,omitempty"`
	MyChatMember      *wireChatMemberUpdated `json:"my_chat_member,omitempty"`
	ChatMember        *wireChatMemberUpdated `json:"chat_member,omitempty"`
}

// kind is the update's type as named in allowed_updates.
func (u *wireUpdate) kind() string {
	switch {
	case u.Message != nil:
		return "message"
	case u.EditedMessage != nil:
		return "edited_message"
	case u.ChannelPost != nil:
		return "channel_post"
	case u.EditedChannelPost != nil:
		return "edited_channel_post"
	case u.CallbackQuery != nil:
		return "callback_query"
	case u.MyChatMember != nil:
		return "my_chat_member"
	case u.ChatMember != nil:
		return "chat_member"
	}
	return ""
}

type wireBotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

type wireWebhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"`
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}
