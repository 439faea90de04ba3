package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/bansosbot/bansosbot"
)

// getJSON decodes the value at key into v; it reports whether it existed.
func (tx *Tx) getJSON(bucket, key []byte, v any) (bool, error) {
	raw := tx.bucket(bucket).Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("store: decode %s/%x: %w", bucket, key, err)
	}
	return true, nil
}

func (tx *Tx) putJSON(bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", bucket, err)
	}
	return tx.bucket(bucket).Put(key, raw)
}

// Profile returns the user's profile; nil when the bot does not know them.
func (tx *Tx) Profile(userID int64) (*bansosbot.Profile, error) {
	var p bansosbot.Profile
	ok, err := tx.getJSON(bucketProfiles, i64(userID), &p)
	if !ok || err != nil {
		return nil, err
	}
	return &p, nil
}

// PutProfile stores the profile.
func (tx *Tx) PutProfile(p *bansosbot.Profile) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = tx.now()
	}
	p.UpdatedAt = tx.now()
	return tx.putJSON(bucketProfiles, i64(p.UserID), p)
}

// DeleteProfile removes the profile and the session of the user (and the
// record of their last prompt).
func (tx *Tx) DeleteProfile(userID int64) error {
	if err := tx.bucket(bucketProfiles).Delete(i64(userID)); err != nil {
		return err
	}
	if err := tx.DeletePrompt(userID); err != nil {
		return err
	}
	return tx.bucket(bucketSessions).Delete(i64(userID))
}

// Session returns the user's conversation session; a fresh one when none is
// stored.
func (tx *Tx) Session(userID int64) (*bansosbot.Session, error) {
	s := &bansosbot.Session{UserID: userID}
	if _, err := tx.getJSON(bucketSessions, i64(userID), s); err != nil {
		return nil, err
	}
	return s, nil
}

// PutSession stores the session.
func (tx *Tx) PutSession(s *bansosbot.Session) error {
	return tx.putJSON(bucketSessions, i64(s.UserID), s)
}

// counter is a sliding log of hit times for one rate limit.
type counter struct {
	Hits    []int64 `json:"h"` // unix nanoseconds, oldest first
	Expires int64   `json:"e"` // unix seconds after which the counter is useless
}

// Allow records a hit on the named limit if fewer than limit hits happened
// within window before now, and reports whether it was allowed and how long
// until the next hit would be. Counters live in the store so that they
// survive restarts.
func (tx *Tx) Allow(name string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	c, ok, wait, err := tx.window(name, limit, window, now)
	if err != nil || !ok || limit <= 0 {
		return ok, wait, err
	}
	c.Hits = append(c.Hits, now.UnixNano())
	c.Expires = now.Add(window).Unix()
	return true, 0, tx.putJSON(bucketCounters, []byte(name), &c)
}

// Peek reports what Allow would answer now, without recording a hit: a
// conversation can say "come back later" before asking for anything.
func (tx *Tx) Peek(name string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	_, ok, wait, err := tx.window(name, limit, window, now)
	return ok, wait, err
}

// window reads the named counter without the hits older than window and
// says whether another hit fits, or how long until one does.
func (tx *Tx) window(name string, limit int, window time.Duration, now time.Time) (counter, bool, time.Duration, error) {
	var c counter
	if limit <= 0 {
		return c, true, 0, nil
	}
	if _, err := tx.getJSON(bucketCounters, []byte(name), &c); err != nil {
		return c, false, 0, err
	}
	cut := now.Add(-window).UnixNano()
	i, _ := slices.BinarySearch(c.Hits, cut+1)
	// Hits after now were recorded before the clock stepped back: they did
	// not happen in this clock's past and must not lock anyone out for the
	// size of the jump.
	j, _ := slices.BinarySearch(c.Hits, now.UnixNano()+1)
	c.Hits = c.Hits[i:max(i, j)]
	if len(c.Hits) >= limit {
		return c, false, min(time.Duration(c.Hits[len(c.Hits)-limit]-cut), window), nil
	}
	return c, true, 0, nil
}

// PurgeCounters deletes rate-limit counters that expired before now.
func (db *DB) PurgeCounters(now time.Time) (int, error) {
	return db.purge(bucketCounters, func(_, v []byte) (bool, error) {
		var ct counter
		return json.Unmarshal(v, &ct) != nil || ct.Expires < now.Unix(), nil
	})
}
