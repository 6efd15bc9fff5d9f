package i18n

// Texts of broadcasts made of any message (a photo, a document, an album...),
// their language versions and their test sends (bot/staff/broadcast.go,
// versions.go). Numbers come pre-formatted as strings.
const (
	BroadcastNotCopyable Key = "broadcast_not_copyable"
	BroadcastAlbum       Key = "broadcast_album"        // {parts}
	BroadcastVersions    Key = "broadcast_versions"     // {versions}: VersionCount items joined
	VersionCount         Key = "version_count"          // plain, {language} {count}
	BroadcastAskVersion  Key = "broadcast_ask_version"  // {language}
	BroadcastVersionSame Key = "broadcast_version_same" // {language}
	ButtonAddVersion     Key = "button_add_version"     // plain, {language}
	ButtonTest           Key = "button_test"            // plain
	ButtonNobody         Key = "button_nobody"          // plain
	AnswerTestSent       Key = "answer_test_sent"       // plain
	AnswerNobody         Key = "answer_nobody"          // plain
)

func broadcastEnglish() map[Key]string {
	return map[Key]string{
		BroadcastNotCopyable: "Telegram cannot copy this message, so it cannot be an announcement. " +
			"Send a text, photo, video, document, audio, voice message or album.",
		BroadcastAlbum:       "📎 An album of {parts} parts: press “Send a test to me” to see it as subscribers will.",
		BroadcastVersions:    "Versions: {versions}.",
		VersionCount:         "{language} to {count}",
		BroadcastAskVersion:  "Send the {language} version of the announcement in your next message.",
		BroadcastVersionSame: "The {language} version is added. 👆 This is it as subscribers will see it.",
		ButtonAddVersion:     "➕ Add a version in {language}",
		ButtonTest:           "🧪 Send a test to me",
		ButtonNobody:         "🚫 Nobody to send to",
		AnswerTestSent:       "The test is below, exactly as subscribers will get it.",
		AnswerNobody:         "Nobody is in this audience. Choose another audience before sending.",
	}
}

func broadcastRussian() map[Key]string {
	return map[Key]string{
		BroadcastNotCopyable: "Telegram не может скопировать это сообщение, поэтому оно не может стать объявлением. " +
			"Пришлите текст, фото, видео, документ, аудио, голосовое сообщение или альбом.",
		BroadcastAlbum:       "📎 Альбом, частей: {parts}. Нажмите «Прислать пробную копию мне», чтобы увидеть его как подписчики.",
		BroadcastVersions:    "Версии: {versions}.",
		VersionCount:         "{language} — получателей: {count}",
		BroadcastAskVersion:  "Пришлите версию объявления на языке «{language}» следующим сообщением.",
		BroadcastVersionSame: "Версия на языке «{language}» добавлена. 👆 Так её увидят подписчики.",
		ButtonAddVersion:     "➕ Добавить версию: {language}",
		ButtonTest:           "🧪 Прислать пробную копию мне",
		ButtonNobody:         "🚫 Некому отправлять",
		AnswerTestSent:       "Пробная копия ниже — точно такая, какую получат подписчики.",
		AnswerNobody:         "В этой аудитории никого нет. Выберите других получателей перед отправкой.",
	}
}
