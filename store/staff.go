package store

import "github.com/bansosbot/bansosbot"

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
