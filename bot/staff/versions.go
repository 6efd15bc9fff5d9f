package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/bot/tg"
)

// version is what one language's subscribers get: a text written after
// /broadcast (HTML), or a copy of an admin's message (a text, a photo, a
// document, an album...).
type version struct {
	HTML string         `json:"html,omitempty"`
	Copy *delivery.Copy `json:"copy,omitempty"`
	// Text is a copied message's text or caption, plain, for /broadcasts.
	Text string `json:"text,omitempty"`
}

// maxAlbumParts is Telegram's largest album.
const maxAlbumParts = 10

// versionsOf returns a draft's or a record's versions; those of the
// previous release have only HTML, the version for every language.
func versionsOf(vs map[string]version, html string) map[string]version {
	if len(vs) > 0 {
		return vs
	}
	if html != "" {
		return map[string]version{"": {HTML: html}}
	}
	return nil
}

// content splits versions into the announcement's texts and copies.
func content(vs map[string]version) (map[string]string, map[string]delivery.Copy) {
	var texts map[string]string
	var copies map[string]delivery.Copy
	for lang, v := range vs {
		if v.Copy != nil {
			if copies == nil {
				copies = map[string]delivery.Copy{}
			}
			copies[lang] = *v.Copy
			continue
		}
		if texts == nil {
			texts = map[string]string{}
		}
		texts[lang] = v.HTML
	}
	return texts, copies
}

// snippet is a version's text for /broadcasts, plain.
func (v version) snippet() string {
	if v.Copy == nil {
		return render.PlainText(v.HTML)
	}
	if strings.TrimSpace(v.Text) == "" {
		return "📎"
	}
	return v.Text
}

// firstVersion is the version for all languages, else the first by language.
func firstVersion(vs map[string]version) version {
	if v, ok := vs[""]; ok {
		return v
	}
	for _, k := range slices.Sorted(maps.Keys(vs)) {
		return vs[k]
	}
	return version{}
}

// errNotCopyable: Telegram refused to copy an admin's message.
var errNotCopyable = errors.New("staff: message cannot be copied")

// sendVersion sends v to a chat as subscribers get it: the copy, or the
// text. It returns the ids of the messages sent.
func (s *Staff) sendVersion(ctx context.Context, chatID int64, v version) ([]int, error) {
	if v.Copy == nil {
		id, err := s.b.SendHTML(ctx, chatID, v.HTML, nil)
		if err != nil {
			return nil, err
		}
		return []int{id}, nil
	}
	c := v.Copy
	params := tgbotapi.Params{"from_chat_id": strconv.FormatInt(c.FromChatID, 10)}
	method := "copyMessage"
	if len(c.MessageIDs) == 1 {
		params["message_id"] = strconv.Itoa(c.MessageIDs[0])
	} else {
		method = "copyMessages"
		ids, _ := json.Marshal(c.MessageIDs)
		params["message_ids"] = string(ids)
	}
	raw, err := s.b.CallChat(ctx, method, chatID, params)
	if err != nil {
		if tg.Classify(err) == tg.KindPermanent {
			return nil, fmt.Errorf("%w: %w", errNotCopyable, err)
		}
		return nil, err
	}
	type msgID struct {
		MessageID int `json:"message_id"`
	}
	if method == "copyMessage" {
		var m msgID
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("staff: decode %s: %w", method, err)
		}
		return []int{m.MessageID}, nil
	}
	var ms []msgID
	if err := json.Unmarshal(raw, &ms); err != nil {
		return nil, fmt.Errorf("staff: decode %s: %w", method, err)
	}
	out := make([]int, len(ms))
	for i, m := range ms {
		out[i] = m.MessageID
	}
	return out, nil
}

// copyVersion is the version made of an admin's message.
func copyVersion(m *bot.Message) version {
	return version{Copy: &delivery.Copy{FromChatID: m.ChatID, MessageIDs: []int{m.ID}, Media: m.Captioned()}, Text: m.Text}
}

// Awaiting records besides awaitBroadcast: "version:<draft>:<lang>" takes
// the next message as a draft's version in lang; "album:<draft>:<lang>:<group>"
// adds the next parts of an album to it.
const (
	awaitVersion = "version"
	awaitAlbum   = "album"
)

// newCopyDraft makes a draft of an admin's message: its preview is its copy.
func (s *Staff) newCopyDraft(ctx context.Context, r *bot.Request, m *bot.Message) error {
	if m.ID == 0 || m.ChatID == 0 {
		return r.Reply(ctx, r.T(i18n.BroadcastEmpty))
	}
	d := draft{ID: newID(), AdminID: r.UserID, CreatedAt: s.p.Now(), Versions: map[string]version{"": copyVersion(m)}}
	if ok, err := s.previewVersion(ctx, r, d, "", m.MediaGroupID != ""); err != nil || !ok {
		return err
	}
	s.log.Info("broadcast drafted", slog.Int64("user_id", r.UserID), slog.String("draft", d.ID), slog.String("media", m.Media))
	return s.showControl(ctx, r, d, "", m.MediaGroupID)
}

