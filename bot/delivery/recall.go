package delivery

// SentCopy is one delivered copy of an announcement, as the Store records
// it with each successful send: what deleting it again (a staff recall)
// needs.
type SentCopy struct {
	ChatID    int64
	MessageID int
	// MessageIDs are all the ids of an album's copy; nil for one message.
	MessageIDs []int
}

// IDs are the copy's message ids.
func (c SentCopy) IDs() []int {
	if len(c.MessageIDs) > 0 {
		return c.MessageIDs
	}
	return []int{c.MessageID}
}

// RateBurst is the burst the engine asks Store.AllowSends for at rate.
// Others that draw from the same shared rate, such as the deletions of a
// recall, use it too, so that every replica and every kind of call shares
// one budget on the same terms.
func RateBurst(rate float64) int { return burstFor(rate) }
