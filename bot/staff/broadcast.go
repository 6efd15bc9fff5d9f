package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulletinbot/bulletinbot/bot"
	"github.com/bulletinbot/bulletinbot/bot/delivery"
	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/bot/tg"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// callbackPrefix is the staff buttons' callback prefix. Data is
// "st:<action>:<draft id>[:<argument>]", at most 40 bytes.
const callbackPrefix = "st"

// Button actions.
const (
	actSend         = "s"  // draft: send
	actAudience     = "a"  // draft: show the audience choice
	actCategory     = "t"  // draft: audience is the categories in bitmask arg (base 36, bit i: category i)
	actLanguage     = "l"  // draft: audience is language arg
	actEveryone     = "e"  // draft: audience is everyone
	actBack         = "b"  // draft: back to the main buttons
	actCancel       = "c"  // draft: drop it
	actCloseAsk     = "q"  // the question for the text: never mind
	actStop         = "x"  // broadcast: stop the rest
	actRecall       = "r"  // broadcast: ask to recall
	actRecallYes    = "ry" // broadcast: recall
	actRecallNo     = "rn" // broadcast: keep
	actAddVersion   = "v"  // draft: add the version in language arg
	actTest         = "m"  // draft: send a test to me
	actNobody       = "n"  // draft: the audience is empty; say so
	actCorrect      = "k"  // broadcast: correct the version arg
	actWhen         = "w"  // draft: the schedule picker, or with arg (unix seconds, base 36) send then
	actTypeTime     = "y"  // draft: ask for a typed time
	actUnschedule   = "u"  // scheduled broadcast: cancel it
	announcementPfx = "bc-"
)

// Audience is who receives a broadcast: everyone, the subscribers of any
// of the chosen categories, or one language's.
type Audience struct {
	// Category is what records made before several categories could be
	// chosen hold; new ones use Categories.
	Category   string   `json:"category,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Language   string   `json:"language,omitempty"`
}

func (a Audience) filter() subscriptions.Filter {
	return subscriptions.Filter{Category: a.Category, Categories: a.Categories, Language: a.Language}
}

// cats returns the chosen categories, sorted and unique.
func (a Audience) cats() []string { return a.filter().AnyOf() }

func (a Audience) everyone() bool { return len(a.cats()) == 0 && a.Language == "" }

// maxCategoryButtons is how many categories the audience picker offers:
// the bits of the callback's mask.
const maxCategoryButtons = 64

// State is where a broadcast stands in the audit log.
type State string

// The states of a broadcast.
const (
	StateSending   State = "sending"
	StateDone      State = "done"
	StateStopped   State = "stopped"
	StateRecalling State = "recalling"
	StateRecalled  State = "recalled"
)

// Action records who did something to a broadcast, and when.
type Action struct {
	By   int64     `json:"by"`
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// Broadcast is one entry of the audit log: who sent what to whom, how it
// went, and who stopped or recalled it.
type Broadcast struct {
	ID        string `json:"id"` // the announcement's id
	AdminID   int64  `json:"admin_id"`
	AdminName string `json:"admin_name"`
	ChatID    int64  `json:"chat_id"`   // where the status message is
	StatusID  int    `json:"status_id"` // the status message
	Lang      string `json:"lang"`      // the admin's language
	HTML      string `json:"html"`      // records of the previous release: the text for all
	// Versions are what each language gets (versions.go).
	Versions     map[string]version `json:"versions,omitempty"`
	Audience     Audience           `json:"audience"`
	AudienceSize int                `json:"audience_size"`
	CreatedAt    time.Time          `json:"created_at"`
	// ScheduledAt is when a scheduled broadcast was to go; zero for one
	// sent at once.
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	State       State     `json:"state"`
	// Final counts, once sending has finished.
	Delivered  int64     `json:"delivered"`
	Removed    int64     `json:"removed"`
	Failed     int64     `json:"failed"`
	Cancelled  int64     `json:"cancelled"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Stop       *Action   `json:"stop,omitempty"`
	Recall     *Action   `json:"recall,omitempty"`
	// Recall's progress.
	RecallCursor string    `json:"recall_cursor,omitempty"`
	Deleted      int64     `json:"deleted"`
	TooOld       int64     `json:"too_old"`
	RecallFailed int64     `json:"recall_failed"`
	RecalledAt   time.Time `json:"recalled_at,omitzero"`
	// The confirmation message that said "Recalling…", edited to the
	// recall's report at its end (absent in records of older releases).
	RecallChat int64 `json:"recall_chat,omitempty"`
	RecallMsg  int   `json:"recall_msg,omitempty"`
	// Correction is the latest correction of the copies (correct.go).
	Correction *Correction `json:"correction,omitempty"`
	// The status message as last shown, so that no replica repeats it.
	Status   string    `json:"status,omitempty"`
	StatusAt time.Time `json:"status_at,omitzero"`
}

