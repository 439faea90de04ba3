package store

import (
	"encoding/binary"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
)

// These tests are internal: they read the index buckets directly and
// corrupt tickets on purpose.

func openTicketDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "tickets.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

var openStatuses = func() []bansosbot.Status {
	var out []bansosbot.Status
	for _, s := range bansosbot.Statuses {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}()

// indexRows decodes the three ticket indexes into readable rows, sorted.
func indexRows(t *testing.T, tx *Tx) (citizen, status, due []string) {
	t.Helper()
	_ = tx.bucket(bucketByCitizen).ForEach(func(k, _ []byte) error {
		citizen = append(citizen, fmt.Sprintf("%d/%d", int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:])))
		return nil
	})
	_ = tx.bucket(bucketByStatus).ForEach(func(k, _ []byte) error {
		parts := strings.SplitN(string(k[:len(k)-8]), "\x00", 3)
		status = append(status, fmt.Sprintf("%s/%s/%d", parts[0], parts[1], binary.BigEndian.Uint64(k[len(k)-8:])))
		return nil
	})
	_ = tx.bucket(bucketByDue).ForEach(func(k, _ []byte) error {
		due = append(due, fmt.Sprintf("%d/%d", int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:])))
		return nil
	})
	return
}

// wantRows derives the rows the indexes must hold from the tickets alone.
func wantRows(ts []*bansosbot.Ticket) (citizen, status, due []string) {
	for _, tk := range ts {
		if tk.CitizenID != 0 {
			citizen = append(citizen, fmt.Sprintf("%d/%d", tk.CitizenID, tk.ID))
		}
		status = append(status, fmt.Sprintf("%s/%s/%d", tk.Status, tk.Region, tk.ID))
		if !tk.NextCheck.IsZero() {
			due = append(due, fmt.Sprintf("%d/%d", tk.NextCheck.UnixNano(), tk.ID))
		}
	}
	slices.Sort(citizen)
	slices.Sort(status)
	slices.Sort(due)
	return
}

