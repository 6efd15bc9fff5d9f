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
		BroadcastAlbum:       "📎 An album of {parts, plural, one {# part} other {# parts}}: press “Send a test to me” to see it as subscribers will.",
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
		BroadcastAlbum:       "📎 Альбом из {parts, plural, one {# части} few {# частей} many {# частей} other {# части}}. Нажмите «Прислать пробную копию мне», чтобы увидеть его как подписчики.",
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

// Texts of corrections (bot/staff/correct.go).
const (
	ButtonCorrect     Key = "button_correct"      // plain
	ButtonCorrectLang Key = "button_correct_lang" // plain, {language}
	CorrectAsk        Key = "correct_ask"
	CorrectAskCaption Key = "correct_ask_caption" // {max}
	CorrectNotText    Key = "correct_not_text"
	CorrectTooLong    Key = "correct_too_long" // {length} {max}
	CorrectStarted    Key = "correct_started"
	CorrectProgress   Key = "correct_progress"   // {done} {total} {percent} {bar}
	CorrectReport     Key = "correct_report"     // {who} {time} {edited} {old} {failed}
	AnswerCorrecting  Key = "answer_correcting"  // plain
	AnswerCorrectOld  Key = "answer_correct_old" // plain
)

func correctEnglish() map[Key]string {
	return map[Key]string{
		ButtonCorrect:     "✏️ Correct",
		ButtonCorrectLang: "✏️ Correct: {language}",
		CorrectAsk:        "Send the corrected text in your next message. It replaces the text of every delivered copy.",
		CorrectAskCaption: "Send the corrected caption in your next message (at most {max, plural, one {# character} other {# characters}}). It replaces the caption of every delivered copy.",
		CorrectNotText:    "A correction is a text message. Nothing was changed.",
		CorrectTooLong:    "The correction is {length, plural, one {# character} other {# characters}} long; Telegram allows {max} here. Nothing was changed.",
		CorrectStarted:    "✏️ Correcting every delivered copy: the status above shows how it goes.",
		CorrectProgress:   "✏️ Correcting {done} / {total} · {percent}% {bar}",
		CorrectReport: "✏️ <b>Corrected</b> by {who} at {time}: {edited} edited, " +
			"{old} too old to edit (Telegram allows 48 hours), {failed} failed.",
		AnswerCorrecting: "A correction is under way.",
		AnswerCorrectOld: "These copies are more than 48 hours old: Telegram no longer lets the bot edit them.",
	}
}

func correctRussian() map[Key]string {
	return map[Key]string{
		ButtonCorrect:     "✏️ Исправить",
		ButtonCorrectLang: "✏️ Исправить: {language}",
		CorrectAsk:        "Пришлите исправленный текст следующим сообщением. Он заменит текст всех доставленных копий.",
		CorrectAskCaption: "Пришлите исправленную подпись следующим сообщением (не больше {max, plural, one {# знака} few {# знаков} many {# знаков} other {# знака}}). Она заменит подпись всех доставленных копий.",
		CorrectNotText:    "Исправление — это текстовое сообщение. Ничего не изменено.",
		CorrectTooLong:    "В исправлении {length, plural, one {# знак} few {# знака} many {# знаков} other {# знака}}, а здесь Telegram допускает {max}. Ничего не изменено.",
		CorrectStarted:    "✏️ Исправляю все доставленные копии: ход работы виден в сообщении выше.",
		CorrectProgress:   "✏️ Исправляю {done} / {total} · {percent}% {bar}",
		CorrectReport: "✏️ <b>Исправлено</b>, запрос: {who}, {time}: исправлено {edited}, " +
			"слишком старых {old} (Telegram позволяет править 48 часов), ошибок {failed}.",
		AnswerCorrecting: "Исправление уже идёт.",
		AnswerCorrectOld: "Этим копиям больше 48 часов: Telegram уже не позволяет боту их править.",
	}
}

