package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime/debug"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
	bolt "go.etcd.io/bbolt"
)

// What monitoring, "bansosbot doctor", restore and the metrics read: cheap
// counts (index keys, bucket statistics) and a look at a file without
// migrating it.

// OldestOutbox returns when the oldest waiting outbox item was queued; ok
// is false when the outbox is empty. Ids grow with time, so it is the
// first key.
func (db *DB) OldestOutbox() (at time.Time, ok bool, err error) {
	err = db.kv.View(func(tx backend.Tx) error {
		_, v := tx.Bucket(bucketOutbox).Cursor().First()
		if v == nil {
			return nil
		}
		it, err := decodeOutbox(v)
		if err != nil {
			return err
		}
		at, ok = it.CreatedAt, true
		return nil
	})
	return at, ok, err
}

// DeadLetterCount counts the parked items.
func (db *DB) DeadLetterCount() (int, error) {
	var n int
	err := db.kv.View(func(tx backend.Tx) error { n = tx.Bucket(bucketDead).KeyN(); return nil })
	return n, err
}

// TicketCount is how many tickets have a status in a province.
type TicketCount = bansosbot.TicketCount

// TicketCounts counts tickets by status and province from the keys of the
// status index alone (no ticket is decoded), in key order.
func (db *DB) TicketCounts() ([]TicketCount, error) {
	var out []TicketCount
	err := db.kv.View(func(tx backend.Tx) error {
		c := tx.Bucket(bucketByStatus).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			// status 0 region 0 id(8)
			i := bytes.IndexByte(k, 0)
			if i < 0 || len(k) < i+10 {
				continue
			}
			status := bansosbot.Status(k[:i])
			region := bansosbot.RegionCode(k[i+1 : len(k)-9])
			prov := region.Province()
			if n := len(out); n > 0 && out[n-1].Status == status && out[n-1].Province == prov {
				out[n-1].N++
				continue
			}
			out = append(out, TicketCount{Status: status, Province: prov, N: 1})
		}
		return nil
	})
	return out, err
}

// Persistent event counters live in the meta bucket under this prefix:
// counts of things that happen inside update transactions (registry
// lookups, rate-limit refusals, escalation steps), written in the same
// transaction as the event, so that a retried transaction never counts
// twice and a restart loses nothing.
var statPrefix = []byte("stat/")

// AddStat adds n to the named event counter in this transaction.
func (tx *Tx) AddStat(name string, n uint64) error {
	if n == 0 {
		return nil
	}
	b := tx.bucket(bucketMeta)
	k := append(append([]byte(nil), statPrefix...), name...)
	var cur uint64
	if v := b.Get(k); len(v) == 8 {
		cur = binary.BigEndian.Uint64(v)
	}
	return b.Put(k, u64(cur+n))
}

