package bot_test

import (
	"testing"

	"github.com/bulletinbot/bulletinbot/bot"
)

// TestQuietAndDigestCommands walks /quiet and /digest through setting,
// showing, an unknown zone (answered, nothing changed) and off.
func TestQuietAndDigestCommands(t *testing.T) {
	e := newBoltEnv(t)
	const chat int64 = 301
	e.tg.AddPrivateChat(chat, "Ann", "en")
	e.start(func(p *bot.Params) { p.Digests = e.store.(alertStore) })
	d := e.dialog(t, chat)
	d.say("/start")
	step := func(text string, want ...string) {
		t.Helper()
		mustContain(t, text, d.next(text), want...)
	}

	step("/quiet", "No quiet hours", "Europe/London")
	step("/quiet 23:00-07:00 Europe/Moscow", "Quiet hours: 23:00–07:00 (Europe/Moscow)")
	step("/quiet 22:00-06:00 Mars/Olympus", "Unknown time zone Mars/Olympus")
	step("/quiet", "Quiet hours: 23:00–07:00 (Europe/Moscow)")
	step("/quiet 23:00", "Give the hours")
	step("/quiet off", "Quiet hours are off")
	step("/quiet", "No quiet hours", "Europe/Moscow")

	step("/digest", "Publications come as they appear")
	step("/digest 08:00 Europe/London", "Daily digest at 08:00 (Europe/London)")
	step("/digest 09:00 Mars/Olympus", "Unknown time zone Mars/Olympus")
	step("/digest", "Daily digest at 08:00 (Europe/London)")
	step("/digest 8", "Give the time")
	step("/digest off", "Digest off")
	step("/digest", "Publications come as they appear")
}
