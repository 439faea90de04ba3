package store

import "github.com/bansosbot/bansosbot/store/backend"

// Walk calls fn with every key and value of every bucket of the store
// (not the registry's file), bucket by bucket in name order, in one read
// transaction. Tests use it to look for data that must be gone whatever
// the backend; copies between backends read through it.
func (db *DB) Walk(fn func(bucket, k, v []byte) error) error {
	return db.kv.View(func(tx backend.Tx) error {
		return tx.ForEachBucket(func(name []byte) error {
			return tx.Bucket(name).ForEach(func(k, v []byte) error { return fn(name, k, v) })
		})
	})
}
