package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bansosbot/bansosbot"
)

func decodeTicket(v []byte) (*bansosbot.Ticket, error) {
	var t bansosbot.Ticket
	if err := json.Unmarshal(v, &t); err != nil {
		return nil, fmt.Errorf("store: decode ticket: %w", err)
	}
	return &t, nil
}

// NextTicketSeq reserves the next ticket sequence number (the source of the
// ticket's id and number).
func (tx *Tx) NextTicketSeq() (uint64, error) {
	return tx.bucket(bucketTickets).NextSequence()
}

// Ticket returns the ticket with the id, or a not-found error.
func (tx *Tx) Ticket(id uint64) (*bansosbot.Ticket, error) {
	v := tx.bucket(bucketTickets).Get(u64(id))
	if v == nil {
		return nil, bansosbot.Errorf(bansosbot.ENotFound, "errors.ticket_not_found")
	}
	return decodeTicket(v)
}

// TicketByNo returns the ticket with the human number, or a not-found error.
func (tx *Tx) TicketByNo(no bansosbot.TicketNo) (*bansosbot.Ticket, error) {
	v := tx.bucket(bucketTicketNo).Get([]byte(no))
	if len(v) != 8 {
		return nil, bansosbot.Errorf(bansosbot.ENotFound, "errors.ticket_not_found")
	}
	return tx.Ticket(binary.BigEndian.Uint64(v))
}

// ErrConflict is what a write based on an older read of a record fails
// with (errors.Is); the error is a *ConflictError.
var ErrConflict = errors.New("store: the record changed since it was read")

// ConflictError is PutTicket's refusal of a ticket whose Version is not
// the stored one: the change was made to an older read of the ticket.
// Within one transaction that cannot happen (the read and the write see
// the same ticket; on PostgreSQL a concurrent writer makes the
// transaction fail to serialize, and it runs again on the newer ticket).
// It happens to a flow across two transactions (a ticket read in one, or
// rendered on a page or a button, and written in another), which must
// read the ticket again and answer accordingly instead of overwriting.
// It is not retried: running the write again would fail the same way.
type ConflictError struct {
	Ticket  uint64 // the ticket's id
	Based   uint64 // the version the write was based on
	Current uint64 // the stored version
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: ticket %d changed since it was read (version %d, now %d)", e.Ticket, e.Based, e.Current)
}

func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// PutTicket stores a new or changed ticket and keeps its indexes in step,
// in the same transaction. The ticket's Version must be the stored one
// (else a *ConflictError, nothing written); it is incremented, in t too,
// so a ticket written twice in a transaction needs no new read.
func (tx *Tx) PutTicket(t *bansosbot.Ticket) (err error) {
	if t.ID == 0 {
		return fmt.Errorf("store: ticket without id")
	}
	var old *bansosbot.Ticket
	if v := tx.bucket(bucketTickets).Get(u64(t.ID)); v != nil {
		var err error
		if old, err = decodeTicket(v); err != nil {
			return err
		}
		if old.Version != t.Version {
			return &ConflictError{Ticket: t.ID, Based: t.Version, Current: old.Version}
		}
	}
	// A new ticket counts on from the version it has (a copy from
	// another store keeps counting up); a failed write leaves t's alone.
	t.Version++
	defer func() {
		if err != nil {
			t.Version--
		}
	}()
	if err := tx.putJSON(bucketTickets, u64(t.ID), t); err != nil {
		return err
	}
	if old != nil && old.No != t.No && old.No != "" {
		if err := tx.bucket(bucketTicketNo).Delete([]byte(old.No)); err != nil {
			return err
		}
	}
	if t.No != "" && (old == nil || old.No != t.No) {
		if err := tx.bucket(bucketTicketNo).Put([]byte(t.No), u64(t.ID)); err != nil {
			return err
		}
	}
	if err := tx.indexTicket(old, t); err != nil {
		return err
	}
	return tx.tallyTicket(t)
}

func citizenKey(t *bansosbot.Ticket) []byte {
	if t.CitizenID == 0 {
		return nil
	}
	return append(i64(t.CitizenID), u64(t.ID)...)
}

func statusKey(status bansosbot.Status, region bansosbot.RegionCode, id uint64) []byte {
	k := make([]byte, 0, len(status)+len(region)+10)
	k = append(k, status...)
	k = append(k, 0)
	k = append(k, region...)
	k = append(k, 0)
	return append(k, u64(id)...)
}

