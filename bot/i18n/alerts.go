package i18n

// Texts of the alert settings: urgency and quiet hours (/quiet), the daily
// digest (/digest), muting from an alert, and forum topics.
const (
	CmdQuiet  Key = "cmd_quiet"
	CmdDigest Key = "cmd_digest"
	CmdTopic  Key = "cmd_topic"

	QuietSet   Key = "quiet_set"   // {from} {to} {zone}
	QuietOff   Key = "quiet_off"   //
	QuietShow  Key = "quiet_show"  // {from} {to} {zone}
	QuietNone  Key = "quiet_none"  // {zone}
	QuietUsage Key = "quiet_usage" //

	DigestSet   Key = "digest_set"   // {time} {zone}
	DigestOff   Key = "digest_off"   //
	DigestShow  Key = "digest_show"  // {time} {zone}
	DigestNone  Key = "digest_none"  //
	DigestUsage Key = "digest_usage" //
	BadZone     Key = "bad_zone"     // {zone}

	DigestHeader Key = "digest_header" // {date} {count}
	DigestItem   Key = "digest_item"   // {category} {url} {title}
	DigestMore   Key = "digest_more"   // {count}: items left out to fit

	ButtonMute   Key = "button_mute"   // plain, {category}
	ButtonUndo   Key = "button_undo"   // plain, {category}
	AnswerMuted  Key = "answer_muted"  // plain, {category}
	AnswerUndone Key = "answer_undone" // plain, {category}
	// AnswerNotMuted: Mute pressed on an alert of a category the chat does
	// not take (it came for a followed topic).
	AnswerNotMuted Key = "answer_not_muted" // plain, {category}

	TopicSet     Key = "topic_set"      //
	TopicNone    Key = "topic_none"     //
	TopicNoForum Key = "topic_no_forum" //
)

func alertsEnglish() map[Key]string {
	return map[Key]string{
		CmdQuiet:  "Quiet hours: /quiet 23:00-07:00 [zone], /quiet off",
		CmdDigest: "One message a day instead of alerts: /digest 08:00 [zone], /digest off",
		CmdTopic:  "Send alerts to this forum topic (/topic off: the main chat)",

		QuietSet: "🌙 Quiet hours: {from}–{to} ({zone}). Alerts then arrive silently, except urgent ones " +
			"(consular notices and closures).",
		QuietOff:  "🔔 Quiet hours are off.",
		QuietShow: "🌙 Quiet hours: {from}–{to} ({zone}). Change them with /quiet 23:00-07:00, or /quiet off.",
		QuietNone: "No quiet hours. Set them with <code>/quiet 23:00-07:00</code> (times in {zone}; add a zone such as " +
			"<code>Europe/Moscow</code> to use another).",
		QuietUsage: "Give the hours as <code>/quiet 23:00-07:00</code>, optionally followed by a time zone " +
			"(<code>/quiet 23:00-07:00 Europe/Moscow</code>), or <code>/quiet off</code>.",

		DigestSet:  "📰 Daily digest at {time} ({zone}): publications come in one message a day instead of one alert each.",
		DigestOff:  "🔔 Digest off: each publication comes as its own alert again.",
		DigestShow: "📰 Daily digest at {time} ({zone}). Change it with /digest 08:00, or /digest off.",
		DigestNone: "Publications come as they appear. For one message a day instead, use <code>/digest 08:00</code>.",
		DigestUsage: "Give the time as <code>/digest 08:00</code>, optionally followed by a time zone " +
			"(<code>/digest 08:00 Europe/Moscow</code>), or <code>/digest off</code>.",
		BadZone: "Unknown time zone {zone}. Use a name such as <code>Europe/London</code> or <code>Europe/Moscow</code>.",

		DigestHeader: "📰 <b>Digest for {date}</b>: {count} new",
		DigestItem:   "• {category}: <a href=\"{url}\">{title}</a>",
		DigestMore:   "…and {count} more: /latest",

		ButtonMute:  "🔕 Mute {category}",
		ButtonUndo:  "↩️ Undo: {category} muted",
		AnswerMuted: "{category}: muted. Undo with the button, or turn it back on in /categories.",
		AnswerNotMuted: "This chat does not take {category}: this alert came for a topic it follows. " +
			"Stop following it in /following.",
		AnswerUndone: "{category}: on again.",

		TopicSet:     "📌 Alerts will go to this topic.",
		TopicNone:    "📌 Alerts will go to the main chat.",
		TopicNoForum: "This chat has no topics; alerts go to the chat itself.",
	}
}

func alertsRussian() map[Key]string {
	return map[Key]string{
		CmdQuiet:  "Тихие часы: /quiet 23:00-07:00 [пояс], /quiet off",
		CmdDigest: "Одно сообщение в день вместо уведомлений: /digest 08:00 [пояс], /digest off",
		CmdTopic:  "Присылать уведомления в эту тему форума (/topic off — в общий чат)",

		QuietSet: "🌙 Тихие часы: {from}–{to} ({zone}). В это время уведомления приходят без звука, кроме срочных " +
			"(консульские объявления и закрытия).",
		QuietOff:  "🔔 Тихие часы выключены.",
		QuietShow: "🌙 Тихие часы: {from}–{to} ({zone}). Изменить: /quiet 23:00-07:00, выключить: /quiet off.",
		QuietNone: "Тихие часы не заданы. Задайте их так: <code>/quiet 23:00-07:00</code> (время — {zone}; добавьте пояс, " +
			"например <code>Europe/Moscow</code>, чтобы выбрать другой).",
		QuietUsage: "Укажите часы так: <code>/quiet 23:00-07:00</code>, при желании с часовым поясом " +
			"(<code>/quiet 23:00-07:00 Europe/Moscow</code>), или <code>/quiet off</code>.",

		DigestSet:  "📰 Ежедневная сводка в {time} ({zone}): публикации приходят одним сообщением в день, а не по одной.",
		DigestOff:  "🔔 Сводка выключена: каждая публикация снова приходит отдельным уведомлением.",
		DigestShow: "📰 Ежедневная сводка в {time} ({zone}). Изменить: /digest 08:00, выключить: /digest off.",
		DigestNone: "Публикации приходят по мере появления. Чтобы получать одно сообщение в день, отправьте <code>/digest 08:00</code>.",
		DigestUsage: "Укажите время так: <code>/digest 08:00</code>, при желании с часовым поясом " +
			"(<code>/digest 08:00 Europe/Moscow</code>), или <code>/digest off</code>.",
		BadZone: "Неизвестный часовой пояс {zone}. Укажите название вроде <code>Europe/London</code> или <code>Europe/Moscow</code>.",

		DigestHeader: "📰 <b>Сводка за {date}</b>: новых — {count}",
		DigestItem:   "• {category}: <a href=\"{url}\">{title}</a>",
		DigestMore:   "…и ещё {count}: /latest",

		ButtonMute:  "🔕 Отключить: {category}",
		ButtonUndo:  "↩️ Вернуть: {category}",
		AnswerMuted: "{category}: отключено. Вернуть — кнопкой или в /categories.",
		AnswerNotMuted: "Этот чат не получает раздел «{category}»: уведомление пришло по теме, за которой он следит. " +
			"Перестать следить можно в /following.",
		AnswerUndone: "{category}: снова включено.",

		TopicSet:     "📌 Уведомления будут приходить в эту тему.",
		TopicNone:    "📌 Уведомления будут приходить в общий чат.",
		TopicNoForum: "В этом чате нет тем; уведомления приходят в сам чат.",
	}
}
