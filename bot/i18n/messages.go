package i18n

import "maps"

// The catalog's keys. Texts are Telegram HTML unless the comment says plain:
// plain texts go where Telegram shows text as it is (command descriptions,
// buttons, callback answers) and are filled with Catalog.Text.
const (
	// Command descriptions, plain, at most 256 characters (setMyCommands).
	CmdStart      Key = "cmd_start"
	CmdStop       Key = "cmd_stop"
	CmdHelp       Key = "cmd_help"
	CmdTime       Key = "cmd_time"
	CmdConsular   Key = "cmd_consular"
	CmdLatest     Key = "cmd_latest"
	CmdCategories Key = "cmd_categories"
	CmdLanguage   Key = "cmd_language"

	Welcome       Key = "welcome"
	WelcomeBack   Key = "welcome_back"
	WelcomeGroup  Key = "welcome_group" // {chat}
	Stopped       Key = "stopped"
	NotSubscribed Key = "not_subscribed"

	HelpIntro Key = "help_intro"
	HelpLine  Key = "help_line" // {command} {description}
	HelpStaff Key = "help_staff"

	Time         Key = "time"           // {date} {clocks}
	TimeClock    Key = "time_clock"     // {label} {time}; clocks are joined with " · "
	TimeOtherDay Key = "time_other_day" // {time} {date}: a clock whose date differs from the first clock's

	ConsularTitle   Key = "consular_title"   // {title}
	ConsularPhone   Key = "consular_phone"   // {phone}
	ConsularEmail   Key = "consular_email"   // {email}
	ConsularAddress Key = "consular_address" // {address}
	ConsularDays    Key = "consular_days"    // {days}
	ConsularLink    Key = "consular_link"    // {url}
	ConsularChecked Key = "consular_checked" // {date}

	LatestHeader          Key = "latest_header"          // {count}
	LatestHeaderCategory  Key = "latest_header_category" // {count} {category}
	LatestItem            Key = "latest_item"            // {date} {category} {url} {title}
	LatestItemNoLink      Key = "latest_item_no_link"    // {date} {category} {title}
	LatestEmpty           Key = "latest_empty"
	LatestEmptyCategory   Key = "latest_empty_category"   // {category}
	LatestBadCount        Key = "latest_bad_count"        // {max}
	LatestUnknownCategory Key = "latest_unknown_category" // {query} {categories} {example}
	LatestCategoryLine    Key = "latest_category_line"    // {id} {name}

	Categories       Key = "categories"
	CategoriesAll    Key = "categories_all"     // plain, a button; the keyboard marks it ✅ when every category is on
	CategoriesNone   Key = "categories_none"    // plain, a button; marked ✅ when none is on
	CategoryOn       Key = "category_on"        // plain, {category}
	CategoryOff      Key = "category_off"       // plain, {category}
	CategoriesAllOn  Key = "categories_all_on"  // plain
	CategoriesAllOff Key = "categories_all_off" // plain
	ButtonStale      Key = "button_stale"       // plain
	ButtonNeedsStart Key = "button_needs_start" // plain

	LanguagePrompt Key = "language_prompt"
	LanguageSet    Key = "language_set"
	LanguageName   Key = "language_name"   // plain, the language's name in itself, a button
	LanguageChosen Key = "language_chosen" // plain, callback answer

	UnknownCommand Key = "unknown_command"
	TextHint       Key = "text_hint"
	Error          Key = "error"
	SlowDown       Key = "slow_down"
	NotAllowed     Key = "not_allowed"
	// GroupAdminsOnly refuses a group's settings to a member who is not
	// one of its administrators; GroupAdminCheckFailed when Telegram could
	// not say. Plain: also callback answers (at most 200 characters).
	GroupAdminsOnly       Key = "group_admins_only"
	GroupAdminCheckFailed Key = "group_admin_check_failed"
	// ChannelAdminsOnly is GroupAdminsOnly in a channel. Plain.
	ChannelAdminsOnly Key = "channel_admins_only"
	// NotYourChat refuses a button pressed for a private chat by someone
	// other than its owner (a forged press). Plain.
	NotYourChat Key = "not_your_chat"
)

