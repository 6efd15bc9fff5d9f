package telegramtest

import (
	"encoding/json"
	"net/url"
	"strings"
)

// markup is a validated reply_markup.
type markup struct {
	raw       json.RawMessage // canonical JSON: keys sorted, no spaces
	inline    bool            // an inline keyboard, which messages carry
	callbacks []string        // callback_data of every inline button
}

// inlineButtonActions are the fields of which an inline button needs exactly
// one; a button with none is a "text button".
var inlineButtonActions = []string{
	"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
	"callback_game", "pay", "copy_text",
}

// parseMarkup validates reply_markup as Telegram does for the cases bots run
// into: malformed JSON, buttons without an action, callback_data outside
// 1-64 bytes, unusable URLs. An empty string means no markup.
func parseMarkup(s string) (*markup, *APIError) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil, nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil || obj == nil {
		return nil, errBadRequest(descMarkupJSON)
	}
	m := &markup{}
	if kb, ok := obj["inline_keyboard"]; ok {
		m.inline = true
		rows, ok := kb.([]any)
		if !ok {
			return nil, errBadRequest("Bad Request: can't parse inline keyboard button: field \"inline_keyboard\" must be an Array")
		}
		for _, row := range rows {
			buttons, ok := row.([]any)
			if !ok {
				return nil, errBadRequest("Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Array")
			}
			for _, b := range buttons {
				button, ok := b.(map[string]any)
				if !ok {
					return nil, errBadRequest("Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object")
				}
				if err := m.checkInlineButton(button); err != nil {
					return nil, err
				}
			}
		}
	} else if kb, ok := obj["keyboard"]; ok {
		if _, ok := kb.([]any); !ok {
			return nil, errBadRequest("Bad Request: can't parse keyboard button: field \"keyboard\" must be an Array")
		}
	} else if _, ok := obj["remove_keyboard"]; !ok {
		if _, ok := obj["force_reply"]; !ok {
			return nil, errBadRequest(descMarkupJSON)
		}
	}
	canonical, err := json.Marshal(obj) // map keys come out sorted
	if err != nil {
		return nil, errBadRequest(descMarkupJSON)
	}
	m.raw = canonical
	return m, nil
}

func (m *markup) checkInlineButton(button map[string]any) *APIError {
	if _, ok := button["text"].(string); !ok {
		return errBadRequest("Bad Request: can't parse inline keyboard button: Can't find field \"text\"")
	}
	actions := 0
	for _, a := range inlineButtonActions {
		if _, ok := button[a]; ok {
			actions++
		}
	}
	if actions == 0 {
		return errBadRequest(descTextButtons)
	}
	if v, ok := button["callback_data"]; ok {
		data, _ := v.(string)
		if len(data) < 1 || len(data) > 64 {
			return errBadRequest(descButtonData)
		}
		m.callbacks = append(m.callbacks, data)
	}
	if v, ok := button["url"]; ok {
		link, _ := v.(string)
		if _, ok := checkLink(link); !ok && !isUserLink(link) {
			return errBadRequest(descButtonURL)
		}
	}
	return nil
}

func isUserLink(link string) bool {
	u, err := url.Parse(link)
	return err == nil && strings.EqualFold(u.Scheme, "tg")
}

// rawOrNil is the markup's JSON, or nil without markup.
func (m *markup) rawOrNil() json.RawMessage {
	if m == nil {
		return nil
	}
	return m.raw
}

// inlineRaw is what a message object carries as reply_markup: only inline
// keyboards are part of a message.
func (m *markup) inlineRaw() json.RawMessage {
	if m == nil || !m.inline {
		return nil
	}
	return m.raw
}
