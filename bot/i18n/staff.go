package i18n

// Texts of the staff tools (bot/staff): broadcasts, statistics and source
// alerts, read by the embassy's staff. Counts are given as integers: the
// catalog groups their digits as each language does and picks the plural
// form of the words they count.
const (
	CmdBroadcast  Key = "cmd_broadcast"
	CmdBroadcasts Key = "cmd_broadcasts"
	CmdStats      Key = "cmd_stats"

	StaffPrivateOnly Key = "staff_private_only"

	BroadcastAsk       Key = "broadcast_ask"
	BroadcastAskClosed Key = "broadcast_ask_closed"
	BroadcastEmpty     Key = "broadcast_empty"
	BroadcastTooLong   Key = "broadcast_too_long" // {length} {max}
	BroadcastInvalid   Key = "broadcast_invalid"
	BroadcastControl   Key = "broadcast_control"  // {audience} {count}
	BroadcastAudience  Key = "broadcast_audience" // {audience} {count}
	BroadcastCancelled Key = "broadcast_cancelled"

	AudienceEveryone Key = "audience_everyone" // plain
	AudienceCategory Key = "audience_category" // plain, {category}
	// AudienceCategories is several categories: anyone wanting one of them.
	AudienceCategories Key = "audience_categories" // plain, {categories}
	AudienceQuoted     Key = "audience_quoted"     // plain, {category}: one name in that list
	AudienceLanguage   Key = "audience_language"   // plain, {language}

	ButtonSend      Key = "button_send"       // plain
	ButtonAudience  Key = "button_audience"   // plain
	ButtonCancel    Key = "button_cancel"     // plain
	ButtonBack      Key = "button_back"       // plain
	ButtonEveryone  Key = "button_everyone"   // plain
	ButtonStop      Key = "button_stop"       // plain
	ButtonRecall    Key = "button_recall"     // plain
	ButtonRecallYes Key = "button_recall_yes" // plain
	ButtonRecallNo  Key = "button_recall_no"  // plain

	AnswerDraftGone    Key = "answer_draft_gone"     // plain
	AnswerNotYourDraft Key = "answer_not_your_draft" // plain
	AnswerAlreadySent  Key = "answer_already_sent"   // plain
	AnswerSending      Key = "answer_sending"        // plain
	AnswerStopping     Key = "answer_stopping"       // plain
	AnswerFinished     Key = "answer_finished"       // plain
	AnswerRecalling    Key = "answer_recalling"      // plain
	AnswerRecallTooOld Key = "answer_recall_too_old" // plain
	AnswerAudienceSet  Key = "answer_audience_set"   // plain, {audience}

	StatusHeader     Key = "status_header"    // {audience}
	StatusPreparing  Key = "status_preparing" // {done} {total}
	StatusSending    Key = "status_sending"   // {done} {total} {percent} {bar} {eta}
	EtaMinutes       Key = "eta_minutes"      // plain, {minutes}
	EtaUnderMinute   Key = "eta_under_minute" // plain
	ReportDone       Key = "report_done"      // {audience}
	ReportStopped    Key = "report_stopped"   // {audience} {who} {time}
	ReportCounts     Key = "report_counts"    // {delivered} {removed} {failed} {cancelled}
	RecallConfirm    Key = "recall_confirm"   // {count}
	RecallWaiting    Key = "recall_waiting"   // {who}
	RecallProgress   Key = "recall_progress"  // {done} {total} {percent} {bar}
	RecallReport     Key = "recall_report"    // {who} {time} {deleted} {old} {failed}
	BroadcastsHeader Key = "broadcasts_header"
	BroadcastsEmpty  Key = "broadcasts_empty"
	BroadcastsItem   Key = "broadcasts_item"   // {date} {who} {audience} {state} {text} {counts}
	BroadcastsCounts Key = "broadcasts_counts" // {delivered} {removed} {failed} {cancelled}
	BroadcastsRecall Key = "broadcasts_recall" // {who} {time} {deleted} {old} {failed}
	StateSending     Key = "state_sending"     // plain
	StateDone        Key = "state_done"        // plain
	StateStopped     Key = "state_stopped"     // plain, {who}
	StateRecalling   Key = "state_recalling"   // plain
	StateRecalled    Key = "state_recalled"    // plain

	StatsSubscribers Key = "stats_subscribers" // {total} {joined} {left}
	StatsByCategory  Key = "stats_by_category"
	StatsByLanguage  Key = "stats_by_language"
	StatsLine        Key = "stats_line" // {name} {count}
	StatsSources     Key = "stats_sources"
	StatsSource      Key = "stats_source"       // {source} {success}
	StatsSourceError Key = "stats_source_error" // {at} {error}
	StatsNoSources   Key = "stats_no_sources"
	StatsDelivery    Key = "stats_delivery" // {queue} {sent} {flood} {dead}
	Never            Key = "never"          // plain

	AlertFailing   Key = "alert_failing"   // {source} {failures} {error}
	AlertRecovered Key = "alert_recovered" // {source}
	AlertSilent    Key = "alert_silent"    // {source} {days} {date}
	AlertActive    Key = "alert_active"    // {source}
)

