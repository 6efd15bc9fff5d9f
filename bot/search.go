package bot

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/terms"
)

// Limits of /search. The store bounds the rest (terms read, results ranked).
const (
	searchPageSize = 5
	// searchMaxTerms is the most words of a query looked for.
	searchMaxTerms = 8
	// searchMaxPages bounds the page a button may ask for: the store ranks
	// at most 50 results.
	searchMaxPages = 10
	// similarTerms is how many of an alert title's terms "Similar" looks for.
	similarTerms = 4
	// maxCallbackData is Telegram's limit on a button's data, in bytes.
	maxCallbackData = 64
)

// Callback prefixes of /search's pages, the alerts' "Similar" button and
// /latest's pages.
const (
	prefixSearch     = "srch" // srch:<page>:<term> <term>...
	prefixSimilar    = "sim"  // sim:<term> <term>...
	prefixLatestPage = "lat"  // lat:<page>:<n>:<category>
)

// registerSearchCommands registers the buttons of /search (itself
// registered with the citizen commands, for the menu's order), of /latest's
// pages and of the alerts.
func (b *Bot) registerSearchCommands() {
	b.HandleCallback(prefixSearch, b.cbSearch)
	b.HandleCallback(prefixSimilar, b.cbSimilar)
	b.HandleCallback(prefixLatestPage, b.cbLatestPage)
}

// cmdSearch finds publications by the words of its arguments, best matches
// first, a page at a time.
func (b *Bot) cmdSearch(ctx context.Context, r *Request) error {
	if strings.TrimSpace(r.Args) == "" {
		return r.Reply(ctx, r.T(i18n.SearchUsage))
	}
	query, cut := terms.Query(r.Args, searchMaxTerms)
	shown := truncate(render.Line(r.Args), maxQueryRunes)
	if len(query) == 0 {
		return r.Reply(ctx, r.T(i18n.SearchNoTerms, "query", shown))
	}
	text, kb, err := b.searchPage(ctx, r.Lang, query, shown, 0)
	if err != nil {
		return err
	}
	if cut {
		text += "\n\n" + r.T(i18n.SearchTooMany, "max", searchMaxTerms)
	}
	return r.ReplyKeyboard(ctx, text, kb)
}

// searchPage renders one page of a search's results with Prev/Next buttons.
// shown is the query as the header gives it.
func (b *Bot) searchPage(ctx context.Context, lang string, query []string, shown string, page int) (string, Keyboard, error) {
	pubs, total, err := b.p.Publications.Search(ctx, query, page*searchPageSize, searchPageSize)
	if err != nil {
		return "", nil, err
	}
	if len(pubs) == 0 {
		return b.cat.T(lang, i18n.SearchNone, "query", shown), nil, nil
	}
	from := page*searchPageSize + 1
	items := []string{b.cat.T(lang, i18n.SearchHeader, "query", shown, "from", from, "to", from+len(pubs)-1, "total", total)}
	for _, p := range pubs {
		items = append(items, b.latestItem(lang, p))
	}
	prefix := prefixSearch + ":%d:"
	data := func(p int) string {
		return fitTerms(strings.Replace(prefix, "%d", strconv.Itoa(p), 1), query)
	}
	kb := b.pager(lang, page, page > 0, from+len(pubs)-1 < total && page+1 < searchMaxPages, data)
	return pack(items, "\n\n", maxMessageLen)[0], kb, nil
}

// pager is a row of Prev/Next buttons, or none when neither applies.
func (b *Bot) pager(lang string, page int, prev, next bool, data func(page int) string) Keyboard {
	var row []Button
	if prev {
		row = append(row, Button{Text: b.cat.Text(lang, i18n.ButtonPrev), Data: data(page - 1)})
	}
	if next {
		row = append(row, Button{Text: b.cat.Text(lang, i18n.ButtonNext), Data: data(page + 1)})
	}
	if row == nil {
		return nil
	}
	return Keyboard{row}
}

// fitTerms appends as many of terms to prefix, space-separated, as fit a
// button's data; at least one term always fits (terms are at most
// terms.MaxWordBytes).
func fitTerms(prefix string, ts []string) string {
	out := prefix
	for i, t := range ts {
		sep := ""
		if i > 0 {
			sep = " "
		}
		if len(out)+len(sep)+len(t) > maxCallbackData {
			break
		}
		out += sep + t
	}
	return out
}

// parseTerms reads the terms of a button's data; forged data yields none.
func parseTerms(s string) []string {
	var out []string
	for _, t := range strings.Split(s, " ") {
		if terms.IsTerm(t) && len(out) < searchMaxTerms {
			out = append(out, t)
		}
	}
	return out
}

// parsePage reads a button's page number, 0 to max-1.
func parsePage(s string, max int) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n < max && strconv.Itoa(n) == s
}

// cbSearch turns a search's page: it edits the results in place.
func (b *Bot) cbSearch(ctx context.Context, r *Request) error {
	pageStr, rest, _ := strings.Cut(r.Data, ":")
	page, ok := parsePage(pageStr, searchMaxPages)
	query := parseTerms(rest)
	if !ok || len(query) == 0 {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	text, kb, err := b.searchPage(ctx, r.Lang, query, strings.Join(query, " "), page)
	if err != nil {
		return err
	}
	if err := r.Edit(ctx, text, kb); err != nil && !staleMessage(err) {
		return err
	}
	return r.Answer(ctx, "")
}

// cbSimilar answers an alert's "Similar" button with a new message: the
// search for the publication's key words.
func (b *Bot) cbSimilar(ctx context.Context, r *Request) error {
	query := parseTerms(r.Data)
	if len(query) == 0 {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	text, kb, err := b.searchPage(ctx, r.Lang, query, strings.Join(query, " "), 0)
	if err != nil {
		return err
	}
	if err := r.ReplyKeyboard(ctx, text, kb); err != nil {
		return err
	}
	return r.Answer(ctx, "")
}

// SimilarButton is the alert keyboard's "Similar" button for p: a search
// for the first terms of its title (of its summary when the title has
// none). ok is false when p has no term to look for.
func (b *Bot) SimilarButton(p poller.Publication, lang string) (Button, bool) {
	ts := terms.Of(p.Title, similarTerms)
	if len(ts) == 0 {
		ts = terms.Of(p.Summary, similarTerms)
	}
	if len(ts) == 0 {
		return Button{}, false
	}
	return Button{Text: b.cat.Text(lang, i18n.ButtonSimilar), Data: fitTerms(prefixSimilar+":", ts)}, true
}

// AlertMarkup is the reply_markup JSON of a publication's alert in lang, ""
// for none: the delivery engine's hook (delivery.Params.AlertMarkup).
// Each button comes from its own function, so that more can be added.
func (b *Bot) AlertMarkup(p poller.Publication, lang string) string {
	var row []Button
	if b.p.Categorizer.Known(p.Category) {
		row = append(row, b.muteButton(lang, p.Category))
	}
	if btn, ok := b.SimilarButton(p, lang); ok {
		row = append(row, btn)
	}
	if len(row) == 0 {
		return ""
	}
	markup, err := Keyboard{row}.markup()
	if err != nil {
		b.log.Error("alert keyboard", slog.String("publication", p.ID), slog.Any("error", err))
		return ""
	}
	return markup
}
