package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Announcements and the citizens' subscriptions to them.
//
//	subs       user id -> Subscription
//	ann        announcement id -> Announcement
//	ann_sent   user id + announcement id -> queue time (unix s): who was queued
//	           (user first, so that erasure removes a user's marks by prefix)
var (
	bucketSubs    = []byte("subs")
	bucketAnn     = []byte("ann")
	bucketAnnSent = []byte("ann_sent")
)

// Subscription returns the user's subscription, nil when they have none.
func (tx *Tx) Subscription(userID int64) (*bansosbot.Subscription, error) {
	var s bansosbot.Subscription
	ok, err := tx.getJSON(bucketSubs, i64(userID), &s)
	if !ok || err != nil {
		return nil, err
	}
	return &s, nil
}

// PutSubscription stores the subscription; one without regions is deleted.
func (tx *Tx) PutSubscription(s *bansosbot.Subscription) error {
	if len(s.Regions) == 0 {
		return tx.DeleteSubscription(s.UserID)
	}
	return tx.putJSON(bucketSubs, i64(s.UserID), s)
}

// DeleteSubscription removes the user's subscription and every mark of
// announcements queued to them (erasure: nothing links them to an
// announcement afterwards).
func (tx *Tx) DeleteSubscription(userID int64) error {
	if err := tx.bucket(bucketSubs).Delete(i64(userID)); err != nil {
		return err
	}
	var keys [][]byte
	c := tx.bucket(bucketAnnSent).Cursor()
	uid := i64(userID)
	for k, _ := c.Seek(uid); k != nil && bytes.HasPrefix(k, uid); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := tx.bucket(bucketAnnSent).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Subscriptions calls fn for each subscription of a user id above after,
// in user id order, until fn returns false.
func (tx *Tx) Subscriptions(after int64, fn func(*bansosbot.Subscription) bool) error {
	c := tx.bucket(bucketSubs).Cursor()
	k, v := c.Seek(i64(after))
	if k != nil && int64(binary.BigEndian.Uint64(k)) == after {
		k, v = c.Next()
	}
	for ; k != nil; k, v = c.Next() {
		var s bansosbot.Subscription
		if err := decodeJSON(bucketSubs, k, v, &s); err != nil {
			return err
		}
		if !fn(&s) {
			return nil
		}
	}
	return nil
}

// NextAnnouncementSeq returns a new announcement id.
func (tx *Tx) NextAnnouncementSeq() (uint64, error) { return tx.bucket(bucketAnn).NextSequence() }

// Announcement returns the announcement; ENotFound when unknown.
func (tx *Tx) Announcement(id uint64) (*bansosbot.Announcement, error) {
	var a bansosbot.Announcement
	ok, err := tx.getJSON(bucketAnn, u64(id), &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, bansosbot.Errorf(bansosbot.ENotFound, "announcing.refused")
	}
	return &a, nil
}

// PutAnnouncement stores the announcement.
func (tx *Tx) PutAnnouncement(a *bansosbot.Announcement) error {
	return tx.putJSON(bucketAnn, u64(a.ID), a)
}

// Announcements calls fn for every announcement, newest first, until fn
// returns false.
func (tx *Tx) Announcements(fn func(*bansosbot.Announcement) bool) error {
	c := tx.bucket(bucketAnn).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		var a bansosbot.Announcement
		if err := decodeJSON(bucketAnn, k, v, &a); err != nil {
			return err
		}
		if !fn(&a) {
			return nil
		}
	}
	return nil
}

// MarkAnnounced records that the announcement was queued to the user; it
// reports false when it already was (queuing is exactly once).
func (tx *Tx) MarkAnnounced(annID uint64, userID int64) (bool, error) {
	k := append(i64(userID), u64(annID)...)
	b := tx.bucket(bucketAnnSent)
	if b.Get(k) != nil {
		return false, nil
	}
	return true, b.Put(k, i64(tx.now().Unix()))
}

func decodeJSON(bucket, key, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decode %s/%x: %w", bucket, key, err)
	}
	return nil
}

// ActOnAnnouncements returns the announcements queued to the user since
// the time and not yet counted as acted upon, and marks them counted
// (a second /cek in the week counts once).
func (tx *Tx) ActOnAnnouncements(userID int64, since time.Time) ([]uint64, error) {
	uid := i64(userID)
	b := tx.bucket(bucketAnnSent)
	var ids []uint64
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.Seek(uid); k != nil && bytes.HasPrefix(k, uid); k, v = c.Next() {
		if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= since.Unix() {
			ids = append(ids, binary.BigEndian.Uint64(k[8:]))
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		// The value shrinks to one byte: queued and acted upon.
		if err := b.Put(k, []byte{1}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// Outcomes of an announcement's call, for countAnnounced.
const (
	annSent = iota
	annLost // parked: blocked when the chat is unreachable, failed otherwise
)

// countAnnounced counts the outcome of an outbox item (its stored value)
// on its announcement, if it carries one.
func (tx *Tx) countAnnounced(raw []byte, outcome int) error {
	if raw == nil || !announced(raw) {
		return nil
	}
	it, err := decodeOutbox(raw)
	if err != nil || it.Announcement == 0 {
		return err
	}
	a, err := tx.Announcement(it.Announcement)
	if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case outcome == annSent:
		a.Sent++
	default:
		p, err := tx.Profile(it.ChatID)
		if err != nil {
			return err
		}
		if p != nil && p.Unreachable {
			a.Blocked++
		} else {
			a.Failed++
		}
	}
	return tx.PutAnnouncement(a)
}

// OutboxAnnounced counts the announcement calls waiting in the outbox: the
// announcement job queues more only while few wait, so that replies to
// conversations never queue behind a mass message.
func (db *DB) OutboxAnnounced() (int, error) {
	n := 0
	err := db.View(func(tx *Tx) error {
		return tx.bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			if announced(v) {
				n++
			}
			return nil
		})
	})
	return n, err
}

// announced reports whether an outbox value carries an announcement,
// without decoding it.
func announced(v []byte) bool {
	fields, _, err := outboxFields(v)
	return err == nil && bytes.Contains(fields, []byte(`"ann":`))
}