func staffEnglish() map[Key]string {
	return map[Key]string{
		CmdBroadcast:  "Send an announcement to subscribers",
		CmdBroadcasts: "Recent announcements and their state",
		CmdStats:      "Subscribers, sources and delivery",

		StaffPrivateOnly: "Staff commands work in a private chat with the bot.",

		BroadcastAsk: "Send the announcement in your next message. Bold, italic, underline, strikethrough, spoilers, " +
			"code, links and quotes are kept. You can also reply to a message with /broadcast.",
		BroadcastAskClosed: "Cancelled.",
		BroadcastEmpty:     "The announcement has no text. Write it after /broadcast, or send /broadcast and then the text.",
		BroadcastTooLong:   "The announcement is {length, plural, one {# character} other {# characters}} long; Telegram allows {max}. Please shorten it.",
		BroadcastInvalid:   "This formatting cannot be sent. Please send the announcement again with simpler formatting.",
		BroadcastControl: "👆 This is the announcement exactly as subscribers will see it.\n\n" +
			"Audience: <b>{audience}</b> — {count, plural, one {# subscriber} other {# subscribers}}.\nNothing is sent until you press Send.",
		BroadcastAudience:  "Who should receive the announcement? Tick one or more categories, or choose everyone or one language.\nNow: <b>{audience}</b> — {count, plural, one {# subscriber} other {# subscribers}}.",
		BroadcastCancelled: "✖️ Cancelled. Nothing was sent.",

		AudienceEveryone:   "everyone",
		AudienceCategory:   "category “{category}”",
		AudienceCategories: "any of the categories {categories}",
		AudienceQuoted:     "“{category}”",
		AudienceLanguage:   "language: {language}",

		ButtonSend:      "📣 Send",
		ButtonAudience:  "👥 Change audience",
		ButtonCancel:    "✖️ Cancel",
		ButtonBack:      "‹ Back",
		ButtonEveryone:  "Everyone",
		ButtonStop:      "⏹ Stop sending",
		ButtonRecall:    "↩️ Recall",
		ButtonRecallYes: "Yes, delete every copy",
		ButtonRecallNo:  "No, keep them",

		AnswerDraftGone:    "This draft is gone. Send /broadcast again.",
		AnswerNotYourDraft: "This draft belongs to another admin.",
		AnswerAlreadySent:  "Already sent.",
		AnswerSending:      "Sending…",
		AnswerStopping:     "Stopping…",
		AnswerFinished:     "Sending has finished already.",
		AnswerRecalling:    "Recalling…",
		AnswerRecallTooOld: "These copies are more than 48 hours old: Telegram no longer lets the bot delete them.",
		AnswerAudienceSet:  "Audience: {audience}",

		StatusHeader:    "📣 <b>Announcement</b> to {audience}",
		StatusPreparing: "Preparing the audience… {done} / {total}",
		StatusSending:   "Sending {done} / {total} · {percent}% {bar} · {eta}",
		EtaMinutes:      "about {minutes, plural, one {# minute} other {# minutes}} left",
		EtaUnderMinute:  "less than a minute left",
		ReportDone:      "✅ <b>Announcement sent</b> to {audience}",
		ReportStopped:   "⏹ <b>Announcement stopped</b> by {who} at {time}; audience: {audience}",
		ReportCounts:    "Delivered: {delivered}\nBlocked the bot or removed: {removed}\nFailed: {failed}\nNot sent (stopped): {cancelled}",
		RecallConfirm:   "Delete {count, plural, one {the # delivered copy} other {all # delivered copies}} from subscribers' chats? This cannot be undone.",
		RecallWaiting:   "↩️ Recall asked by {who}: waiting for the messages in flight…",
		RecallProgress:  "↩️ Recalling {done} / {total} · {percent}% {bar}",
		RecallReport: "↩️ <b>Recalled</b> by {who} at {time}: {deleted} deleted, " +
			"{old} too old to delete (Telegram allows 48 hours), {failed} failed.",
		BroadcastsHeader: "<b>Recent announcements</b>",
		BroadcastsEmpty:  "No announcement has been sent yet.",
		BroadcastsItem:   "<b>{date}</b> · {who} · {audience} · <b>{state}</b>\n<i>{text}</i>\n{counts}",
		BroadcastsCounts: "Delivered {delivered}, blocked or removed {removed}, failed {failed}, not sent {cancelled}.",
		BroadcastsRecall: "Recalled by {who} at {time}: {deleted} deleted, {old} too old, {failed} failed.",
		StateSending:     "sending",
		StateDone:        "sent",
		StateStopped:     "stopped by {who}",
		StateRecalling:   "recalling",
		StateRecalled:    "recalled",

		StatsSubscribers: "<b>Subscribers</b>: {total} (last 7 days: {joined} joined, {left} left)",
		StatsByCategory:  "<b>By category</b>",
		StatsByLanguage:  "<b>By language</b>",
		StatsLine:        "• {name}: {count}",
		StatsSources:     "<b>Sources</b>",
		StatsSource:      "• {source}\n  last successful poll: {success}",
		StatsSourceError: "\n  last error ({at}): {error}",
		StatsNoSources:   "No source has been polled yet.",
		StatsDelivery:    "<b>Delivery</b>\nQueue: {queue}\nSent today: {sent}\n429 answers today: {flood}\nDead letters: {dead}",
		Never:            "never",

		AlertFailing:   "⚠️ <b>Source failing</b>: {source}\n{failures, plural, one {The last poll} other {The last # polls}} failed. Last error: {error}",
		AlertRecovered: "✅ <b>Source works again</b>: {source}",
		AlertSilent:    "💤 <b>Source silent</b>: {source}\nNo new publication for {days, plural, one {# day} other {# days}} (the last on {date}).",
		AlertActive:    "✅ <b>Source has new publications again</b>: {source}",
	}
}

