package store

import (
	"github.com/bansosbot/bansosbot/store/backend"
	bolt "go.etcd.io/bbolt"
)

// boltBackend is the backend on a bbolt file. Every wrapper below is a
// single pointer, so wrapping costs no allocation and a call one indirect
// jump (BenchmarkPipelineRoundTrip, before and after: see BENCHMARKS.md).
// Batch is the store's own group commit (batch.go), not bbolt's.
type boltBackend struct{ *groupCommit }

func newBoltBackend(db *bolt.DB) boltBackend { return boltBackend{newGroupCommit(db)} }

func (b boltBackend) View(fn func(backend.Tx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltBackend) Update(fn func(backend.Tx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltBackend) Batch(fn func(backend.Tx) error) error {
	return b.groupCommit.Batch(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltBackend) Close() error { return b.db.Close() }

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Bucket(name []byte) backend.Bucket {
	if b := t.tx.Bucket(name); b != nil {
		return boltBucket{b}
	}
	return nil // a nil interface, not a wrapped nil pointer
}

func (t boltTx) CreateBucketIfNotExists(name []byte) (backend.Bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return boltBucket{b}, nil
}

func (t boltTx) DeleteBucket(name []byte) error { return t.tx.DeleteBucket(name) }
func (t boltTx) Writable() bool                 { return t.tx.Writable() }

func (t boltTx) ForEachBucket(fn func(name []byte) error) error {
	return t.tx.ForEach(func(name []byte, _ *bolt.Bucket) error { return fn(name) })
}

type boltBucket struct{ b *bolt.Bucket }

func (b boltBucket) Get(k []byte) []byte                      { return b.b.Get(k) }
func (b boltBucket) Put(k, v []byte) error                    { return b.b.Put(k, v) }
func (b boltBucket) Delete(k []byte) error                    { return b.b.Delete(k) }
func (b boltBucket) Cursor() backend.Cursor                   { return boltCursor{b.b.Cursor()} }
func (b boltBucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }
func (b boltBucket) NextSequence() (uint64, error)            { return b.b.NextSequence() }
func (b boltBucket) Sequence() uint64                         { return b.b.Sequence() }
func (b boltBucket) SetSequence(v uint64) error               { return b.b.SetSequence(v) }
func (b boltBucket) KeyN() int                                { return b.b.Stats().KeyN }

type boltCursor struct{ c *bolt.Cursor }

func (c boltCursor) First() ([]byte, []byte)        { return c.c.First() }
func (c boltCursor) Last() ([]byte, []byte)         { return c.c.Last() }
func (c boltCursor) Seek(k []byte) ([]byte, []byte) { return c.c.Seek(k) }
func (c boltCursor) Next() ([]byte, []byte)         { return c.c.Next() }
func (c boltCursor) Prev() ([]byte, []byte)         { return c.c.Prev() }

// NewBoltBackend is the backend on an open bbolt file (tests of the
// backend interface, copies between backends).
func NewBoltBackend(db *bolt.DB) backend.Backend { return newBoltBackend(db) }
