// Command fakebot runs the fake Telegram Bot API of package telegramtest on
// a local address, with a line-based console on stdin to chat with the bot
// as a user. Point the bot at it with TELEGRAM_API_ENDPOINT and the token it
// prints.
//
// Console lines:
//
//	hello, /start        sent by the default user in their private chat
//	:as <userID> <text>  sent by another user in their private chat
//	:group <id> <text>   sent by the default user in a group (id < -10^12: supergroup)
//	:press <messageID> <data>  press an inline button in the current chat
//	:block, :unblock     the default user blocks or unblocks the bot
//	:kick <groupID>      remove the bot from a group; :add <groupID> adds it back
//	:migrate <old> <new> upgrade a group to a supergroup
//	:help, :quit
//
// Every message the bot sends, edits or deletes is printed with its chat id,
// message id, plain text and buttons.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/telegramtest"
)

type config struct {
	addr   string
	token  string
	userID int64
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8081", "address to serve the fake Bot API on")
	flag.StringVar(&cfg.token, "token", "123456:TEST-TOKEN", "bot token the fake accepts")
	flag.Int64Var(&cfg.userID, "user", 1001, "id of the console's default user (and of their private chat)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fakebot:", err)
		os.Exit(1)
	}
}

// run serves the fake until ctx ends or the console says :quit. The end of
// stdin does not stop it, so it can run in the background.
func run(ctx context.Context, cfg config, in io.Reader, out io.Writer) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("fakebot: listening on %s: %w", cfg.addr, err)
	}
	srv := telegramtest.NewServer(telegramtest.Options{Token: cfg.token})
	defer srv.Close()
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := newConsole(srv, out, cfg.userID)
	c.printf("TELEGRAM_API_ENDPOINT=http://%s/bot%%s/%%s\n", ln.Addr())
	c.printf("TELEGRAM_BOT_TOKEN=%s\n", cfg.token)
	c.printf("You are user %d; type :help for commands.\n", cfg.userID)

	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		c.watch(ctx)
	}()
	go func() {
		if c.readLines(in) {
			cancel()
		}
	}()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		cancel()
		<-watchDone
		return fmt.Errorf("fakebot: serving: %w", err)
	}
	<-watchDone
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	// Long polls end when the fake closes; close it before waiting on them.
	srv.Close()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("fakebot: shutting down: %w", err)
	}
	return nil
}
