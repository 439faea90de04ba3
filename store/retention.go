package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Helpers of the retention job (UU PDP): walk the tickets in bounded
// transactions, expire idle drafts and old dead letters, and make sure
// removed data does not linger in the file's free pages.

// TicketsAfter calls fn for the tickets with an id above after, in id
// order, until fn returns false. A job walks all tickets in transactions
// of bounded size by resuming after the last id it saw; the closing-time
// order that retention needs has no index (the due index holds only open
// tickets), and one pass over the ids is linear however much is purged.
func (tx *Tx) TicketsAfter(after uint64, fn func(*bansosbot.Ticket) bool) error {
	c := tx.bucket(bucketTickets).Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
		t, err := decodeTicket(v)
		if err != nil {
			return err
		}
		if !fn(t) {
			return nil
		}
	}
	return nil
}

// IdleSessions returns the sessions last touched before before that still
// hold a conversation (a flow, a draft or a parked flow): the drafts the
// retention job expires.
func (tx *Tx) IdleSessions(before time.Time) ([]*bansosbot.Session, error) {
	var out []*bansosbot.Session
	err := tx.bucket(bucketSessions).ForEach(func(_, v []byte) error {
		var s bansosbot.Session
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("store: decode session: %w", err)
		}
		if s.UpdatedAt.Before(before) && (s.Flow != "" || len(s.Draft) > 0 || len(s.Held) > 0 || s.Parked != nil) {
			out = append(out, &s)
		}
		return nil
	})
	return out, err
}

// PurgeDeadLetters deletes dead letters parked before before. Their
// payloads are whole updates and rendered messages, personal data that
// must not outlive the time an operator needs to look at them.
func (db *DB) PurgeDeadLetters(before time.Time) (int, error) {
	return db.purge(bucketDead, func(_, v []byte) (bool, error) {
		var d DeadLetter
		return json.Unmarshal(v, &d) != nil || d.ParkedAt.Before(before), nil
	})
}

// ErrBusy is returned by ScrubFreePages while read transactions are open.
var ErrBusy = errors.New("store: read transactions are open; try again")

// ScrubFreePages overwrites the file's free pages with zeros and returns
// how many it wrote. bbolt never rewrites a page in place: a changed or
// deleted value leaves its old page, with the old bytes, on the free list
// until the page is reused, so personal data removed by retention or
// erasure would stay readable in the file (and in every backup, which
// copies the file) for an unknown time.
//
// It runs inside a write transaction, so no writer can take a free page
// meanwhile, and only when no read transaction is open: bbolt also lists
// as free the pages that readers started before the last commits may
// still read; once none is open, no reader can reach a free page.
func (db *DB) ScrubFreePages() (int, error) {
	n, _, err := db.scrubFreePages(time.Time{})
	return n, err
}

// ScrubFreePagesWithin is ScrubFreePagesRetry that gives up at the
// deadline, also in the middle of the walk (which reads every page of the
// file: on a large file not in the page cache it takes a minute or more).
// complete says whether every free page was zeroed.
func (db *DB) ScrubFreePagesWithin(deadline time.Time) (n int, complete bool, err error) {
	for {
		n, complete, err = db.scrubFreePages(deadline)
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return n, complete, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrubFreePages zeroes the free pages up to the deadline (zero: none).
func (db *DB) scrubFreePages(deadline time.Time) (int, bool, error) {
	// A write transaction that is rolled back: it only holds the writer
	// lock (and releases the pending pages of closed readers at its start).
	if db.bolt == nil {
		// PostgreSQL reuses space itself (VACUUM); nothing to scrub here.
		return 0, true, nil
	}
	tx, err := db.bolt.Begin(true)
	if err != nil {
		return 0, false, fmt.Errorf("store: scrub: %w", err)
	}
	defer tx.Rollback()
	if db.bolt.Stats().OpenTxN > 0 {
		return 0, false, ErrBusy
	}
	f, err := os.OpenFile(db.path, os.O_WRONLY, 0)
	if err != nil {
		return 0, false, fmt.Errorf("store: scrub: %w", err)
	}
	defer f.Close()
	size := int64(db.bolt.Info().PageSize)
	zero := make([]byte, size)
	n := 0
	complete := true
	for id, step := 2, 0; ; id, step = id+1, step+1 {
		if !deadline.IsZero() && step%256 == 0 && time.Now().After(deadline) {
			complete = false
			break
		}
		p, err := tx.Page(id)
		if err != nil {
			return n, false, fmt.Errorf("store: scrub: page %d: %w", id, err)
		}
		if p == nil { // past the high-water mark
			break
		}
		if p.Type != "free" {
			id += p.OverflowCount
			continue
		}
		if _, err := f.WriteAt(zero, int64(id)*size); err != nil {
			return n, false, fmt.Errorf("store: scrub: %w", err)
		}
		n++
	}
	if err := f.Sync(); err != nil {
		return n, false, fmt.Errorf("store: scrub: %w", err)
	}
	return n, complete, nil
}

// ScrubFreePagesRetry is ScrubFreePages, retried for up to wait while
// read transactions (a scrape, a backup) keep it from running.
func (db *DB) ScrubFreePagesRetry(wait time.Duration) (int, error) {
	deadline := time.Now().Add(wait)
	for {
		n, err := db.ScrubFreePages()
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return n, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
