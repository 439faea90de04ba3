package store

import (
	"encoding/json"
	"fmt"

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
