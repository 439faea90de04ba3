package store

import (
	"github.com/bansosbot/bansosbot"
)

// bucketPrompts: chat id -> the last delivered prompt (bansosbot.Prompt),
// created on its first write (an older file has none).
var bucketPrompts = []byte("prompts")

// PutPrompt records the delivered prompt of a chat in its own small
// transaction (the outbox calls it once Telegram returned the message id).
// The last delivered prompt wins: the outbox delivers a chat's messages
// one at a time, in order.
func (db *DB) PutPrompt(chatID int64, p bansosbot.Prompt) error {
	return db.Batch(func(tx *Tx) error {
		if _, err := tx.tx.CreateBucketIfNotExists(bucketPrompts); err != nil {
			return err
		}
		return tx.putJSON(bucketPrompts, i64(chatID), &p)
	})
}

// Prompt returns the chat's last delivered prompt, nil when none is
// recorded.
func (tx *Tx) Prompt(chatID int64) (*bansosbot.Prompt, error) {
	if tx.tx.Bucket(bucketPrompts) == nil {
		return nil, nil
	}
	var p bansosbot.Prompt
	ok, err := tx.getJSON(bucketPrompts, i64(chatID), &p)
	if !ok || err != nil {
		return nil, err
	}
	return &p, nil
}

// DeletePrompt forgets the chat's prompt (its buttons are being removed,
// or the user is erased).
func (tx *Tx) DeletePrompt(chatID int64) error {
	b := tx.tx.Bucket(bucketPrompts)
	if b == nil || b.Get(i64(chatID)) == nil {
		return nil
	}
	return b.Delete(i64(chatID))
}
