package staff

import (
	"strconv"
	"strings"
)

// formatInt groups digits by thousands as lang writes them: "1,234" in
// English, "1 234" (with a no-break space) in Russian.
func formatInt(lang string, n int64) string {
	sep := ","
	if lang == "ru" {
		sep = "\u00a0"
	}
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

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
