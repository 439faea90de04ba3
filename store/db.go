// Package store keeps bansosbot's state in a bbolt file: the inbox of
// accepted Telegram updates and the set of processed ones, the outbox of
// messages to send, dead letters, user profiles and conversation sessions,
// rate-limit counters, tickets with their history and indexes, staff and
// the audit log. The eligibility registry is a bbolt file of its own beside
// it (registry_file.go), opened read-only and replaced by rename at each
// import; on PostgreSQL it is in the database (registry_db.go).
//
// All writes go through transactions (DB.Update, DB.Batch); a Tx is what
// flows.Engine reads and writes through. The file carries a schema version;
// Open runs pending migrations and refuses a file newer than this program.
//
// Backends: the store is written against store/backend, an ordered
// key-value interface with bbolt's method set (buckets, Get/Put/Delete,
// cursors, per-bucket sequences). Open puts it on a bbolt file (a thin,
// allocation-free wrapper: the default stays as fast as before);
// OpenBackend on any other implementation, such as store/pgstore's
// PostgreSQL table of (bucket, key, value) rows in serializable
// transactions. The trade-off is deliberate: every Tx method, index and
// migration works unchanged on both, so both pass one conformance suite
// (store/storetest), at the price of PostgreSQL rows that are opaque to SQL
// (no ad-hoc queries on tickets) and one round trip per read. Operations on
// the bbolt file itself (Backup, the free-page scrub, the registry's move
// out of the main file) are bbolt-only and refuse with ErrNotBolt elsewhere.
// Unless the backend keeps it (backend.Registry: pgstore's tables, one
// snapshot for every replica: registry_db.go),
// the eligibility registry stays a local bbolt file beside either backend.
// A backend may keep the inbox and the outbox as queues (backend.Queue:
// pgstore's tables): then ids of the outbox come from a sequence, the
// sender follows it with an OutboxFeed that takes rows, and the
// transaction handling an update claims it (ClaimUpdate); on bbolt the
// same calls read the plain buckets, with the same results.
//
// Write health: every read-write transaction passes through a watch
// (health.go) that tells a failure of the backend (the commit could not be
// written: a full disk, an I/O error, the database unreachable) from the
// function's own error, returns the former as a WriteError and remembers
// since when writes fail, for readiness and metrics.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bansosbot/bansosbot/store/backend"
	bolt "go.etcd.io/bbolt"
)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("store: the data file is in use by another process")

// ErrNotBolt is returned by the operations that work on the bbolt file
// itself (backup, restore, the free-page scrub) on another backend.
var ErrNotBolt = errors.New("this operation copies or rewrites the bbolt file and the store is on PostgreSQL: " +
	"back it up with pg_dump (e.g. pg_dump -Fc -f bansosbot.dump DBNAME) and restore with pg_restore, " +
	"or use the managed service's snapshots")

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for the file lock (default 1s).
	LockTimeout time.Duration
	// NoSync skips fsync; only for benchmarks and throwaway demos.
	NoSync bool
	// ReadOnly opens the file for reading (backup inspection, reports).
	ReadOnly bool
	// Now is the clock for timestamps written by the store (default time.Now).
	Now func() time.Time
	// Wrap, when set, wraps the backend (tests inject storage faults).
	Wrap func(backend.Backend) backend.Backend
}

// DB is an open store.
type DB struct {
	kv       backend.Backend
	bolt     *bolt.DB // nil on other backends: bbolt-only operations refuse
	path     string
	now      func() time.Time
	readOnly bool
	reg      *fileRegistry   // the eligibility registry's files (nil: the backend keeps it)
	snaps    snapshots       // the eligibility registry: reg, or the backend's (registry.go)
	tallier  Tallier         // keeps the report counters (tally.go); nil: none
	leaseKV  backend.Backend // where leases are renewed (lease.go); nil: kv
	wrap     func(backend.Backend) backend.Backend
	health   writeHealth // whether writes succeed (health.go)
	// taker takes from the outbox when the backend keeps it as a
	// backend.Queue (pipeline.go's OutboxFeed); nil: a plain bucket.
	taker backend.Taker
}

// FileName is the name of the bbolt file inside the data directory.
const FileName = "bansosbot.db"