// Texts of scheduled broadcasts (bot/staff/schedule.go). Times come
// formatted with their zone.
const (
	ButtonSendAt         Key = "button_send_at"         // plain
	ButtonToday          Key = "button_today"           // plain, {time}
	ButtonTomorrow       Key = "button_tomorrow"        // plain, {time}
	ButtonTypeTime       Key = "button_type_time"       // plain
	ButtonUnschedule     Key = "button_unschedule"      // plain, {time}
	ScheduleAsk          Key = "schedule_ask"           // {now}
	ScheduleType         Key = "schedule_type"          // {now}
	ScheduleBadTime      Key = "schedule_bad_time"      // {now}
	ScheduleTooFar       Key = "schedule_too_far"       // {days}
	ScheduleDone         Key = "schedule_done"          // {time} {who} {audience} {count}
	ScheduleCancelled    Key = "schedule_cancelled"     // {who}
	BroadcastsScheduled  Key = "broadcasts_scheduled"   // header
	BroadcastsSchedItem  Key = "broadcasts_sched_item"  // {time} {who} {audience} {text}
	AnswerScheduled      Key = "answer_scheduled"       // plain, {time}
	AnswerScheduleGone   Key = "answer_schedule_gone"   // plain
	AnswerScheduleCancel Key = "answer_schedule_cancel" // plain
)

func scheduleEnglish() map[Key]string {
	return map[Key]string{
		ButtonSendAt:         "🕘 Send at…",
		ButtonToday:          "Today {time}",
		ButtonTomorrow:       "Tomorrow {time}",
		ButtonTypeTime:       "⌨️ Type a time",
		ButtonUnschedule:     "✖️ Cancel the one at {time}",
		ScheduleAsk:          "When should the announcement go? Times are in the embassy's zone; it is {now} now.",
		ScheduleType:         "Send the time in your next message: <code>9:30</code> for the next 9:30, or <code>2026-12-24 09:30</code>. It is {now} now.",
		ScheduleBadTime:      "I could not read that time, or it has passed. Send it as <code>9:30</code> or <code>2026-12-24 09:30</code>; it is {now} now.",
		ScheduleTooFar:       "An announcement can be scheduled at most {days, plural, one {# day} other {# days}} ahead.",
		ScheduleDone:         "🕘 <b>Scheduled</b> for {time} by {who}\nAudience: <b>{audience}</b> — {count, plural, one {# subscriber} other {# subscribers}} now.\n/broadcasts lists it; it can be cancelled until then.",
		ScheduleCancelled:    "✖️ Scheduled announcement cancelled by {who}. Nothing was sent.",
		BroadcastsScheduled:  "<b>Scheduled</b>",
		BroadcastsSchedItem:  "🕘 <b>{time}</b> · {who} · {audience}\n<i>{text}</i>",
		AnswerScheduled:      "Scheduled for {time}.",
		AnswerScheduleGone:   "It is no longer scheduled: sent or cancelled already.",
		AnswerScheduleCancel: "Cancelled.",
	}
}

func scheduleRussian() map[Key]string {
	return map[Key]string{
		ButtonSendAt:         "🕘 Отправить в…",
		ButtonToday:          "Сегодня {time}",
		ButtonTomorrow:       "Завтра {time}",
		ButtonTypeTime:       "⌨️ Ввести время",
		ButtonUnschedule:     "✖️ Отменить на {time}",
		ScheduleAsk:          "Когда отправить объявление? Время — по часовому поясу посольства; сейчас {now}.",
		ScheduleType:         "Пришлите время следующим сообщением: <code>9:30</code> — ближайшие 9:30, или <code>2026-12-24 09:30</code>. Сейчас {now}.",
		ScheduleBadTime:      "Не удалось понять время, или оно уже прошло. Пришлите его как <code>9:30</code> или <code>2026-12-24 09:30</code>; сейчас {now}.",
		ScheduleTooFar:       "Объявление можно запланировать не больше чем на {days, plural, one {# день} few {# дня} many {# дней} other {# дня}} вперёд.",
		ScheduleDone:         "🕘 <b>Запланировано</b> на {time}, запланировал(а) {who}\nПолучатели: <b>{audience}</b> — сейчас {count, plural, one {# подписчик} few {# подписчика} many {# подписчиков} other {# подписчика}}.\nОно есть в /broadcasts; до отправки его можно отменить.",
		ScheduleCancelled:    "✖️ Запланированное объявление отменил(а) {who}. Ничего не отправлено.",
		BroadcastsScheduled:  "<b>Запланированные</b>",
		BroadcastsSchedItem:  "🕘 <b>{time}</b> · {who} · {audience}\n<i>{text}</i>",
		AnswerScheduled:      "Запланировано на {time}.",
		AnswerScheduleGone:   "Оно больше не запланировано: уже отправлено или отменено.",
		AnswerScheduleCancel: "Отменено.",
	}
}