// draft is a broadcast being prepared.
type draft struct {
	ID      string `json:"id"`
	AdminID int64  `json:"admin_id"`
	// HTML is a draft of the previous release: its text for all; new
	// drafts hold Versions.
	HTML      string             `json:"html,omitempty"`
	Versions  map[string]version `json:"versions,omitempty"`
	Audience  Audience           `json:"audience"`
	CreatedAt time.Time          `json:"created_at"`
	// ControlID is the control message, which an album's parts update.
	ControlID int `json:"control_id,omitempty"`
}

// awaitBroadcast marks an admin's next message as a broadcast's text.
const awaitBroadcast = "broadcast"

// cmdBroadcast starts a broadcast from the text after the command, from
// the message it replies to, or else asks for the text.
func (s *Staff) cmdBroadcast(ctx context.Context, r *bot.Request) error {
	if r.Chat.Type != subscriptions.ChatPrivate {
		return r.Reply(ctx, r.T(i18n.StaffPrivateOnly))
	}
	m := r.Message
	if m == nil {
		m = &bot.Message{}
	}
	switch {
	case r.Args != "":
		text, entities := fragment(m.Text, m.Entities, argsStart(m.Text))
		return s.newDraft(ctx, r, text, entities)
	case m.ReplyTo != nil && m.ReplyTo.ID != 0:
		return s.newCopyDraft(ctx, r, m.ReplyTo)
	}
	if err := s.p.Store.SetAwaiting(ctx, r.UserID, []byte(awaitBroadcast), s.p.AwaitTTL); err != nil {
		return err
	}
	return r.ReplyKeyboard(ctx, r.T(i18n.BroadcastAsk),
		bot.Keyboard{{{Text: r.Text(i18n.ButtonCancel), Data: data(actCloseAsk, "-")}}})
}

// onText takes an admin's message when /broadcast asked for it.
func (s *Staff) onText(ctx context.Context, r *bot.Request) (bool, error) {
	body, ok, err := s.p.Store.TakeAwaiting(ctx, r.UserID)
	if err != nil || !ok || r.Message == nil {
		return false, err
	}
	if string(body) != awaitBroadcast {
		return s.onAwaited(ctx, r, string(body))
	}
	if _, ok := s.versionOf(ctx, r, r.Message); !ok {
		return true, nil
	}
	return true, s.newCopyDraft(ctx, r, r.Message)
}

// newDraft renders the text, shows the preview and the control message.
func (s *Staff) newDraft(ctx context.Context, r *bot.Request, text string, entities []bot.Entity) error {
	html := EntitiesHTML(text, entities)
	if err := render.Validate(html); err != nil {
		switch {
		case errors.Is(err, render.ErrEmpty):
			return r.Reply(ctx, r.T(i18n.BroadcastEmpty))
		case errors.Is(err, render.ErrTooLong):
			return r.Reply(ctx, r.T(i18n.BroadcastTooLong,
				"length", int64(render.Length(html)), "max", int64(render.MaxLength)))
		default:
			s.log.Error("BUG: a broadcast's formatting rendered to invalid HTML", slog.Int64("user_id", r.UserID), slog.Any("error", err))
			return r.Reply(ctx, r.T(i18n.BroadcastInvalid))
		}
	}
	d := draft{ID: newID(), AdminID: r.UserID, Versions: map[string]version{"": {HTML: html}}, CreatedAt: s.p.Now()}
	// The preview is the very text subscribers get, sent the same way.
	if ok, err := s.previewVersion(ctx, r, d, "", false); err != nil || !ok {
		return err
	}
	s.log.Info("broadcast drafted", slog.Int64("user_id", r.UserID), slog.String("draft", d.ID))
	return s.showControl(ctx, r, d, "", "")
}

