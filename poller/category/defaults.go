package category

// Default returns the embassy's categories, rules and feed-category map. Each
// call builds a fresh value, so callers may change it.
//
// The rules come in three blocks, and the order is what makes them work:
//
//  1. Prefixes: a title that opens with its genre ("Press release on …",
//     "Comment by …", "Embassy Press Officer …", "Заявление …") is that
//     genre, whatever it mentions later ("… telephone conversation",
//     "… answers questions on statements").
//  2. Consular: visas, passports, the consular section, closures and opening
//     hours. These matter to citizens more than the genre word a title
//     happens to carry, so they beat every contains-rule below.
//  3. Contains, for titles that open with a name ("Foreign Minister Sergey
//     Lavrov’s opening remarks at the … meeting …"): press releases, then
//     comments and press officers, briefings, interviews and articles,
//     speeches, statements, answers to questions, and last meetings, talks
//     and telephone conversations, the words most often mentioned in passing.
//
// Titles nothing claims are Other. "Russian Energy Week Forum plenary
// session" is one on purpose: it reports an event, and a plenary session is
// not a speech by anybody in particular.
func Default() Config {
	return Config{
		Categories: []Category{
			{ID: "press-releases", Names: map[string]string{"en": "Press releases", "ru": "Пресс-релизы"}},
			{ID: "statements", Names: map[string]string{"en": "Statements", "ru": "Заявления"}},
			{ID: "comments", Names: map[string]string{"en": "Comments and answers to media questions", "ru": "Комментарии и ответы на вопросы СМИ"}},
			{ID: "briefings", Names: map[string]string{"en": "Briefings", "ru": "Брифинги"}},
			{ID: "interviews", Names: map[string]string{"en": "Interviews and articles", "ru": "Интервью и статьи"}},
			{ID: "speeches", Names: map[string]string{"en": "Speeches", "ru": "Выступления"}},
			{ID: "meetings", Names: map[string]string{"en": "Meetings, talks and telephone conversations", "ru": "Встречи, переговоры и телефонные разговоры"}},
			{ID: "consular", Names: map[string]string{"en": "Consular notices", "ru": "Консульские вопросы"}},
			{ID: Other, Names: map[string]string{"en": "Other", "ru": "Другие публикации"}},
		},
		Rules: []Rule{
			// 1. The genre named first.
			{Category: "press-releases", Prefixes: []string{"press release", "press-release", "news release", "пресс-релиз", "пресс релиз"}},
			{Category: "comments", Prefixes: []string{
				"embassy press officer", "press officer", "embassy press secretary", "press secretary",
				"embassy comment", "comment", "answer", "reply", "replies", "response to",
				"комментари", "ответ на", "ответы на", "ответ официального", "ответы официального",
				"ответ посольства", "ответ посла", "пресс-секретар",
			}},
			{Category: "briefings", Prefixes: []string{"briefing", "press briefing", "press conference", "news conference", "брифинг", "пресс-конференци"}},
			{Category: "statements", Prefixes: []string{"statement", "joint statement", "declaration", "заявлени", "совместное заявление", "декларац"}},
			{Category: "interviews", Prefixes: []string{"interview", "article", "op-ed", "интервью", "статья"}},
			{Category: "speeches", Prefixes: []string{
				"speech", "address", "remarks", "opening remarks", "closing remarks", "lecture", "keynote",
				"выступлени", "вступительное слово", "заключительное слово", "приветственное слово", "речь", "обращени", "послание",
			}},
			{Category: "meetings", Prefixes: []string{
				"meeting", "talks", "telephone conversation", "phone conversation", "telephone call", "phone call",
				"consultations", "negotiations",
				"встреч", "переговор", "телефонный разговор", "бесед", "консультаци",
			}},

			// 2. Consular notices.
			{Category: "consular", Contains: []string{
				"consular", "visa", "passport", "will be closed", "closed to the public", "closed to visitors",
				"will not be open", "non-working day", "opening hours", "working hours",
				"консульск", "виза", "визы", "визов", "визам", "визах", "визой", "визе", "паспорт",
				"будет закрыт", "не будет работать", "нерабоч", "режим работы", "часы работы", "часы приема", "часы приёма",
			}},

			// 3. The genre named after a name.
			{Category: "press-releases", Contains: []string{"press release", "press-release", "пресс-релиз"}},
			{Category: "comments", Contains: []string{"press officer", "press secretary", "comment", "пресс-секретар", "комментари"}},
			{Category: "briefings", Contains: []string{"briefing", "брифинг"}},
			{Category: "interviews", Contains: []string{
				"interview", "article", "op-ed",
				"интервью", "статья", "статьи", "статье", "статью", "статьей", "статьёй",
			}},
			{Category: "speeches", Contains: []string{
				"speech", "remarks", "address by", "address to", "address at", "address of", "'s address", "lecture",
				"выступлени", "выступил", "вступительное слово", "заключительное слово", "приветственное слово", "речь", "обращение к",
			}},
			{Category: "statements", Contains: []string{"statement", "declaration", "заявлени", "декларац"}},
			{Category: "comments", Contains: []string{"answer", "reply to", "replies to", "media question", "на вопрос", "ответы", "ответ на"}},
			{Category: "meetings", Contains: []string{
				"meeting", "talks", "telephone conversation", "phone conversation", "telephone call", "phone call",
				"spoke by phone", "conversation with", "consultations", "negotiations", "met with",
				"встреч", "переговор", "разговор", "бесед", "консультаци",
			}},
		},
		FeedMap: map[string]string{
			"press releases": "press-releases", "press release": "press-releases",
			"пресс-релизы": "press-releases", "пресс-релиз": "press-releases",

			"statements": "statements", "statement": "statements",
			"заявления": "statements", "заявление": "statements",

			"comments": "comments", "comment": "comments",
			"answers to media questions": "comments", "press officer": "comments",
			"комментарии": "comments", "комментарий": "comments", "ответы на вопросы сми": "comments",

			"briefings": "briefings", "briefing": "briefings",
			"брифинги": "briefings", "брифинг": "briefings",

			"interviews": "interviews", "interview": "interviews",
			"articles": "interviews", "interviews and articles": "interviews",
			"интервью": "interviews", "статьи": "interviews", "интервью и статьи": "interviews",

			"speeches": "speeches", "speech": "speeches", "remarks": "speeches",
			"выступления": "speeches", "выступление": "speeches",

			"meetings": "meetings", "meeting": "meetings", "talks": "meetings",
			"встречи": "meetings", "переговоры": "meetings",

			"consular": "consular", "consular issues": "consular", "consular section": "consular", "visas": "consular",
			"консульские вопросы": "consular", "консульский отдел": "consular", "визы": "consular",
		},
	}
}
