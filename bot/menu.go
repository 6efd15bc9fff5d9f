package bot

import (
	"context"
	"log/slog"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
)

// publishCommands sets Telegram's command menu: the public commands for
// everyone, in each language and by default in the default language, and
// the staff commands as well in each admin's private chat. Failures are
// logged: the bot works without a menu. An admin whose chat Telegram does
// not know yet ("chat not found") gets the staff menu when they first
// write (staffMenuOnce).
func (b *Bot) publishCommands(ctx context.Context) {
	def := b.cat.DefaultLanguage()
	public := b.listed(false)
	for _, lang := range append([]string{""}, i18n.Languages()...) {
		menuLang := lang
		if lang == "" {
			menuLang = def
		}
		if err := b.setCommands(ctx, nil, lang, b.menu(menuLang, public)); err != nil {
			b.log.Warn("cannot set the command menu", slog.String("language", lang), slog.Any("error", err))
			if ctx.Err() != nil {
				return
			}
		}
	}
	for _, admin := range b.p.Admins {
		if err := b.setStaffMenu(ctx, admin); err != nil {
			if ctx.Err() != nil {
				return
			}
			// Usually the admin has not started a chat with the bot yet:
			// their first message sets it.
			b.log.Info("staff command menu not set yet; it will be when the admin writes", slog.Int64("user_id", admin), slog.Any("error", err))
		}
	}
}

// staffMenuOnce sets the staff menu in an admin's private chat the first
// time this process sees them write, unless start-up already did.
func (b *Bot) staffMenuOnce(ctx context.Context, admin int64) {
	if _, done := b.staffMenus.Load(admin); done {
		return
	}
	if err := b.setStaffMenu(ctx, admin); err != nil {
		b.log.Warn("cannot set the staff command menu", slog.Int64("user_id", admin), slog.Any("error", err))
	}
}

// setStaffMenu sets the public and staff commands in admin's private chat,
// in each language, and records success in b.staffMenus.
func (b *Bot) setStaffMenu(ctx context.Context, admin int64) error {
	staff := b.listed(true)
	if len(staff) == 0 {
		return nil
	}
	public := b.listed(false)
	def := b.cat.DefaultLanguage()
	scope := &tgbotapi.BotCommandScope{Type: "chat", ChatID: admin}
	for _, lang := range append([]string{""}, i18n.Languages()...) {
		menuLang := lang
		if lang == "" {
			menuLang = def
		}
		if err := b.setCommands(ctx, scope, lang, b.menu(menuLang, public, staff)); err != nil {
			return err
		}
	}
	b.staffMenus.Store(admin, true)
	return nil
}

func (b *Bot) menu(lang string, entries ...[]*entry) []tgbotapi.BotCommand {
	def := b.cat.DefaultLanguage()
	var out []tgbotapi.BotCommand
	for _, list := range entries {
		for _, e := range list {
			out = append(out, tgbotapi.BotCommand{Command: e.name, Description: e.description(lang, def)})
		}
	}
	return out
}

func (b *Bot) setCommands(ctx context.Context, scope *tgbotapi.BotCommandScope, lang string, cmds []tgbotapi.BotCommand) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := b.p.Client.Do(cctx, tgbotapi.SetMyCommandsConfig{Commands: cmds, Scope: scope, LanguageCode: lang})
	return err
}
