package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// Limits of /latest.
const (
	latestDefault = 5
	latestMax     = 20
	// maxTitleRunes keeps one publication well within a message.
	maxTitleRunes = 300
	// maxQueryRunes is as much of an unknown category as /latest echoes.
	maxQueryRunes = 64
	// latestSlack is how many more publications /latest reads than it
	// shows: those stored with a date far in the future (before the poller
	// clamped dates) then sort by when they were seen, below newer ones.
	latestSlack = 10
)

// Callback prefixes of the citizen keyboards.
const (
	prefixCategory = "cat"
	prefixLanguage = "lang"
	// Category button data for "all" and "none": neither character can
	// appear in a category id.
	dataAllCategories  = "+"
	dataNoneCategories = "*"
)

func (b *Bot) registerCitizenCommands() {
	d := func(k i18n.Key) HandlerOption { return describeKey(b.cat, k) }
	// In groups and channels only administrators change the settings.
	// /start is open to all in a subscribed group (it changes nothing, and
	// its keyboard's buttons are guarded); in one that is not, it
	// subscribes only for an administrator, so that a member cannot undo
	// the administrators' /stop.
	b.Handle("start", b.cmdStart, d(i18n.CmdStart))
	b.Handle("stop", b.cmdStop, d(i18n.CmdStop), GroupAdminOnly())
	b.Handle("help", b.cmdHelp, d(i18n.CmdHelp))
	b.Handle("time", b.cmdTime, d(i18n.CmdTime))
	b.Handle("consular", b.cmdConsular, d(i18n.CmdConsular))
	b.Handle("latest", b.cmdLatest, d(i18n.CmdLatest))
	b.Handle("search", b.cmdSearch, d(i18n.CmdSearch))
	b.registerTopicCommands()
	b.Handle("categories", b.cmdCategories, d(i18n.CmdCategories), GroupAdminOnly())
	b.Handle("language", b.cmdLanguage, d(i18n.CmdLanguage), GroupAdminOnly())
	b.Handle("quiet", b.cmdQuiet, d(i18n.CmdQuiet), GroupAdminOnly())
	b.Handle("digest", b.cmdDigest, d(i18n.CmdDigest), GroupAdminOnly())
	b.Handle("topic", b.cmdTopic, d(i18n.CmdTopic), GroupAdminOnly())
	b.HandleCallback(prefixCategory, b.cbCategory, GroupAdminOnly())
	b.HandleCallback(prefixLanguage, b.cbLanguage, GroupAdminOnly())
	b.registerSearchCommands()
	b.HandleCallback(prefixConsularMap, b.cbConsularMap)
	b.HandleCallback(prefixMute, b.cbMute, GroupAdminOnly())
	b.HandleCallback(prefixUnmute, b.cbUnmute, GroupAdminOnly())
}

// cmdStart subscribes the chat and offers the category choice.
func (b *Bot) cmdStart(ctx context.Context, r *Request) error {
	// A link's payload changes the chat's categories or topics: in a
	// group, an administrator's to give, as /categories and /follow are.
	if _, subscribed := r.Subscriber(); (!subscribed || r.Args != "") && r.Chat.Type != subscriptions.ChatPrivate {
		if ok, err := b.chatAdminOrRefuse(ctx, r); !ok {
			return err
		}
	}
	sub, created, err := b.p.Subscriptions.Subscribe(ctx, r.Chat.ID, r.Chat.Type, r.Lang)
	if err != nil {
		return err
	}
	r.setSubscriber(sub, true)
	key := i18n.WelcomeBack
	if created {
		key = i18n.Welcome
		b.log.Info("chat subscribed", slog.Int64("chat_id", r.Chat.ID), slog.String("chat_type", string(r.Chat.Type)), slog.String("language", sub.Language))
	}
	topicNote := ""
	if moved, err := b.startInTopic(ctx, r, sub); err != nil {
		return err
	} else if moved {
		topicNote = "\n\n" + r.T(i18n.TopicSet)
	}
	if r.Args != "" {
		return b.deepLink(ctx, r, sub, created, key)
	}
	return r.ReplyKeyboard(ctx, r.T(key)+topicNote, b.categoryKeyboard(r.Lang, sub))
}