func staffRussian() map[Key]string {
	return map[Key]string{
		CmdBroadcast:  "Отправить объявление подписчикам",
		CmdBroadcasts: "Последние объявления и их состояние",
		CmdStats:      "Подписчики, источники и рассылка",

		StaffPrivateOnly: "Команды для сотрудников работают в личном чате с ботом.",

		BroadcastAsk: "Пришлите объявление следующим сообщением. Жирный, курсив, подчёркивание, зачёркивание, скрытый текст, " +
			"код, ссылки и цитаты сохранятся. Можно также ответить на сообщение командой /broadcast.",
		BroadcastAskClosed: "Отменено.",
		BroadcastEmpty:     "В объявлении нет текста. Напишите его после /broadcast или отправьте /broadcast, а затем текст.",
		BroadcastTooLong:   "В объявлении {length, plural, one {# знак} few {# знака} many {# знаков} other {# знака}}, Telegram допускает {max}. Пожалуйста, сократите его.",
		BroadcastInvalid:   "Такое оформление отправить нельзя. Пришлите объявление ещё раз с более простым оформлением.",
		BroadcastControl: "👆 Так объявление увидят подписчики.\n\n" +
			"Получатели: <b>{audience}</b> — {count, plural, one {# подписчик} few {# подписчика} many {# подписчиков} other {# подписчика}}.\nНичего не отправится, пока вы не нажмёте «Отправить».",
		BroadcastAudience:  "Кому отправить объявление? Отметьте одну или несколько категорий или выберите всех либо один язык.\nСейчас: <b>{audience}</b> — {count, plural, one {# подписчик} few {# подписчика} many {# подписчиков} other {# подписчика}}.",
		BroadcastCancelled: "✖️ Отменено. Ничего не отправлено.",

		AudienceEveryone:   "все подписчики",
		AudienceCategory:   "категория «{category}»",
		AudienceCategories: "любая из категорий {categories}",
		AudienceQuoted:     "«{category}»",
		AudienceLanguage:   "язык: {language}",

		ButtonSend:      "📣 Отправить",
		ButtonAudience:  "👥 Получатели",
		ButtonCancel:    "✖️ Отменить",
		ButtonBack:      "‹ Назад",
		ButtonEveryone:  "Все подписчики",
		ButtonStop:      "⏹ Остановить",
		ButtonRecall:    "↩️ Отозвать",
		ButtonRecallYes: "Да, удалить все копии",
		ButtonRecallNo:  "Нет, оставить",

		AnswerDraftGone:    "Черновика больше нет. Отправьте /broadcast ещё раз.",
		AnswerNotYourDraft: "Это черновик другого администратора.",
		AnswerAlreadySent:  "Уже отправлено.",
		AnswerSending:      "Отправляю…",
		AnswerStopping:     "Останавливаю…",
		AnswerFinished:     "Рассылка уже закончилась.",
		AnswerRecalling:    "Отзываю…",
		AnswerRecallTooOld: "Этим копиям больше 48 часов: Telegram уже не позволяет боту их удалить.",
		AnswerAudienceSet:  "Получатели: {audience}",

		StatusHeader:    "📣 <b>Объявление</b>: {audience}",
		StatusPreparing: "Собираю получателей… {done} / {total}",
		StatusSending:   "Отправлено {done} / {total} · {percent}% {bar} · {eta}",
		EtaMinutes:      "осталось около {minutes, plural, one {# минуты} few {# минут} many {# минут} other {# минуты}}",
		EtaUnderMinute:  "осталось меньше минуты",
		ReportDone:      "✅ <b>Объявление отправлено</b>: {audience}",
		ReportStopped:   "⏹ <b>Рассылку остановил(а)</b> {who} в {time}; получатели: {audience}",
		ReportCounts:    "Доставлено: {delivered}\nЗаблокировали бота или удалены: {removed}\nОшибки: {failed}\nНе отправлено (остановлено): {cancelled}",
		RecallConfirm:   "Удалить {count, plural, one {# доставленную копию} few {все # доставленные копии} many {все # доставленных копий} other {все # доставленной копии}} из чатов подписчиков? Это нельзя отменить.",
		RecallWaiting:   "↩️ Отзыв запросил(а) {who}: жду сообщений, которые ещё в пути…",
		RecallProgress:  "↩️ Отзываю {done} / {total} · {percent}% {bar}",
		RecallReport: "↩️ <b>Отозвано</b>, запрос: {who}, {time}. Удалено: {deleted}; " +
			"слишком старые (Telegram позволяет удалять 48 часов): {old}; ошибки: {failed}.",
		BroadcastsHeader: "<b>Последние объявления</b>",
		BroadcastsEmpty:  "Объявлений ещё не было.",
		BroadcastsItem:   "<b>{date}</b> · {who} · {audience} · <b>{state}</b>\n<i>{text}</i>\n{counts}",
		BroadcastsCounts: "Доставлено: {delivered}, заблокировали или удалены: {removed}, ошибки: {failed}, не отправлено: {cancelled}.",
		BroadcastsRecall: "Отозвано ({who}, {time}). Удалено: {deleted}, слишком старые: {old}, ошибки: {failed}.",
		StateSending:     "отправляется",
		StateDone:        "отправлено",
		StateStopped:     "остановлено: {who}",
		StateRecalling:   "отзывается",
		StateRecalled:    "отозвано",

		StatsSubscribers: "<b>Подписчики</b>: {total} (за 7 дней новых: {joined}, ушедших: {left})",
		StatsByCategory:  "<b>По категориям</b>",
		StatsByLanguage:  "<b>По языкам</b>",
		StatsLine:        "• {name}: {count}",
		StatsSources:     "<b>Источники</b>",
		StatsSource:      "• {source}\n  последний успешный опрос: {success}",
		StatsSourceError: "\n  последняя ошибка ({at}): {error}",
		StatsNoSources:   "Источники ещё не опрашивались.",
		StatsDelivery:    "<b>Рассылка</b>\nВ очереди: {queue}\nОтправлено сегодня: {sent}\nОтветов 429 сегодня: {flood}\nНедоставленных писем: {dead}",
		Never:            "никогда",

		AlertFailing:   "⚠️ <b>Источник не отвечает</b>: {source}\n{failures, plural, =1 {Последний опрос не удался} one {Последний # опрос не удался} few {Последние # опроса не удались} many {Последние # опросов не удались} other {Последние # опроса не удались}}. Последняя ошибка: {error}",
		AlertRecovered: "✅ <b>Источник снова работает</b>: {source}",
		AlertSilent:    "💤 <b>Источник молчит</b>: {source}\nНовых публикаций нет уже {days, plural, one {# день} few {# дня} many {# дней} other {# дня}} (последняя — {date}).",
		AlertActive:    "✅ <b>В источнике снова есть новые публикации</b>: {source}",
	}
}