// previewVersion shows a draft's version as subscribers will get it,
// except an album's, whose parts have not all arrived. It reports false,
// having told the admin, when Telegram cannot copy the message.
func (s *Staff) previewVersion(ctx context.Context, r *bot.Request, d draft, lang string, album bool) (bool, error) {
	if album {
		return true, nil
	}
	if _, err := s.sendVersion(ctx, r.Chat.ID, d.Versions[lang]); err != nil {
		if errors.Is(err, errNotCopyable) {
			s.log.Info("an admin's message cannot be copied", slog.Int64("user_id", r.UserID), slog.Any("error", err))
			return false, r.Reply(ctx, r.T(i18n.BroadcastNotCopyable))
		}
		if tg.Classify(err) == tg.KindBadMarkup {
			s.log.Error("BUG: Telegram refused a broadcast's HTML", slog.Int64("user_id", r.UserID), slog.Any("error", err))
			return false, r.Reply(ctx, r.T(i18n.BroadcastInvalid))
		}
		return false, err
	}
	return true, nil
}

// showControl saves a draft and posts its control message, remembering it
// so that an album's later parts can update it; with an album, the next
// parts are awaited.
func (s *Staff) showControl(ctx context.Context, r *bot.Request, d draft, lang, group string) error {
	text, kb, err := s.controlMessage(ctx, r.Lang, d)
	if err != nil {
		return err
	}
	id, err := s.b.SendHTML(ctx, r.Chat.ID, text, kb)
	if err != nil {
		return err
	}
	d.ControlID = id
	if err := s.saveDraft(ctx, d); err != nil {
		return err
	}
	if group != "" {
		return s.p.Store.SetAwaiting(ctx, r.UserID, []byte(strings.Join([]string{awaitAlbum, d.ID, lang, group}, ":")), s.p.AwaitTTL)
	}
	return nil
}

// onAwaited takes a message an awaiting record names: a version of a
// draft, or an album's next part. It reports false for a message that is
// not what was awaited.
func (s *Staff) onAwaited(ctx context.Context, r *bot.Request, body string) (bool, error) {
	parts := strings.Split(body, ":")
	m := r.Message
	switch {
	case parts[0] == awaitVersion && len(parts) == 3:
		d, ok, err := s.loadDraft(ctx, parts[1])
		if err != nil || !ok || d.AdminID != r.UserID {
			return ok, err
		}
		lang := parts[2]
		v, ok := s.versionOf(ctx, r, m)
		if !ok {
			return true, nil
		}
		d.Versions = versionsOf(d.Versions, d.HTML)
		d.HTML = ""
		d.Versions[lang] = v
		if ok, err := s.previewVersion(ctx, r, d, lang, m.MediaGroupID != ""); err != nil || !ok {
			return true, err
		}
		s.log.Info("broadcast version added", slog.Int64("user_id", r.UserID), slog.String("draft", d.ID), slog.String("language", lang))
		return true, s.showControl(ctx, r, d, lang, m.MediaGroupID)
	case parts[0] == awaitWhen && len(parts) == 2:
		return s.onTypedTime(ctx, r, parts[1])
	case parts[0] == awaitCorrect && len(parts) == 3:
		return true, s.startCorrect(ctx, r, parts[1], parts[2])
	case parts[0] == awaitAlbum && len(parts) == 4:
		if m.MediaGroupID != parts[3] || m.Media == "" {
			return false, nil // the album has ended: this message is another
		}
		d, ok, err := s.loadDraft(ctx, parts[1])
		if err != nil || !ok || d.AdminID != r.UserID {
			return ok, err
		}
		v := d.Versions[parts[2]]
		if v.Copy == nil || len(v.Copy.MessageIDs) >= maxAlbumParts || m.ID <= v.Copy.MessageIDs[len(v.Copy.MessageIDs)-1] {
			return true, nil
		}
		v.Copy.MessageIDs = append(v.Copy.MessageIDs, m.ID)
		v.Copy.Media = v.Copy.Media || m.Captioned()
		if v.Text == "" {
			v.Text = m.Text
		}
		d.Versions[parts[2]] = v
		if err := s.saveDraft(ctx, d); err != nil {
			return true, err
		}
		if err := s.p.Store.SetAwaiting(ctx, r.UserID, []byte(body), s.p.AwaitTTL); err != nil {
			return true, err
		}
		text, kb, err := s.controlMessage(ctx, r.Lang, d)
		if err != nil {
			return true, err
		}
		if err := s.b.EditHTML(ctx, r.Chat.ID, d.ControlID, text, kb); err != nil && !stale(err) {
			return true, err
		}
		return true, nil
	}
	return false, nil
}