func (s *Staff) saveDraft(ctx context.Context, d draft) error {
	body, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("staff: encode draft: %w", err)
	}
	return s.p.Store.SaveDraft(ctx, d.ID, body, s.p.DraftTTL)
}

func (s *Staff) loadDraft(ctx context.Context, id string) (draft, bool, error) {
	body, ok, err := s.p.Store.Draft(ctx, id)
	if err != nil || !ok {
		return draft{}, false, err
	}
	var d draft
	if err := json.Unmarshal(body, &d); err != nil {
		return draft{}, false, fmt.Errorf("staff: decode draft %s: %w", id, err)
	}
	return d, true, nil
}

// controlMessage is the text and buttons under a draft's preview.
func (s *Staff) controlMessage(ctx context.Context, lang string, d draft) (string, bot.Keyboard, error) {
	n, err := s.audienceSize(ctx, d.Audience)
	if err != nil {
		return "", nil, err
	}
	text := s.cat.T(lang, i18n.BroadcastControl, "audience", s.audienceName(lang, d.Audience), "count", int64(n))
	lines, err := s.versionLines(ctx, lang, d, n)
	if err != nil {
		return "", nil, err
	}
	if lines != "" {
		text += "\n\n" + lines
	}
	send := []bot.Button{{Text: s.cat.Text(lang, i18n.ButtonSend), Data: data(actSend, d.ID)},
		{Text: s.cat.Text(lang, i18n.ButtonSendAt), Data: data(actWhen, d.ID)}}
	if n == 0 {
		send = []bot.Button{{Text: s.cat.Text(lang, i18n.ButtonNobody), Data: data(actNobody, d.ID)}}
	}
	kb := bot.Keyboard{send, {{Text: s.cat.Text(lang, i18n.ButtonTest), Data: data(actTest, d.ID)}}}
	if row := s.versionButtons(lang, d); len(row) > 0 {
		kb = append(kb, row)
	}
	kb = append(kb, []bot.Button{{Text: s.cat.Text(lang, i18n.ButtonAudience), Data: data(actAudience, d.ID)}, {Text: s.cat.Text(lang, i18n.ButtonCancel), Data: data(actCancel, d.ID)}})
	return text, kb, nil
}

// audienceMessage offers everyone, each category and each language.
func (s *Staff) audienceMessage(ctx context.Context, lang string, d draft) (string, bot.Keyboard, error) {
	n, err := s.audienceSize(ctx, d.Audience)
	if err != nil {
		return "", nil, err
	}
	text := s.cat.T(lang, i18n.BroadcastAudience, "audience", s.audienceName(lang, d.Audience), "count", int64(n))
	mark := func(on bool, label string) string {
		if on {
			return "✅ " + label
		}
		return label
	}
	kb := bot.Keyboard{{{Text: mark(d.Audience.everyone(), s.cat.Text(lang, i18n.ButtonEveryone)), Data: data(actEveryone, d.ID)}}}
	// Each category button carries the whole choice it leads to, that
	// category toggled: pressing it twice, or on two replicas, is harmless.
	cats := s.p.Categories.Categories()
	cats = cats[:min(len(cats), maxCategoryButtons)]
	var chosen uint64
	for i, c := range cats {
		if slices.Contains(d.Audience.cats(), c.ID) {
			chosen |= 1 << i
		}
	}
	var row []bot.Button
	for i, c := range cats {
		mask := strconv.FormatUint(chosen^(1<<i), 36)
		row = append(row, bot.Button{Text: mark(chosen&(1<<i) != 0, s.p.Categories.Name(c.ID, lang)), Data: data(actCategory, d.ID, mask)})
		if len(row) == 2 {
			kb, row = append(kb, row), nil
		}
	}
	if len(row) > 0 {
		kb = append(kb, row)
	}
	row = nil
	for _, l := range i18n.Languages() {
		row = append(row, bot.Button{Text: mark(d.Audience.Language == l, s.cat.Text(l, i18n.LanguageName)), Data: data(actLanguage, d.ID, l)})
	}
	kb = append(kb, row, []bot.Button{{Text: s.cat.Text(lang, i18n.ButtonBack), Data: data(actBack, d.ID)}})
	return text, kb, nil
}

