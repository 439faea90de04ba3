package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
)

// Leases let several processes (bot replicas on one PostgreSQL database)
// share work: a lease is a named right held by one owner until it
// expires, renewed by its holder (every second, for a few seconds each
// time) and taken by another owner only once it has expired or was
// released. The bot holds one per chat shard (only the holder processes
// that shard's updates, so a chat's updates are handled in order), one
// for the outbox sender, the poller and the scheduled jobs, and one per
// replica to say it is alive (bot/lease.go).
//
// Time: a lease expires by the backend's clock when the backend has one
// shared by every process (backend.Clock: PostgreSQL's now()), so
// replicas whose clocks disagree still agree on who holds what; by the
// store's clock otherwise (bbolt, where one process holds the file and
// so every lease).
//
// Fencing: a lease's token grows each time it changes hands, and
// Tx.CheckLease, called in the transaction that commits work done under a
// lease, fails with ErrLeaseLost when its holder changed since: a replica
// that lost a lease (paused, partitioned, too slow to renew) cannot commit
// under it. A lease that expired but was taken by nobody still lets its
// holder commit: nobody else worked under it, so the serial order of the
// transactions is the same as if it had been renewed in time.

// Lease is a named lease and its holder; Expires is by the backend's
// clock (see above).
type Lease = bansosbot.Lease

// ErrLeaseLost is returned by Tx.CheckLease when the lease changed hands.
var ErrLeaseLost = bansosbot.ErrLeaseLost

var bucketLeases = []byte("leases") // name -> Lease

// leases is the backend leases are read and renewed through: the
// backend's priority connections when it has them (backend.Prioritizer),
// so that renewals do not queue behind a burst of work.
func (db *DB) leases() backend.Backend {
	if db.leaseKV != nil {
		return db.leaseKV
	}
	return db.kv
}

func (db *DB) leaseUpdate(fn func(*Tx) error) error {
	return db.leases().Update(func(tx backend.Tx) error { return fn(&Tx{tx: tx, now: db.now}) })
}

func (db *DB) leaseView(fn func(*Tx) error) error {
	return db.leases().View(func(tx backend.Tx) error { return fn(&Tx{tx: tx, now: db.now}) })
}

// leaseNow is the transaction's time for leases: the backend's shared
// clock when it has one, else the store's.
func (tx *Tx) leaseNow() (time.Time, error) {
	if c, ok := tx.tx.(backend.Clock); ok {
		return c.Now()
	}
	return tx.now(), nil
}

func getLease(b backend.Bucket, name string) (Lease, error) {
	l := Lease{Name: name}
	v := b.Get([]byte(name))
	if v == nil {
		return l, nil
	}
	if err := json.Unmarshal(v, &l); err != nil {
		return l, fmt.Errorf("store: decode lease %s: %w", name, err)
	}
	return l, nil
}

func putLease(b backend.Bucket, l Lease) error {
	v, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return b.Put([]byte(l.Name), v)
}

// AcquireLeases takes for owner, for ttl from now, each named lease that is
// free, expired or already owner's (renewing it), in one transaction, and
// returns the named leases owner holds now with the backend's time. A
// lease another owner holds is left alone.
func (db *DB) AcquireLeases(owner string, ttl time.Duration, names ...string) (held []Lease, now time.Time, err error) {
	if owner == "" {
		return nil, time.Time{}, errors.New("store: a lease needs an owner")
	}
	err = db.leaseUpdate(func(tx *Tx) error {
		held = held[:0]
		if now, err = tx.leaseNow(); err != nil {
			return err
		}
		b := tx.bucket(bucketLeases)
		for _, name := range names {
			l, err := getLease(b, name)
			if err != nil {
				return err
			}
			if l.Owner != owner && l.Owner != "" && now.Before(l.Expires) {
				continue // someone else's
			}
			if l.Owner != owner {
				l.Owner = owner
				l.Token++
			}
			l.Expires = now.Add(ttl)
			if err := putLease(b, l); err != nil {
				return err
			}
			held = append(held, l)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: acquire leases: %w", err)
	}
	return held, now, nil
}

// ReleaseLeases gives up owner's leases among names (a clean stop, or a
// replica handing shards to a newcomer): another owner may take them at
// once. Leases owner does not hold are left alone.
func (db *DB) ReleaseLeases(owner string, names ...string) error {
	err := db.leaseUpdate(func(tx *Tx) error {
		b := tx.bucket(bucketLeases)
		for _, name := range names {
			l, err := getLease(b, name)
			if err != nil {
				return err
			}
			if l.Owner != owner {
				continue
			}
			l.Owner, l.Expires = "", time.Time{}
			l.Token++ // whatever the holder had in flight is fenced off
			if err := putLease(b, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: release leases: %w", err)
	}
	return nil
}

// Leases lists the leases whose names start with prefix, in name order,
// with the backend's time (to tell live leases from expired ones).
func (db *DB) Leases(prefix string) (leases []Lease, now time.Time, err error) {
	err = db.leaseView(func(tx *Tx) error {
		leases = leases[:0]
		if now, err = tx.leaseNow(); err != nil {
			return err
		}
		c := tx.bucket(bucketLeases).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			l := Lease{Name: string(k)}
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("store: decode lease %s: %w", k, err)
			}
			leases = append(leases, l)
		}
		return nil
	})
	return leases, now, err
}

// CheckLease fails with ErrLeaseLost unless owner still holds the lease
// with the token it was given. Call it in the transaction that commits
// work done under the lease (fencing): it then commits only if the lease
// did not change hands before.
func (tx *Tx) CheckLease(name, owner string, token uint64) error {
	l, err := getLease(tx.bucket(bucketLeases), name)
	if err != nil {
		return err
	}
	if l.Owner != owner || l.Token != token {
		return fmt.Errorf("%w: %s", ErrLeaseLost, name)
	}
	return nil
}
