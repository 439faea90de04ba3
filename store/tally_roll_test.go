package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
)

// TestSpansCoverPeriods: spans cut any run of days into months, weeks
// from Monday and single days that cover it exactly, with every whole
// month read as one record and at most 24 single days, so that what a period reads does not grow with its length in
// days. (That the sums equal a recount is flows' TestReportFromTalliesEqualsScan.)
func TestSpansCoverPeriods(t *testing.T) {
	day := func(y int, m time.Month, d int) int32 { return bansosbot.DayNumber(y, m, d) }
	if ws := weekStart(day(2026, 12, 3)); ws != day(2026, 11, 30) { // a Thursday; the Monday before
		t.Fatalf("weekStart of Thu 3 Dec 2026 = %d; want Mon 30 Nov (%d)", ws, day(2026, 11, 30))
	}
	for _, c := range []struct {
		name     string
		from, to int32
		want     string
	}{
		{"June", day(2026, 6, 1), day(2026, 7, 1), "m2026-06-01"},
		{"a week", day(2026, 11, 23), day(2026, 11, 30), "w2026-11-23"},
		{"12 weeks", day(2026, 9, 7), day(2026, 11, 30), "w2026-09-07 w2026-09-14 w2026-09-21 d2026-09-28 d2026-09-29 d2026-09-30 m2026-10-01 d2026-11-01 w2026-11-02 w2026-11-09 w2026-11-16 w2026-11-23"},
		{"odd days", day(2026, 6, 3), day(2026, 6, 9), "d2026-06-03 d2026-06-04 d2026-06-05 d2026-06-06 d2026-06-07 d2026-06-08"},
	} {
		got := ""
		for i, s := range spans(c.from, c.to) {
			if i > 0 {
				got += " "
			}
			got += fmt.Sprintf("%c%s", s.kind, time.Unix(int64(s.start)*86400, 0).UTC().Format("2006-01-02"))
		}
		if got != c.want {
			t.Errorf("%s: spans %s; want %s", c.name, got, c.want)
		}
	}
	for from := day(2025, 12, 20); from < day(2026, 3, 10); from++ {
		for to := from; to < from+400; to += 3 {
			next, days, months := from, 0, 0

			for _, s := range spans(from, to) {
				if s.start != next {
					t.Fatalf("spans(%d, %d): %c%d after %d: a gap or an overlap", from, to, s.kind, s.start, next)
				}
				switch s.kind {
				case spanMonth:
					_, next = monthStart(s.start)
					months++
				case spanWeek:
					if weekStart(s.start) != s.start {
						t.Fatalf("week from %d, not a Monday", s.start)
					}
					next += 7
				default:
					next++
					days++
				}
			}
			if next != to {
				t.Fatalf("spans(%d, %d) end at %d", from, to, next)
			}
			if max := 12 + 12*min(months, 1); days > max { // up to 6 to a Monday and 6 to a month's start, on either side of the months
				t.Fatalf("spans(%d, %d): %d single days", from, to, days)
			}
		}
	}
	if d := utcDay(time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)); d != -1 {
		t.Errorf("utcDay before 1970: %d; want -1", d)
	}
}

// TestOldCounterLayoutIsStale: counters built by a version without the
// rollups (no layout mark) read as stale, so that the bot rebuilds them
// at start; a rebuild marks the layout.
func TestOldCounterLayoutIsStale(t *testing.T) {
	db := openTicketDB(t)
	db.SetTallier(func(tx *Tx, tk *bansosbot.Ticket) (*bansosbot.TicketTally, error) {
		return &bansosbot.TicketTally{Group: bansosbot.TallyGroup{Region: "32.01.01", Category: "OTHER"}, Status: tk.Status}, nil
	})
	err := db.Update(func(tx *Tx) error {
		return tx.PutTicket(&bansosbot.Ticket{ID: 1, No: "X1", Region: "32.01.01", Category: "OTHER", Status: bansosbot.StatusNew, CreatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := db.TallyState(); st != TallyOK {
		t.Fatalf("counters of a new store: %q; want ok", st)
	}
	if err := db.Update(func(tx *Tx) error { return tx.bucket(bucketMeta).Delete(keyTallyFormat) }); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.TallyState(); st != TallyStale {
		t.Fatalf("counters without the layout mark: %q; want stale", st)
	}
	if _, err := db.RebuildTalliesExclusive(); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.TallyState(); st != TallyOK {
		t.Fatalf("after the rebuild: %q; want ok", st)
	}
}
