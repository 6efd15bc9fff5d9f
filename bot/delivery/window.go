package delivery

import (
	"sync"
	"time"
)

// What one send's answer says about Telegram as a whole, for the window.
type sendClass uint8

const (
	classOK sendClass = iota
	classTransient
	classGone
	classOther
)

// The window's rules. A lone failure is a delivery's problem and is
// retried; most of a window failing alike is Telegram's, or a proxy's, and
// pauses everything.
const (
	windowSpan = 10 * time.Second
	windowCap  = 256
	// outageMin transient failures' worth of sends, most of them
	// failing, make an outage: a handful is enough, since while it lasts
	// every delivery sent is an attempt burnt.
	outageMin = 5
	// stormMin sends, over half of them answering "gone", make a storm:
	// real users never leave at once in such numbers.
	stormMin = 20
)

// window holds the classes of this replica's most recent sends.
type window struct {
	mu      sync.Mutex
	at      [windowCap]time.Time
	class   [windowCap]sendClass
	next, n int
}

// add records a send that ended at now and reports how many of the sends
// in the window, and how many of those of class c, there are now.
func (w *window) add(now time.Time, c sendClass) (total, same int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.at[w.next], w.class[w.next] = now, c
	w.next = (w.next + 1) % windowCap
	w.n = min(w.n+1, windowCap)
	from := now.Add(-windowSpan)
	for i := range w.n {
		j := (w.next - 1 - i + windowCap) % windowCap
		if w.at[j].Before(from) {
			break
		}
		total++
		if w.class[j] == c {
			same++
		}
	}
	return total, same
}

// reset forgets every send: after a pause, what came before says nothing.
func (w *window) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n = 0
}

// mostly reports whether same of total sends, at least least of them,
// make more than half.
func mostly(total, same, least int) bool {
	return total >= least && 2*same > total
}
