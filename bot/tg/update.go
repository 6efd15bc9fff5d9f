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
	// message, or of a channel post's), 0 outside topics.
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
		Message     *topic `json:"message"`
		ChannelPost *topic `json:"channel_post"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	// A reply in a group without topics has a message_thread_id too (the
	// thread of replies): only a forum topic's message counts.
	for _, m := range []*topic{t.Message, t.ChannelPost} {
		if m != nil && m.IsTopic {
			u.Thread = m.Thread
		}
	}
	return nil
}
