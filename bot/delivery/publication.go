package delivery

import (
	"context"
	"fmt"
	"sync"

	"github.com/bulletinbot/bulletinbot/poller/terms"
	"github.com/bulletinbot/bulletinbot/subscriptions"
)

// markupCache keeps the alert keyboards of the announcements being sent, per
// announcement and language: the publication is read once per announcement,
// language and replica, not once per subscriber, also while hundreds of
// sends start at once (they wait for the first one's read).
type markupCache struct {
	mu sync.Mutex
	m  map[string]*markupEntry // announcement id "\x00" language
}

type markupEntry struct {
	once   sync.Once
	markup string
}

// markupCacheSize bounds the cache; a miss costs one read of a publication.
const markupCacheSize = 512

// alertMarkup returns the reply_markup of a publication's alert in lang, ""
// for a broadcast, without Params.AlertMarkup, or when the publication is
// gone or cannot be read (the alert then goes without its buttons rather
// than waiting: they are a convenience, the text is the alert).
func (e *Engine) alertMarkup(ctx context.Context, a Announcement, lang string) string {
	if e.p.AlertMarkup == nil || a.Kind != KindPublication || e.p.Publications == nil {
		return ""
	}
	key := a.ID + "\x00" + lang
	c := &e.markups
	c.mu.Lock()
	entry, ok := c.m[key]
	if !ok {
		if c.m == nil || len(c.m) >= markupCacheSize {
			c.m = make(map[string]*markupEntry) // start over: cheaper than tracking age
		}
		entry = &markupEntry{}
		c.m[key] = entry
	}
	c.mu.Unlock()
	entry.once.Do(func() {
		p, found, err := e.p.Publications.Publication(ctx, a.PublicationID)
		switch {
		case err != nil:
			// Not kept: the next send of this announcement reads again.
			c.mu.Lock()
			if c.m[key] == entry {
				delete(c.m, key)
			}
			c.mu.Unlock()
		case found:
			entry.markup = e.p.AlertMarkup(p, lang)
		}
	})
	return entry.markup
}

// audience is the filter a fan-out walks: the announcement's, and for a
// publication also its terms, which add the chats following a matching
// topic (subscriptions.Filter.Terms). The publication is read once per
// fan-out; one that is gone reaches its category alone.
func (e *Engine) audience(ctx context.Context, a Announcement) (subscriptions.Filter, error) {
	f := a.Filter
	if a.Kind != KindPublication || e.p.Publications == nil {
		return f, nil
	}
	p, found, err := e.p.Publications.Publication(ctx, a.PublicationID)
	if err != nil {
		return f, fmt.Errorf("delivery: load publication %s: %w", a.PublicationID, err)
	}
	if found {
		f.Terms = terms.Of(p.Title+"\n"+p.Summary, terms.MaxPerText)
	}
	return f, nil
}
