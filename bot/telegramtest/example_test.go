package telegramtest_test

import (
	"context"
	"fmt"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// A test starts the fake, registers a user, lets the user write, and checks
// what the bot answered.
func Example() {
	srv := telegramtest.NewServer(telegramtest.Options{})
	defer srv.Close()
	srv.AddPrivateChat(1001, "Ann", "en")

	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(srv.Token(), srv.Endpoint())
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.SendText(1001, 1001, "/start")

	// The bot under test would do this part.
	updates, _ := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 1})
	reply := tgbotapi.NewMessage(updates[0].Message.Chat.ID, "<b>Welcome</b> &amp; thanks")
	reply.ParseMode = tgbotapi.ModeHTML
	if _, err := bot.Send(reply); err != nil {
		fmt.Println(err)
		return
	}
	_, err = bot.Send(tgbotapi.NewMessage(1001, ""))
	fmt.Println(err)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := srv.WaitMessages(ctx, 1001, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q %s\n", msgs[0].Text, msgs[0].Entities[0].Type)
	// Output:
	// Bad Request: message text is empty
	// "Welcome & thanks" bold
}