func dueKey(t *bansosbot.Ticket) []byte {
	if t.NextCheck.IsZero() {
		return nil
	}
	return append(i64(t.NextCheck.UnixNano()), u64(t.ID)...)
}

// indexTicket replaces old's index entries with t's (old may be nil).
func (tx *Tx) indexTicket(old, t *bansosbot.Ticket) error {
	type idx struct {
		bucket   []byte
		old, new []byte
	}
	var oc, os, od []byte
	if old != nil {
		oc, os, od = citizenKey(old), statusKey(old.Status, old.Region, old.ID), dueKey(old)
	}
	for _, ix := range []idx{
		{bucketByCitizen, oc, citizenKey(t)},
		{bucketByStatus, os, statusKey(t.Status, t.Region, t.ID)},
		{bucketByDue, od, dueKey(t)},
	} {
		if bytes.Equal(ix.old, ix.new) {
			continue
		}
		b := tx.bucket(ix.bucket)
		if ix.old != nil {
			if err := b.Delete(ix.old); err != nil {
				return err
			}
		}
		if ix.new != nil {
			if err := b.Put(ix.new, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// AppendEvent adds an event to the ticket's history, numbering it. The
// caller stores the ticket (whose Events counter it increments).
func (tx *Tx) AppendEvent(t *bansosbot.Ticket, e bansosbot.Event) (bansosbot.Event, error) {
	t.Events++
	e.TicketID, e.Seq = t.ID, t.Events
	if e.At.IsZero() {
		e.At = tx.now()
	}
	return e, tx.putJSON(bucketEvents, eventKey(t.ID, e.Seq), e)
}

func eventKey(id uint64, seq int) []byte {
	return binary.BigEndian.AppendUint32(u64(id), uint32(seq))
}

// PutEvent overwrites an existing event (retention uses it to redact text).
func (tx *Tx) PutEvent(e bansosbot.Event) error {
	return tx.putJSON(bucketEvents, eventKey(e.TicketID, e.Seq), e)
}

// Events returns the ticket's history in order.
func (tx *Tx) Events(id uint64) ([]bansosbot.Event, error) {
	var out []bansosbot.Event
	prefix := u64(id)
	c := tx.bucket(bucketEvents).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var e bansosbot.Event
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("store: decode event: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// CitizenTickets returns the citizen's tickets, newest first, reading only
// that citizen's index entries.
func (tx *Tx) CitizenTickets(citizenID int64) ([]*bansosbot.Ticket, error) {
	var out []*bansosbot.Ticket
	prefix := i64(citizenID)
	c := tx.bucket(bucketByCitizen).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		t, err := tx.Ticket(binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// RegionTickets returns the tickets whose region lies under region (""
// for all) with one of the statuses, reading only those index entries.
// fn is called for each; returning false stops the scan.
func (tx *Tx) RegionTickets(region bansosbot.RegionCode, statuses []bansosbot.Status, fn func(*bansosbot.Ticket) bool) error {
	b := tx.bucket(bucketByStatus)
	for _, st := range statuses {
		prefix := append(append([]byte(st), 0), region...)
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			// "32.01" must not match "32.010..." — codes have fixed segment
			// widths, so the byte after the prefix is '.' or the separator.
			if rest := k[len(prefix):]; len(region) > 0 && rest[0] != 0 && rest[0] != '.' {
				continue
			}
			t, err := tx.Ticket(binary.BigEndian.Uint64(k[len(k)-8:]))
			if err != nil {
				return err
			}
			if !fn(t) {
				return nil
			}
		}
	}
	return nil
}

// DueTickets calls fn with the tickets whose NextCheck is at or before now,
// earliest first, reading only the due entries of the index.
func (tx *Tx) DueTickets(now time.Time, fn func(*bansosbot.Ticket) bool) error {
	c := tx.bucket(bucketByDue).Cursor()
	limit := now.UnixNano()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if int64(binary.BigEndian.Uint64(k[:8])) > limit {
			return nil
		}
		t, err := tx.Ticket(binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return err
		}
		if !fn(t) {
			return nil
		}
	}
	return nil
}

// AllTickets calls fn for every ticket in id order (exports, reports,
// retention). Prefer the indexed queries in request paths.
func (tx *Tx) AllTickets(fn func(*bansosbot.Ticket) error) error {
	return tx.bucket(bucketTickets).ForEach(func(_, v []byte) error {
		t, err := decodeTicket(v)
		if err != nil {
			return err
		}
		return fn(t)
	})
}
