package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
)

// TestOutboxStoresPayloadOnce: a new outbox value holds the payload as
// given, once, after the item's fields (not inside their JSON), and reads
// back the same.
func TestOutboxStoresPayloadOnce(t *testing.T) {
	db := MustOpenDB(t)
	payload := json.RawMessage(`{"m":"sendMessage","c":5,"t":"Halo \"Bapak/Ibu\" <b>x</b>"}`)
	at := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	var id uint64
	err := db.Update(func(tx *Tx) error {
		var err error
		id, err = tx.Enqueue(OutboxItem{ChatID: 5, Payload: payload, CreatedAt: at, Announcement: 9})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	db.View(func(tx *Tx) error { raw = bytes.Clone(tx.bucket(bucketOutbox).Get(u64(id))); return nil })
	if raw[0] != outboxFormat || !bytes.HasSuffix(raw, payload) || bytes.Count(raw, []byte(`"m":"sendMessage"`)) != 1 {
		t.Errorf("stored value %q; want the format byte, the fields, the payload once at the end", raw)
	}
	items, err := db.Outbox(0, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox = %v, %v", items, err)
	}
	if it := items[0]; it.ID != id || it.ChatID != 5 || !it.CreatedAt.Equal(at) || it.Announcement != 9 || !bytes.Equal(it.Payload, payload) {
		t.Errorf("read back %+v (payload %s)", it, it.Payload)
	}
}

// TestOutboxReadsOldFormat: values written before the payload moved out
// of the JSON (an outbox at an upgrade) are read, rescheduled, counted on
// their announcement, delivered and parked like new ones.
func TestOutboxReadsOldFormat(t *testing.T) {
	db := MustOpenDB(t)
	created := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	old := func(chat int64, ann uint64, text string) []byte {
		// As the previous version wrote it: the payload inside the JSON.
		type oldItem struct {
			ChatID       int64           `json:"chat_id"`
			Payload      json.RawMessage `json:"payload"`
			Attempts     int             `json:"attempts,omitempty"`
			NotBefore    time.Time       `json:"not_before,omitzero"`
			LastError    string          `json:"last_error,omitempty"`
			CreatedAt    time.Time       `json:"created_at"`
			Announcement uint64          `json:"ann,omitempty"`
		}
		v, err := json.Marshal(oldItem{ChatID: chat, Payload: json.RawMessage(`{"m":"sendMessage","c":1,"t":"` + text + `"}`),
			Attempts: 1, CreatedAt: created, Announcement: ann})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	err := db.Update(func(tx *Tx) error {
		if err := tx.PutAnnouncement(&bansosbot.Announcement{ID: 4}); err != nil {
			return err
		}
		b := tx.bucket(bucketOutbox)
		for id, v := range map[uint64][]byte{1: old(1, 4, "a"), 2: old(1, 0, "b"), 3: old(2, 0, "c")} {
			if err := b.Put(u64(id), v); err != nil {
				return err
			}
		}
		return b.SetSequence(3)
	})
	if err != nil {
		t.Fatal(err)
	}
	items, err := db.Outbox(0, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("outbox = %v, %v; want the three old items", items, err)
	}
	for i, it := range items {
		want := `{"m":"sendMessage","c":1,"t":"` + string("abc"[i]) + `"}`
		if it.ID != uint64(i+1) || it.Attempts != 1 || !it.CreatedAt.Equal(created) || string(it.Payload) != want {
			t.Errorf("item %d read as %+v (payload %s); want id %d, 1 attempt, payload %s", i, it, it.Payload, i+1, want)
		}
	}
	if at, ok, err := db.OldestOutbox(); err != nil || !ok || !at.Equal(created) {
		t.Errorf("OldestOutbox = %v, %v, %v; want %v", at, ok, err, created)
	}
	if n, err := db.OutboxAnnounced(); err != nil || n != 1 {
		t.Errorf("OutboxAnnounced = %d, %v; want 1", n, err)
	}
	if err := db.Delivered(1); err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *Tx) error {
		if a, err := tx.Announcement(4); err != nil || a.Sent != 1 {
			t.Errorf("announcement after its old item was delivered: %+v, %v; want 1 sent", a, err)
		}
		return nil
	})
	// A retry rewrites an old item in the new format.
	items[1].Attempts = 2
	if err := db.Reschedule(items[1]); err != nil {
		t.Fatal(err)
	}
	if err := db.ParkOutbox("test", items[2]); err != nil {
		t.Fatal(err)
	}
	left, err := db.Outbox(0, 10)
	if err != nil || len(left) != 1 || left[0].ID != 2 || left[0].Attempts != 2 || string(left[0].Payload) != string(items[1].Payload) {
		t.Fatalf("outbox after the retry = %+v, %v; want item 2 with 2 attempts and its payload", left, err)
	}
	dead, err := db.DeadLetters()
	if err != nil || len(dead) != 1 || string(dead[0].Payload) != string(items[2].Payload) {
		t.Errorf("dead letters = %+v, %v; want item 3 with its payload", dead, err)
	}
}