// audienceSize counts an audience: from the subscriber counts, except a
// union of categories, which needs its own count.
func (s *Staff) audienceSize(ctx context.Context, a Audience) (int, error) {
	cats := a.cats()
	if len(cats) > 1 {
		return s.p.Subscribers.Count(ctx, a.filter())
	}
	c, err := s.p.Subscribers.Counts(ctx, s.p.Now())
	if err != nil {
		return 0, err
	}
	switch {
	case len(cats) == 1:
		return c.ByCategory[cats[0]], nil
	case a.Language != "":
		return c.ByLanguage[a.Language], nil
	}
	return c.Total, nil
}

// audienceName says who an audience is, in lang (plain text).
func (s *Staff) audienceName(lang string, a Audience) string {
	cats := a.cats()
	switch {
	case len(cats) == 1:
		return s.cat.Text(lang, i18n.AudienceCategory, "category", s.p.Categories.Name(cats[0], lang))
	case len(cats) > 1:
		names := make([]string, len(cats))
		for i, c := range cats {
			names[i] = s.cat.Text(lang, i18n.AudienceQuoted, "category", s.p.Categories.Name(c, lang))
		}
		return s.cat.Text(lang, i18n.AudienceCategories, "categories", strings.Join(names, ", "))
	case a.Language != "":
		return s.cat.Text(lang, i18n.AudienceLanguage, "language", s.cat.Text(a.Language, i18n.LanguageName))
	}
	return s.cat.Text(lang, i18n.AudienceEveryone)
}

// data builds a button's callback data.
func data(action, id string, arg ...string) string {
	return strings.Join(append([]string{callbackPrefix, action, id}, arg...), ":")
}

