package store

// The eligibility registry as the rest of the program sees it: the
// snapshot that answers lookups, its statistics, the previous snapshot
// kept for a rollback, and the NIK key it was made with. A snapshot is
// made by an import (registry_import.go: read, sort, load) and kept by one
// of two implementations of snapshots: bbolt files in the data directory
// (registry_file.go, on a bbolt store) or the tables of a backend that
// keeps the registry itself (registry_db.go: PostgreSQL, so that every
// replica answers from one snapshot, imported once). Lookups, statistics,
// rollback, the NIK key's fingerprint and the record format are the same
// on both (store/storetest's registry conformance runs on both).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
)

// snapshots keeps the registry's snapshots.
type snapshots interface {
	// currentIn and lookupIn read the snapshot current in tx (the
	// database's) or at the moment of the call (files); tx may be nil:
	// now, outside any transaction.
	currentIn(tx backend.Tx) (*bansosbot.Snapshot, error)
	lookupIn(tx backend.Tx, h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error)
	// snapshot and previous return the current and the previous snapshot
	// with their statistics (nil: none).
	snapshot() (*bansosbot.Snapshot, error)
	previous() (*bansosbot.Snapshot, error)
	// keyFingerprint is the current snapshot's (registryKeyFingerprint;
	// "": none, or made before fingerprints).
	keyFingerprint() (string, error)
	// create starts loading a new snapshot, with an id above the current
	// and the previous one.
	create(ctx context.Context) (snapshotLoader, error)
	// rollback swaps the current and the previous snapshot (ErrNoPrevious,
	// ErrOtherKey).
	rollback() (from, to *bansosbot.Snapshot, err error)
	// drop removes the current and the previous snapshot.
	drop() error
	// path is the current registry file ("": not a file).
	path() string
	// dataDir is the data directory (the import's sorted runs go there).
	dataDir() string
	close() error
}

// snapshotLoader loads one new snapshot (registry_load.go).
type snapshotLoader interface {
	snapshotID() uint64
	// load appends a chunk of records, in key order across calls.
	load(c *chunk) error
	// finish stores the snapshot's metadata, statistics (s.ID is the
	// loader's), the key fingerprint and the texts the records refer to.
	finish(s *bansosbot.Snapshot, keyFP string, texts []string) error
	// install makes the finished snapshot current; with keepPrev the one
	// it replaces is kept for a rollback, else dropped. It returns the
	// replaced one.
	install(keepPrev bool) (old *bansosbot.Snapshot, err error)
	// discard removes a snapshot not installed and releases what the load
	// holds (after install, only the latter).
	discard()
}

// snapshotMeta is a snapshot without its statistics: what a lookup needs.
type snapshotMeta struct {
	ID         uint64             `json:"id"`
	AsOf       time.Time          `json:"as_of"`
	ImportedAt time.Time          `json:"imported_at"`
	Source     string             `json:"source,omitempty"`
	Programs   bansosbot.Programs `json:"programs"`
}

func (m snapshotMeta) snapshot() *bansosbot.Snapshot {
	return &bansosbot.Snapshot{ID: m.ID, AsOf: m.AsOf, ImportedAt: m.ImportedAt, Source: m.Source, Programs: m.Programs}
}

// encodeSnapshot is how a snapshot's metadata and statistics are kept, in
// a registry file as in the database.
func encodeSnapshot(s *bansosbot.Snapshot) (meta, stats []byte, err error) {
	if meta, err = json.Marshal(snapshotMeta{ID: s.ID, AsOf: s.AsOf, ImportedAt: s.ImportedAt, Source: s.Source, Programs: s.Programs}); err != nil {
		return nil, nil, err
	}
	if stats, err = json.Marshal(s.Stats); err != nil {
		return nil, nil, err
	}
	return meta, stats, nil
}

// registryKeyFingerprint identifies the NIK key a registry file was made
// with, without revealing it: a rollback to a file made under another key
// (before a secret rotation) would answer "not registered" to everyone.
func registryKeyFingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bansosbot registry key fingerprint"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// RegistryCurrent returns the current snapshot without its statistics,
// or nil when no registry was imported.
func (tx *Tx) RegistryCurrent() (*bansosbot.Snapshot, error) {
	if tx.reg == nil {
		return nil, nil
	}
	return tx.reg.currentIn(tx.tx)
}

// RegistryLookup finds the record of a NIK hash in the current snapshot.
// The snapshot is nil when no registry was ever imported (its Stats are
// not loaded); the record is nil when the NIK is not in the snapshot.
// In a registry file, the lookup reads the snapshot current at the moment
// of the call, not as of the transaction's start; in the database, the
// snapshot current in the transaction.
func (tx *Tx) RegistryLookup(h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
	if tx.reg == nil {
		return nil, nil, nil
	}
	return tx.reg.lookupIn(tx.tx, h)
}

// RegistrySnapshot returns the current snapshot with its statistics, or
// nil when no registry was imported.
func (db *DB) RegistrySnapshot() (*bansosbot.Snapshot, error) { return db.snaps.snapshot() }

// RegistryPrevious returns the snapshot kept for a rollback, with its
// statistics, or nil when there is none.
func (db *DB) RegistryPrevious() (*bansosbot.Snapshot, error) { return db.snaps.previous() }

// RegistryPath is the path of the current registry file (it may not
// exist; "" when the registry is in the database).
func (db *DB) RegistryPath() string { return db.snaps.path() }

// ErrNoPrevious is returned by RegistryRollback when no previous snapshot
// is kept.
var ErrNoPrevious = errors.New("store: no previous registry snapshot is kept")

// ErrOtherKey is returned by RegistryRollback when the previous snapshot
// was made under another NIK key (before a secret rotation).
var ErrOtherKey = errors.New("store: the previous registry snapshot was made under another secret")

// RegistryRollback makes the previous snapshot current again; the one it
// replaces becomes the previous one (a second rollback undoes the first).
func (db *DB) RegistryRollback() (from, to *bansosbot.Snapshot, err error) {
	if _, busy := importing.LoadOrStore(db, struct{}{}); busy {
		return nil, nil, errors.New("store: registry rollback: an import is running")
	}
	defer importing.Delete(db)
	return db.snaps.rollback()
}

// RegistryKeyMatches reports whether the current registry was made with
// key (true when there is no registry, or it predates key fingerprints;
// false when the registry cannot be read).
func (db *DB) RegistryKeyMatches(key []byte) bool {
	fp, err := db.snaps.keyFingerprint()
	return err == nil && (fp == "" || fp == registryKeyFingerprint(key))
}

// DropRegistry removes the current and the previous snapshot: after a
// secret rotation without the source file, a registry under the old key
// would answer "not registered" to everyone; without one, the status check
// says honestly that no data is loaded.
func (db *DB) DropRegistry() error {
	if _, busy := importing.LoadOrStore(db, struct{}{}); busy {
		return errors.New("store: drop registry: an import is running")
	}
	defer importing.Delete(db)
	return db.snaps.drop()
}
