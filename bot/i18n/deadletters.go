package i18n

// Texts of /deadletters (bot/staff): the deliveries given up on, and the
// staff's Retry all and Discard.
const (
	CmdDeadLetters Key = "cmd_deadletters"

	DeadLettersNone    Key = "deadletters_none"
	DeadLettersHeader  Key = "deadletters_header"    // {count} {oldest}
	DeadLettersReason  Key = "deadletters_reason"    // {count} {error}
	DeadLettersMore    Key = "deadletters_more"      // {count}: reasons not listed
	DeadLettersHint    Key = "deadletters_hint"      //
	DeadLettersRetried Key = "deadletters_retried"   // {who} {count} {time}
	DeadLettersDropped Key = "deadletters_discarded" // {who} {count} {time}
	ButtonRetryAll     Key = "button_retry_all"      // plain
	ButtonDiscard      Key = "button_discard"        // plain
	AnswerRetried      Key = "answer_retried"        // plain, {count}
	AnswerDiscarded    Key = "answer_discarded"      // plain, {count}
	AnswerNothingToDo  Key = "answer_dead_none_left" // plain
)

func deadLettersEnglish() map[Key]string {
	return map[Key]string{
		CmdDeadLetters:     "Deliveries given up on: retry or discard",
		DeadLettersNone:    "No dead letters: every delivery went out or is still being tried.",
		DeadLettersHeader:  "<b>Dead letters</b>: {count}, the oldest from {oldest}",
		DeadLettersReason:  "• {count} × {error}",
		DeadLettersMore:    "• {count} more with other reasons",
		DeadLettersHint:    "<i>Retry all</i> sends each once more through the normal queue (a chat that got the message meanwhile is skipped); <i>Discard</i> drops them. Either acts on the letters listed here only.",
		DeadLettersRetried: "{who} queued {count, plural, one {# dead letter} other {# dead letters}} again at {time}.",
		DeadLettersDropped: "{who} discarded {count, plural, one {# dead letter} other {# dead letters}} at {time}.",
		ButtonRetryAll:     "Retry all",
		ButtonDiscard:      "Discard",
		AnswerRetried:      "{count} queued again",
		AnswerDiscarded:    "{count} discarded",
		AnswerNothingToDo:  "Nothing left to do: these were retried or discarded already.",
	}
}

func deadLettersRussian() map[Key]string {
	return map[Key]string{
		CmdDeadLetters:     "Недоставленные сообщения: повторить или удалить",
		DeadLettersNone:    "Недоставленных сообщений нет: всё отправлено или ещё отправляется.",
		DeadLettersHeader:  "<b>Недоставленные сообщения</b>: {count}, самое старое от {oldest}",
		DeadLettersReason:  "• {count} × {error}",
		DeadLettersMore:    "• ещё {count} по другим причинам",
		DeadLettersHint:    "<i>Повторить все</i> — отправить каждое ещё раз через обычную очередь (чат, который уже получил сообщение, пропускается); <i>Удалить</i> — забыть о них. Обе кнопки касаются только перечисленных здесь сообщений.",
		DeadLettersRetried: "{who} снова поставил(а) в очередь {count, plural, one {# недоставленное сообщение} few {# недоставленных сообщения} many {# недоставленных сообщений} other {# недоставленного сообщения}} в {time}.",
		DeadLettersDropped: "{who} удалил(а) {count, plural, one {# недоставленное сообщение} few {# недоставленных сообщения} many {# недоставленных сообщений} other {# недоставленного сообщения}} в {time}.",
		ButtonRetryAll:     "Повторить все",
		ButtonDiscard:      "Удалить",
		AnswerRetried:      "Снова в очереди: {count}",
		AnswerDiscarded:    "Удалено: {count}",
		AnswerNothingToDo:  "Делать нечего: эти сообщения уже повторены или удалены.",
	}
}
