package i18n

// Texts of the pause of all sending (bot/staff/pause.go), for staff: the
// one message a long pause sends them, its Resume button, and /stats.
const (
	// PauseNotice is sent once per pause. {reason} is one of the
	// PauseReason texts, {until} PauseUntil or PauseUntilProbe.
	PauseNotice     Key = "pause_notice"      // {reason} {until}
	PauseUntil      Key = "pause_until"       // plain, {time}
	PauseUntilProbe Key = "pause_until_probe" // plain
	PauseResumed    Key = "pause_resumed"     // {reason} {who} {time}

	PauseReasonFlood        Key = "pause_reason_flood"        // plain
	PauseReasonOutage       Key = "pause_reason_outage"       // plain
	PauseReasonUnauthorized Key = "pause_reason_unauthorized" // plain
	PauseReasonGoneStorm    Key = "pause_reason_gone_storm"   // plain

	ButtonResume    Key = "button_resume"     // plain
	AnswerResumed   Key = "answer_resumed"    // plain
	AnswerPauseOver Key = "answer_pause_over" // plain

	// StatsPaused is /stats' line while sending is paused.
	StatsPaused Key = "stats_paused" // {reason} {until}
)

func pauseEnglish() map[Key]string {
	return map[Key]string{
		PauseNotice: "⏸ <b>Sending is paused</b> for every subscriber.\nReason: {reason}.\n{until}\n\n" +
			"Nothing is lost: every message waits and goes out once sending resumes. " +
			"Resume now lifts the pause for every copy of the bot at once.",
		PauseUntil:      "Until {time}.",
		PauseUntilProbe: "Until Telegram answers again: the bot checks by itself, at least every minute.",
		PauseResumed:    "▶️ <b>Sending resumed</b> by {who} at {time}.\nThe pause was: {reason}.",

		PauseReasonFlood:        "Telegram's flood limit (429): it asked the bot to wait",
		PauseReasonOutage:       "Telegram does not answer (server errors, timeouts or no connection)",
		PauseReasonUnauthorized: "Telegram refuses the bot token (401): check TELEGRAM_BOT_TOKEN",
		PauseReasonGoneStorm:    "most messages were refused as if the chats had blocked the bot (403); nobody was removed",

		ButtonResume:    "▶️ Resume now",
		AnswerResumed:   "Sending resumed.",
		AnswerPauseOver: "This pause is already over.",

		StatsPaused: "⏸ <b>Sending paused</b>: {reason}. {until}",
	}
}

func pauseRussian() map[Key]string {
	return map[Key]string{
		PauseNotice: "⏸ <b>Рассылка приостановлена</b> для всех подписчиков.\nПричина: {reason}.\n{until}\n\n" +
			"Ничего не потеряно: все сообщения ждут и уйдут, когда рассылка возобновится. " +
			"Кнопка «Возобновить сейчас» снимает паузу сразу для всех копий бота.",
		PauseUntil:      "До {time}.",
		PauseUntilProbe: "Пока Telegram снова не ответит: бот проверяет сам, не реже раза в минуту.",
		PauseResumed:    "▶️ <b>Рассылка возобновлена</b>: {who}, {time}.\nПричина паузы была: {reason}.",

		PauseReasonFlood:        "ограничение Telegram на частоту (429): он попросил бота подождать",
		PauseReasonOutage:       "Telegram не отвечает (ошибки сервера, тайм-ауты или нет соединения)",
		PauseReasonUnauthorized: "Telegram не принимает токен бота (401): проверьте TELEGRAM_BOT_TOKEN",
		PauseReasonGoneStorm:    "большинство сообщений отклонено, будто чаты заблокировали бота (403); никто не удалён",

		ButtonResume:    "▶️ Возобновить сейчас",
		AnswerResumed:   "Рассылка возобновлена.",
		AnswerPauseOver: "Эта пауза уже закончилась.",

		StatsPaused: "⏸ <b>Рассылка приостановлена</b>: {reason}. {until}",
	}
}