func english() map[Key]string {
	m := map[Key]string{
		CmdStart:      "Subscribe to the Embassy's new publications",
		CmdStop:       "Unsubscribe and delete this chat's data",
		CmdHelp:       "What this bot does, and every command",
		CmdTime:       "Time in Moscow and London",
		CmdConsular:   "Consular Section: phone, email, address, opening days",
		CmdLatest:     "Newest publications: /latest [N] [category]",
		CmdCategories: "Choose the categories you receive",
		CmdLanguage:   "Change the language",

		Welcome: "Hello! I announce the new publications of the Embassy of Russia in the UK as they appear: " +
			"press releases, statements, comments, interviews, consular notices and more.\n\n" +
			"This chat is now subscribed to every category. Tap a category below to switch it off or on. " +
			"/help lists everything I can do.",
		WelcomeBack: "This chat is already subscribed. Tap a category below to switch it off or on. " +
			"/help lists everything I can do.",
		WelcomeGroup: "Hello, {chat}! This chat is now subscribed to the new publications of the Embassy of Russia in the UK. " +
			"/categories chooses what to receive, /help lists every command.",
		Stopped: "You are unsubscribed, and everything stored about this chat has been deleted. " +
			"Send /start to subscribe again.",
		NotSubscribed: "This chat is not subscribed. Send /start to subscribe.",

		HelpIntro: "I announce the new publications of the Embassy of Russia in the UK as they appear on its site, " +
			"each in the categories you choose.\n\n<b>Commands</b>",
		HelpLine:  "/{command} — {description}",
		HelpStaff: "<b>Staff commands</b>",

		Time:         "🕰 {date}\n{clocks}",
		TimeClock:    "{label}: <b>{time}</b>",
		TimeOtherDay: "{time} ({date})",

		ConsularTitle:   "<b>{title}</b>",
		ConsularPhone:   "📞 Phone: {phone}",
		ConsularEmail:   "✉️ Email: {email}",
		ConsularAddress: "📍 Address: {address}",
		ConsularDays:    "🗓 Opening days: {days}",
		ConsularLink:    "🔗 <a href=\"{url}\">{url}</a>",
		ConsularChecked: "<i>Last checked: {date}</i>",

		LatestHeader:          "<b>{count, plural, one {The latest publication} other {The latest # publications}}</b>",
		LatestHeaderCategory:  "<b>{count, plural, one {The latest publication} other {The latest # publications}}: {category}</b>",
		LatestItem:            "{date} · {category}\n<a href=\"{url}\">{title}</a>",
		LatestItemNoLink:      "{date} · {category}\n{title}",
		LatestEmpty:           "Nothing has been published yet.",
		LatestEmptyCategory:   "Nothing has been published in “{category}” yet.",
		LatestBadCount:        "The number must be from 1 to {max}, for example: /latest 10",
		LatestUnknownCategory: "I don't know the category “{query}”. The categories are:\n{categories}\n\nFor example: /latest 5 {example}",
		LatestCategoryLine:    "• <code>{id}</code> — {name}",

		Categories:       "Choose the categories to receive (✅ on, ▫️ off):",
		CategoriesAll:    "All",
		CategoriesNone:   "None",
		CategoryOn:       "✅ {category}: on",
		CategoryOff:      "▫️ {category}: off",
		CategoriesAllOn:  "✅ Every category is on",
		CategoriesAllOff: "▫️ Every category is off",
		ButtonStale:      "This button is out of date.",
		ButtonNeedsStart: "This chat is not subscribed. Send /start first.",

		LanguagePrompt: "Choose the language:",
		LanguageSet:    "The language is now English.",
		LanguageName:   "English",
		LanguageChosen: "English",

		UnknownCommand: "I don't know this command. /help lists the ones I do.",
		TextHint:       "I answer commands. /help lists them.",
		Error:          "Sorry, something went wrong. Please try again in a minute.",
		SlowDown:       "Too many requests. Please wait a few seconds.",
		NotAllowed:     "Sorry, this command is not available to you.",

		GroupAdminsOnly:       "Only this group's administrators can change its subscription.",
		GroupAdminCheckFailed: "I couldn't check whether you are an administrator of this group. Please try again in a minute.",
		ChannelAdminsOnly:     "Only this channel's administrators can change its subscription.",
		NotYourChat:           "This button belongs to another chat.",
	}
	maps.Copy(m, staffEnglish())
	maps.Copy(m, deadLettersEnglish())
	maps.Copy(m, pauseEnglish())
	maps.Copy(m, restoreEnglish())
	maps.Copy(m, burstEnglish())
	maps.Copy(m, searchEnglish())
	maps.Copy(m, alertsEnglish())
	maps.Copy(m, consularEnglish())
	maps.Copy(m, broadcastEnglish())
	maps.Copy(m, correctEnglish())
	maps.Copy(m, scheduleEnglish())
	return m
}

