package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Backlog implements delivery.Store: the deliveries queued or leased, not
// those delayed. The fan-out keeps them under delivery.Params.MaxQueued,
// so counting them walks a bounded number of pages.
func (b *Bolt) Backlog(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: backlog: %w", err)
	}
	var n int64
	err := b.db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{boltDlvQueue, boltDlvPending} {
			if bk := tx.Bucket([]byte(name)); bk != nil {
				n += int64(bk.Stats().KeyN)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: backlog: %w", err)
	}
	return n, nil
}