// Open opens (creating if needed) the store file at path and migrates it to
// the current schema version.
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	b, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	db := &DB{bolt: b, path: path, now: opts.Now, readOnly: opts.ReadOnly, wrap: opts.Wrap}
	db.setBackend(newBoltBackend(b))
	db.reg = newFileRegistry(filepath.Dir(path), opts)
	db.snaps = db.reg
	if !opts.ReadOnly {
		// A file from before the registry had its own file: move the
		// registry out (and compact the main file) before migrating.
		if err := db.moveRegistryOut(db.reg, opts); err != nil {
			db.bolt.Close()
			return nil, err
		}
		if err := db.migrate(); err != nil {
			db.bolt.Close()
			return nil, err
		}
	} else if err := db.checkVersion(); err != nil {
		b.Close()
		return nil, err
	}
	if err := db.reg.open(); err != nil {
		db.bolt.Close()
		return nil, err
	}
	return db, nil
}

// OpenBackend opens the store on another backend (store/pgstore's
// PostgreSQL) and migrates it to the current schema version. The store's
// buckets live in the backend; so does the eligibility registry when b
// implements backend.Registry (registry_db.go), else it is a bbolt file in
// dir, imported on each machine. The store closes b.
func OpenBackend(b backend.Backend, name, dir string, opts Options) (*DB, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	db := &DB{path: name, now: opts.Now, readOnly: opts.ReadOnly, wrap: opts.Wrap}
	if p, ok := b.(backend.Prioritizer); ok {
		db.leaseKV = p.Priority()
	}
	db.setBackend(b)
	if rb, ok := b.(backend.Registry); ok {
		db.snaps = newDBRegistry(rb, dir)
	} else {
		db.reg = newFileRegistry(dir, opts)
		db.snaps = db.reg
	}
	var err error
	if opts.ReadOnly {
		err = db.checkVersion()
	} else {
		err = db.migrate()
	}
	if err == nil {
		err = db.reg.open()
	}
	if tk, ok := b.(backend.Taker); ok && err == nil {
		err = db.kv.View(func(tx backend.Tx) error {
			if _, ok := tx.Bucket(bucketOutbox).(backend.Queue); ok {
				db.taker = tk
			}
			return nil
		})
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return db, nil
}

// Bolt reports whether the store is a bbolt file (backup, restore and the
// free-page scrub work only there).
func (db *DB) Bolt() bool { return db.bolt != nil }

// openBolt opens the main file. The free list is written with every
// commit (bbolt's default): with NoFreelistSync, every read-write open
// walked every page of the file to rebuild it, so starting took time and
// memory proportional to the file (issue 13). Opening a file written
// without it rebuilds the list once and persists it from then on.
func openBolt(path string, opts Options) (*bolt.DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.LockTimeout,
		NoSync:       opts.NoSync,
		ReadOnly:     opts.ReadOnly,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (is another bansosbot running on this data directory?)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return b, nil
}

// Close closes the files; it waits for open transactions to finish.
func (db *DB) Close() error {
	rerr := db.snaps.close()
	if err := db.kv.Close(); err != nil {
		return err
	}
	return rerr
}

// Path is the file's path.
func (db *DB) Path() string { return db.path }

// Now is the store's clock.
func (db *DB) Now() time.Time { return db.now() }

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(*Tx) error) error {
	return db.kv.View(func(tx backend.Tx) error { return fn(&Tx{tx: tx, now: db.now, reg: db.snaps, tallier: db.tallier}) })
}

// Update runs fn in a read-write transaction of its own.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.kv.Update(func(tx backend.Tx) error { return fn(&Tx{tx: tx, now: db.now, reg: db.snaps, tallier: db.tallier}) })
}

// Batch runs fn in a read-write transaction shared with concurrent Batch
// calls (group commit). fn may run more than once: it must read and write
// only through its transaction.
func (db *DB) Batch(fn func(*Tx) error) error {
	return db.kv.Batch(func(tx backend.Tx) error { return fn(&Tx{tx: tx, now: db.now, reg: db.snaps, tallier: db.tallier}) })
}

// Tx is a transaction. It is valid only inside the function it was given to.
type Tx struct {
	tx      backend.Tx
	now     func() time.Time
	reg     snapshots // nil in migrations
	tallier Tallier   // nil: PutTicket marks the report counters stale
}

// Now is the store's clock.
func (tx *Tx) Now() time.Time { return tx.now() }

// Writable reports whether the transaction can write.
func (tx *Tx) Writable() bool { return tx.tx.Writable() }

func (tx *Tx) bucket(name []byte) backend.Bucket {
	b := tx.tx.Bucket(name)
	if b == nil {
		// Buckets are created by migrations; a missing one is a bug.
		panic(fmt.Sprintf("store: bucket %q missing", name))
	}
	return b
}
