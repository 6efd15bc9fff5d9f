package i18n

// Texts of /search, the Prev/Next buttons of /search and /latest, the
// alerts' "Similar" button and /start's deep links.
const (
	CmdSearch Key = "cmd_search"

	SearchUsage    Key = "search_usage"
	SearchNoTerms  Key = "search_no_terms"  // {query}
	SearchNone     Key = "search_none"      // {query}
	SearchHeader   Key = "search_header"    // {query} {from} {to} {total}
	SearchTooMany  Key = "search_too_many"  // {max}: words beyond the first max were left out
	LatestPageHead Key = "latest_page_head" // {from} {to}

	ButtonPrev    Key = "button_prev"    // plain
	ButtonNext    Key = "button_next"    // plain
	ButtonSimilar Key = "button_similar" // plain

	// DeepLink texts answer /start with a payload (t.me/<bot>?start=...).
	DeepLinkCategory Key = "deep_link_category" // {category}
	DeepLinkInvalid  Key = "deep_link_invalid"
)

func searchEnglish() map[Key]string {
	return map[Key]string{
		CmdSearch: "Find publications: /search words",

		SearchUsage:    "Write what to look for after the command, for example: <code>/search visa</code> or <code>/search паспорт</code>.",
		SearchNoTerms:  "“{query}” has no words to look for: try a longer word.",
		SearchNone:     "Nothing found for “{query}”.",
		SearchHeader:   "<b>Found for “{query}”</b>: {from}–{to} of {total}, best matches first",
		SearchTooMany:  "Only the first {max} words were looked for.",
		LatestPageHead: "{from}–{to}",

		ButtonPrev:    "◀️ Previous",
		ButtonNext:    "Next ▶️",
		ButtonSimilar: "🔎 Similar",

		DeepLinkCategory: "✅ This chat now receives “{category}”. /categories changes what it receives.",
		DeepLinkInvalid:  "That link is not one of this bot's: nothing was changed.",
	}
}

func searchRussian() map[Key]string {
	return map[Key]string{
		CmdSearch: "Найти публикации: /search слова",

		SearchUsage:    "Напишите после команды, что искать, например: <code>/search паспорт</code> или <code>/search visa</code>.",
		SearchNoTerms:  "В запросе «{query}» нет слов для поиска: попробуйте слово длиннее.",
		SearchNone:     "По запросу «{query}» ничего не найдено.",
		SearchHeader:   "<b>Найдено по запросу «{query}»</b>: {from}–{to} из {total}, сначала самые подходящие",
		SearchTooMany:  "Искались только первые {max} слов.",
		LatestPageHead: "{from}–{to}",

		ButtonPrev:    "◀️ Назад",
		ButtonNext:    "Далее ▶️",
		ButtonSimilar: "🔎 Похожие",

		DeepLinkCategory: "✅ Этот чат теперь получает «{category}». Изменить подписку: /categories.",
		DeepLinkInvalid:  "Эта ссылка не для этого бота: ничего не изменено.",
	}
}
