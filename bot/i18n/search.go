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

	CmdFollow    Key = "cmd_follow"
	CmdFollowing Key = "cmd_following"

	FollowUsage     Key = "follow_usage"
	FollowNoTerms   Key = "follow_no_terms"  // {topic}
	FollowTooLong   Key = "follow_too_long"  // {max}: more words than a topic may have
	FollowAdded     Key = "follow_added"     // {topic}
	FollowExists    Key = "follow_exists"    // {topic}
	FollowLimit     Key = "follow_limit"     // {max}
	FollowingHeader Key = "following_header" // {count} {max}
	FollowingNone   Key = "following_none"   //
	ButtonUnfollow  Key = "button_unfollow"  // plain, {topic}
	UnfollowDone    Key = "unfollow_done"    // plain, {topic}
	DeepLinkTopic   Key = "deep_link_topic"  // {topic}

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
		SearchTooMany:  "Only the first {max, plural, one {word was} other {# words were}} looked for.",
		LatestPageHead: "{from}–{to}",

		ButtonPrev:    "◀️ Previous",
		ButtonNext:    "Next ▶️",
		ButtonSimilar: "🔎 Similar",

		CmdFollow:    "Follow a topic: /follow words",
		CmdFollowing: "Topics this chat follows, with buttons to drop them",

		FollowUsage:     "Write the topic after the command, for example: <code>/follow visa</code> or <code>/follow паспорт</code>. Every publication whose title or summary has all its words then comes here, whatever its category.",
		FollowNoTerms:   "“{topic}” has no words to follow: try a longer word.",
		FollowTooLong:   "A topic has at most {max, plural, one {# word} other {# words}}: follow a shorter one.",
		FollowAdded:     "✅ This chat now follows “{topic}”. /following lists its topics.",
		FollowExists:    "This chat already follows “{topic}”.",
		FollowLimit:     "This chat follows {max, plural, one {# topic} other {# topics}}, the most it can: drop one with /following first.",
		FollowingHeader: "<b>Topics followed</b> ({count} of {max}). Tap one to stop following it.",
		FollowingNone:   "This chat follows no topic. Add one: <code>/follow visa</code>",
		ButtonUnfollow:  "✖ {topic}",
		UnfollowDone:    "No longer following “{topic}”.",
		DeepLinkTopic:   "✅ This chat now follows “{topic}”. /following lists its topics.",

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
		SearchTooMany:  "{max, plural, one {Искалось только первое # слово} few {Искались только первые # слова} many {Искались только первые # слов} other {Искались только первые # слова}}.",
		LatestPageHead: "{from}–{to}",

		ButtonPrev:    "◀️ Назад",
		ButtonNext:    "Далее ▶️",
		ButtonSimilar: "🔎 Похожие",

		CmdFollow:    "Следить за темой: /follow слова",
		CmdFollowing: "Темы, за которыми следит чат, с кнопками удаления",

		FollowUsage:     "Напишите тему после команды, например: <code>/follow паспорт</code> или <code>/follow visa</code>. Тогда сюда будет приходить каждая публикация, в заголовке или анонсе которой есть все её слова, из любой категории.",
		FollowNoTerms:   "В теме «{topic}» нет слов, за которыми можно следить: попробуйте слово длиннее.",
		FollowTooLong:   "В теме не больше {max, plural, one {# слова} few {# слов} many {# слов} other {# слова}}: выберите тему короче.",
		FollowAdded:     "✅ Этот чат теперь следит за темой «{topic}». Список тем: /following.",
		FollowExists:    "Этот чат уже следит за темой «{topic}».",
		FollowLimit:     "Этот чат следит за {max, plural, one {# темой} few {# темами} many {# темами} other {# темы}}, больше нельзя: сначала удалите одну в /following.",
		FollowingHeader: "<b>Темы</b> ({count} из {max}). Нажмите на тему, чтобы перестать за ней следить.",
		FollowingNone:   "Этот чат не следит ни за одной темой. Добавить: <code>/follow паспорт</code>",
		ButtonUnfollow:  "✖ {topic}",
		UnfollowDone:    "Больше не следим за темой «{topic}».",
		DeepLinkTopic:   "✅ Этот чат теперь следит за темой «{topic}». Список тем: /following.",

		DeepLinkCategory: "✅ Этот чат теперь получает «{category}». Изменить подписку: /categories.",
		DeepLinkInvalid:  "Эта ссылка не для этого бота: ничего не изменено.",
	}
}