func russian() map[Key]string {
	m := map[Key]string{
		CmdStart:      "Подписаться на новые публикации посольства",
		CmdStop:       "Отписаться и удалить данные этого чата",
		CmdHelp:       "Что умеет бот, все команды",
		CmdTime:       "Время в Москве и Лондоне",
		CmdConsular:   "Консульский отдел: телефон, почта, адрес, приёмные дни",
		CmdLatest:     "Последние публикации: /latest [N] [категория]",
		CmdCategories: "Выбрать категории рассылки",
		CmdLanguage:   "Сменить язык",

		Welcome: "Здравствуйте! Я сообщаю о новых публикациях посольства России в Великобритании: " +
			"пресс-релизах, заявлениях, комментариях, интервью, консульских объявлениях и других.\n\n" +
			"Этот чат подписан на все категории. Нажмите на категорию ниже, чтобы отключить или включить её. " +
			"/help — всё, что я умею.",
		WelcomeBack: "Этот чат уже подписан. Нажмите на категорию ниже, чтобы отключить или включить её. " +
			"/help — всё, что я умею.",
		WelcomeGroup: "Здравствуйте, {chat}! Этот чат подписан на новые публикации посольства России в Великобритании. " +
			"/categories — выбор категорий, /help — все команды.",
		Stopped: "Вы отписались, все данные этого чата удалены. " +
			"Чтобы подписаться снова, отправьте /start.",
		NotSubscribed: "Этот чат не подписан. Чтобы подписаться, отправьте /start.",

		HelpIntro: "Я сообщаю о новых публикациях посольства России в Великобритании, как только они появляются на сайте, " +
			"по выбранным вами категориям.\n\n<b>Команды</b>",
		HelpLine:  "/{command} — {description}",
		HelpStaff: "<b>Команды для сотрудников</b>",

		Time:         "🕰 {date}\n{clocks}",
		TimeClock:    "{label}: <b>{time}</b>",
		TimeOtherDay: "{time} ({date})",

		ConsularTitle:   "<b>{title}</b>",
		ConsularPhone:   "📞 Телефон: {phone}",
		ConsularEmail:   "✉️ Почта: {email}",
		ConsularAddress: "📍 Адрес: {address}",
		ConsularDays:    "🗓 Приёмные дни: {days}",
		ConsularLink:    "🔗 <a href=\"{url}\">{url}</a>",
		ConsularChecked: "<i>Проверено: {date}</i>",

		LatestHeader:          "<b>{count, plural, =1 {Последняя публикация} one {Последняя # публикация} few {Последние # публикации} many {Последние # публикаций} other {Последние # публикации}}</b>",
		LatestHeaderCategory:  "<b>{count, plural, =1 {Последняя публикация} one {Последняя # публикация} few {Последние # публикации} many {Последние # публикаций} other {Последние # публикации}}: {category}</b>",
		LatestItem:            "{date} · {category}\n<a href=\"{url}\">{title}</a>",
		LatestItemNoLink:      "{date} · {category}\n{title}",
		LatestEmpty:           "Публикаций пока нет.",
		LatestEmptyCategory:   "В категории «{category}» публикаций пока нет.",
		LatestBadCount:        "Число должно быть от 1 до {max}, например: /latest 10",
		LatestUnknownCategory: "Категории «{query}» нет. Есть такие:\n{categories}\n\nНапример: /latest 5 {example}",
		LatestCategoryLine:    "• <code>{id}</code> — {name}",

		Categories:       "Выберите категории рассылки (✅ включена, ▫️ выключена):",
		CategoriesAll:    "Все",
		CategoriesNone:   "Ни одной",
		CategoryOn:       "✅ {category}: включены",
		CategoryOff:      "▫️ {category}: выключены",
		CategoriesAllOn:  "✅ Все категории включены",
		CategoriesAllOff: "▫️ Все категории выключены",
		ButtonStale:      "Эта кнопка устарела.",
		ButtonNeedsStart: "Этот чат не подписан. Сначала отправьте /start.",

		LanguagePrompt: "Выберите язык:",
		LanguageSet:    "Теперь язык — русский.",
		LanguageName:   "Русский",
		LanguageChosen: "Русский",

		UnknownCommand: "Такой команды я не знаю. Список команд — /help.",
		TextHint:       "Я отвечаю на команды. Их список — /help.",
		Error:          "Извините, что-то пошло не так. Попробуйте через минуту.",
		SlowDown:       "Слишком много запросов. Подождите несколько секунд.",
		NotAllowed:     "Извините, эта команда вам недоступна.",

		GroupAdminsOnly:       "Менять подписку этой группы могут только её администраторы.",
		GroupAdminCheckFailed: "Не удалось проверить, администратор ли вы в этой группе. Попробуйте ещё раз через минуту.",
		ChannelAdminsOnly:     "Менять подписку этого канала могут только его администраторы.",
		NotYourChat:           "Эта кнопка относится к другому чату.",
	}
	maps.Copy(m, staffRussian())
	maps.Copy(m, deadLettersRussian())
	maps.Copy(m, pauseRussian())
	maps.Copy(m, restoreRussian())
	maps.Copy(m, burstRussian())
	maps.Copy(m, searchRussian())
	maps.Copy(m, alertsRussian())
	maps.Copy(m, consularRussian())
	maps.Copy(m, broadcastRussian())
	maps.Copy(m, correctRussian())
	maps.Copy(m, scheduleRussian())
	return m
}
