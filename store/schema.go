package store

import (
	"encoding/binary"
	"fmt"

	"github.com/bansosbot/bansosbot/store/backend"
)

// Bucket names. Keys are documented where the bucket is used.
var (
	bucketMeta     = []byte("meta")
	bucketInbox    = []byte("inbox")    // update id -> inboxItem
	bucketDone     = []byte("done")     // update id -> processed time (dedup)
	bucketDead     = []byte("dead")     // seq -> DeadLetter
	bucketOutbox   = []byte("outbox")   // seq -> OutboxItem
	bucketProfiles = []byte("profiles") // user id -> Profile
	bucketSessions = []byte("sessions") // user id -> Session
	bucketCounters = []byte("counters") // name -> counter (rate limits)
	bucketTickets  = []byte("tickets")  // ticket id -> Ticket
	bucketEvents   = []byte("events")   // ticket id + seq -> Event
	bucketTicketNo = []byte("ticket_no")
	// Indexes of tickets, maintained by PutTicket in the same transaction.
	bucketByCitizen = []byte("idx_citizen") // citizen id + ticket id
	bucketByStatus  = []byte("idx_status")  // status 0 region 0 ticket id
	bucketByDue     = []byte("idx_due")     // next check (unix ns) + ticket id
	bucketStaff     = []byte("staff")       // user id -> Staff
	bucketInvites   = []byte("invites")     // code -> Invite
	bucketAudit     = []byte("audit")       // seq -> AuditEntry
	bucketAuditBy   = []byte("idx_audit")   // "t" ticket id seq | "s" staff id seq
)

var keySchemaVersion = []byte("schema_version")

// migration moves the file from version-1 to version.
type migration struct {
	version int
	name    string
	apply   func(tx backend.Tx) error
}

// migrations are applied in order; never edit a released one, append.
var migrations = []migration{
	{1, "core buckets: inbox, outbox, profiles, sessions, tickets", createBuckets(
		bucketMeta, bucketInbox, bucketDone, bucketDead, bucketOutbox, bucketProfiles,
		bucketSessions, bucketCounters, bucketTickets, bucketEvents, bucketTicketNo)},
	{2, "ticket indexes by citizen, status+region and due time", migrateTicketIndexes},
	{3, "staff, invitations and the audit log", createBuckets(bucketStaff, bucketInvites, bucketAudit, bucketAuditBy)},
	{4, "eligibility registry", createBuckets(bucketRegistry)}, // bucketRegistry: see registry_migrate.go
	{5, "eligibility registry in its own file (registry.db)", registryMovedOut},
	{6, "announcements and subscriptions", createBuckets(bucketSubs, bucketAnn, bucketAnnSent)}, // see announce.go
	{7, "leases of several replicas on one database", createBuckets(bucketLeases)},              // see lease.go
}

// SchemaVersion is the version this program writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func createBuckets(names ...[]byte) func(backend.Tx) error {
	return func(tx backend.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return fmt.Errorf("create bucket %s: %w", n, err)
			}
		}
		return nil
	}
}

// migrateTicketIndexes creates the index buckets and fills them from the
// tickets already stored.
func migrateTicketIndexes(tx backend.Tx) error {
	if err := createBuckets(bucketByCitizen, bucketByStatus, bucketByDue)(tx); err != nil {
		return err
	}
	t := &Tx{tx: tx}
	return tx.Bucket(bucketTickets).ForEach(func(_, v []byte) error {
		tk, err := decodeTicket(v)
		if err != nil {
			return err
		}
		return t.indexTicket(nil, tk)
	})
}

func fileVersion(tx backend.Tx) int {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0
	}
	v := b.Get(keySchemaVersion)
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

// migrate applies pending migrations, each in its own transaction with the
// version bump, so a crash leaves the file at a consistent version.
func (db *DB) migrate() error {
	var current int
	if err := db.kv.View(func(tx backend.Tx) error { current = fileVersion(tx); return nil }); err != nil {
		return err
	}
	if current > SchemaVersion() {
		return fmt.Errorf("store: %s has schema version %d but this program knows up to %d: "+
			"it was written by a newer bansosbot; downgrading is not supported (restore a backup taken before the upgrade, or run the newer version)",
			db.path, current, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		err := db.kv.Update(func(tx backend.Tx) error {
			if fileVersion(tx) >= m.version {
				return nil // another process sharing the database applied it
			}
			if err := m.apply(tx); err != nil {
				return err
			}
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return err
			}
			return meta.Put(keySchemaVersion, u64(uint64(m.version)))
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

func (db *DB) checkVersion() error {
	return db.kv.View(func(tx backend.Tx) error {
		if v := fileVersion(tx); v != SchemaVersion() {
			return fmt.Errorf("store: %s has schema version %d; this program needs %d (open it read-write once to migrate)", db.path, v, SchemaVersion())
		}
		return nil
	})
}

// Version returns the schema version of the open file.
func (db *DB) Version() (int, error) {
	var v int
	err := db.kv.View(func(tx backend.Tx) error { v = fileVersion(tx); return nil })
	return v, err
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func i64(v int64) []byte { return u64(uint64(v)) }

// purge deletes from the bucket every entry for which stale returns true
// and returns how many. The keys are collected first: deleting while a
// bbolt cursor iterates skips keys.
func (db *DB) purge(bucket []byte, stale func(k, v []byte) (bool, error)) (int, error) {
	n := 0
	err := db.kv.Update(func(tx backend.Tx) error {
		b := tx.Bucket(bucket)
		var keys [][]byte
		err := b.ForEach(func(k, v []byte) error {
			drop, err := stale(k, v)
			if drop {
				keys = append(keys, append([]byte(nil), k...))
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}
