package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
)

func putTickets(t *testing.T, db *DB, tickets ...*bansosbot.Ticket) {
	t.Helper()
	err := db.Update(func(tx *Tx) error {
		for _, tk := range tickets {
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTicketCountsByStatusAndProvince(t *testing.T) {
	db := openTicketDB(t)
	putTickets(t, db,
		&bansosbot.Ticket{ID: 1, Status: bansosbot.StatusNew, Region: "32.01.01"},
		&bansosbot.Ticket{ID: 2, Status: bansosbot.StatusNew, Region: "32.02.01"},
		&bansosbot.Ticket{ID: 3, Status: bansosbot.StatusNew, Region: "33.01.01"},
		&bansosbot.Ticket{ID: 4, Status: bansosbot.StatusClosed, Region: "32.01.01"},
		&bansosbot.Ticket{ID: 5, Status: bansosbot.StatusNew},
	)
	got, err := db.TicketCounts()
	if err != nil {
		t.Fatal(err)
	}
	want := []TicketCount{
		{Status: bansosbot.StatusClosed, Province: "32", N: 1},
		{Status: bansosbot.StatusNew, Province: "", N: 1},
		{Status: bansosbot.StatusNew, Province: "32", N: 2},
		{Status: bansosbot.StatusNew, Province: "33", N: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("TicketCounts = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("TicketCounts[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestOldestOutboxAndDeadLetterCount(t *testing.T) {
	db := MustOpenDB(t)
	if _, ok, err := db.OldestOutbox(); ok || err != nil {
		t.Fatalf("empty outbox: ok=%v err=%v", ok, err)
	}
	first := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	db.Update(func(tx *Tx) error {
		tx.Enqueue(OutboxItem{ChatID: 1, Payload: json.RawMessage(`{}`), CreatedAt: first})
		tx.Enqueue(OutboxItem{ChatID: 2, Payload: json.RawMessage(`{}`), CreatedAt: first.Add(time.Minute)})
		return nil
	})
	at, ok, err := db.OldestOutbox()
	if err != nil || !ok || !at.Equal(first) {
		t.Errorf("OldestOutbox = %v, %v, %v; want %v", at, ok, err, first)
	}
	items, _ := db.Outbox(0, 10)
	db.ParkOutbox("test", items[0])
	if n, err := db.DeadLetterCount(); n != 1 || err != nil {
		t.Errorf("DeadLetterCount = %d, %v; want 1", n, err)
	}
	if at, _, _ := db.OldestOutbox(); !at.Equal(first.Add(time.Minute)) {
		t.Errorf("OldestOutbox after parking the first = %v", at)
	}
}

func TestStatsAddUpInTheTransaction(t *testing.T) {
	db := MustOpenDB(t)
	add := func(name string, n uint64) error {
		return db.Update(func(tx *Tx) error { return tx.AddStat(name, n) })
	}
	add("lookup/answered", 2)
	add("lookup/answered", 3)
	add("refused/messages", 1)
	// A failed transaction counts nothing.
	boom := errors.New("boom")
	if err := db.Update(func(tx *Tx) error { tx.AddStat("lookup/answered", 100); return boom }); err != boom {
		t.Fatal(err)
	}
	got, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got["lookup/answered"] != 5 || got["refused/messages"] != 1 || len(got) != 2 {
		t.Errorf("Stats = %v; want lookup/answered=5 refused/messages=1", got)
	}
}

func TestInspectAndLockFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	putTickets(t, db, &bansosbot.Ticket{ID: 9, No: "BS-TEST9", Status: bansosbot.StatusNew})
	// While it is open (as by a running instance), both are refused.
	if _, err := Inspect(path, 100*time.Millisecond, false); !errors.Is(err, ErrLocked) {
		t.Errorf("Inspect of an open store: %v; want ErrLocked", err)
	}
	if _, err := LockFile(path, 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Errorf("LockFile of an open store: %v; want ErrLocked", err)
	}
	db.Close()

	info, err := Inspect(path, time.Second, true)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != SchemaVersion() || info.Tickets != 1 || info.FirstTicket != 9 || info.FirstTicketNo != "BS-TEST9" || info.Size == 0 {
		t.Errorf("Inspect = %+v", info)
	}
	// A truncated copy is refused, not a crash (bbolt would fault reading
	// pages past the end of its memory map).
	raw, _ := os.ReadFile(path)
	short := filepath.Join(dir, "short.db")
	os.WriteFile(short, raw[:len(raw)/2], 0o600)
	if _, err := Inspect(short, time.Second, true); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Inspect of a truncated file: %v; want it refused as truncated", err)
	}
	// Holding the lock keeps an instance from starting.
	release, err := LockFile(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("Open while LockFile holds the file: %v; want ErrLocked", err)
	}
	release()
	// Missing and foreign files hold no lock.
	if release, err := LockFile(filepath.Join(dir, "missing.db"), time.Second); err != nil || release() != nil {
		t.Errorf("LockFile of a missing file: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("x"), 8192), 0o600)
	if _, err := LockFile(junk, time.Second); err != nil {
		t.Errorf("LockFile of a foreign file: %v", err)
	}
	if _, err := Inspect(junk, time.Second, false); err == nil {
		t.Error("Inspect of a foreign file succeeded")
	}
}

func TestTicketsAfterWalksInIDOrder(t *testing.T) {
	db := openTicketDB(t)
	for i := uint64(1); i <= 5; i++ {
		putTickets(t, db, &bansosbot.Ticket{ID: i, Status: bansosbot.StatusNew})
	}
	var got []uint64
	db.View(func(tx *Tx) error {
		return tx.TicketsAfter(2, func(tk *bansosbot.Ticket) bool {
			got = append(got, tk.ID)
			return len(got) < 2
		})
	})
	if len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Errorf("TicketsAfter(2) stopping after two = %v; want [3 4]", got)
	}
}

func TestIdleSessionsAndDeadLetterPurge(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	db, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{NoSync: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := now.Add(-40 * 24 * time.Hour)
	db.Update(func(tx *Tx) error {
		tx.PutSession(&bansosbot.Session{UserID: 1, Flow: "rp", State: "desc", Draft: []byte(`{"d":"x"}`), UpdatedAt: old})
		tx.PutSession(&bansosbot.Session{UserID: 2, Step: 4, UpdatedAt: old}) // nothing to expire
		tx.PutSession(&bansosbot.Session{UserID: 3, Flow: "rp", UpdatedAt: now})
		tx.PutSession(&bansosbot.Session{UserID: 4, Held: []byte(`{"Text":"x"}`), UpdatedAt: old})
		tx.PutSession(&bansosbot.Session{UserID: 5, Parked: &bansosbot.ParkedFlow{Flow: "rp", State: "desc", Draft: []byte(`{"d":"x"}`)}, UpdatedAt: old}) // only a parked complaint
		return tx.ParkUpdate(InboxItem{UpdateID: 7, ChatID: 1, Update: json.RawMessage(`{"text":"NIK 3201"}`)}, "panic")
	})
	var ids []int64
	db.View(func(tx *Tx) error {
		ss, err := tx.IdleSessions(now.Add(-30 * 24 * time.Hour))
		for _, s := range ss {
			ids = append(ids, s.UserID)
		}
		return err
	})
	if len(ids) != 3 || ids[0] != 1 || ids[1] != 4 || ids[2] != 5 {
		t.Errorf("IdleSessions = %v; want [1 4 5]", ids)
	}
	if n, err := db.PurgeDeadLetters(now.Add(-time.Hour)); n != 0 || err != nil {
		t.Errorf("purge of fresh dead letters removed %d (%v)", n, err)
	}
	if n, err := db.PurgeDeadLetters(now.Add(time.Hour)); n != 1 || err != nil {
		t.Errorf("purge of old dead letters removed %d (%v); want 1", n, err)
	}
}

// TestScrubFreePages: a value overwritten in bbolt stays in the file on a
// free page until scrubbed; after the scrub the bytes are gone and the
// file is intact.
func TestScrubFreePages(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	secret := "Rumah-saya-di-Jalan-Melati-7-RT03"
	tk := &bansosbot.Ticket{ID: 1, Status: bansosbot.StatusClosed, Region: "32.01.01", Description: strings.Repeat(secret+" ", 20)}
	putTickets(t, db, tk)
	tk.Description = "\x00erased"
	putTickets(t, db, tk)
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the overwritten value is not in the file: this test no longer shows what the scrub is for")
	}
	// An open reader blocks the scrub.
	rtx, err := db.bolt.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ScrubFreePages(); !errors.Is(err, ErrBusy) {
		t.Errorf("scrub with a reader open: %v; want ErrBusy", err)
	}
	rtx.Rollback()
	n, err := db.ScrubFreePages()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d free pages zeroed", n)
	raw, _ = os.ReadFile(path)
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the removed text is still in the file after the scrub")
	}
	// The store still works and is consistent.
	putTickets(t, db, &bansosbot.Ticket{ID: 3, Status: bansosbot.StatusNew, Region: "32.01.01"})
	db.Close()
	info, err := Inspect(path, time.Second, true)
	if err != nil || info.Tickets != 2 {
		t.Fatalf("after scrub: %+v, %v", info, err)
	}
}

// TestScrubFreePagesWithin: the walk stops at the deadline and says so (a
// stop must not wait for a walk over a large file out of the page cache);
// with time enough it zeroes everything, like ScrubFreePages.
func TestScrubFreePagesWithin(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret := "Rumah-saya-di-Jalan-Kenanga-9-RT04"
	tk := &bansosbot.Ticket{ID: 1, Status: bansosbot.StatusClosed, Region: "32.01.01", Description: strings.Repeat(secret+" ", 20)}
	putTickets(t, db, tk)
	tk.Description = "\x00erased"
	putTickets(t, db, tk)
	if raw, _ := os.ReadFile(path); !bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the overwritten value is not in the file: this test shows nothing")
	}
	n, complete, err := db.ScrubFreePagesWithin(time.Now().Add(-time.Second))
	if err != nil || complete || n != 0 {
		t.Errorf("past the deadline: %d pages, complete %v, %v; want nothing done and complete false", n, complete, err)
	}
	n, complete, err = db.ScrubFreePagesWithin(time.Now().Add(time.Minute))
	if err != nil || !complete || n == 0 {
		t.Fatalf("with time: %d pages, complete %v, %v; want the free pages zeroed", n, complete, err)
	}
	if raw, _ := os.ReadFile(path); bytes.Contains(raw, []byte(secret)) {
		t.Error("the removed text is still in the file after a complete scrub")
	}
}
