// Package telegramtest owns a fake Telegram Bot API server for tests.
//
// The fake speaks the Bot API's wire protocol (POST /bot<token>/<method> with
// form, JSON or query parameters, answers in the {"ok":...} envelope) and keeps
// the state Telegram keeps: chats and users, members' statuses in groups
// (getChatMember), message ids per chat, the update queue with offset
// confirmation, long polling, webhooks, commands, and the flood limits. Its
// errors carry Telegram's own status codes and description texts, so a bot's
// error handling is exercised as it would be in production.
//
// Tests drive the user side with SendText, Send (a text or a photo, document,
// video, audio or voice message, with a caption and a reply), SendAlbum (a
// media group), PressButton, BlockBot, SetChatAdmin and friends; the bot's
// copyMessage and copyMessages copy those stored messages (an album stays an
// album), editMessageCaption edits a media message's caption, and
// deleteMessages deletes several at once, each with Telegram's errors. Tests
// inspect what the bot did with Messages, CallbackAnswers and Commands, and wait for the bot with WaitMessages or WaitFor, which are
// signalled on every change of state rather than polled.
//
// Where the fake is deliberately stricter than Telegram it says so: by default
// an unescaped "&" or an unknown named entity such as "&nbsp;" in HTML text is
// rejected (Telegram would show it literally), so that escaping bugs surface in
// tests; Options.LenientHTML restores Telegram's exact behaviour.
package telegramtest
