package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// TestTallyMigrationAndRecount: a database from before the counters gets
// them at start (buildTallies), and the report then reads them with the
// figures of a full scan; doctor --recount agrees, finds the counters
// stale after a program without them changed a ticket, and --rebuild
// repairs them.
func TestTallyMigrationAndRecount(t *testing.T) {
	// Mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests.
	t.Parallel()
	path := opsStore(t, 300) // written without counters, like a database of an older version
	cfg := Config{DataDir: filepath.Dir(path), TZ: "Asia/Jakarta"}
	open := func(tallies bool) *store.DB {
		db, err := store.Open(path, store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if tallies {
			keepTallies(cfg, db, nil)
		}
		return db
	}
	recount := func(db *store.DB, args ...string) (string, error) {
		var out bytes.Buffer
		err := runRecount(context.Background(), cfg, db, args, &out)
		return out.String(), err
	}
	report := func(db *store.DB) string {
		var out bytes.Buffer
		if err := runReport(context.Background(), cfg, db, []string{"--period", "2026-06", "--format", "csv"}, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}

	db := open(true)
	scanned := report(db) // no counters yet: a full scan
	if out, err := recount(db); err == nil || !strings.Contains(out, "differ") {
		t.Fatalf("recount before the counters exist: %v\n%s; want a difference", err, out)
	}
	m := NewMain(cfg, io.Discard)
	m.DB = db
	if err := m.buildTallies(); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.TallyState(); st != store.TallyOK {
		t.Fatalf("after the migration the counters are %q; want ok", st)
	}
	if got := report(db); got != scanned {
		t.Fatalf("report from the counters:\n%s\nfrom the scan:\n%s", got, scanned)
	}
	if out, err := recount(db); err != nil || !strings.Contains(out, "recounted 300 tickets") || !strings.Contains(out, "agree") {
		t.Fatalf("recount after the migration: %v\n%s", err, out)
	}
	db.Close()

	db = open(false) // an older program changes a ticket
	err := db.Update(func(tx *store.Tx) error {
		tk, err := tx.Ticket(5)
		if err != nil {
			return err
		}
		tk.Region = "94.71.01"
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(true)
	defer db.Close()
	if out, err := recount(db); err == nil || !strings.Contains(out, `counters are "stale"`) {
		t.Fatalf("recount after a write without counters: %v\n%s; want stale", err, out)
	}
	if out, err := recount(db, "--rebuild"); err != nil || !strings.Contains(out, "rebuilt the counters of 300 tickets") {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	if out, err := recount(db); err != nil {
		t.Fatalf("recount after the rebuild: %v\n%s", err, out)
	}
	// Counters follow later changes in the ticket's transaction.
	err = db.Update(func(tx *store.Tx) error {
		tk, err := tx.Ticket(6)
		if err != nil {
			return err
		}
		tk.Status, tk.ResolvedAt, tk.ClosedAt = bansosbot.StatusInProgress, time.Time{}, time.Time{}
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := recount(db); err != nil {
		t.Fatalf("recount after a change: %v\n%s", err, out)
	}
}
