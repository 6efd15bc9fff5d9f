package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
	"github.com/bulletinbot/bulletinbot/bot/render"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// maxZoneRunes is as much of an unknown zone as an answer echoes.
const maxZoneRunes = 64

// cmdQuiet shows or sets the chat's quiet hours: "/quiet 23:00-07:00
// [zone]", "/quiet off", or "/quiet" to see them.
func (b *Bot) cmdQuiet(ctx context.Context, r *Request) error {
	sub, ok := r.Subscriber()
	if !ok {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	fields := strings.Fields(r.Args)
	if len(fields) == 0 {
		if !sub.Prefs.Quiet {
			return r.Reply(ctx, r.T(i18n.QuietNone, "zone", b.zoneName(sub.Prefs)))
		}
		return r.Reply(ctx, r.T(i18n.QuietShow, "from", subscriptions.FormatClock(sub.Prefs.QuietFrom),
			"to", subscriptions.FormatClock(sub.Prefs.QuietTo), "zone", b.zoneName(sub.Prefs)))
	}
	if len(fields) == 1 && strings.EqualFold(fields[0], "off") {
		return b.prefsOff(ctx, r, func(p *subscriptions.Prefs) { p.Quiet = false }, i18n.QuietOff)
	}
	fromText, toText, dash := strings.Cut(fields[0], "-")
	from, err1 := subscriptions.ParseClock(fromText)
	to, err2 := subscriptions.ParseClock(toText)
	if !dash || err1 != nil || err2 != nil || from == to || len(fields) > 2 {
		return r.Reply(ctx, r.T(i18n.QuietUsage))
	}
	return b.setTimedPrefs(ctx, r, fields[1:], func(p *subscriptions.Prefs) {
		p.Quiet, p.QuietFrom, p.QuietTo = true, from, to
	}, func(p subscriptions.Prefs) string {
		return r.T(i18n.QuietSet, "from", subscriptions.FormatClock(from), "to", subscriptions.FormatClock(to),
			"zone", b.zoneName(p))
	})
}

// cmdDigest shows or sets the chat's daily digest: "/digest 08:00
// [zone]", "/digest off", or "/digest" to see it.
func (b *Bot) cmdDigest(ctx context.Context, r *Request) error {
	sub, ok := r.Subscriber()
	if !ok {
		return r.Reply(ctx, r.T(i18n.NotSubscribed))
	}
	fields := strings.Fields(r.Args)
	if len(fields) == 0 {
		if !sub.Prefs.Digest {
			return r.Reply(ctx, r.T(i18n.DigestNone))
		}
		return r.Reply(ctx, r.T(i18n.DigestShow, "time", subscriptions.FormatClock(sub.Prefs.DigestAt), "zone", b.zoneName(sub.Prefs)))
	}
	if len(fields) == 1 && strings.EqualFold(fields[0], "off") {
		return b.prefsOff(ctx, r, func(p *subscriptions.Prefs) { p.Digest = false }, i18n.DigestOff)
	}
	at, err := subscriptions.ParseClock(fields[0])
	if err != nil || len(fields) > 2 {
		return r.Reply(ctx, r.T(i18n.DigestUsage))
	}
	return b.setTimedPrefs(ctx, r, fields[1:], func(p *subscriptions.Prefs) {
		p.Digest, p.DigestAt = true, at
	}, func(p subscriptions.Prefs) string {
		return r.T(i18n.DigestSet, "time", subscriptions.FormatClock(at), "zone", b.zoneName(p))
	})
}

// prefsOff answers "/quiet off" and "/digest off": change turns the
// setting off, and said is the answer.
func (b *Bot) prefsOff(ctx context.Context, r *Request, change func(*subscriptions.Prefs), said i18n.Key) error {
	if _, err := b.setPrefs(ctx, r, change); err != nil {
		return err
	}
	return r.Reply(ctx, r.T(said))
}

// setTimedPrefs ends /quiet and /digest once their times are read: it
// reads the optional zone in args (an unknown one is answered and nothing
// changes), applies change with that zone, and answers what said makes of
// the new settings.
func (b *Bot) setTimedPrefs(ctx context.Context, r *Request, args []string, change func(*subscriptions.Prefs), said func(subscriptions.Prefs) string) error {
	zone, ok := b.zoneArg(args)
	if !ok {
		return r.Reply(ctx, r.T(i18n.BadZone, "zone", truncate(render.Line(args[0]), maxZoneRunes)))
	}
	sub, err := b.setPrefs(ctx, r, func(p *subscriptions.Prefs) {
		change(p)
		if zone != nil {
			p.Zone = *zone
		}
	})
	if err != nil {
		return err
	}
	return r.Reply(ctx, said(sub.Prefs))
}

// zoneArg reads an optional zone argument: nil when there is none, false
// when it names no zone. The default zone is stored as "" (the default).
func (b *Bot) zoneArg(args []string) (*string, bool) {
	if len(args) == 0 {
		return nil, true
	}
	name := args[0]
	if (subscriptions.Prefs{Zone: name}).Check() != nil {
		return nil, false
	}
	if name == defaultZone {
		name = ""
	}
	return &name, true
}

// zoneName is the zone a chat's times are in, by name.
func (b *Bot) zoneName(p subscriptions.Prefs) string {
	if p.Zone != "" {
		return p.Zone
	}
	return b.zone.String()
}

// setPrefs changes the chat's alert settings, and schedules (or drops)
// its digest to match.
func (b *Bot) setPrefs(ctx context.Context, r *Request, change func(*subscriptions.Prefs)) (subscriptions.Subscriber, error) {
	sub, err := b.p.Subscriptions.SetPrefs(ctx, r.Chat.ID, change)
	if err != nil {
		return subscriptions.Subscriber{}, err
	}
	r.setSubscriber(sub, true)
	if err := b.scheduleDigest(ctx, sub); err != nil {
		return subscriptions.Subscriber{}, err
	}
	b.log.Info("alert settings changed", slog.Int64("chat_id", r.Chat.ID), slog.String("prefs", sub.Prefs.String()))
	return sub, nil
}

// errNoDigests is returned when a digest is asked of a bot wired without
// a DigestStore.
var errNoDigests = errors.New("bot: no digest store")
