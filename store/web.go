package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/bansosbot/bansosbot/store/backend"
)

// The dashboard's logins (web/): one-time login links the bot gives staff
// (/dasbor) and the browser sessions they open. Only SHA-256 hashes of
// the link tokens and session ids are stored. The buckets are created by
// the first link.
var (
	bucketWebLogins   = []byte("web_logins")   // sha256(token) -> WebLogin
	bucketWebSessions = []byte("web_sessions") // sha256(session id) -> WebSession
)

// WebLogin is a one-time login link.
type WebLogin struct {
	UserID  int64     `json:"user_id"`
	Expires time.Time `json:"expires"`
	Used    bool      `json:"used,omitempty"`
}

// WebSession is a dashboard session.
type WebSession struct {
	UserID  int64     `json:"user_id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

func (tx *Tx) webBucket(name []byte) (backend.Bucket, error) {
	if b := tx.tx.Bucket(name); b != nil || !tx.tx.Writable() {
		return b, nil
	}
	return tx.tx.CreateBucketIfNotExists(name)
}

// PutWebLogin stores a login link under its token's hash; links expired
// before now are dropped meanwhile.
func (tx *Tx) PutWebLogin(hash []byte, userID int64, expires, now time.Time) error {
	b, err := tx.webBucket(bucketWebLogins)
	if err != nil {
		return err
	}
	if err := purgeExpired(b, now, func(v []byte) time.Time {
		var l WebLogin
		json.Unmarshal(v, &l)
		return l.Expires
	}); err != nil {
		return err
	}
	v, _ := json.Marshal(WebLogin{UserID: userID, Expires: expires})
	return b.Put(hash, v)
}

// UseWebLogin marks the link used and returns it as it was (nil when
// unknown): the caller checks Used and Expires.
func (tx *Tx) UseWebLogin(hash []byte) (*WebLogin, error) {
	b, err := tx.webBucket(bucketWebLogins)
	if err != nil || b == nil {
		return nil, err
	}
	v := b.Get(hash)
	if v == nil {
		return nil, nil
	}
	var l WebLogin
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, fmt.Errorf("store: decode login link: %w", err)
	}
	used := l
	used.Used = true
	nv, _ := json.Marshal(used)
	return &l, b.Put(hash, nv)
}

// PutWebSession stores a session under its id's hash; sessions expired
// before now are dropped meanwhile.
func (tx *Tx) PutWebSession(hash []byte, s WebSession, now time.Time) error {
	b, err := tx.webBucket(bucketWebSessions)
	if err != nil {
		return err
	}
	if err := purgeExpired(b, now, func(v []byte) time.Time {
		var s WebSession
		json.Unmarshal(v, &s)
		return s.Expires
	}); err != nil {
		return err
	}
	v, _ := json.Marshal(s)
	return b.Put(hash, v)
}

// WebSession returns the session with the hash, nil when unknown.
func (tx *Tx) WebSession(hash []byte) (*WebSession, error) {
	b := tx.tx.Bucket(bucketWebSessions)
	if b == nil {
		return nil, nil
	}
	v := b.Get(hash)
	if v == nil {
		return nil, nil
	}
	var s WebSession
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("store: decode session: %w", err)
	}
	return &s, nil
}

// DeleteWebSession ends a session.
func (tx *Tx) DeleteWebSession(hash []byte) error {
	b := tx.tx.Bucket(bucketWebSessions)
	if b == nil {
		return nil
	}
	return b.Delete(hash)
}

func purgeExpired(b backend.Bucket, now time.Time, expires func([]byte) time.Time) error {
	var old [][]byte
	b.ForEach(func(k, v []byte) error {
		if expires(v).Before(now) {
			old = append(old, k)
		}
		return nil
	})
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
