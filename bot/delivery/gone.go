package delivery

import (
	"sync"
	"time"
)

// holdsPrune is the size past which holds forgets stale chats.
const holdsPrune = 4096

// holds remembers the chats that answered they are gone once, so that a
// second answer, Params.GoneHold later, removes them: the first sends of a
// storm of such answers (a proxy glitch, a Bot API bug) then remove nobody
// before the storm is recognised. A storm clears it: answers given during
// one confirm nothing, and a storm that goes on after its pause is
// recognised again, from a burst of first answers, before any second.
type holds struct {
	mu    sync.Mutex
	since map[int64]time.Time
}

// holdConfirms is how long past the hold an earlier answer still confirms
// a later one: long enough for a chat's gap and a busy queue, short enough
// that the answers belong to one event.
const holdConfirms = time.Hour

// confirm records that chat answered "gone" at now and reports whether an
// earlier answer, between hold and hold+holdConfirms ago, confirms it.
func (h *holds) confirm(chat int64, now time.Time, hold time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if first, ok := h.since[chat]; ok {
		age := now.Sub(first)
		if age >= hold && age <= hold+holdConfirms {
			delete(h.since, chat)
			return true
		}
		if age >= 0 && age < hold {
			return false
		}
	}
	if len(h.since) >= holdsPrune {
		for c, t := range h.since {
			if now.Sub(t) > hold+holdConfirms {
				delete(h.since, c)
			}
		}
	}
	h.since[chat] = now
	return false
}

// clear forgets every chat: a storm's answers confirm nothing.
func (h *holds) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.since)
}
