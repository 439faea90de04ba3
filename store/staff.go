package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Staff returns the staff record of the user; nil when the user is not staff.
func (tx *Tx) Staff(userID int64) (*bansosbot.Staff, error) {
	var s bansosbot.Staff
	ok, err := tx.getJSON(bucketStaff, i64(userID), &s)
	if !ok || err != nil {
		return nil, err
	}
	return &s, nil
}

// PutStaff stores a staff record.
func (tx *Tx) PutStaff(s *bansosbot.Staff) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = tx.now()
	}
	return tx.putJSON(bucketStaff, i64(s.UserID), s)
}

// AllStaff calls fn for every staff record (active or not) in user-id
// order until fn returns false. Staff lists are small (thousands at most).
func (tx *Tx) AllStaff(fn func(*bansosbot.Staff) bool) error {
	c := tx.bucket(bucketStaff).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var s bansosbot.Staff
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("store: decode staff: %w", err)
		}
		if !fn(&s) {
			return nil
		}
	}
	return nil
}

// DeleteStaff removes a staff record for good. Deactivating (Active =
// false) is usually better: the audit log keeps naming the person.
func (tx *Tx) DeleteStaff(userID int64) error {
	return tx.bucket(bucketStaff).Delete(i64(userID))
}

// NextInviteSeq reserves a number for a new invitation (the flows derive
// the code from it under a secret key, deterministically).
func (tx *Tx) NextInviteSeq() (uint64, error) {
	return tx.bucket(bucketInvites).NextSequence()
}

// PutInvite stores a new or used invitation under its code hash.
func (tx *Tx) PutInvite(inv *bansosbot.Invite) error {
	if inv.CodeHash == "" {
		return fmt.Errorf("store: invitation without a code hash")
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = tx.now()
	}
	return tx.putJSON(bucketInvites, []byte(inv.CodeHash), inv)
}

// Invite returns the invitation stored under the code hash; nil when
// there is none. Used and expired invitations stay until PurgeInvites, so
// that a second use is told "already used" rather than "unknown".
func (tx *Tx) Invite(codeHash string) (*bansosbot.Invite, error) {
	var inv bansosbot.Invite
	ok, err := tx.getJSON(bucketInvites, []byte(codeHash), &inv)
	if !ok || err != nil {
		return nil, err
	}
	return &inv, nil
}

// Invites calls fn for every stored invitation until fn returns false.
func (tx *Tx) Invites(fn func(*bansosbot.Invite) bool) error {
	c := tx.bucket(bucketInvites).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var inv bansosbot.Invite
		if err := json.Unmarshal(v, &inv); err != nil {
			return fmt.Errorf("store: decode invitation: %w", err)
		}
		if !fn(&inv) {
			return nil
		}
	}
	return nil
}

// PurgeInvites deletes invitations that expired before the cut-off (used
// or not); it returns how many.
func (db *DB) PurgeInvites(before time.Time) (int, error) {
	return db.purge(bucketInvites, func(_, v []byte) (bool, error) {
		var inv bansosbot.Invite
		if err := json.Unmarshal(v, &inv); err != nil {
			return false, fmt.Errorf("store: decode invitation: %w", err)
		}
		return inv.ExpiresAt.Before(before), nil
	})
}
