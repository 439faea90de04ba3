package bot

import (
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
)

// What the pipeline needs of a store, defined here where it is used (the
// package doc says how they fit together). The records are the root
// package's (bansosbot.InboxItem, OutboxItem, Lease); cmd wires a
// concrete store (store.DB, on bbolt or PostgreSQL) with Adapt.

// Inbox keeps the accepted updates until they are processed.
type Inbox interface {
	// Accept stores the updates not seen before (deduplicated by update
	// id against the inbox and the processed marks) and the next polling
	// offset (0: leave it), in one transaction, and returns the new ones:
	// once it returns, Telegram may forget them.
	Accept(items []bansosbot.InboxItem, nextOffset int64) ([]bansosbot.InboxItem, error)
	// Offset is the getUpdates offset to resume polling from.
	Offset() (int64, error)
	// Pending is the inbox in update order.
	Pending() ([]bansosbot.InboxItem, error)
	// PendingFrom is up to limit items of the inbox (all when limit <= 0)
	// from update id from on, in update order (the shared inbox scan
	// reads on from where it stopped).
	PendingFrom(from int64, limit int) ([]bansosbot.InboxItem, error)
}

// Outbox keeps the Telegram calls until they are delivered or parked.
type Outbox interface {
	// OutboxFeed starts a feed of the items not loaded yet: each once,
	// also those a concurrent writer commits late with a smaller id (on
	// PostgreSQL the outbox is taken FOR UPDATE SKIP LOCKED, not read by
	// id). A sender starting anew takes a new feed.
	OutboxFeed() bansosbot.OutboxFeed
	// Delivered removes delivered items (ids of items gone are ignored).
	Delivered(ids ...uint64) error
	// Reschedule stores an item's attempts, error and next try.
	Reschedule(it bansosbot.OutboxItem) error
	// ParkOutbox moves items to the dead letters.
	ParkOutbox(reason string, items ...bansosbot.OutboxItem) error
	OutboxDepth() (int, error)
	// PutPrompt records the delivered prompt of a chat (prompt.go).
	PutPrompt(chatID int64, p bansosbot.Prompt) error
}

// Leases are named rights held by one replica at a time (lease.go).
type Leases interface {
	// AcquireLeases takes or renews the named leases for owner and
	// returns those it holds, with the store's time.
	AcquireLeases(owner string, ttl time.Duration, names ...string) (held []bansosbot.Lease, now time.Time, err error)
	ReleaseLeases(owner string, names ...string) error
	// Leases are the leases whose names start with prefix.
	Leases(prefix string) (leases []bansosbot.Lease, now time.Time, err error)
}

// Gauges are what the metrics read of a store at scrape time (metrics.go).
type Gauges interface {
	InboxDepth() (int, error)
	OutboxDepth() (int, error)
	// OldestOutbox is when the oldest waiting outbox item was created.
	OldestOutbox() (at time.Time, ok bool, err error)
	DeadLetterCount() (int, error)
	// TallyCounts are the tickets by status and province from the report
	// counters; ok is false when the store keeps none (TicketCounts then
	// counts them from the status index).
	TallyCounts() (counts []bansosbot.TicketCount, ok bool, err error)
	TicketCounts() ([]bansosbot.TicketCount, error)
	// OverdueByProvince counts the open tickets overdue at now from the
	// report counters; ok is false when the store keeps none.
	OverdueByProvince(now time.Time) (byProvince map[bansosbot.RegionCode]int, ok bool, err error)
	// Stats are the event counters (Tx.AddStat).
	Stats() (map[string]uint64, error)
	// WriteFailures counts the transactions the backend failed to write;
	// WritesFailingFor says since when every write has failed (0: the
	// last one succeeded).
	WriteFailures() uint64
	WritesFailingFor() (time.Duration, error)
}

// Tx is one transaction: what the flows read and write, and the
// pipeline's writes that commit with them.
type Tx interface {
	flows.Store
	// ClaimUpdate takes the update for the transaction before it is
	// handled: done when it was handled already (skip it), an error that
	// is a bansosbot.ErrLeaseLost when another replica's transaction holds
	// it right now (leave it, and the chat's later updates, to that
	// replica; it does not wait). MarkProcessed records it as handled and
	// drops it from the inbox (the dedup of updates delivered twice).
	ClaimUpdate(updateID int64) (done bool, err error)
	MarkProcessed(updateID int64) error
	// ParkUpdate moves an update to the dead letters and marks it
	// processed.
	ParkUpdate(it bansosbot.InboxItem, reason string) error
	// Enqueue appends a call to the outbox.
	Enqueue(it bansosbot.OutboxItem) (uint64, error)
	// CheckLease fails with bansosbot.ErrLeaseLost unless owner still
	// holds the lease with that token (fencing).
	CheckLease(name, owner string, token uint64) error
	// AddStat adds n to the event counter name.
	AddStat(name string, n uint64) error
}

// DB is the store the Server and the metrics run on. A function given to
// View, Update or Batch may run more than once (Batch groups concurrent
// calls into one commit; PostgreSQL reruns serialization failures), so it
// works only through its Tx. A write the backend cannot commit fails with
// a *bansosbot.WriteError.
type DB interface {
	Inbox
	Outbox
	Leases
	Gauges
	View(fn func(Tx) error) error
	Update(fn func(Tx) error) error
	Batch(fn func(Tx) error) error
}

// TxDB is a DB whose transactions are of a concrete type T (store.DB's
// are Tx), as a store declares them.
type TxDB[T Tx] interface {
	Inbox
	Outbox
	Leases
	Gauges
	View(fn func(T) error) error
	Update(fn func(T) error) error
	Batch(fn func(T) error) error
}

// Adapt makes a DB of db. Go's function types are not covariant: a
// store's Update(func(Tx) error) is no Update(func(Tx) error)
// although Tx is a Tx; Adapt only passes the transactions on.
func Adapt[T Tx](db TxDB[T]) DB { return adapted[T]{db} }

type adapted[T Tx] struct{ TxDB[T] }

func (a adapted[T]) View(fn func(Tx) error) error {
	return a.TxDB.View(func(tx T) error { return fn(tx) })
}

func (a adapted[T]) Update(fn func(Tx) error) error {
	return a.TxDB.Update(func(tx T) error { return fn(tx) })
}

func (a adapted[T]) Batch(fn func(Tx) error) error {
	return a.TxDB.Batch(func(tx T) error { return fn(tx) })
}
