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
// logged: the bot works without a menu.
func (b *Bot) publishCommands(ctx context.Context) {
	public := b.listed(false)
	staff := b.listed(true)
	def := b.cat.DefaultLanguage()
	menu := func(lang string, entries ...[]*entry) []tgbotapi.BotCommand {
		var out []tgbotapi.BotCommand
		for _, list := range entries {
			for _, e := range list {
				out = append(out, tgbotapi.BotCommand{Command: e.name, Description: e.description(lang, def)})
			}
		}
		return out
	}
	set := func(scope *tgbotapi.BotCommandScope, lang string, cmds []tgbotapi.BotCommand) error {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := b.p.Client.Do(cctx, tgbotapi.SetMyCommandsConfig{Commands: cmds, Scope: scope, LanguageCode: lang})
		return err
	}
	langs := append([]string{""}, i18n.Languages()...)
	for _, lang := range langs {
		menuLang := lang
		if lang == "" {
			menuLang = def
		}
		if err := set(nil, lang, menu(menuLang, public)); err != nil {
			b.log.Warn("cannot set the command menu", slog.String("language", lang), slog.Any("error", err))
			if ctx.Err() != nil {
				return
			}
		}
	}
	if len(staff) == 0 {
		return
	}
	for _, admin := range b.p.Admins {
		scope := &tgbotapi.BotCommandScope{Type: "chat", ChatID: admin}
		for _, lang := range langs {
			menuLang := lang
			if lang == "" {
				menuLang = def
			}
			if err := set(scope, lang, menu(menuLang, public, staff)); err != nil {
				// Usually the admin has not started a chat with the bot yet.
				b.log.Info("cannot set the staff command menu", slog.Int64("user_id", admin), slog.String("language", lang), slog.Any("error", err))
				break
			}
		}
	}
}