// onButton answers every staff button.
func (s *Staff) onButton(ctx context.Context, r *bot.Request) error {
	parts := strings.SplitN(r.Data, ":", 3)
	if len(parts) < 2 {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	action, id, arg := parts[0], parts[1], ""
	if len(parts) == 3 {
		arg = parts[2]
	}
	switch action {
	case actCloseAsk:
		if _, _, err := s.p.Store.TakeAwaiting(ctx, r.UserID); err != nil {
			return err
		}
		if err := r.Edit(ctx, r.T(i18n.BroadcastAskClosed), nil); err != nil && !stale(err) {
			return err
		}
		return r.Answer(ctx, "")
	case actStop:
		return s.stop(ctx, r, announcementPfx+id)
	case actRecall:
		return s.askRecall(ctx, r, announcementPfx+id)
	case actRecallYes:
		if s.declined(r) {
			return r.Answer(ctx, r.Text(i18n.ButtonStale))
		}
		return s.recall(ctx, r, announcementPfx+id)
	case actCorrect:
		return s.askCorrect(ctx, r, announcementPfx+id, arg)
	case actUnschedule:
		return s.unschedule(ctx, r, announcementPfx+id)
	case actRecallNo:
		if err := r.Edit(ctx, r.T(i18n.BroadcastAskClosed), nil); err != nil && !stale(err) {
			return err
		}
		return r.Answer(ctx, "")
	}

	d, ok, err := s.loadDraft(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		if _, sent, err := s.p.Store.Broadcast(ctx, announcementPfx+id); err == nil && sent {
			return r.Answer(ctx, r.Text(i18n.AnswerAlreadySent))
		}
		return r.Answer(ctx, r.Text(i18n.AnswerDraftGone))
	}
	if d.AdminID != r.UserID {
		// Each admin's draft is theirs until sent; a press by another
		// admin can only be a forged button.
		s.log.Warn("another admin's draft refused", slog.Int64("user_id", r.UserID), slog.Int64("owner_id", d.AdminID), slog.String("draft", d.ID))
		return r.Answer(ctx, r.Text(i18n.AnswerNotYourDraft))
	}
	switch action {
	case actSend:
		return s.send(ctx, r, d)
	case actNobody:
		return r.Answer(ctx, r.Text(i18n.AnswerNobody))
	case actTest:
		return s.sendTest(ctx, r, d)
	case actWhen:
		if arg == "" {
			if err := s.redraw(ctx, r, d, s.scheduleView); err != nil {
				return err
			}
			return r.Answer(ctx, "")
		}
		return s.pickTime(ctx, r, d, arg)
	case actTypeTime:
		return s.askTime(ctx, r, d)
	case actAddVersion:
		return s.askVersion(ctx, r, d, arg)
	case actCancel:
		if _, err := s.p.Store.DeleteDraft(ctx, d.ID); err != nil {
			return err
		}
		s.log.Info("broadcast draft cancelled", slog.Int64("user_id", r.UserID), slog.String("draft", d.ID))
		if err := r.Edit(ctx, r.T(i18n.BroadcastCancelled), nil); err != nil && !stale(err) {
			return err
		}
		return r.Answer(ctx, "")
	case actAudience:
		return s.redraw(ctx, r, d, s.audienceMessage)
	case actBack:
		return s.redraw(ctx, r, d, s.controlMessage)
	case actEveryone, actCategory, actLanguage:
		a, ok := s.parseAudience(action, arg)
		if !ok {
			return r.Answer(ctx, r.Text(i18n.ButtonStale))
		}
		d.Audience = a
		if err := s.saveDraft(ctx, d); err != nil {
			return err
		}
		// Categories are ticked one by one, so their picker stays.
		view := s.controlMessage
		if action == actCategory {
			view = s.audienceMessage
		}
		if err := s.redraw(ctx, r, d, view); err != nil {
			return err
		}
		return r.Answer(ctx, r.Text(i18n.AnswerAudienceSet, "audience", s.audienceName(r.Lang, a)))
	}
	return r.Answer(ctx, r.Text(i18n.ButtonStale))
}

func (s *Staff) parseAudience(action, arg string) (Audience, bool) {
	switch action {
	case actEveryone:
		return Audience{}, true
	case actCategory:
		cats := s.p.Categories.Categories()
		mask, err := strconv.ParseUint(arg, 36, 64)
		if err != nil || (len(cats) < 64 && mask>>len(cats) != 0) {
			return Audience{}, false
		}
		var a Audience
		for i, c := range cats[:min(len(cats), maxCategoryButtons)] {
			if mask&(1<<i) != 0 {
				a.Categories = append(a.Categories, c.ID)
			}
		}
		slices.Sort(a.Categories)
		return a, true
	case actLanguage:
		for _, l := range i18n.Languages() {
			if l == arg {
				return Audience{Language: l}, true
			}
		}
	}
	return Audience{}, false
}

func (s *Staff) redraw(ctx context.Context, r *bot.Request, d draft, view func(context.Context, string, draft) (string, bot.Keyboard, error)) error {
	text, kb, err := view(ctx, r.Lang, d)
	if err != nil {
		return err
	}
	if err := r.Edit(ctx, text, kb); err != nil && !stale(err) {
		return err
	}
	return nil
}

// send turns a draft into a broadcast: an audit record first, whose id
// makes the announcement's, so that pressing Send twice, or on two
// replicas, sends once.
func (s *Staff) send(ctx context.Context, r *bot.Request, d draft) error {
	size, err := s.audienceSize(ctx, d.Audience)
	if err != nil {
		return err
	}
	if size == 0 {
		// A keyboard from before the audience emptied: nothing to send.
		if err := s.redraw(ctx, r, d, s.controlMessage); err != nil {
			return err
		}
		return r.Answer(ctx, r.Text(i18n.AnswerNobody))
	}
	now := s.p.Now()
	b := Broadcast{
		ID: announcementPfx + d.ID, AdminID: r.UserID, AdminName: r.FirstName, ChatID: r.Chat.ID, StatusID: r.MessageID,
		Lang: r.Lang, Versions: versionsOf(d.Versions, d.HTML), Audience: d.Audience, AudienceSize: size, CreatedAt: now, State: StateSending,
	}
	text, kb := s.statusView(b, delivery.Stats{State: delivery.StateFanningOut}, now, nil)
	b.Status, b.StatusAt = viewKey(text, kb), now
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("staff: encode broadcast: %w", err)
	}
	added, err := s.p.Store.AddBroadcast(ctx, b.ID, now, body)
	if err != nil {
		return err
	}
	if !added {
		return r.Answer(ctx, r.Text(i18n.AnswerAlreadySent))
	}
	// Should this fail, the watcher enqueues it: the record is active.
	if err := s.enqueue(ctx, b); err != nil {
		s.log.Error("cannot queue a broadcast; the watcher will retry", slog.String("broadcast", b.ID), slog.Any("error", err))
	}
	if _, err := s.p.Store.DeleteDraft(ctx, d.ID); err != nil {
		s.log.Warn("cannot delete a sent draft; it expires", slog.String("draft", d.ID), slog.Any("error", err))
	}
	s.log.Info("broadcast sent", slog.Int64("user_id", r.UserID), slog.String("broadcast", b.ID),
		slog.String("categories", strings.Join(b.Audience.cats(), ",")), slog.String("language", b.Audience.Language), slog.Int("audience_size", size))
	if err := r.Edit(ctx, text, kb); err != nil && !stale(err) {
		s.log.Warn("cannot show a broadcast's status", slog.String("broadcast", b.ID), slog.Any("error", err))
	}
	return r.Answer(ctx, r.Text(i18n.AnswerSending))
}

