package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/bulletinbot/bulletinbot/poller"
	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// previewLine is one publication of `preview --json`; its keys are a
// contract other tools rely on.
type previewLine struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	Title    string `json:"title"`
	Date     string `json:"date"` // YYYY-MM-DD, empty when the source gives none
	Category string `json:"category"`
	Summary  string `json:"summary"`
}

// preview fetches the sources once and prints what would be announced,
// touching no store and no Telegram.
func preview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var asJSON bool
	// The settings flags are accepted too, so that CONFIG_FILE and SOURCES apply.
	cfg, rest, err := parseConfigWith("bulletinbot preview", previewSynopsis, args, getenv, stdout, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print one JSON object per publication")
	})
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	var errs []error
	if len(rest) == 0 {
		// With URLs given, SOURCES and the rest do not matter.
		errs = append(errs, cfg.Validate(false))
	}
	file, err := loadFileConfig(cfg.ConfigFile)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "bulletinbot preview: invalid configuration:\n%s\n", indent(err))
		return 2
	}
	categorizer, err := file.categorizer()
	if err != nil {
		fmt.Fprintf(stderr, "bulletinbot preview: %v\n", err)
		return 2
	}
	urls := cfg.Sources
	if len(rest) > 0 {
		urls = rest
	}
	fetcher := fetch.New(fetch.Config{})
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	code := 0
	for _, src := range file.sources(urls) {
		resp, err := fetcher.Fetch(ctx, fetch.Request{URL: src.URL})
		var (
			pubs []poller.Publication
			cut  int
		)
		if err == nil {
			pubs, cut, err = poller.Extract(resp, src, categorizer, time.Now())
		}
		if err != nil {
			fmt.Fprintf(stderr, "bulletinbot preview: %v\n", err)
			code = 1
			continue
		}
		if cut > 0 {
			fmt.Fprintf(stderr, "bulletinbot preview: %s: read the first %d entries, ignored %d more\n", src.URL, len(pubs), cut)
		}
		for _, p := range pubs {
			line := previewLine{ID: p.ID, URL: p.URL, Title: p.Title, Category: p.Category, Summary: p.Summary}
			if !p.Date.IsZero() {
				line.Date = p.Date.Format("2006-01-02")
			}
			if asJSON {
				if err := enc.Encode(line); err != nil {
					fmt.Fprintf(stderr, "bulletinbot preview: write: %v\n", err)
					return 1
				}
				continue
			}
			date := line.Date
			if date == "" {
				date = "          "
			}
			fmt.Fprintf(stdout, "%s  %-14s  %s\n            %s\n", date, p.Category, p.Title, p.URL)
		}
	}
	return code
}