// cmdStop removes the chat and everything stored about it.
func (b *Bot) cmdStop(ctx context.Context, r *Request) error {
	existed, err := b.p.Subscriptions.Unsubscribe(ctx, r.Chat.ID)
	if err != nil {
		return err
	}
	r.setSubscriber(subscriptions.Subscriber{}, false)
	if !existed {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	b.log.Info("chat unsubscribed", slog.Int64("chat_id", r.Chat.ID))
	return r.Reply(ctx, r.T(i18n.Stopped))
}

// cmdHelp lists every command the sender may use.
func (b *Bot) cmdHelp(ctx context.Context, r *Request) error {
	var sb strings.Builder
	sb.WriteString(r.T(i18n.HelpIntro))
	def := b.cat.DefaultLanguage()
	for _, e := range b.listed(false) {
		sb.WriteString("\n" + r.T(i18n.HelpLine, "command", e.name, "description", e.description(r.Lang, def)))
	}
	if staff := b.listed(true); r.IsAdmin() && len(staff) > 0 {
		sb.WriteString("\n\n" + r.T(i18n.HelpStaff))
		for _, e := range staff {
			sb.WriteString("\n" + r.T(i18n.HelpLine, "command", e.name, "description", e.description(r.Lang, def)))
		}
	}
	return r.Reply(ctx, sb.String())
}

// cmdTime shows the configured clocks, like the header of the embassy's
// site: the date, then "Moscow: 12:32 · London: 10:32".
func (b *Bot) cmdTime(ctx context.Context, r *Request) error {
	return r.Reply(ctx, b.timeText(r.Lang, b.p.Now()))
}

func (b *Bot) timeText(lang string, now time.Time) string {
	def := b.cat.DefaultLanguage()
	first := now.In(b.clocks[0].loc)
	clocks := make([]string, 0, len(b.clocks))
	for _, c := range b.clocks {
		t := now.In(c.loc)
		var shown any = t.Format("15:04")
		if y, m, d := t.Date(); y != first.Year() || m != first.Month() || d != first.Day() {
			shown = i18n.HTML(b.cat.T(lang, i18n.TimeOtherDay, "time", t.Format("15:04"), "date", i18n.Date(lang, t)))
		}
		clocks = append(clocks, b.cat.T(lang, i18n.TimeClock, "label", c.label.In(lang, def), "time", shown))
	}
	return b.cat.T(lang, i18n.Time, "date", i18n.Date(lang, first), "clocks", i18n.HTML(strings.Join(clocks, " · ")))
}

// cmdConsular shows the consular card; fields left empty are left out.
func (b *Bot) cmdConsular(ctx context.Context, r *Request) error {
	c := b.p.Settings.Consular
	def := b.cat.DefaultLanguage()
	var lines []string
	add := func(key i18n.Key, name, value string) {
		if value != "" {
			lines = append(lines, r.T(key, name, value))
		}
	}
	phone, email := b.consularContacts(ctx, c)
	add(i18n.ConsularTitle, "title", c.Title.In(r.Lang, def))
	if s := b.openStatus(r.Lang, c, b.p.Now()); s != "" {
		lines = append(lines, s)
	}
	add(i18n.ConsularPhone, "phone", phone)
	add(i18n.ConsularEmail, "email", email)
	add(i18n.ConsularAddress, "address", c.Address.In(r.Lang, def))
	add(i18n.ConsularDays, "days", c.OpeningDays.In(r.Lang, def))
	add(i18n.ConsularLink, "url", c.Link)
	if d, err := time.Parse(time.DateOnly, c.LastChecked); err == nil {
		lines = append(lines, r.T(i18n.ConsularChecked, "date", i18n.Date(r.Lang, d)))
	}
	return r.ReplyKeyboard(ctx, strings.Join(lines, "\n"), b.consularKeyboard(r.Lang))
}

// latestQuery is what /latest was asked.
type latestQuery struct {
	n        int
	category string // id; "" for every category
}

// errBadCount and errUnknownCategory say why /latest's arguments failed.
var (
	errBadCount        = errors.New("bot: /latest count out of range")
	errUnknownCategory = errors.New("bot: /latest category unknown")
)

// parseLatest reads "[N] [category]" in either order; the category is an id
// or a name in any language, matched without regard to case.
func (b *Bot) parseLatest(args string) (latestQuery, string, error) {
	q := latestQuery{n: latestDefault}
	words := strings.Fields(args)
	number := func(w string) bool {
		n, err := strconv.Atoi(strings.TrimPrefix(w, "+"))
		if err != nil {
			return false
		}
		q.n = n
		return true
	}
	switch {
	case len(words) > 0 && number(words[0]):
		words = words[1:]
	case len(words) > 1 && number(words[len(words)-1]):
		words = words[:len(words)-1]
	}
	if q.n < 1 || q.n > latestMax {
		return q, "", errBadCount
	}
	name := strings.Join(words, " ")
	if name == "" {
		return q, "", nil
	}
	want := strings.ToLower(name)
	for _, c := range b.p.Categorizer.Categories() {
		if strings.ToLower(c.ID) == want {
			q.category = c.ID
			return q, "", nil
		}
		for _, n := range c.Names {
			if strings.ToLower(n) == want {
				q.category = c.ID
				return q, "", nil
			}
		}
	}
	return q, name, errUnknownCategory
}

// cmdLatest shows the newest publications: date, category, linked title.
func (b *Bot) cmdLatest(ctx context.Context, r *Request) error {
	q, unknown, err := b.parseLatest(r.Args)
	switch {
	case errors.Is(err, errBadCount):
		return r.Reply(ctx, r.T(i18n.LatestBadCount, "max", latestMax))
	case errors.Is(err, errUnknownCategory):
		cats := b.p.Categorizer.Categories()
		lines := make([]string, 0, len(cats))
		for _, c := range cats {
			lines = append(lines, r.T(i18n.LatestCategoryLine, "id", c.ID, "name", b.p.Categorizer.Name(c.ID, r.Lang)))
		}
		return r.Reply(ctx, r.T(i18n.LatestUnknownCategory, "query", truncate(render.Line(unknown), maxQueryRunes),
			"categories", i18n.HTML(strings.Join(lines, "\n")), "example", cats[0].ID))
	}
	msgs, kb, err := b.latestPage(ctx, r.Lang, q, 0)
	if err != nil {
		return err
	}
	for i, msg := range msgs {
		if i == len(msgs)-1 {
			return r.ReplyKeyboard(ctx, msg, kb)
		}
		if err := r.Reply(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

// latestMaxPages bounds /latest's pages: the store keeps the newest 200.
const latestMaxPages = 200

// latestPage renders page (from 0) of /latest: the messages it takes and
// the Prev/Next buttons that go under the last.
func (b *Bot) latestPage(ctx context.Context, lang string, q latestQuery, page int) ([]string, Keyboard, error) {
	pubs, err := b.p.Publications.Latest(ctx, q.category, (page+1)*q.n+latestSlack)
	if err != nil {
		return nil, nil, err
	}
	pubs = newest(pubs, len(pubs))
	more := len(pubs) > (page+1)*q.n
	pubs = pubs[min(page*q.n, len(pubs)):min((page+1)*q.n, len(pubs))]
	catName := b.p.Categorizer.Name(q.category, lang)
	if len(pubs) == 0 {
		if q.category != "" {
			return []string{b.cat.T(lang, i18n.LatestEmptyCategory, "category", catName)}, nil, nil
		}
		return []string{b.cat.T(lang, i18n.LatestEmpty)}, nil, nil
	}
	header := b.cat.T(lang, i18n.LatestHeader, "count", len(pubs))
	if q.category != "" {
		header = b.cat.T(lang, i18n.LatestHeaderCategory, "count", len(pubs), "category", catName)
	}
	if page > 0 {
		header += " · " + b.cat.T(lang, i18n.LatestPageHead, "from", page*q.n+1, "to", page*q.n+len(pubs))
	}
	items := make([]string, 0, len(pubs)+1)
	items = append(items, header)
	for _, p := range pubs {
		items = append(items, b.latestItem(lang, p))
	}
	data := func(p int) string {
		return prefixLatestPage + ":" + strconv.Itoa(p) + ":" + strconv.Itoa(q.n) + ":" + q.category
	}
	var kb Keyboard
	if len(data(latestMaxPages)) <= maxCallbackData {
		kb = b.pager(lang, page, page > 0, more && (page+2)*q.n <= latestMaxPages, data)
	}
	return pack(items, "\n\n", maxMessageLen), kb, nil
}

// cbLatestPage turns /latest's page in place.
func (b *Bot) cbLatestPage(ctx context.Context, r *Request) error {
	parts := strings.SplitN(r.Data, ":", 3)
	if len(parts) != 3 {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	n, okN := parsePage(parts[1], latestMax+1)
	page, okPage := parsePage(parts[0], latestMaxPages)
	if !okN || !okPage || n < 1 || page*n >= latestMaxPages || (parts[2] != "" && !b.p.Categorizer.Known(parts[2])) {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	msgs, kb, err := b.latestPage(ctx, r.Lang, latestQuery{n: n, category: parts[2]}, page)
	if err != nil {
		return err
	}
	if err := r.Edit(ctx, msgs[0], kb); err != nil && !staleMessage(err) {
		return err
	}
	return r.Answer(ctx, "")
}

// newest returns the n newest of pubs (which come newest first, as the
// store orders them), each dated no later than a day after it was seen.
func newest(pubs []poller.Publication, n int) []poller.Publication {
	for i := range pubs {
		pubs[i].Date = poller.ClampDate(pubs[i].Date, pubs[i].SeenAt)
	}
	// The store's order within a day (the page's) is kept.
	slices.SortStableFunc(pubs, func(a, b poller.Publication) int { return shownDay(b).Compare(shownDay(a)) })
	return pubs[:min(n, len(pubs))]
}

// shownDay is the day /latest gives a publication: its date, or when the
// source gives none, when it was seen.
func shownDay(p poller.Publication) time.Time {
	if p.Date.IsZero() {
		return p.SeenAt
	}
	return p.Date
}

func (b *Bot) latestItem(lang string, p poller.Publication) string {
	date := shownDay(p).Format("02.01.2006")
	title := truncate(render.Line(p.Title), maxTitleRunes)
	cat := b.p.Categorizer.Name(p.Category, lang)
	if safeURL(p.URL) {
		return b.cat.T(lang, i18n.LatestItem, "date", date, "category", cat, "url", p.URL, "title", title)
	}
	return b.cat.T(lang, i18n.LatestItemNoLink, "date", date, "category", cat, "title", title)
}

// safeURL admits only http(s) links into href, whatever a source gave.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return strings.TrimSpace(string(runes[:n-1])) + "…"
}

// pack joins parts with sep into as few messages as fit limit (counted in
// UTF-16 units of the HTML source); a part is never split.
func pack(parts []string, sep string, limit int) []string {
	var out []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case utf16Len(cur)+utf16Len(sep)+utf16Len(p) <= limit:
			cur += sep + p
		default:
			out = append(out, cur)
			cur = p
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// cmdCategories shows the category keyboard.
func (b *Bot) cmdCategories(ctx context.Context, r *Request) error {
	sub, ok := r.Subscriber()
	if !ok {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	return r.ReplyKeyboard(ctx, r.T(i18n.Categories), b.categoryKeyboard(r.Lang, sub))
}

// categoryKeyboard has a button per category, ✅ when the chat receives it,
// and a last row to switch all on or off, whose All is ✅ when every
// category is on and None when none is.
func (b *Bot) categoryKeyboard(lang string, sub subscriptions.Subscriber) Keyboard {
	cats := b.p.Categorizer.Categories()
	kb := make(Keyboard, 0, len(cats)+1)
	on := 0
	for _, c := range cats {
		wants := sub.Wants(c.ID)
		if wants {
			on++
		}
		kb = append(kb, []Button{{Text: mark(wants) + b.p.Categorizer.Name(c.ID, lang), Data: prefixCategory + ":" + c.ID}})
	}
	kb = append(kb, []Button{
		{Text: mark(on == len(cats)) + b.cat.Text(lang, i18n.CategoriesAll), Data: prefixCategory + ":" + dataAllCategories},
		{Text: mark(on == 0) + b.cat.Text(lang, i18n.CategoriesNone), Data: prefixCategory + ":" + dataNoneCategories},
	})
	return kb
}

// mark is a button's state: ✅ on, ▫️ off.
func mark(on bool) string {
	if on {
		return "✅ "
	}
	return "▫️ "
}

// cbCategory toggles a category (or sets all or none) and redraws the
// keyboard in place.
func (b *Bot) cbCategory(ctx context.Context, r *Request) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Answer(ctx, r.Text(i18n.ButtonNeedsStart))
	}
	var (
		sub    subscriptions.Subscriber
		err    error
		notice string
	)
	switch r.Data {
	case dataAllCategories:
		sub, err = b.p.Subscriptions.SetCategories(ctx, r.Chat.ID, b.p.Subscriptions.Categories())
		notice = r.Text(i18n.CategoriesAllOn)
	case dataNoneCategories:
		sub, err = b.p.Subscriptions.SetCategories(ctx, r.Chat.ID, nil)
		notice = r.Text(i18n.CategoriesAllOff)
	default:
		if !b.p.Categorizer.Known(r.Data) {
			return r.Answer(ctx, r.Text(i18n.ButtonStale))
		}
		sub, err = b.p.Subscriptions.Toggle(ctx, r.Chat.ID, r.Data)
		name := b.p.Categorizer.Name(r.Data, r.Lang)
		notice = r.Text(i18n.CategoryOff, "category", name)
		if sub.Wants(r.Data) {
			notice = r.Text(i18n.CategoryOn, "category", name)
		}
	}
	if errors.Is(err, subscriptions.ErrNotSubscribed) {
		return r.Answer(ctx, r.Text(i18n.ButtonNeedsStart))
	}
	if err != nil {
		return err
	}
	r.setSubscriber(sub, true)
	kb := b.categoryKeyboard(r.Lang, sub)
	edit := func() error { return r.EditKeyboard(ctx, kb) }
	if text, ok := b.relanguage(r, i18n.Categories, i18n.Welcome, i18n.WelcomeBack); ok {
		edit = func() error { return r.Edit(ctx, text, kb) }
	}
	if err := edit(); err != nil && !staleMessage(err) {
		return err
	}
	return r.Answer(ctx, notice)
}

// relanguage finds which of keys, in another language than the chat's,
// the pressed message shows, and returns that text in the chat's language:
// a keyboard sent before the chat switched language is redrawn with its
// message in the new one, never half in each.
func (b *Bot) relanguage(r *Request, keys ...i18n.Key) (string, bool) {
	shown := strings.TrimSpace(r.PressedText)
	if shown == "" {
		return "", false
	}
	for _, k := range keys {
		for _, l := range i18n.Languages() {
			if l != r.Lang && strings.TrimSpace(render.PlainText(b.cat.T(l, k))) == shown {
				return b.cat.T(r.Lang, k), true
			}
		}
	}
	return "", false
}

// staleMessage reports an edit refused because the message is too old or
// gone: the change is saved, only the redraw is lost.
func staleMessage(err error) bool { return tg.Classify(err) == tg.KindPermanent }

// cmdLanguage offers the languages.
func (b *Bot) cmdLanguage(ctx context.Context, r *Request) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	return r.ReplyKeyboard(ctx, r.T(i18n.LanguagePrompt), b.languageKeyboard(r.Lang))
}

func (b *Bot) languageKeyboard(current string) Keyboard {
	row := make([]Button, 0, len(i18n.Languages()))
	for _, l := range i18n.Languages() {
		name := b.cat.Text(l, i18n.LanguageName)
		if l == current {
			name = "✅ " + name
		}
		row = append(row, Button{Text: name, Data: prefixLanguage + ":" + l})
	}
	return Keyboard{row}
}

// cbLanguage switches the chat's language and redraws the message in it.
func (b *Bot) cbLanguage(ctx context.Context, r *Request) error {
	if _, ok := r.Subscriber(); !ok {
		return r.Answer(ctx, r.Text(i18n.ButtonNeedsStart))
	}
	if !slices.Contains(i18n.Languages(), r.Data) {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	sub, err := b.p.Subscriptions.SetLanguage(ctx, r.Chat.ID, r.Data)
	if errors.Is(err, subscriptions.ErrNotSubscribed) {
		return r.Answer(ctx, r.Text(i18n.ButtonNeedsStart))
	}
	if err != nil {
		return err
	}
	r.setSubscriber(sub, true)
	if err := r.Edit(ctx, r.T(i18n.LanguageSet), b.languageKeyboard(r.Lang)); err != nil && !staleMessage(err) {
		return err
	}
	return r.Answer(ctx, r.Text(i18n.LanguageChosen))
}
