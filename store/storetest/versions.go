package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

func readTicket(t *testing.T, db *store.DB, id uint64) *bansosbot.Ticket {
	t.Helper()
	var tk *bansosbot.Ticket
	must(t, db.View(func(tx *store.Tx) (err error) { tk, err = tx.Ticket(id); return err }))
	return tk
}

// testTicketVersionsTwoReaders: two writers read the same ticket in
// transactions of their own (a staff member's button and a citizen's
// message, two replicas) and write it back in others. The first write
// wins; the second, based on the older version, fails with a conflict and
// writes nothing, until it reads the ticket again.
func testTicketVersionsTwoReaders(t *testing.T, open Opener) {
	db := fixed(open, t)
	putTickets(t, db, &bansosbot.Ticket{ID: 1, No: "BS-5555555", CitizenID: 10, Status: bansosbot.StatusNew, Region: "32.01.01"})
	a, b := readTicket(t, db, 1), readTicket(t, db, 1)
	if a.Version != 1 {
		t.Fatalf("a new ticket's version = %d; want 1", a.Version)
	}
	a.Status = bansosbot.StatusAssigned
	putTickets(t, db, a)
	if a.Version != 2 {
		t.Errorf("version after a write = %d; want 2 (in the written ticket too)", a.Version)
	}
	b.Status, b.Region = bansosbot.StatusRejected, "33.01.01"
	err := db.Update(func(tx *store.Tx) error { return tx.PutTicket(b) })
	var ce *store.ConflictError
	if !errors.Is(err, store.ErrConflict) || !errors.As(err, &ce) || ce.Ticket != 1 || ce.Based != 1 || ce.Current != 2 {
		t.Fatalf("stale write = %v; want a conflict on ticket 1 based on version 1, now 2", err)
	}
	if b.Version != 1 {
		t.Errorf("the refused ticket's version moved to %d", b.Version)
	}
	got := readTicket(t, db, 1)
	if got.Status != bansosbot.StatusAssigned || got.Region != "32.01.01" || got.Version != 2 {
		t.Errorf("after the refused write: %s in %s, version %d; want the first writer's assigned in 32.01.01, version 2", got.Status, got.Region, got.Version)
	}
	db.View(func(tx *store.Tx) error {
		var rejected []uint64
		tx.RegionTickets("33", []bansosbot.Status{bansosbot.StatusRejected}, func(tk *bansosbot.Ticket) bool { rejected = append(rejected, tk.ID); return true })
		if len(rejected) != 0 {
			t.Errorf("the refused write moved the index: %v", rejected)
		}
		return nil
	})
	// Read again, the second writer's change goes in on top of the first.
	b = readTicket(t, db, 1)
	b.Region = "33.01.01"
	putTickets(t, db, b)
	if got := readTicket(t, db, 1); got.Status != bansosbot.StatusAssigned || got.Region != "33.01.01" || got.Version != 3 {
		t.Errorf("after reading again: %s in %s, version %d; want assigned in 33.01.01, version 3", got.Status, got.Region, got.Version)
	}
	// Written twice in one transaction: the second write needs no new read.
	must(t, db.Update(func(tx *store.Tx) error {
		tk, err := tx.Ticket(1)
		if err != nil {
			return err
		}
		for _, s := range []bansosbot.Status{bansosbot.StatusInProgress, bansosbot.StatusResolved} {
			tk.Status = s
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	}))
	if got := readTicket(t, db, 1); got.Status != bansosbot.StatusResolved || got.Version != 5 {
		t.Errorf("after two writes in one transaction: %s, version %d; want resolved, version 5", got.Status, got.Version)
	}
}

// testTicketVersionsConcurrentWriters: writers in parallel, each reading
// and writing the ticket in one transaction, never fail with a conflict
// and lose nothing: each write counts one version and keeps its change
// (on PostgreSQL a writer that read before another committed fails to
// serialize and runs again on the newer ticket).
func testTicketVersionsConcurrentWriters(t *testing.T, open Opener) {
	db := fixed(open, t)
	putTickets(t, db, &bansosbot.Ticket{ID: 7, No: "BS-6666666", CitizenID: 10, Status: bansosbot.StatusNew, Region: "32.01.01"})
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- db.Update(func(tx *store.Tx) error {
					tk, err := tx.Ticket(7)
					if err != nil {
						return err
					}
					if tk.Extra == nil {
						tk.Extra = map[string]string{}
					}
					tk.Extra[fmt.Sprintf("w%d.%d", w, i)] = "x"
					return tx.PutTicket(tk)
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent writer: %v", err)
		}
	}
	got := readTicket(t, db, 7)
	if len(got.Extra) != writers*each || got.Version != 1+writers*each {
		t.Errorf("after %d writes: %d changes kept, version %d; want %d and %d", writers*each, len(got.Extra), got.Version, writers*each, 1+writers*each)
	}
}
