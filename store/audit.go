package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/bansosbot/bansosbot"
)

// The audit log: bucketAudit holds seq -> AuditEntry; bucketAuditBy holds
// the keys "t" + ticket id + seq and "s" + actor id + seq (empty values),
// so that one ticket's or one person's entries are read without a scan.

// AppendAudit numbers and stores an audit entry and its index entries.
func (tx *Tx) AppendAudit(e *bansosbot.AuditEntry) error {
	b := tx.bucket(bucketAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	if e.At.IsZero() {
		e.At = tx.now()
	}
	if err := tx.putJSON(bucketAudit, u64(seq), e); err != nil {
		return err
	}
	idx := tx.bucket(bucketAuditBy)
	if e.TicketID != 0 {
		if err := idx.Put(auditKey('t', e.TicketID, seq), nil); err != nil {
			return err
		}
	}
	if e.Actor != 0 {
		if err := idx.Put(auditKey('s', uint64(e.Actor), seq), nil); err != nil {
			return err
		}
	}
	return nil
}

func auditKey(kind byte, id, seq uint64) []byte {
	k := make([]byte, 0, 17)
	k = append(k, kind)
	k = binary.BigEndian.AppendUint64(k, id)
	return binary.BigEndian.AppendUint64(k, seq)
}

// AuditByTicket returns the ticket's audit entries, oldest first.
func (tx *Tx) AuditByTicket(ticketID uint64) ([]bansosbot.AuditEntry, error) {
	return tx.auditBy('t', ticketID)
}

// AuditByStaff returns the entries whose actor is the user (staff, or
// anyone who pressed staff buttons), oldest first.
func (tx *Tx) AuditByStaff(userID int64) ([]bansosbot.AuditEntry, error) {
	return tx.auditBy('s', uint64(userID))
}

func (tx *Tx) auditBy(kind byte, id uint64) ([]bansosbot.AuditEntry, error) {
	prefix := auditKey(kind, id, 0)[:9]
	var out []bansosbot.AuditEntry
	c := tx.bucket(bucketAuditBy).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		var e bansosbot.AuditEntry
		ok, err := tx.getJSON(bucketAudit, k[9:], &e)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("store: audit index points to missing entry %d", binary.BigEndian.Uint64(k[9:]))
		}
		out = append(out, e)
	}
	return out, nil
}

// AuditLog calls fn for every audit entry after seq after, oldest first,
// until fn returns false.
func (tx *Tx) AuditLog(after uint64, fn func(bansosbot.AuditEntry) bool) error {
	c := tx.bucket(bucketAudit).Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
		var e bansosbot.AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("store: decode audit entry: %w", err)
		}
		if !fn(e) {
			return nil
		}
	}
	return nil
}

// ClearAuditActor removes the actor's id from an audit entry (and from the
// index by actor): erasure and retention forget citizens this way, while
// the entry itself (what was tried, on which ticket, the outcome) stays.
func (tx *Tx) ClearAuditActor(seq uint64) error {
	var e bansosbot.AuditEntry
	ok, err := tx.getJSON(bucketAudit, u64(seq), &e)
	if err != nil || !ok || e.Actor == 0 {
		return err
	}
	if err := tx.bucket(bucketAuditBy).Delete(auditKey('s', uint64(e.Actor), seq)); err != nil {
		return err
	}
	e.Actor = 0
	return tx.putJSON(bucketAudit, u64(seq), e)
}