func ids(ts []*bansosbot.Ticket) []uint64 {
	out := make([]uint64, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// TestTicketIndexesFollowChanges changes status, region, citizen and due
// time of stored tickets, one kind of change per step, and checks after
// every step that each index holds exactly the entries the tickets imply
// (nothing stale, nothing missing) and that the queries answer from them.
func TestTicketIndexesFollowChanges(t *testing.T) {
	db := openTicketDB(t)
	tickets := map[uint64]*bansosbot.Ticket{}
	steps := []struct {
		name string
		do   func(ts map[uint64]*bansosbot.Ticket)
		// expected query answers after the step
		citizen10   []uint64 // CitizenTickets(10), newest first
		region32    []uint64 // RegionTickets("32", open)
		dueIn2h     []uint64 // DueTickets(t0+2h)
		regionWJOld []uint64 // RegionTickets("32.01.01", open)
	}{
		{"create", func(ts map[uint64]*bansosbot.Ticket) {
			ts[1] = &bansosbot.Ticket{ID: 1, No: "BS-2222222", CitizenID: 10, Status: bansosbot.StatusNew, Region: "32.01.01", NextCheck: t0.Add(time.Hour)}
			ts[2] = &bansosbot.Ticket{ID: 2, No: "BS-3333333", CitizenID: 10, Status: bansosbot.StatusNew, Region: "32.01.02"}
			ts[3] = &bansosbot.Ticket{ID: 3, No: "BS-4444444", CitizenID: 11, Status: bansosbot.StatusAssigned, Region: "33.01.01", NextCheck: t0.Add(3 * time.Hour)}
		}, []uint64{2, 1}, []uint64{1, 2}, []uint64{1}, []uint64{1}},
		{"status", func(ts map[uint64]*bansosbot.Ticket) { ts[1].Status = bansosbot.StatusAssigned },
			[]uint64{2, 1}, []uint64{2, 1}, []uint64{1}, []uint64{1}},
		{"region", func(ts map[uint64]*bansosbot.Ticket) { ts[1].Region = "32.71.01" },
			[]uint64{2, 1}, []uint64{2, 1}, []uint64{1}, nil},
		{"anonymised", func(ts map[uint64]*bansosbot.Ticket) { ts[2].CitizenID = 0 },
			[]uint64{1}, []uint64{2, 1}, []uint64{1}, nil},
		{"due", func(ts map[uint64]*bansosbot.Ticket) {
			ts[1].NextCheck = time.Time{}
			ts[3].NextCheck = t0.Add(time.Hour)
		}, []uint64{1}, []uint64{2, 1}, []uint64{3}, nil},
		{"closed", func(ts map[uint64]*bansosbot.Ticket) { ts[2].Status = bansosbot.StatusWithdrawn },
			[]uint64{1}, []uint64{1}, []uint64{3}, nil},
		{"everything at once", func(ts map[uint64]*bansosbot.Ticket) {
			ts[3].Status, ts[3].Region, ts[3].CitizenID, ts[3].NextCheck = bansosbot.StatusInProgress, "32.01.01", 10, t0.Add(5*time.Hour)
		}, []uint64{3, 1}, []uint64{1, 3}, nil, []uint64{3}},
		{"unchanged", func(ts map[uint64]*bansosbot.Ticket) {}, []uint64{3, 1}, []uint64{1, 3}, nil, []uint64{3}},
	}
	for _, st := range steps {
		st.do(tickets)
		if err := db.Update(func(tx *Tx) error {
			for _, id := range slices.Sorted(maps.Keys(tickets)) {
				if err := tx.PutTicket(tickets[id]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		db.View(func(tx *Tx) error {
			var all []*bansosbot.Ticket
			for _, id := range slices.Sorted(maps.Keys(tickets)) {
				all = append(all, tickets[id])
			}
			gc, gs, gd := indexRows(t, tx)
			wc, ws, wd := wantRows(all)
			if !slices.Equal(gc, wc) || !slices.Equal(gs, ws) || !slices.Equal(gd, wd) {
				t.Errorf("%s: indexes\ncitizen %v\nstatus  %v\ndue     %v\nwant\ncitizen %v\nstatus  %v\ndue     %v", st.name, gc, gs, gd, wc, ws, wd)
			}
			c10, err := tx.CitizenTickets(10)
			if err != nil || !slices.Equal(ids(c10), st.citizen10) {
				t.Errorf("%s: CitizenTickets(10) = %v, %v; want %v", st.name, ids(c10), err, st.citizen10)
			}
			var r32, rOld, due []uint64
			tx.RegionTickets("32", openStatuses, func(tk *bansosbot.Ticket) bool { r32 = append(r32, tk.ID); return true })
			tx.RegionTickets("32.01.01", openStatuses, func(tk *bansosbot.Ticket) bool { rOld = append(rOld, tk.ID); return true })
			tx.DueTickets(t0.Add(2*time.Hour), func(tk *bansosbot.Ticket) bool { due = append(due, tk.ID); return true })
			if !slices.Equal(r32, st.region32) || !slices.Equal(rOld, st.regionWJOld) || !slices.Equal(due, st.dueIn2h) {
				t.Errorf("%s: region 32 %v (want %v), region 32.01.01 %v (want %v), due %v (want %v)",
					st.name, r32, st.region32, rOld, st.regionWJOld, due, st.dueIn2h)
			}
			return nil
		})
	}
}

// TestListingReadsOnlyIndexedEntries stores many tickets, then corrupts
// every ticket that is not one citizen's or one region's open ticket: the
// listings must still succeed, which they can only if they never read the
// others.
func TestListingReadsOnlyIndexedEntries(t *testing.T) {
	db := openTicketDB(t)
	const citizen = 77
	region := bansosbot.RegionCode("32.01.01")
	var wantCitizen, wantRegion []uint64
	err := db.Update(func(tx *Tx) error {
		for i := 1; i <= 300; i++ {
			seq, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("k")), CitizenID: int64(1000 + i%50),
				Region: bansosbot.RegionCode(fmt.Sprintf("32.01.%02d", 2+i%30)), Status: bansosbot.Statuses[i%len(bansosbot.Statuses)]}
			switch {
			case i%17 == 0:
				tk.CitizenID = citizen
				wantCitizen = append([]uint64{seq}, wantCitizen...)
			case i%11 == 0:
				tk.Region = region
				if tk.Status.Open() {
					wantRegion = append(wantRegion, seq)
				}
			}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		// A region whose code starts like ours but is another one.
		return tx.PutTicket(&bansosbot.Ticket{ID: 9999, CitizenID: 5, Region: "32.01.010", Status: bansosbot.StatusNew})
	})
	if err != nil {
		t.Fatal(err)
	}
	keep := map[uint64]bool{}
	for _, id := range append(slices.Clone(wantCitizen), wantRegion...) {
		keep[id] = true
	}
	if err := db.Update(func(tx *Tx) error {
		b := tx.bucket(bucketTickets)
		var poison [][]byte
		b.ForEach(func(k, _ []byte) error {
			if !keep[binary.BigEndian.Uint64(k)] {
				poison = append(poison, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range poison {
			if err := b.Put(k, []byte("{corrupt")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *Tx) error {
		got, err := tx.CitizenTickets(citizen)
		if err != nil || !slices.Equal(ids(got), wantCitizen) {
			t.Errorf("CitizenTickets = %v, %v; want %v (reading only that citizen's tickets)", ids(got), err, wantCitizen)
		}
		var reg []uint64
		err = tx.RegionTickets(region, openStatuses, func(tk *bansosbot.Ticket) bool { reg = append(reg, tk.ID); return true })
		slices.Sort(reg)
		if err != nil || !slices.Equal(reg, wantRegion) {
			t.Errorf("RegionTickets = %v, %v; want %v (reading only that region's open tickets)", reg, err, wantRegion)
		}
		// The corrupt tickets are really there: a full scan fails.
		if err := tx.AllTickets(func(*bansosbot.Ticket) error { return nil }); err == nil {
			t.Error("AllTickets over corrupt tickets succeeded; the test corrupted nothing")
		}
		return nil
	})
}

// TestTicketByNo finds tickets by number, also after the number changes,
// and reports unknown numbers as not found.
func TestTicketByNo(t *testing.T) {
	db := openTicketDB(t)
	err := db.Update(func(tx *Tx) error {
		tk := &bansosbot.Ticket{ID: 1, No: "BS-2222222", Status: bansosbot.StatusNew}
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		if got, err := tx.TicketByNo("BS-2222222"); err != nil || got.ID != 1 {
			t.Errorf("TicketByNo = %v, %v", got, err)
		}
		if _, err := tx.TicketByNo("BS-3333333"); bansosbot.ErrorCode(err) != bansosbot.ENotFound {
			t.Errorf("unknown number: err %v; want not found", err)
		}
		tk.No = "BS-4444444" // renumbered (e.g. a repaired import)
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		if got, err := tx.TicketByNo("BS-4444444"); err != nil || got.ID != 1 {
			t.Errorf("TicketByNo(new number) = %v, %v", got, err)
		}
		if _, err := tx.TicketByNo("BS-2222222"); bansosbot.ErrorCode(err) != bansosbot.ENotFound {
			t.Errorf("old number: err %v; want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