// Stats returns every event counter by name.
func (db *DB) Stats() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := db.kv.View(func(tx backend.Tx) error {
		c := tx.Bucket(bucketMeta).Cursor()
		for k, v := c.Seek(statPrefix); k != nil && bytes.HasPrefix(k, statPrefix); k, v = c.Next() {
			if len(v) == 8 {
				out[string(k[len(statPrefix):])] = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return out, err
}

// FileInfo describes a store file.
type FileInfo struct {
	Version     int // schema version (0: not a bansosbot store)
	Size        int64
	Tickets     int
	Outbox      int
	Inbox       int
	DeadLetters int
	// FirstTicket is the lowest ticket id and its number (zero when there
	// are no tickets): numbers derive from the secret, so a restore can
	// tell a backup made under another secret.
	FirstTicket   uint64
	FirstTicketNo bansosbot.TicketNo
	// SecretFingerprint is the fingerprint of the secret the file was
	// made with ("" in files from before fingerprints; see secret.go).
	SecretFingerprint string
}

// Inspect reads a store file without migrating or writing it. It takes the
// file's lock shared, so it fails with ErrLocked while a running instance
// holds the file (after timeout). verify runs bbolt's consistency check
// of every page.
func Inspect(path string, timeout time.Duration, verify bool) (info FileInfo, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return info, fmt.Errorf("store: %w", err)
	}
	info.Size = fi.Size()
	if err := checkSize(path, info.Size); err != nil {
		return info, err
	}
	b, err := openShared(path, timeout)
	if err != nil {
		return info, err
	}
	defer b.Close()
	// A damaged file read through bbolt's memory map can fault; make
	// that an error instead of a crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: %s is damaged: %v", path, r)
		}
	}()
	err = b.View(func(btx *bolt.Tx) error {
		tx := boltTx{btx}
		info.Version = fileVersion(tx)
		info.SecretFingerprint = secretFingerprint(tx)
		count := func(name []byte) int {
			if bk := tx.Bucket(name); bk != nil {
				return bk.KeyN()
			}
			return 0
		}
		info.Tickets, info.Outbox, info.Inbox, info.DeadLetters = count(bucketTickets), count(bucketOutbox), count(bucketInbox), count(bucketDead)
		if bk := tx.Bucket(bucketTickets); bk != nil {
			if k, v := bk.Cursor().First(); k != nil {
				if t, err := decodeTicket(v); err == nil {
					info.FirstTicket, info.FirstTicketNo = t.ID, t.No
				}
			}
		}
		if !verify {
			return nil
		}
		var first error
		for err := range btx.Check() { // drain: Check's goroutine sends every error
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return fmt.Errorf("store: %s is damaged: %w", path, first)
		}
		return nil
	})
	return info, err
}

// LockFile holds the lock of the store file at path (shared, like a
// reader) until release is called, so that no instance can start on it
// meanwhile; ErrLocked when a running instance holds it. A missing or
// unreadable file holds no lock and is not an error: there is nothing to
// protect (restore uses it before replacing the file).
func LockFile(path string, timeout time.Duration) (release func() error, err error) {
	none := func() error { return nil }
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return none, nil
	}
	b, err := openShared(path, timeout)
	if errors.Is(err, ErrLocked) {
		return nil, err
	}
	if err != nil {
		return none, nil // not a valid store: nobody can run on it either
	}
	return b.Close, nil
}

// checkSize refuses a file shorter than its own meta pages say (a
// truncated copy): bbolt maps the file into memory and reading a page
// past its end kills the process (SIGBUS) instead of failing. The meta
// page layout is bbolt's (internal/common/meta.go), in native byte order:
// a 16-byte page header, then magic, version, page size, flags (4 bytes
// each), the root bucket (16), the freelist page (8), the high-water
// mark pgid (8), txid (8) and an FNV-64a checksum of what precedes it.
func checkSize(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	const header, metaSum = 16, 56
	read := func(off int64) (pageSize uint32, pgid uint64, ok bool) {
		buf := make([]byte, header+metaSum+8)
		if _, err := f.ReadAt(buf, off); err != nil {
			return 0, 0, false
		}
		m := buf[header:]
		e := binary.NativeEndian
		if e.Uint32(m[0:]) != 0xED0CDAED {
			return 0, 0, false
		}
		h := fnv.New64a()
		h.Write(m[:metaSum])
		if h.Sum64() != e.Uint64(m[metaSum:]) {
			return 0, 0, false
		}
		return e.Uint32(m[8:]), e.Uint64(m[40:]), true
	}
	pageSize, pgid0, ok0 := read(0)
	if !ok0 {
		return fmt.Errorf("store: %s is not a bbolt database (or its first page is damaged)", path)
	}
	need := int64(pgid0) * int64(pageSize)
	if _, pgid1, ok1 := read(int64(pageSize)); ok1 {
		need = max(need, int64(pgid1)*int64(pageSize))
	}
	if size < need {
		return fmt.Errorf("store: %s is truncated: %d bytes, its pages need %d", path, size, need)
	}
	return nil
}

func openShared(path string, timeout time.Duration) (*bolt.DB, error) {
	if timeout <= 0 {
		timeout = time.Second
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (is a bansosbot running on this data directory?)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return b, nil
}
