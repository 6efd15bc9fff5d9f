package store

import bolt "go.etcd.io/bbolt"

// DropSearchIndexForTest leaves the file as a release without the search
// index wrote it: no term index, no version mark.
func (b *Bolt) DropSearchIndexForTest() error {
	return b.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte(boltPubMeta)); err != nil {
			return err
		}
		latest := tx.Bucket([]byte(boltPubLatest))
		ids := tx.Bucket([]byte(boltPubLatestIDs))
		for _, bk := range []*bolt.Bucket{latest, ids} {
			var drop [][]byte
			c := bk.Cursor()
			for k, _ := c.Seek([]byte{'t'}); k != nil && k[0] == 't'; k, _ = c.Next() {
				drop = append(drop, append([]byte(nil), k...))
			}
			for _, k := range drop {
				if err := bk.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
