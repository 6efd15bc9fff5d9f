package poller

import "time"

// maxFutureDate is how far past the time it was seen a publication's date
// may lie: a day covers every time zone. Past it the date is a mistake or
// a trick (an item dated 9999 would head /latest forever).
const maxFutureDate = 24 * time.Hour

// ClampDate returns date, or seen when date lies more than a day after
// seen. A zero date stays zero (the source gave none).
func ClampDate(date, seen time.Time) time.Time {
	if !date.IsZero() && !seen.IsZero() && date.After(seen.Add(maxFutureDate)) {
		return seen
	}
	return date
}
