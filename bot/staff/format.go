package staff

import (
	"strings"

	"github.com/bulletinbot/bulletinbot/bot/i18n"
)

// formatInt writes n as lang groups digits ("1,234", "1 234"), for a
// count that is part of a value rather than a text's own count (those
// are given to the catalog as integers, which picks their plural form).
func formatInt(lang string, n int64) string { return i18n.Number(lang, n) }

// percent is n of total in whole percent, from 0 to 100.
func percent(n, total int64) int64 {
	if total <= 0 || n <= 0 {
		return 0
	}
	return min(100, n*100/total)
}

// barCells is the width of the progress bar.
const barCells = 10

// bar draws n of total as ▓▓░░░░░░░░.
func bar(n, total int64) string {
	full := 0
	if total > 0 {
		full = int(min(barCells, max(0, n*barCells/total)))
	}
	return strings.Repeat("▓", full) + strings.Repeat("░", barCells-full)
}