// enqueue hands a broadcast to the delivery engine, once whatever the
// number of calls.
func (s *Staff) enqueue(ctx context.Context, b Broadcast) error {
	texts, copies := content(versionsOf(b.Versions, b.HTML))
	err := s.p.Engine.Enqueue(ctx, delivery.Announcement{
		ID: b.ID, Kind: delivery.KindBroadcast, Texts: texts, Copies: copies,
		Filter: b.Audience.filter(), CreatedAt: b.CreatedAt,
	})
	if errors.Is(err, delivery.ErrDuplicate) {
		return nil
	}
	return err
}

// errFinished refuses a stop of a broadcast that is not sending.
var errFinished = errors.New("staff: broadcast has finished")

// stop cancels the rest of a broadcast; the watcher reports the end.
func (s *Staff) stop(ctx context.Context, r *bot.Request, id string) error {
	found, err := s.updateBroadcast(ctx, id, func(b *Broadcast) error {
		if b.State != StateSending {
			return errFinished
		}
		if b.Stop == nil {
			b.Stop = &Action{By: r.UserID, Name: r.FirstName, At: s.p.Now()}
		}
		return nil
	})
	switch {
	case errors.Is(err, errFinished):
		return r.Answer(ctx, r.Text(i18n.AnswerFinished))
	case err != nil:
		return err
	case !found:
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	if _, err := s.p.Engine.Cancel(ctx, id); err != nil && !errors.Is(err, delivery.ErrNotFound) {
		return err
	}
	s.log.Info("broadcast stopped", slog.Int64("user_id", r.UserID), slog.String("broadcast", id))
	return r.Answer(ctx, r.Text(i18n.AnswerStopping))
}

// askRecall asks, in a message of its own, to confirm a recall.
func (s *Staff) askRecall(ctx context.Context, r *bot.Request, id string) error {
	b, ok, err := s.loadBroadcast(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	if b.Recall != nil {
		return r.Answer(ctx, r.Text(i18n.AnswerRecalling))
	}
	if !recallable(b, s.p.Now()) {
		return r.Answer(ctx, r.Text(i18n.AnswerRecallTooOld))
	}
	n := b.Delivered
	if b.State == StateSending {
		if st, err := s.p.Engine.Stats(ctx, id); err == nil {
			n = st.Delivered
		}
	}
	draftID := strings.TrimPrefix(id, announcementPfx)
	kb := bot.Keyboard{
		{{Text: r.Text(i18n.ButtonRecallYes), Data: data(actRecallYes, draftID)}},
		{{Text: r.Text(i18n.ButtonRecallNo), Data: data(actRecallNo, draftID)}},
	}
	if err := r.ReplyKeyboard(ctx, r.T(i18n.RecallConfirm, "count", int64(n)), kb); err != nil {
		return err
	}
	return r.Answer(ctx, "")
}

// recall marks a broadcast for recall (stopping what is left to send);
// the watcher deletes the copies.
func (s *Staff) recall(ctx context.Context, r *bot.Request, id string) error {
	now := s.p.Now()
	already := false
	found, err := s.updateBroadcast(ctx, id, func(b *Broadcast) error {
		if b.Recall != nil {
			already = true
			return nil
		}
		if !recallable(*b, now) {
			return errTooOld
		}
		who := &Action{By: r.UserID, Name: r.FirstName, At: now}
		if b.State == StateSending && b.Stop == nil {
			b.Stop = who
		}
		b.Recall, b.State = who, StateRecalling
		b.RecallChat, b.RecallMsg = r.Chat.ID, r.MessageID
		return nil
	})
	switch {
	case errors.Is(err, errTooOld):
		return r.Answer(ctx, r.Text(i18n.AnswerRecallTooOld))
	case err != nil:
		return err
	case !found:
		return r.Answer(ctx, r.Text(i18n.ButtonStale))
	}
	if !already {
		if _, err := s.p.Engine.Cancel(ctx, id); err != nil && !errors.Is(err, delivery.ErrNotFound) {
			return err
		}
		if err := s.p.Store.SetBroadcastActive(ctx, id, true); err != nil {
			return err
		}
		s.log.Info("broadcast recall asked", slog.Int64("user_id", r.UserID), slog.String("broadcast", id))
	}
	if err := r.Edit(ctx, r.T(i18n.AnswerRecalling), nil); err != nil && !stale(err) {
		return err
	}
	return r.Answer(ctx, r.Text(i18n.AnswerRecalling))
}

// declined reports a press of Yes on a recall confirmation already answered
// No: the message now says it was cancelled, though a client that has not
// refreshed still shows its buttons.
func (s *Staff) declined(r *bot.Request) bool {
	shown := strings.TrimSpace(r.PressedText)
	for _, l := range i18n.Languages() {
		if shown == strings.TrimSpace(render.PlainText(s.cat.T(l, i18n.BroadcastAskClosed))) {
			return true
		}
	}
	return false
}

// errTooOld refuses a recall Telegram would refuse.
var errTooOld = errors.New("staff: copies are too old to delete")

// deleteWindow is how long Telegram lets a bot delete its messages.
const deleteWindow = 48 * time.Hour

// recallable reports whether some copies may still be deleted: sending
// has not finished, or finished less than 48 hours ago.
func recallable(b Broadcast, now time.Time) bool {
	if b.Recall != nil || b.State == StateRecalled {
		return false
	}
	if b.FinishedAt.IsZero() {
		return now.Sub(b.CreatedAt) < deleteWindow+24*time.Hour // a watcher that never saw the end
	}
	return now.Sub(b.FinishedAt) < deleteWindow
}

func (s *Staff) loadBroadcast(ctx context.Context, id string) (Broadcast, bool, error) {
	body, ok, err := s.p.Store.Broadcast(ctx, id)
	if err != nil || !ok {
		return Broadcast{}, false, err
	}
	var b Broadcast
	if err := json.Unmarshal(body, &b); err != nil {
		return Broadcast{}, false, fmt.Errorf("staff: decode broadcast %s: %w", id, err)
	}
	return b, true, nil
}

// updateBroadcast changes a record atomically; fn's error aborts.
func (s *Staff) updateBroadcast(ctx context.Context, id string, fn func(*Broadcast) error) (bool, error) {
	return s.p.Store.UpdateBroadcast(ctx, id, func(body []byte) ([]byte, error) {
		var b Broadcast
		if err := json.Unmarshal(body, &b); err != nil {
			return nil, fmt.Errorf("staff: decode broadcast %s: %w", id, err)
		}
		if err := fn(&b); err != nil {
			return nil, err
		}
		return json.Marshal(b)
	})
}

// stale reports an edit refused because the message is gone or too old:
// the change is saved, only its display is lost.
func stale(err error) bool { return tg.Classify(err) == tg.KindPermanent }
