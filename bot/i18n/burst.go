package i18n

// Texts of the burst notice (bot/staff/burst.go): a source showed more new
// items in one poll than its limit, and none was announced.
const (
	BurstHeld           Key = "burst_held"            // {source} {count} {time} {newest}
	BurstItem           Key = "burst_item"            // {title}
	BurstReleased       Key = "burst_released"        // {count} {who} {time}
	ButtonBurstAnnounce Key = "button_burst_announce" // plain, {count}
	AnswerBurstReleased Key = "answer_burst_released" // plain, {count}
	AnswerBurstDone     Key = "answer_burst_done"     // plain
	AnswerBurstGone     Key = "answer_burst_gone"     // plain
)

func burstEnglish() map[Key]string {
	return map[Key]string{
		BurstHeld: "🛑 <b>Too many new items at once</b>: {source}\n{count, plural, one {# new item} other {# new items}} appeared in one poll ({time}). " +
			"That is more often a broken feed or a redesigned site than news, so none was announced; all are recorded as seen.\n" +
			"The newest {newest}:",
		BurstItem:           "• {title}",
		BurstReleased:       "✅ {who} announced the newest {count} at {time}.",
		ButtonBurstAnnounce: "Announce the newest {count}",
		AnswerBurstReleased: "Announcing the newest {count}.",
		AnswerBurstDone:     "They have already been announced.",
		AnswerBurstGone:     "This notice has expired; nothing was announced.",
	}
}

func burstRussian() map[Key]string {
	return map[Key]string{
		BurstHeld: "🛑 <b>Слишком много новых публикаций сразу</b>: {source}\nЗа один опрос {count, plural, one {появилась # новая публикация} few {появились # новые публикации} many {появилось # новых публикаций} other {появилось # новой публикации}} ({time}). " +
			"Чаще это сломанная лента или переделанный сайт, чем новости, поэтому ни одна не разослана; все отмечены как просмотренные.\n" +
			"Самые новые ({newest}):",
		BurstItem:           "• {title}",
		BurstReleased:       "✅ {who} разослал(а) самые новые ({count}) в {time}.",
		ButtonBurstAnnounce: "Разослать самые новые ({count})",
		AnswerBurstReleased: "Рассылаю самые новые ({count}).",
		AnswerBurstDone:     "Они уже разосланы.",
		AnswerBurstGone:     "Срок этого уведомления истёк; ничего не разослано.",
	}
}
