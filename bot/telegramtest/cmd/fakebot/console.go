package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

// supergroupIDs are below this: Telegram's supergroup ids start with -100
// followed by ten or more digits.
const supergroupIDs = -1000000000000

// console turns typed lines into user actions on the fake and prints what
// the bot does.
type console struct {
	srv    *telegramtest.Server
	userID int64

	outMu sync.Mutex
	out   io.Writer

	mu      sync.Mutex
	current int64 // chat of the last line, for :press
	seen    map[msgKey]telegramtest.Message
	answers int
}

type msgKey struct {
	chatID int64
	id     int
}

func newConsole(srv *telegramtest.Server, out io.Writer, userID int64) *console {
	srv.AddPrivateChat(userID, "You", "en")
	return &console{srv: srv, userID: userID, out: out, current: userID, seen: map[msgKey]telegramtest.Message{}}
}

func (c *console) printf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

// readLines handles lines until the input ends (false) or says :quit (true).
func (c *console) readLines(in io.Reader) bool {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if c.handle(sc.Text()) {
			return true
		}
	}
	return false
}

// handle runs one console line and reports whether it asked to quit. The
// fake panics on misuse (an unknown chat, a button that isn't there); here
// that is a typing mistake, so it is printed, not fatal.
func (c *console) handle(line string) (quit bool) {
	defer func() {
		if r := recover(); r != nil {
			c.printf("! %v\n", r)
		}
	}()
	line = strings.TrimSpace(line)
	if line == "" {
		return false
	}
	if !strings.HasPrefix(line, ":") {
		c.say(c.userID, c.userID, line)
		return false
	}
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case ":quit", ":q":
		return true
	case ":help":
		c.printf("lines: text | :as <user> <text> | :group <id> <text> | :press <msg> <data> | :block | :unblock | :kick <group> | :add <group> | :migrate <old> <new> | :quit\n")
	case ":as":
		idText, text, _ := strings.Cut(rest, " ")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || text == "" {
			c.printf("! usage: :as <userID> <text>\n")
			return false
		}
		if !c.known(id) {
			c.srv.AddPrivateChat(id, "User "+idText, "en")
		}
		c.say(id, id, text)
	case ":group":
		idText, text, _ := strings.Cut(rest, " ")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id >= 0 || text == "" {
			c.printf("! usage: :group <negative chat id> <text>\n")
			return false
		}
		if !c.known(id) {
			c.srv.AddGroup(id, "Group "+idText, id < supergroupIDs)
		}
		c.say(id, c.userID, text)
	case ":press":
		idText, data, _ := strings.Cut(rest, " ")
		id, err := strconv.Atoi(idText)
		if err != nil || data == "" {
			c.printf("! usage: :press <messageID> <callback data>\n")
			return false
		}
		c.mu.Lock()
		chatID := c.current
		c.mu.Unlock()
		q := c.srv.PressButton(chatID, c.userID, id, data)
		c.printf("> pressed %q on #%d in chat %d (query %s)\n", data, id, chatID, q)
	case ":block":
		c.srv.BlockBot(c.userID)
		c.printf("> you blocked the bot\n")
	case ":unblock":
		c.srv.UnblockBot(c.userID)
		c.printf("> you unblocked the bot\n")
	case ":kick", ":add":
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			c.printf("! usage: %s <group id>\n", cmd)
			return false
		}
		if cmd == ":kick" {
			c.srv.RemoveBotFromGroup(id, c.userID)
		} else {
			c.srv.AddBotToGroup(id, c.userID)
		}
		c.printf("> done\n")
	case ":migrate":
		f := strings.Fields(rest)
		if len(f) != 2 {
			c.printf("! usage: :migrate <group id> <new supergroup id>\n")
			return false
		}
		from, err1 := strconv.ParseInt(f[0], 10, 64)
		to, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			c.printf("! usage: :migrate <group id> <new supergroup id>\n")
			return false
		}
		c.srv.MigrateGroup(from, to)
		c.printf("> group %d is now supergroup %d\n", from, to)
	default:
		c.printf("! unknown command %s; :help lists them\n", cmd)
	}
	return false
}

func (c *console) known(chatID int64) bool {
	for _, id := range c.srv.ChatIDs() {
		if id == chatID {
			return true
		}
	}
	return false
}

func (c *console) say(chatID, userID int64, text string) {
	c.mu.Lock()
	c.current = chatID
	c.mu.Unlock()
	if id := c.srv.SendText(chatID, userID, text); id == 0 {
		c.printf("> (the bot gets no update for this)\n")
	}
}

// watch prints the bot's sends, edits, deletions and callback answers as
// they happen, until ctx ends.
func (c *console) watch(ctx context.Context) {
	for {
		if err := c.srv.WaitFor(ctx, c.changed); err != nil {
			return
		}
		c.printChanges()
	}
}

// changed tells whether the bot did something not printed yet.
func (c *console) changed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.srv.CallbackAnswers()) != c.answers {
		return true
	}
	for _, chatID := range c.srv.ChatIDs() {
		for _, m := range c.srv.Messages(chatID) {
			if prev, ok := c.seen[msgKey{chatID, m.MessageID}]; !ok || prev.Edits != m.Edits || prev.Deleted != m.Deleted {
				return true
			}
		}
	}
	return false
}

func (c *console) printChanges() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, chatID := range c.srv.ChatIDs() {
		for _, m := range c.srv.Messages(chatID) {
			key := msgKey{chatID, m.MessageID}
			prev, ok := c.seen[key]
			c.seen[key] = m
			switch {
			case !ok:
				c.printMessage("bot", m)
			case prev.Deleted != m.Deleted:
				c.printf("[chat %d] #%d deleted\n", chatID, m.MessageID)
			case prev.Edits != m.Edits:
				c.printMessage("edited", m)
			}
		}
	}
	answers := c.srv.CallbackAnswers()
	for _, a := range answers[c.answers:] {
		c.printf("[chat %d] answer to %q: %q (alert %v)\n", a.ChatID, a.Data, a.Text, a.ShowAlert)
	}
	c.answers = len(answers)
}

func (c *console) printMessage(what string, m telegramtest.Message) {
	c.printf("[chat %d] #%d %s: %s\n", m.ChatID, m.MessageID, what, strings.ReplaceAll(m.Text, "\n", "\n    "))
	for _, row := range m.InlineKeyboard() {
		var b strings.Builder
		b.WriteString("   ")
		for _, btn := range row {
			target := btn.CallbackData
			if btn.URL != "" {
				target = btn.URL
			}
			fmt.Fprintf(&b, " [%s → %s]", btn.Text, target)
		}
		c.printf("%s\n", b.String())
	}
}
