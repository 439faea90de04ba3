package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
)

// InboxItem is an accepted Telegram update waiting to be processed. The
// pipeline's records are the root package's, shared with package bot
// (which defines what it needs of a store over them).
type InboxItem = bansosbot.InboxItem

var keyOffset = []byte("poll_offset")

// Accept stores the updates not seen before in the inbox, records the next
// polling offset, and returns the items that are new, all in one
// transaction: once it returns, Telegram may forget them. Updates already in
// the inbox or already processed are skipped (deduplication by update id).
func (db *DB) Accept(items []InboxItem, nextOffset int64) ([]InboxItem, error) {
	var fresh []InboxItem
	err := db.kv.Update(func(btx backend.Tx) error {
		fresh = fresh[:0]
		inbox, done := btx.Bucket(bucketInbox), btx.Bucket(bucketDone)
		for _, it := range items {
			k := i64(it.UpdateID)
			if inbox.Get(k) != nil || done.Get(k) != nil {
				continue
			}
			v, err := json.Marshal(it)
			if err != nil {
				return err
			}
			if err := inbox.Put(k, v); err != nil {
				return err
			}
			fresh = append(fresh, it)
		}
		if nextOffset > 0 {
			meta := btx.Bucket(bucketMeta)
			if cur := meta.Get(keyOffset); cur == nil || int64(binary.BigEndian.Uint64(cur)) < nextOffset {
				return meta.Put(keyOffset, i64(nextOffset))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: accept updates: %w", err)
	}
	return fresh, nil
}

// Offset is the getUpdates offset to resume polling from.
func (db *DB) Offset() (int64, error) {
	var off int64
	err := db.kv.View(func(tx backend.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyOffset); len(v) == 8 {
			off = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return off, err
}

// Pending returns the inbox in update order (what a restart must process).
func (db *DB) Pending() ([]InboxItem, error) { return db.PendingFrom(0, 0) }

// PendingFrom returns up to limit inbox items (all when limit <= 0) whose
// update ids are from on, in update order: a reader that remembers how far
// it read (the shared inbox scan) decodes each item once, however long
// the inbox.
func (db *DB) PendingFrom(from int64, limit int) ([]InboxItem, error) {
	var items []InboxItem
	err := db.kv.View(func(tx backend.Tx) error {
		items = items[:0]
		c := tx.Bucket(bucketInbox).Cursor()
		for k, v := c.Seek(i64(from)); k != nil && (limit <= 0 || len(items) < limit); k, v = c.Next() {
			var it InboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// Processed reports whether the update was handled already.
func (tx *Tx) Processed(updateID int64) bool {
	return tx.bucket(bucketDone).Get(i64(updateID)) != nil
}

// ErrUpdateTaken is ClaimUpdate's answer when another transaction holds
// the update: another replica is handling it right now, so the shard's
// lease moved (it is an ErrLeaseLost): leave the update, and the chat's
// later ones, to that replica.
var ErrUpdateTaken = fmt.Errorf("%w: another transaction is handling the update", ErrLeaseLost)

// ClaimUpdate takes the update for this transaction before it is handled:
// done is true when it was handled already (skip it). On a backend whose
// inbox is a queue (PostgreSQL) the update's row stays locked until the
// transaction ends, so no other replica's transaction handles it
// meanwhile, and a transaction that finds it locked does not wait for the
// other: it gets ErrUpdateTaken at once (FOR UPDATE SKIP LOCKED). On
// bbolt, one writer at a time, this is Processed.
func (tx *Tx) ClaimUpdate(updateID int64) (done bool, err error) {
	if q, ok := tx.bucket(bucketInbox).(backend.Queue); ok {
		found, held, err := q.Lock(i64(updateID))
		switch {
		case err != nil:
			return false, err
		case found && !held:
			return false, ErrUpdateTaken
		case found:
			return false, nil // in the inbox, so not processed (MarkProcessed takes it out)
		}
	}
	return tx.Processed(updateID), nil
}

// MarkProcessed records the update as handled and drops it from the inbox.
// Call it in the transaction that writes the update's effects.
func (tx *Tx) MarkProcessed(updateID int64) error {
	k := i64(updateID)
	if err := tx.bucket(bucketDone).Put(k, i64(tx.now().Unix())); err != nil {
		return err
	}
	return tx.bucket(bucketInbox).Delete(k)
}

// PurgeProcessed forgets dedup marks older than before (Telegram keeps an
// update at most 24 hours, so older marks can never match again).
func (db *DB) PurgeProcessed(before time.Time) (int, error) {
	return db.purge(bucketDone, func(_, v []byte) (bool, error) {
		return len(v) == 8 && int64(binary.BigEndian.Uint64(v)) < before.Unix(), nil
	})
}

// OutboxItem is one Telegram call waiting to be made (its payload is the
// bot's, opaque to the store); its delivery or loss is counted on the
// announcement it carries (announce.go).
type OutboxItem = bansosbot.OutboxItem

// An outbox value is the item's fields as JSON followed by its payload as
// given, so the payload is stored once, neither encoded again nor scanned
// when read: outboxFormat, the length of the JSON (uvarint), the JSON, the
// payload. Values written before it (the JSON alone, with the payload
// inside, so starting with '{') are still read: an outbox may hold them at
// an upgrade.
const outboxFormat = 0x01

func encodeOutbox(it OutboxItem) ([]byte, error) {
	payload := it.Payload
	it.Payload = nil
	meta, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	v := make([]byte, 0, 1+binary.MaxVarintLen64+len(meta)+len(payload))
	v = append(v, outboxFormat)
	v = binary.AppendUvarint(v, uint64(len(meta)))
	v = append(v, meta...)
	return append(v, payload...), nil
}

// outboxFields is the JSON part of an outbox value, and its payload (nil
// in a value of the old format: it is inside the JSON).
func outboxFields(v []byte) (fields, payload []byte, err error) {
	if len(v) == 0 || v[0] != outboxFormat {
		return v, nil, nil
	}
	n, k := binary.Uvarint(v[1:])
	if k <= 0 || n > uint64(len(v)-1-k) {
		return nil, nil, errors.New("store: corrupt outbox value")
	}
	return v[1+k : 1+k+int(n)], v[1+k+int(n):], nil
}

// decodeOutbox reads an outbox value of either format.
func decodeOutbox(v []byte) (OutboxItem, error) {
	var it OutboxItem
	fields, payload, err := outboxFields(v)
	if err != nil {
		return it, err
	}
	if err := json.Unmarshal(fields, &it); err != nil {
		return it, fmt.Errorf("store: decode outbox item: %w", err)
	}
	if payload != nil {
		it.Payload = bytes.Clone(payload)
	}
	return it, nil
}

// Enqueue appends a call to the outbox. Its id is above those of the
// calls of every transaction committed before this one began; on a
// backend whose outbox is a queue (PostgreSQL) a concurrent transaction
// may commit a smaller id later (ids from a sequence no transaction waits
// for), so the outbox is followed with an OutboxFeed, not by id.
func (tx *Tx) Enqueue(it OutboxItem) (uint64, error) {
	b := tx.bucket(bucketOutbox)
	if it.CreatedAt.IsZero() {
		it.CreatedAt = tx.now()
	}
	v, err := encodeOutbox(it)
	if err != nil {
		return 0, err
	}
	if q, ok := b.(backend.Queue); ok {
		return q.Append(v)
	}
	id, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return id, b.Put(u64(id), v)
}

// outboxFeed hands one sender the outbox items it has not had yet, in id
// order: every item exactly once, whatever order concurrent transactions
// commit them in. A new feed (a sender starting, or taking over from
// another replica) hands out every item not yet delivered or parked.
type outboxFeed struct {
	db    *DB
	after uint64 // a plain bucket: the highest id handed out
	taker uint64 // a queue: this feed's number as a taker
}

// OutboxFeed starts a feed of the outbox.
func (db *DB) OutboxFeed() bansosbot.OutboxFeed {
	return &outboxFeed{db: db, taker: rand.Uint64()}
}

// Next returns up to limit items not handed out by this feed before. On a
// queue it marks them taken by the feed, passing over rows another
// transaction holds (FOR UPDATE SKIP LOCKED) until a later call; on a
// plain bucket, whose ids are handed out in commit order, it reads past
// the highest id it returned.
func (f *outboxFeed) Next(limit int) ([]OutboxItem, error) {
	if f.db.taker == nil {
		items, err := f.db.Outbox(f.after, limit)
		if len(items) > 0 {
			f.after = items[len(items)-1].ID
		}
		return items, err
	}
	pairs, err := f.db.taker.Take(bucketOutbox, f.taker, limit)
	if err != nil {
		return nil, err
	}
	items := make([]OutboxItem, 0, len(pairs))
	for _, p := range pairs {
		it, err := decodeOutbox(p.Value)
		if err != nil {
			return nil, err
		}
		it.ID = binary.BigEndian.Uint64(p.Key)
		items = append(items, it)
	}
	return items, nil
}

// Outbox returns up to limit items with ids above after, in id order.
func (db *DB) Outbox(after uint64, limit int) ([]OutboxItem, error) {
	var items []OutboxItem
	err := db.kv.View(func(tx backend.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(items) < limit; k, v = c.Next() {
			it, err := decodeOutbox(v)
			if err != nil {
				return err
			}
			it.ID = binary.BigEndian.Uint64(k)
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// Delivered removes sent items from the outbox (and counts those of an
// announcement as sent), group-committed with other Batch calls (the
// function may run again: it only deletes and counts in its transaction).
func (db *DB) Delivered(ids ...uint64) error {
	return db.Batch(func(tx *Tx) error {
		b := tx.bucket(bucketOutbox)
		for _, id := range ids {
			if err := tx.countAnnounced(b.Get(u64(id)), annSent); err != nil {
				return err
			}
			if err := b.Delete(u64(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Reschedule records a failed attempt; the item stays in the outbox.
func (db *DB) Reschedule(it OutboxItem) error {
	return db.kv.Batch(func(tx backend.Tx) error {
		b := tx.Bucket(bucketOutbox)
		if b.Get(u64(it.ID)) == nil {
			return nil
		}
		v, err := encodeOutbox(it)
		if err != nil {
			return err
		}
		return b.Put(u64(it.ID), v)
	})
}

// OutboxDepth counts waiting items.
func (db *DB) OutboxDepth() (int, error) {
	var n int
	err := db.kv.View(func(tx backend.Tx) error { n = tx.Bucket(bucketOutbox).KeyN(); return nil })
	return n, err
}

// InboxDepth counts accepted, unprocessed updates.
func (db *DB) InboxDepth() (int, error) {
	var n int
	err := db.kv.View(func(tx backend.Tx) error { n = tx.Bucket(bucketInbox).KeyN(); return nil })
	return n, err
}

// Dead letter kinds.
const (
	DeadUpdate = "update" // an update whose handling failed (e.g. panicked)
	DeadOutbox = "outbox" // a call that could not be delivered
)

// DeadLetter is something parked for an operator to look at.
type DeadLetter struct {
	ID       uint64          `json:"-"`
	Kind     string          `json:"kind"`
	Ref      int64           `json:"ref"` // update id or outbox id
	ChatID   int64           `json:"chat_id"`
	Reason   string          `json:"reason"` // no personal data
	Payload  json.RawMessage `json:"payload,omitempty"`
	ParkedAt time.Time       `json:"parked_at"`
}

// ParkUpdate moves an update from the inbox to the dead letters and marks it
// processed, so that it cannot block its chat.
func (tx *Tx) ParkUpdate(it InboxItem, reason string) error {
	if err := tx.addDead(DeadLetter{Kind: DeadUpdate, Ref: it.UpdateID, ChatID: it.ChatID, Reason: reason, Payload: it.Update}); err != nil {
		return err
	}
	return tx.MarkProcessed(it.UpdateID)
}

// ParkOutbox moves outbox items to the dead letters.
func (db *DB) ParkOutbox(reason string, items ...OutboxItem) error {
	return db.Update(func(tx *Tx) error {
		for _, it := range items {
			k := u64(it.ID)
			if tx.bucket(bucketOutbox).Get(k) == nil {
				continue
			}
			if err := tx.countAnnounced(tx.bucket(bucketOutbox).Get(k), annLost); err != nil {
				return err
			}
			if err := tx.bucket(bucketOutbox).Delete(k); err != nil {
				return err
			}
			if err := tx.addDead(DeadLetter{Kind: DeadOutbox, Ref: int64(it.ID), ChatID: it.ChatID, Reason: reason, Payload: it.Payload}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (tx *Tx) addDead(d DeadLetter) error {
	b := tx.bucket(bucketDead)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	d.ParkedAt = tx.now()
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return b.Put(u64(id), v)
}

// DeadLetters lists parked items, oldest first.
func (db *DB) DeadLetters() ([]DeadLetter, error) {
	var out []DeadLetter
	err := db.kv.View(func(tx backend.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
			var d DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			d.ID = binary.BigEndian.Uint64(k)
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// DeleteDeadLetters deletes the dead letters of a user (erasure): those of
// their private chat, and updates they sent anywhere else (a group). It
// returns how many it deleted.
func (tx *Tx) DeleteDeadLetters(userID int64) (int, error) {
	b := tx.bucket(bucketDead)
	var del [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var d DeadLetter
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("store: decode dead letter: %w", err)
		}
		if d.ChatID == userID || d.Kind == DeadUpdate && updateFrom(d.Payload) == userID {
			del = append(del, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Deleted after the walk: deleting under a running cursor skips keys.
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(del), nil
}

// updateFrom is the sender of a Telegram update (the "from" of its
// message, callback query, ...), 0 when it has none.
func updateFrom(raw json.RawMessage) int64 {
	var parts map[string]json.RawMessage
	if json.Unmarshal(raw, &parts) != nil {
		return 0
	}
	for _, p := range parts {
		var v struct {
			From *struct {
				ID int64 `json:"id"`
			} `json:"from"`
		}
		if json.Unmarshal(p, &v) == nil && v.From != nil && v.From.ID != 0 {
			return v.From.ID
		}
	}
	return 0
}
