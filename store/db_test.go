package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	bolt "go.etcd.io/bbolt"
)

// MustOpenDB opens a store in a temporary directory, closed at the end of
// the test.
func MustOpenDB(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(filepath.Join(tb.TempDir(), "test.db"), Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestMigrateV1File builds a file as version 1 wrote it (core buckets, a
// ticket, no indexes) and checks that Open migrates it: the version is
// current and the new indexes hold the old ticket.
func TestMigrateV1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	old := bansosbot.Ticket{ID: 7, No: "BS-TEST7", Category: "OTHER", Region: "32.01.01", CitizenID: 99,
		Status: bansosbot.StatusNew, CreatedAt: created, NextCheck: created.Add(72 * time.Hour)}
	err = raw.Update(func(tx *bolt.Tx) error {
		if err := migrations[0].apply(boltTx{tx}); err != nil {
			return err
		}
		v, _ := json.Marshal(old)
		if err := tx.Bucket(bucketTickets).Put(u64(7), v); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(1))
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open v1 file: %v", err)
	}
	defer db.Close()
	if v, _ := db.Version(); v != SchemaVersion() {
		t.Fatalf("version after open = %d; want %d", v, SchemaVersion())
	}
	err = db.View(func(tx *Tx) error {
		mine, err := tx.CitizenTickets(99)
		if err != nil || len(mine) != 1 || mine[0].ID != 7 {
			t.Errorf("citizen index after migration = %v, %v; want ticket 7", mine, err)
		}
		var open []uint64
		tx.RegionTickets("32.01", []bansosbot.Status{bansosbot.StatusNew}, func(t *bansosbot.Ticket) bool { open = append(open, t.ID); return true })
		if len(open) != 1 {
			t.Errorf("region index after migration = %v; want [7]", open)
		}
		var due []uint64
		tx.DueTickets(created.Add(100*time.Hour), func(t *bansosbot.Ticket) bool { due = append(due, t.ID); return true })
		if len(due) != 1 {
			t.Errorf("due index after migration = %v; want [7]", due)
		}
		if s, _ := tx.Staff(1); s != nil {
			t.Errorf("unexpected staff %+v", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewerFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists(bucketMeta)
		return b.Put(keySchemaVersion, u64(uint64(SchemaVersion()+1)))
	})
	raw.Close()
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "downgrading is not supported") {
		t.Fatalf("open a newer file: %v; want a refusal explaining the downgrade", err)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v; want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another bansosbot") {
		t.Errorf("error %q does not say what to check", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second open took %v; want it to fail after the lock timeout", d)
	}
}

func TestBackupIsConsistentCopy(t *testing.T) {
	db := MustOpenDB(t)
	err := db.Update(func(tx *Tx) error {
		return tx.PutProfile(&bansosbot.Profile{UserID: 5, Lang: "en", ConsentVersion: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := db.BackupFile(path); err != nil {
		t.Fatal(err)
	}
	cp, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	cp.View(func(tx *Tx) error {
		p, err := tx.Profile(5)
		if err != nil || p == nil || p.Lang != "en" {
			t.Errorf("profile in backup = %+v, %v", p, err)
		}
		return nil
	})
}

func TestAcceptDeduplicatesAndKeepsOffset(t *testing.T) {
	db := MustOpenDB(t)
	items := []InboxItem{{UpdateID: 10, ChatID: 1, Update: json.RawMessage(`{"update_id":10}`)}, {UpdateID: 11, ChatID: 2, Update: json.RawMessage(`{"update_id":11}`)}}
	fresh, err := db.Accept(items, 12)
	if err != nil || len(fresh) != 2 {
		t.Fatalf("first accept = %v, %v; want 2 fresh", fresh, err)
	}
	// Telegram delivers 11 again (our confirmation was lost) with 12.
	fresh, err = db.Accept(append(items[1:], InboxItem{UpdateID: 12, ChatID: 1, Update: json.RawMessage(`{}`)}), 13)
	if err != nil || len(fresh) != 1 || fresh[0].UpdateID != 12 {
		t.Fatalf("second accept = %v, %v; want only 12", fresh, err)
	}
	// 10 is processed; a redelivery of 10 is still recognised.
	if err := db.Update(func(tx *Tx) error { return tx.MarkProcessed(10) }); err != nil {
		t.Fatal(err)
	}
	if fresh, _ := db.Accept(items[:1], 0); len(fresh) != 0 {
		t.Errorf("a processed update was accepted again: %v", fresh)
	}
	if off, _ := db.Offset(); off != 13 {
		t.Errorf("offset = %d; want 13 (never moves back)", off)
	}
	pending, _ := db.Pending()
	var ids []int64
	for _, p := range pending {
		ids = append(ids, p.UpdateID)
	}
	if len(ids) != 2 || ids[0] != 11 || ids[1] != 12 {
		t.Errorf("pending = %v; want [11 12] in order", ids)
	}
}

func TestAllowSlidingWindow(t *testing.T) {
	db := MustOpenDB(t)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {10 * time.Second, true}, {20 * time.Second, true}, {30 * time.Second, false}, {61 * time.Second, true}, {62 * time.Second, false}}
	for _, s := range steps {
		var ok bool
		err := db.Update(func(tx *Tx) (err error) { ok, _, err = tx.Allow("k", 3, time.Minute, t0.Add(s.at)); return err })
		if err != nil || ok != s.want {
			t.Errorf("Allow at +%v = %v, %v; want %v", s.at, ok, err, s.want)
		}
	}
	if n, _ := db.PurgeCounters(t0.Add(time.Hour)); n != 1 {
		t.Errorf("PurgeCounters = %d; want 1", n)
	}
}

// TestAllowClockStepsBack: hits recorded before the clock stepped back lie
// in the future of the new clock; they are dropped, and no answer ever asks
// to wait longer than the window (issue 10 item 14).
func TestAllowClockStepsBack(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		hits     []time.Duration // allowed hits recorded at t0+d, filling the limit of 3
		at       time.Duration   // then Allow at t0+at
		want     bool
		wantWait time.Duration
	}{
		{"no jump: full window refuses", []time.Duration{0, time.Second, 2 * time.Second}, 3 * time.Second, false, 57 * time.Second},
		{"clock back a day: allowed", []time.Duration{0, time.Second, 2 * time.Second}, -24 * time.Hour, true, 0},
		{"clock back 1 s inside the window: the hit in the future no longer counts", []time.Duration{0, time.Second, 2 * time.Second}, time.Second, true, 0},
		{"clock back an hour after hits in the future only", []time.Duration{-time.Hour, 0, time.Second}, -30 * time.Minute, true, 0},
		{"clock forward: old hits expire", []time.Duration{0, time.Second, 2 * time.Second}, 24 * time.Hour, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			for _, h := range tc.hits {
				if err := db.Update(func(tx *Tx) error { _, _, err := tx.Allow("k", 3, time.Minute, t0.Add(h)); return err }); err != nil {
					t.Fatal(err)
				}
			}
			var ok, pok bool
			var wait, pwait time.Duration
			err := db.Update(func(tx *Tx) (err error) {
				if pok, pwait, err = tx.Peek("k", 3, time.Minute, t0.Add(tc.at)); err != nil {
					return err
				}
				ok, wait, err = tx.Allow("k", 3, time.Minute, t0.Add(tc.at))
				return err
			})
			if err != nil || ok != tc.want || wait != tc.wantWait {
				t.Errorf("Allow at %v = %v, wait %v, %v; want %v, wait %v", tc.at, ok, wait, err, tc.want, tc.wantWait)
			}
			if pok != ok || pwait != wait {
				t.Errorf("Peek = %v %v; Allow = %v %v", pok, pwait, ok, wait)
			}
			if wait > time.Minute {
				t.Errorf("wait %v longer than the window", wait)
			}
		})
	}
}

func TestOutboxParkAndReschedule(t *testing.T) {
	db := MustOpenDB(t)
	var ids []uint64
	db.Update(func(tx *Tx) error {
		for i := 0; i < 3; i++ {
			id, err := tx.Enqueue(OutboxItem{ChatID: 1, Payload: json.RawMessage(`{}`)})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	items, _ := db.Outbox(0, 10)
	if len(items) != 3 {
		t.Fatalf("outbox = %d items; want 3", len(items))
	}
	items[0].Attempts = 2
	if err := db.Reschedule(items[0]); err != nil {
		t.Fatal(err)
	}
	if err := db.ParkOutbox("test", items[1]); err != nil {
		t.Fatal(err)
	}
	if err := db.Delivered(items[2].ID); err != nil {
		t.Fatal(err)
	}
	left, _ := db.Outbox(0, 10)
	if len(left) != 1 || left[0].ID != ids[0] || left[0].Attempts != 2 {
		t.Errorf("outbox after reschedule/park/deliver = %+v; want item %d with 2 attempts", left, ids[0])
	}
	dead, _ := db.DeadLetters()
	if len(dead) != 1 || dead[0].Kind != DeadOutbox || !bytes.Equal(dead[0].Payload, []byte(`{}`)) {
		t.Errorf("dead letters = %+v", dead)
	}
}
