// Command bulletinbot turns an organisation's publications into Telegram
// alerts. `bulletinbot` (or `bulletinbot run`) runs the service;
// `bulletinbot preview [--json] [URL...]` prints what would be announced.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := realMain(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// realMain runs one subcommand and returns the process exit code.
func realMain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		cfg, rest, err := parseConfig("bulletinbot", args, getenv, stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			return 2
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "bulletinbot: unexpected arguments %q; see bulletinbot -h\n", rest)
			return 2
		}
		file, err := checkRun(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "bulletinbot: invalid configuration:\n%s\n", indent(err))
			return 2
		}
		logger, err := newLogger(cfg, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "bulletinbot: %v\n", err)
			return 2
		}
		redis.SetLogger(newRedisLogger(logger))
		file.warnDropped(logger)
		if err := run(ctx, cfg, file, logger); err != nil {
			logger.Error("bulletinbot stopped", slog.Any("error", err))
			return 1
		}
		return 0
	case "preview":
		return preview(ctx, args, getenv, stdout, stderr)
	case "help":
		_, _, _ = parseConfig("bulletinbot", []string{"-h"}, getenv, stdout, stderr)
		return 0
	default:
		fmt.Fprintf(stderr, "bulletinbot: unknown command %q; commands are run and preview (see bulletinbot -h)\n", cmd)
		return 2
	}
}

// checkRun finds every problem of the settings (environment and flags),
// of CONFIG_FILE and of DATA_DIR at once, before anything starts, and
// returns the file's configuration.
func checkRun(cfg *Config) (*FileConfig, error) {
	errs := []error{cfg.Validate(true)}
	file, err := loadFileConfig(cfg.ConfigFile)
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, file.checkWith(cfg))
	}
	if cfg.RedisURL == "" && cfg.DataDir != "" {
		errs = append(errs, checkDataDir(cfg.DataDir))
	}
	return file, errors.Join(errs...)
}

func indent(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = "  - " + l
	}
	return strings.Join(lines, "\n")
}
