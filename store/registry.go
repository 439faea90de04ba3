package store

// The eligibility registry as the rest of the program sees it: the
// snapshot that answers lookups, its statistics, the previous snapshot
// kept for a rollback, and the NIK key it was made with. A snapshot is
// made by an import (registry_import.go: read, sort, load); where it is
// kept is registry_file.go's business.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/bansosbot/bansosbot"
)

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
	return tx.reg.current(), nil
}

// RegistryLookup finds the record of a NIK hash in the current snapshot.
// The snapshot is nil when no registry was ever imported (its Stats are
// not loaded); the record is nil when the NIK is not in the snapshot.
// The registry is a file of its own: the lookup reads the snapshot current
// at the moment of the call, not as of the transaction's start.
func (tx *Tx) RegistryLookup(h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
	if tx.reg == nil {
		return nil, nil, nil
	}
	return tx.reg.lookup(h)
}

// RegistrySnapshot returns the current snapshot with its statistics, or
// nil when no registry was imported.
func (db *DB) RegistrySnapshot() (*bansosbot.Snapshot, error) { return db.reg.snapshot() }

// RegistryPrevious returns the snapshot kept for a rollback, with its
// statistics, or nil when there is none.
func (db *DB) RegistryPrevious() (*bansosbot.Snapshot, error) { return db.reg.previous() }

// RegistryPath is the path of the current registry file (it may not exist).
func (db *DB) RegistryPath() string { return db.reg.path() }

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
	return db.reg.rollback()
}

// RegistryKeyMatches reports whether the current registry was made with
// key (true when there is no registry, or it predates key fingerprints).
func (db *DB) RegistryKeyMatches(key []byte) bool {
	fp := db.reg.keyFingerprint()
	return fp == "" || fp == registryKeyFingerprint(key)
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
	return db.reg.drop()
}