// versionOf makes a version of an admin's message, or says why it cannot.
func (s *Staff) versionOf(ctx context.Context, r *bot.Request, m *bot.Message) (version, bool) {
	if m.Media == "" && strings.TrimSpace(m.Text) == "" {
		_ = r.Reply(ctx, r.T(i18n.BroadcastEmpty))
		return version{}, false
	}
	return copyVersion(m), true
}

// versionLines says, under a draft with several versions, how many
// subscribers of the audience get which; nothing for one version. An
// album adds how many parts it has.
func (s *Staff) versionLines(ctx context.Context, lang string, d draft, total int) (string, error) {
	vs := versionsOf(d.Versions, d.HTML)
	var lines []string
	for _, v := range vs {
		if v.Copy != nil && len(v.Copy.MessageIDs) > 1 {
			lines = append(lines, s.cat.T(lang, i18n.BroadcastAlbum, "parts", formatInt(lang, int64(len(v.Copy.MessageIDs)))))
			break
		}
	}
	if len(vs) < 2 {
		return strings.Join(lines, "\n"), nil
	}
	var items []string
	rest := int64(total)
	for _, l := range slices.Sorted(maps.Keys(vs)) {
		if l == "" {
			continue
		}
		n, err := s.languageSize(ctx, d.Audience, l)
		if err != nil {
			return "", err
		}
		rest -= int64(n)
		items = append(items, s.cat.Text(lang, i18n.VersionCount, "language", s.cat.Text(l, i18n.LanguageName), "count", formatInt(lang, int64(n))))
	}
	if _, ok := vs[""]; ok {
		var others []string
		for _, l := range i18n.Languages() {
			if _, own := vs[l]; !own {
				others = append(others, s.cat.Text(l, i18n.LanguageName))
			}
		}
		items = append([]string{s.cat.Text(lang, i18n.VersionCount, "language", strings.Join(others, ", "), "count", formatInt(lang, max(rest, 0)))}, items...)
	}
	lines = append(lines, s.cat.T(lang, i18n.BroadcastVersions, "versions", strings.Join(items, "; ")))
	return strings.Join(lines, "\n"), nil
}

// languageSize counts the subscribers of an audience speaking lang.
func (s *Staff) languageSize(ctx context.Context, a Audience, lang string) (int, error) {
	switch {
	case a.Language != "" && a.Language != lang:
		return 0, nil
	case a.Language != "":
		return s.audienceSize(ctx, a)
	case len(a.cats()) == 0:
		c, err := s.p.Subscribers.Counts(ctx, s.p.Now())
		if err != nil {
			return 0, err
		}
		return c.ByLanguage[lang], nil
	}
	f := a.filter()
	f.Language = lang
	return s.p.Subscribers.Count(ctx, f)
}

// versionButtons offer a version in each language that has none, while
// the draft does not have one per language.
func (s *Staff) versionButtons(lang string, d draft) []bot.Button {
	vs := versionsOf(d.Versions, d.HTML)
	if len(vs) >= len(i18n.Languages()) {
		return nil
	}
	var row []bot.Button
	for _, l := range i18n.Languages() {
		if _, ok := vs[l]; !ok {
			row = append(row, bot.Button{Text: s.cat.Text(lang, i18n.ButtonAddVersion, "language", s.cat.Text(l, i18n.LanguageName)), Data: data(actAddVersion, d.ID, l)})
		}
	}
	return row
}

// askVersion waits for a draft's version in lang.
func (s *Staff) askVersion(ctx context.Context, r *bot.Request, d draft, lang string) error {
	if !slices.Contains(i18n.Languages(), lang) {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	body := strings.Join([]string{awaitVersion, d.ID, lang}, ":")
	if err := s.p.Store.SetAwaiting(ctx, r.UserID, []byte(body), s.p.AwaitTTL); err != nil {
		return err
	}
	if err := r.ReplyKeyboard(ctx, r.T(i18n.BroadcastAskVersion, "language", s.cat.Text(lang, i18n.LanguageName)),
		bot.Keyboard{{{Text: r.Text(i18n.ButtonCancel), Data: data(actCloseAsk, "-")}}}); err != nil {
		return err
	}
	return r.Answer(ctx, "")
}

// sendTest sends the admin every version of a draft as subscribers get it.
func (s *Staff) sendTest(ctx context.Context, r *bot.Request, d draft) error {
	vs := versionsOf(d.Versions, d.HTML)
	for _, l := range slices.Sorted(maps.Keys(vs)) {
		if _, err := s.sendVersion(ctx, r.Chat.ID, vs[l]); err != nil {
			if errors.Is(err, errNotCopyable) {
				return r.Answer(ctx, r.Text(i18n.AnswerDraftGone))
			}
			return err
		}
	}
	s.log.Info("broadcast test sent", slog.Int64("user_id", r.UserID), slog.String("draft", d.ID))
	return r.Answer(ctx, r.Text(i18n.AnswerTestSent))
}
