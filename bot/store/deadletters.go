package store

import (
	"cmp"
	"encoding/json"
	"slices"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// deadLetterBatch is the most dead letters one step of a retry moves into
// the queue, so that no Redis script or bbolt transaction runs long.
const deadLetterBatch = 500

// deadLetterTally builds a DeadLetterSummary from dead letters read in any
// order.
type deadLetterTally struct {
	s       delivery.DeadLetterSummary
	reasons map[string]int64
}

func (t *deadLetterTally) add(raw []byte) {
	t.s.Count++
	var d delivery.DeadLetter
	if json.Unmarshal(raw, &d) != nil {
		d.Error = "unreadable dead letter"
	}
	if t.reasons == nil {
		t.reasons = map[string]int64{}
	}
	t.reasons[d.Error]++
	if !d.At.IsZero() && (t.s.Oldest.IsZero() || d.At.Before(t.s.Oldest)) {
		t.s.Oldest = d.At
	}
}

func (t *deadLetterTally) summary(mark int64) delivery.DeadLetterSummary {
	s := t.s
	s.Mark = mark
	for reason, n := range t.reasons {
		s.Reasons = append(s.Reasons, delivery.DeadLetterReason{Error: reason, Count: n})
	}
	slices.SortFunc(s.Reasons, func(a, b delivery.DeadLetterReason) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Error, b.Error))
	})
	return s
}

// retryBody decodes a stored dead letter into the encoded delivery a retry
// queues; ok is false for one that cannot be read, which a retry drops.
func retryBody(raw []byte) (d delivery.DeadLetter, body string, ok bool) {
	if err := json.Unmarshal(raw, &d); err != nil || d.AnnouncementID == "" {
		return d, "", false
	}
	return d, encodeDelivery(d.Retry()), true
}
