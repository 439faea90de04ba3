package backend

import (
	"context"
	"errors"
)

// Registry is implemented by a backend that keeps the eligibility
// registry's snapshots in the database itself (store/pgstore), so that
// every replica answers from the same snapshot and an import is done once,
// not on each machine. The store encodes what is kept (records, metadata,
// statistics: store/registry_db.go) and the backend stores it as given;
// NIKs arrive only as their keyed hashes. Without it, the store keeps the
// registry in bbolt files in the data directory.
//
// A snapshot is loaded aside (NewSnapshot), invisible to lookups until
// Install makes it current in one transaction, which also keeps the one it
// replaces as the previous snapshot (for a rollback) and drops the older
// ones. Loading, installing, rolling back and dropping exclude each other
// across processes (ErrRegistryBusy).
type Registry interface {
	// RegistryView runs fn in a read-only transaction (for a store whose
	// transactions are not the backend's own: see RegistryTx).
	RegistryView(fn func(RegistryTx) error) error
	// RegistrySnapshots returns the current and the previous snapshot with
	// their statistics (nil: none).
	RegistrySnapshots() (cur, prev *Snapshot, err error)
	// NewSnapshot starts loading a snapshot whose id is above every id
	// used before. It holds the registry's lock until Install or Discard.
	NewSnapshot(ctx context.Context) (SnapshotLoader, error)
	// SwapSnapshots makes the previous snapshot current and the current
	// one previous, in one transaction, after check approved the pair
	// (its error is returned as is). Without a previous snapshot it
	// returns ErrNoPrevious. It returns the pair as it was.
	SwapSnapshots(check func(cur, prev *Snapshot) error) (cur, prev *Snapshot, err error)
	// DropSnapshots removes every snapshot.
	DropSnapshots() error
}

// RegistryTx reads the registry. It is implemented by the transactions of
// a Registry backend, so that a lookup reads the snapshot of the
// transaction it is made in.
type RegistryTx interface {
	// RegistryCurrent returns the current snapshot without its statistics
	// and texts (nil: none).
	RegistryCurrent() (*Snapshot, error)
	// RegistryGet returns the value of key in snapshot id (nil: absent).
	RegistryGet(id uint64, key []byte) ([]byte, error)
	// RegistryTexts returns the texts of snapshot id.
	RegistryTexts(id uint64) ([]string, error)
}

// Snapshot is a registry snapshot as the backend keeps it.
type Snapshot struct {
	ID    uint64
	Meta  []byte // the store's encoding of its date, source and programs
	Stats []byte // the store's encoding of its statistics
	Key   string // fingerprint of the NIK key it was made with
	Texts []string
}

// SnapshotLoader loads one snapshot.
type SnapshotLoader interface {
	ID() uint64
	// Load appends records given back to back in recs, record i ending
	// at ends[i]: a 32-byte key (a NIK hash), then the value. Keys come in
	// increasing order, each once, across calls.
	Load(recs []byte, ends []int) error
	// Finish stores the snapshot's metadata, statistics, key fingerprint
	// and texts (s.ID is ignored) and completes the load: the snapshot is
	// kept, still not current.
	Finish(s Snapshot) error
	// Install makes the finished snapshot current in one transaction;
	// with keepPrev the replaced one becomes the previous one, else it is
	// dropped; older snapshots are dropped. It returns the replaced one.
	Install(keepPrev bool) (old *Snapshot, err error)
	// Discard drops an unfinished or uninstalled snapshot and releases
	// the lock; after Install it only releases the lock.
	Discard()
}

// ErrNoPrevious: no previous snapshot is kept.
var ErrNoPrevious = errors.New("no previous registry snapshot is kept")

// ErrRegistryBusy: another process is importing, rolling back or dropping
// the registry.
var ErrRegistryBusy = errors.New("another registry import, rollback or drop is running")
