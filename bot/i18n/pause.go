package i18n

// Texts of the pause of all sending (bot/staff/pause.go), for staff: the
// one message a long pause sends them, its Resume button, and /stats; and
// of /restore, which undoes removals of chats.
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

// Texts of /restore (bot/staff/restore.go): undoing removals of chats
// Telegram said were gone.
const (
	CmdRestore     Key = "cmd_restore"
	RestoreHelp    Key = "restore_help"     // {day} {month}
	RestoreOne     Key = "restore_one"      // {chat}
	RestoreNothing Key = "restore_nothing"  // {chat}
	RestoreDone    Key = "restore_done"     // {count} {since}
	RestoreBadArgs Key = "restore_bad_args" // {args}
)

func restoreEnglish() map[Key]string {
	return map[Key]string{
		CmdRestore: "Undo removals of chats Telegram said were gone",
		RestoreHelp: "<b>Undo removals</b>\nChats removed because Telegram said they were gone (blocked, kicked, not found): " +
			"{day} in the last 24 hours, {month} in the last 30 days. A removed chat that writes to the bot again is restored by itself.\n\n" +
			"/restore <i>chat id</i>: one chat\n/restore <i>2h</i>: every chat removed in the last 2 hours (m, h or d)\n" +
			"/restore since <i>DD.MM.YYYY HH:MM</i>: every chat removed since then",
		RestoreOne:     "Chat {chat} is subscribed again, with its settings as they were.",
		RestoreNothing: "Nothing to restore for chat {chat}: no removal in the last 30 days, or it has subscribed again since.",
		RestoreDone:    "Restored {count, plural, one {# chat} other {# chats}} removed since {since}, each with its settings as they were.",
		RestoreBadArgs: "I don't understand “{args}”. Send /restore to see how to use it.",
	}
}

func restoreRussian() map[Key]string {
	return map[Key]string{
		CmdRestore: "Вернуть чаты, удалённые по ответу Telegram",
		RestoreHelp: "<b>Возврат удалённых чатов</b>\nУдалено, потому что Telegram ответил, что чата нет (бот заблокирован, удалён, чат не найден): " +
			"{day} за 24 часа, {month} за 30 дней. Удалённый чат, который снова напишет боту, возвращается сам.\n\n" +
			"/restore <i>id чата</i>: один чат\n/restore <i>2h</i>: все чаты, удалённые за последние 2 часа (m, h или d)\n" +
			"/restore since <i>ДД.ММ.ГГГГ ЧЧ:ММ</i>: все чаты, удалённые с этого времени",
		RestoreOne:     "Чат {chat} снова подписан, с прежними настройками.",
		RestoreNothing: "Чат {chat} нечего возвращать: за 30 дней его не удаляли, или он с тех пор подписался снова.",
		RestoreDone:    "{count, plural, one {Возвращён # чат, удалённый} few {Возвращены # чата, удалённые} many {Возвращено # чатов, удалённых} other {Возвращено # чата, удалённого}} с {since}, с прежними настройками.",
		RestoreBadArgs: "Не понимаю «{args}». Отправьте /restore, чтобы увидеть, как пользоваться командой.",
	}
}
