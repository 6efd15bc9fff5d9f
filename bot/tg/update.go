package tg

import (
	"encoding/json"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Update is a Telegram update as tgbotapi reads it, plus what that library
// predates: the forum topic a message was written in.
type Update struct {
	tgbotapi.Update
	// Thread is the message's forum topic (message_thread_id of a topic
	// message, of a channel post's, or of the message whose button was
	// pressed), 0 outside topics.
	Thread int64
}

// UnmarshalJSON reads the update and its message's topic.
func (u *Update) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &u.Update); err != nil {
		return err
	}
	type topic struct {
		Thread  int64 `json:"message_thread_id"`
		IsTopic bool  `json:"is_topic_message"`
	}
	var t struct {
		Message       *topic `json:"message"`
		ChannelPost   *topic `json:"channel_post"`
		CallbackQuery *struct {
			Message *topic `json:"message"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	// A reply in a group without topics has a message_thread_id too (the
	// thread of replies): only a forum topic's message counts.
	topics := []*topic{t.Message, t.ChannelPost}
	if t.CallbackQuery != nil {
		topics = append(topics, t.CallbackQuery.Message)
	}
	for _, m := range topics {
		if m != nil && m.IsTopic {
			u.Thread = m.Thread
		}
	}
	return nil
}
