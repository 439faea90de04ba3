// Package backend is the ordered key-value interface the store is written
// against: named buckets of byte keys in byte order, read and written in
// transactions. Its method set is bbolt's (the store began on bbolt), so
// the bbolt implementation is a thin wrapper and the store's code reads the
// same on every backend; store/pgstore implements it on PostgreSQL.
//
// Errors: bbolt's Get and cursor moves cannot fail, and the interface keeps
// their signatures. A backend whose reads can fail (a network database)
// records the first failure in the transaction, answers nil from then on
// (values, cursor moves; Bucket still answers a bucket, an empty one, since
// callers take the buckets the migrations created for granted), and returns that failure from View/Update/Batch whatever the function
// returned, so a failed read never becomes "not found" in a committed
// transaction.
package backend

import (
	"errors"
	"time"
)

// Backend is an open database.
type Backend interface {
	// View runs fn in a read-only transaction (a consistent snapshot).
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction. fn may run more than
	// once on a backend that retries conflicting transactions: it must
	// read and write only through its transaction (or reset what it
	// collects outside at its start).
	Update(fn func(Tx) error) error
	// Batch is Update that may share the transaction with concurrent
	// Batch calls (bbolt's group commit); fn may run more than once.
	Batch(fn func(Tx) error) error
	Close() error
}

// Tx is a transaction, valid only inside the function it was given to.
type Tx interface {
	// Bucket returns the named bucket, nil when it does not exist.
	Bucket(name []byte) Bucket
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	DeleteBucket(name []byte) error
	Writable() bool
	// ForEachBucket calls fn with every bucket's name, in name order.
	ForEachBucket(fn func(name []byte) error) error
}

// Bucket is a set of key/value pairs ordered by key. Slices returned are
// valid until the end of the transaction and must not be modified.
type Bucket interface {
	// Get returns the value of key, nil when absent (a stored empty value
	// is a non-nil empty slice).
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	Cursor() Cursor
	// ForEach calls fn for every pair in key order; fn must not write
	// to the bucket.
	ForEach(fn func(k, v []byte) error) error
	// NextSequence increments and returns the bucket's sequence. A
	// transaction that takes a number commits before any transaction
	// that takes a later one becomes visible with it (numbers are
	// handed out in commit order), so a reader scanning past the
	// highest number it saw misses nothing.
	NextSequence() (uint64, error)
	// Sequence is the bucket's current sequence; SetSequence sets it
	// (copies between backends).
	Sequence() uint64
	SetSequence(v uint64) error
	// KeyN counts the keys.
	KeyN() int
}

// Cursor walks a bucket in key order. Each move returns the key and value
// it lands on, or nil, nil past either end. Writing to the bucket while a
// cursor walks it is not supported: collect keys, then write.
type Cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Seek(seek []byte) (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
}

// Clock is implemented by the transactions of a backend shared by several
// processes whose clock they all agree on (PostgreSQL's now()). Now is
// that clock's time at the transaction's start; the store times leases by
// it (store/lease.go), so replicas whose own clocks drift still agree on
// who holds what. A backend without it (bbolt: one process) times leases
// by the store's clock.
type Clock interface {
	Now() (time.Time, error)
}

// Prioritizer is implemented by a backend whose connections may all be
// busy with ordinary work (a pool of database connections): Priority is
// the same database through connections of its own, so that short,
// urgent transactions (lease renewals) never wait behind the others.
type Prioritizer interface {
	Priority() Backend
}

// Queue is implemented by the buckets a backend keeps as queues in tables
// of their own (store/pgstore: the inbox of updates and the outbox), on
// top of the ordered key-value methods, which work on them as on any
// bucket (copies, walks, counts and single reads and writes run
// unchanged). Keys of a queue are 8-byte big-endian numbers below 2^63.
// What a table does better than a range of rows under a counter is what
// Queue offers; a backend without it (bbolt: one writer at a time) gives
// plain buckets, and the store does the same with their methods.
type Queue interface {
	// Append stores value under a new key and returns it. Keys come from
	// a sequence that concurrent writers take without waiting for one
	// another: a transaction's keys are above those of every transaction
	// committed before it started, but a concurrent transaction may
	// commit a smaller key later, so the queue is followed with a
	// Taker's Take, not by key (NextSequence's promise does not hold for
	// Append).
	Append(value []byte) (uint64, error)
	// Lock locks the pair of key for the rest of the transaction without
	// waiting. found reports whether the pair exists; held whether this
	// transaction now holds it (false: another transaction does, so it
	// is being handled elsewhere right now: leave it).
	Lock(key []byte) (found, held bool, err error)
}

// Taker is implemented by a backend whose queues (Queue) are followed by
// taking. Take runs in a transaction of its own, not in a serializable
// one: FOR UPDATE SKIP LOCKED is made for READ COMMITTED, and a scan of
// the queue in a serializable transaction would leave predicate locks on
// it that every transaction appending to the queue would conflict with.
type Taker interface {
	// Take returns, in key order, up to limit pairs of the queue bucket
	// that taker has not taken before, and marks them taken by it. Pairs
	// that another transaction holds locked (FOR UPDATE SKIP LOCKED) are
	// passed over without waiting, and taken by a later call. A new taker
	// (another number) takes every pair again: a sender that starts anew
	// (its lease moved) must see everything not yet deleted.
	Take(bucket []byte, taker uint64, limit int) ([]Pair, error)
}

// Pair is a key and its value.
type Pair struct{ Key, Value []byte }

// Conflict is a transaction that failed only because concurrent ones
// touched the same data (PostgreSQL's serialization failures and
// deadlocks) and kept failing after the backend's own reruns. Neither the
// function nor its input is at fault: run later, it will succeed. A
// backend returns it wrapping its own error, whatever the function made of
// a failed read.
type Conflict struct{ Err error }

func (e *Conflict) Error() string { return e.Err.Error() }
func (e *Conflict) Unwrap() error { return e.Err }

// IsConflict reports whether err is (or wraps) a Conflict.
func IsConflict(err error) bool {
	var c *Conflict
	return errors.As(err, &c)
}
