package telegramtest

import (
	"fmt"
	"strconv"
)

// APIError is an error answer of the Bot API: the HTTP status and error_code,
// the description, and the optional response parameters.
type APIError struct {
	Code            int
	Description     string
	RetryAfter      int   // parameters.retry_after, seconds; with Code 429
	MigrateToChatID int64 // parameters.migrate_to_chat_id; with Code 400
}

func (e APIError) Error() string {
	return fmt.Sprintf("telegramtest: %d %s", e.Code, e.Description)
}

// withDefaults fills in Telegram's description for an injected error that
// names only a code.
func (e APIError) withDefaults() APIError {
	if e.Code == 0 {
		e.Code = 400
	}
	if e.Description != "" {
		return e
	}
	switch {
	case e.Code == 429:
		if e.RetryAfter < 1 {
			e.RetryAfter = 1
		}
		e.Description = "Too Many Requests: retry after " + strconv.Itoa(e.RetryAfter)
	case e.MigrateToChatID != 0:
		e.Description = descMigrated
	case e.Code == 401:
		e.Description = "Unauthorized"
	case e.Code == 403:
		e.Description = descBlocked
	case e.Code == 404:
		e.Description = "Not Found"
	case e.Code == 409:
		e.Description = descConflictPoll
	case e.Code >= 500:
		e.Description = "Internal Server Error"
	default:
		e.Description = "Bad Request"
	}
	return e
}

// Descriptions as Telegram words them. Bot code often matches on them, so
// they must stay byte for byte the same.
const (
	descUnauthorized      = "Unauthorized"
	descNotFound          = "Not Found"
	descChatNotFound      = "Bad Request: chat not found"
	descChatIDEmpty       = "Bad Request: chat_id is empty"
	descUserIDInvalid     = "Bad Request: invalid user_id specified"
	descUserNotFound      = "Bad Request: user not found"
	descBlocked           = "Forbidden: bot was blocked by the user"
	descDeactivated       = "Forbidden: user is deactivated"
	descCantInitiate      = "Forbidden: bot can't initiate conversation with a user"
	descKickedGroup       = "Forbidden: bot was kicked from the group chat"
	descKickedSupergroup  = "Forbidden: bot was kicked from the supergroup chat"
	descNotMemberChannel  = "Forbidden: bot is not a member of the channel chat"
	descNotMemberGroup    = "Forbidden: bot is not a member of the group chat"
	descNotMemberSuper    = "Forbidden: bot is not a member of the supergroup chat"
	descMigrated          = "Bad Request: group chat was upgraded to a supergroup chat"
	descTextEmpty         = "Bad Request: message text is empty"
	descTooLong           = "Bad Request: message is too long"
	descParsePrefix       = "Bad Request: can't parse entities: "
	descParseMode         = "Bad Request: unsupported parse_mode"
	descNotModified       = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	descEditNotFound      = "Bad Request: message to edit not found"
	descCantEdit          = "Bad Request: message can't be edited"
	descDeleteNotFound    = "Bad Request: message to delete not found"
	descCantDelete        = "Bad Request: message can't be deleted for everyone"
	descReplyNotFound     = "Bad Request: message to be replied not found"
	descThreadNotFound    = "Bad Request: message thread not found"
	descBadVenue          = "Bad Request: wrong latitude or longitude, or empty title or address"
	descMessageIDInvalid  = "Bad Request: message identifier is not specified"
	descQueryTooOld       = "Bad Request: query is too old and response timeout expired or query ID is invalid"
	descButtonData        = "Bad Request: BUTTON_DATA_INVALID"
	descButtonURL         = "Bad Request: BUTTON_URL_INVALID"
	descTextButtons       = "Bad Request: text buttons are unallowed in the inline keyboard"
	descMarkupJSON        = "Bad Request: can't parse reply keyboard markup JSON object"
	descConflictPoll      = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	descConflictWebhook   = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	descWebhookHTTPS      = "Bad Request: bad webhook: HTTPS url must be provided for webhook"
	descWebhookPort       = "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
	descWebhookURL        = "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
	descSecretToken       = "Bad Request: secret token contains unallowed characters"
	descSecretTooLong     = "Bad Request: secret token is too long"
	descActionInvalid     = "Bad Request: wrong parameter action in request"
	descCommandsTooMuch   = "Bad Request: BOT_COMMANDS_TOO_MUCH"
	descCommandInvalid    = "Bad Request: BOT_COMMAND_INVALID"
	descCommandEmpty      = "Bad Request: command must be non-empty"
	descCommandLong       = "Bad Request: command length must not exceed 32"
	descCommandDescEmpty  = "Bad Request: command description must be non-empty"
	descCommandDescLong   = "Bad Request: command description length must not exceed 256"
	descLanguageCode      = "Bad Request: invalid language code specified"
	descScopePrefix       = "Bad Request: can't parse BotCommandScope: "
	descScopePrivate      = "Bad Request: can't use specified scope in private chats"
	descScopeChannel      = "Bad Request: can't change commands in channel chats"
	descCommandsJSON      = "Bad Request: can't parse commands JSON object"
	descAllowedUpdates    = "Bad Request: can't parse allowed_updates JSON object"
	descCallbackTextLong  = "Bad Request: MESSAGE_TOO_LONG"
	descInlineUnsupported = "Bad Request: inline messages are not supported by telegramtest"
)

func errBadRequest(desc string) *APIError { return &APIError{Code: 400, Description: desc} }
func errForbidden(desc string) *APIError  { return &APIError{Code: 403, Description: desc} }

func errTooMany(retryAfter int) *APIError {
	return &APIError{Code: 429, RetryAfter: retryAfter,
		Description: "Too Many Requests: retry after " + strconv.Itoa(retryAfter)}
}

func errMigrated(to int64) *APIError {
	return &APIError{Code: 400, Description: descMigrated, MigrateToChatID: to}
}
