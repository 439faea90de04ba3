package flows_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// tallyStore opens a store that keeps the report counters with e.
func tallyStore(t testing.TB, e *flows.Engine, now func() time.Time) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "tally.db"), store.Options{NoSync: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetTallier(func(tx *store.Tx, tk *bansosbot.Ticket) (*bansosbot.TicketTally, error) { return e.Tally(tx, tk) })
	return db
}

// Regions of three time zones, at every level (a ticket may carry a
// province, a kabupaten, a kecamatan or a desa).
var tallyRegions = []bansosbot.RegionCode{
	"32", "32.01", "32.01.01", "32.01.01.2001", "32.01.02", "32.01.02.2003", "32.73.01", "32.73.01.1001",
	"51.71.01", "51.71.01.1002", "51.03", "94.71.02", "94.71.02.1001", "33.01.01.2001",
}

// histories writes random ticket histories through the store: filed,
// answered, waiting for the citizen, resolved on time or late, closed
// with a rating, reopened, transferred to another region, recategorized
// (also into and out of a supervisors-only category), purged by
// retention, erased with the citizen's account. It returns the clock.
type history struct {
	t   *testing.T
	rng *rand.Rand
	db  *store.DB
	e   *flows.Engine
	now time.Time
	ids []uint64
}

func (h *history) step() {
	h.t.Helper()
	cats := []string{"PAYMENT_NOT_RECEIVED", "DATA_ERROR", "PUNGLI", "OTHER", "OFFICER_MISCONDUCT"}
	pick := func(xs []bansosbot.RegionCode) bansosbot.RegionCode { return xs[h.rng.IntN(len(xs))] }
	h.now = h.now.Add(time.Duration(h.rng.Int64N(int64(40 * time.Hour))))
	now := h.now
	err := h.db.Update(func(tx *store.Tx) error {
		status := func(tk *bansosbot.Ticket, to bansosbot.Status) error {
			_, err := tx.AppendEvent(tk, bansosbot.Event{At: now, Kind: bansosbot.EventStatus, From: tk.Status, To: to})
			tk.Status = to
			return err
		}
		if len(h.ids) == 0 || h.rng.IntN(3) == 0 { // a new ticket
			id, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			created := now.Add(-time.Duration(h.rng.Int64N(int64(20 * 24 * time.Hour))))
			if h.rng.IntN(8) == 0 { // exactly at a local midnight
				y, m, d := created.In(time.FixedZone("WIB", 7*3600)).Date()
				created = time.Date(y, m, d, 0, 0, 0, 0, time.FixedZone("WIB", 7*3600))
			}
			tk := &bansosbot.Ticket{ID: id, No: bansosbot.NewTicketNo(id, []byte("k")), Category: cats[h.rng.IntN(len(cats))],
				Region: pick(tallyRegions), Status: bansosbot.StatusNew, CreatedAt: created, CitizenID: int64(1 + h.rng.IntN(5)),
				HideReporter: h.rng.IntN(6) == 0, Description: "x"}
			h.e.Schedule(tk, created)
			if _, err := tx.AppendEvent(tk, bansosbot.Event{At: created, Kind: bansosbot.EventCreated}); err != nil {
				return err
			}
			h.ids = append(h.ids, id)
			return tx.PutTicket(tk)
		}
		tk, err := tx.Ticket(h.ids[h.rng.IntN(len(h.ids))])
		if err != nil {
			return err
		}
		if tk.Purged && h.rng.IntN(2) == 0 {
			return nil
		}
		switch h.rng.IntN(10) {
		case 0: // first response
			if tk.FirstResponseAt.IsZero() {
				tk.FirstResponseAt = now
			}
			if tk.Status.Open() {
				err = status(tk, bansosbot.StatusInProgress)
			}
		case 1: // ask the citizen, or the citizen answers
			if tk.Status == bansosbot.StatusWaitingCitizen {
				err = status(tk, bansosbot.StatusInProgress)
				tk.PausedSince = time.Time{}
			} else if tk.Status.Open() {
				err = status(tk, bansosbot.StatusWaitingCitizen)
				tk.PausedSince = now
				if tk.FirstResponseAt.IsZero() {
					tk.FirstResponseAt = now
				}
			}
		case 2: // resolve
			if tk.Status.Open() {
				err = status(tk, bansosbot.StatusResolved)
				tk.ResolvedAt, tk.PausedSince = now, time.Time{}
			}
		case 3: // close with a rating
			if tk.Status == bansosbot.StatusResolved {
				err = status(tk, bansosbot.StatusClosed)
				tk.ClosedAt, tk.Rating = now, h.rng.IntN(6)
			}
		case 4: // reopen
			if tk.Status == bansosbot.StatusResolved || tk.Status == bansosbot.StatusClosed {
				err = status(tk, bansosbot.StatusReopened)
				if h.rng.IntN(2) == 0 {
					tk.ResolvedAt = time.Time{}
				}
			}
		case 5: // transfer or move to another region
			tk.Region = pick(tallyRegions)
		case 6: // recategorize
			tk.Category = cats[h.rng.IntN(len(cats))]
		case 7: // retention purge of a final ticket
			if tk.Status.Final() && !tk.Purged {
				_, err = flows.PurgeTicket(tx, tk, "retention", now)
				return err
			}
		case 8: // erasure of the citizen's account
			_, err = flows.EraseCitizen(tx, tk.CitizenID, now)
			return err
		case 9: // rejected or referred
			if tk.Status.Open() {
				err = status(tk, []bansosbot.Status{bansosbot.StatusRejected, bansosbot.StatusReferred}[h.rng.IntN(2)])
				tk.ClosedAt = now
			}
		}
		if err != nil {
			return err
		}
		if err := h.e.Reschedule(tx, tk, now); err != nil {
			return err
		}
		return tx.PutTicket(tk)
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// TestReportFromTalliesEqualsScan: after random ticket histories, the
// report read from the counters equals the report of a full scan, for
// every kind of query (nation, province, kabupaten, kecamatan; by region
// and category; weeks, months and odd periods, over or not; staff of
// several roles and areas), and a recount finds no difference.
func TestReportFromTalliesEqualsScan(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel() // seeds are independent; each is seconds of CPU under -race
			h := &history{t: t, rng: rand.New(rand.NewPCG(seed, 7)), now: time.Date(2026, 10, 1, 3, 0, 0, 0, time.UTC)}
			h.e = flows.NewEngine(flows.Config{Now: func() time.Time { return h.now }, TicketKey: []byte("k")})
			h.db = tallyStore(t, h.e, func() time.Time { return h.now })
			for round := range 6 {
				for range 40 {
					h.step()
				}
				compareReports(t, h, round)
				compareScrape(t, h)
			}
			res, err := h.db.CheckTallies()
			if err != nil {
				t.Fatal(err)
			}
			if res.Differences != 0 || res.Stale != 0 || res.Tickets != len(h.ids) {
				t.Fatalf("recount: %+v; want no difference over %d tickets", res, len(h.ids))
			}
			// Both rebuilds give the counters that the transactions kept.
			for name, rebuild := range map[string]func() (store.TallyResult, error){
				"in transactions": h.db.RebuildTallies, "in memory": h.db.RebuildTalliesExclusive} {
				if _, err := rebuild(); err != nil {
					t.Fatal(err)
				}
				res, err := h.db.CheckTallies()
				if err != nil || res.Differences != 0 || res.Stale != 0 {
					t.Fatalf("recount after the rebuild %s: %+v %v; want no difference", name, res, err)
				}
				compareReports(t, h, 99)
			}
		})
	}
}

func compareReports(t *testing.T, h *history, round int) {
	t.Helper()
	memo := &scanMemo{tickets: map[bansosbot.RegionCode][]*bansosbot.Ticket{}, events: map[uint64][]bansosbot.Event{}}
	now := h.now
	loc := time.FixedZone("WIB", 7*3600)
	today := flows.DateOf(now, loc)
	periods := [][]flows.Period{
		{flows.MonthPeriod(2026, 10)},
		{flows.MonthPeriod(now.Year(), now.Month())},
		flows.WeekPeriods(now, loc, 12),
		{{From: today.AddDays(-9), To: today}, {From: today, To: today.AddDays(1)}, {From: today.AddDays(-3), To: today.AddDays(2)}},
	}
	staff := []*bansosbot.Staff{
		nil,
		{Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01"}, Active: true},
		{Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01.01", "51.71"}, Active: true},
		{Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32"}, Active: true},
		{Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{"32.01.02"}, Active: true},
		{Role: bansosbot.RoleAdmin, Active: true},
	}
	regions := []bansosbot.RegionCode{"", "32", "32.01", "32.01.01", "51", "94.71"}
	for _, region := range regions {
		for pi, ps := range periods {
			for si, s := range staff {
				for bi, by := range [][2]bool{{true, true}, {false, false}, {true, false}} {
					q := flows.ReportQuery{Region: region, Periods: ps, Now: now, ByRegion: by[0], ByCategory: by[1], Staff: s, NoMedians: bi == 2, MediansFor: bi}
					if region.Level() >= bansosbot.TallyLevel && by[0] {
						continue
					}
					var fromTallies, fromScan *flows.Report
					err := h.db.View(func(tx *store.Tx) error {
						if !tx.TalliesReady() {
							return fmt.Errorf("counters not ready: %q", tx.TallyState())
						}
						var err error
						if fromTallies, err = h.e.Report(tx, q); err != nil {
							return err
						}
						fromScan, err = h.e.ReportScan(memoStore{tx, memo}, q)
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("round %d region %q periods %d staff %d by %v", round, region, pi, si, by)
					sameReport(t, what, fromTallies, fromScan)
				}
			}
		}
	}
}

// scanMemo holds what the scans of one comparison round read: each
// region's tickets and each ticket's events, decoded once. The round's
// queries all read the same snapshot (nothing is written between them),
// and decoding every ticket again for each of its ~400 queries was most
// of this test's CPU time under -race; each query's scan still runs in
// full on what the store holds. The counters' side reads the store
// itself.
type scanMemo struct {
	tickets map[bansosbot.RegionCode][]*bansosbot.Ticket
	events  map[uint64][]bansosbot.Event
}

// memoStore is a transaction whose ticket and event reads come from the
// round's memo (each ticket a copy: a scan cannot change another's).
type memoStore struct {
	flows.Store
	m *scanMemo
}

func (s memoStore) RegionTickets(region bansosbot.RegionCode, statuses []bansosbot.Status, fn func(*bansosbot.Ticket) bool) error {
	if !slices.Equal(statuses, bansosbot.Statuses) {
		return s.Store.RegionTickets(region, statuses, fn)
	}
	ts, ok := s.m.tickets[region]
	if !ok {
		err := s.Store.RegionTickets(region, statuses, func(tk *bansosbot.Ticket) bool { ts = append(ts, tk); return true })
		if err != nil {
			return err
		}
		s.m.tickets[region] = ts
	}
	for _, tk := range ts {
		c := *tk
		if !fn(&c) {
			break
		}
	}
	return nil
}

func (s memoStore) Events(id uint64) ([]bansosbot.Event, error) {
	evs, ok := s.m.events[id]
	if !ok {
		var err error
		if evs, err = s.Store.Events(id); err != nil {
			return nil, err
		}
		s.m.events[id] = evs
	}
	return slices.Clone(evs), nil
}

func sameReport(t *testing.T, what string, got, want *flows.Report) {
	t.Helper()
	if len(got.Rows) != len(want.Rows) {
		t.Fatalf("%s: %d rows from counters, %d from the scan\ncounters: %+v\nscan: %+v", what, len(got.Rows), len(want.Rows), got.Rows, want.Rows)
	}
	rows := append([]flows.ReportRow{got.Total}, got.Rows...)
	wrows := append([]flows.ReportRow{want.Total}, want.Rows...)
	for i := range rows {
		g, w := rows[i], wrows[i]
		if g.Region != w.Region || g.Category != w.Category {
			t.Fatalf("%s: row %d is %s/%s from counters, %s/%s from the scan", what, i, g.Region, g.Category, w.Region, w.Category)
		}
		for p := range g.Figures {
			if reflect.DeepEqual(g.Figures[p], w.Figures[p]) {
				continue // the same strings below: formatting them for every figure was a seventh of the CPU time under -race
			}
			if a, b := figuresString(g.Figures[p]), figuresString(w.Figures[p]); a != b {
				t.Fatalf("%s: row %s/%s period %d:\ncounters %s\nscan     %s", what, g.Region, g.Category, p, a, b)
			}
		}
	}
}

func figuresString(f flows.Figures) string {
	mr, _ := f.MedianResponseHours()
	ms, _ := f.MedianResolutionHours()
	return fmt.Sprintf("recv %d res %d/%d resp %d/%d overdue %d rating %d/%d resp%v res%v med %.4f %.4f",
		f.Received, f.ResolvedOnTime, f.Resolved, f.ResponsesOnTime, f.Responses, f.Overdue, f.RatingSum, f.Rated,
		[]bansosbot.Bin(f.ResponseHours), []bansosbot.Bin(f.ResolutionHours), mr, ms)
}

// compareScrape: the /metrics figures read from the counters (tickets by
// status and province, overdue now by province) equal a scan.
func compareScrape(t *testing.T, h *history) {
	t.Helper()
	for _, now := range []time.Time{h.now, h.now.Add(-36 * time.Hour), h.now.Add(100 * time.Hour)} {
		byProv, ok, err := h.db.OverdueByProvince(now)
		if err != nil || !ok {
			t.Fatalf("overdue from the counters: %v %v", ok, err)
		}
		counts, ok, err := h.db.TallyCounts()
		if err != nil || !ok {
			t.Fatalf("counts from the counters: %v %v", ok, err)
		}
		wantOverdue := map[bansosbot.RegionCode]int{}
		wantCounts := map[string]int{}
		err = h.db.View(func(tx *store.Tx) error {
			return tx.RegionTickets("", bansosbot.Statuses, func(tk *bansosbot.Ticket) bool {
				wantCounts[string(tk.Status)+"/"+string(tk.Region.Province())]++
				if tk.Status.Open() {
					n := wantOverdue[tk.Region.Province()]
					if flows.Overdue(tk, now) {
						n++
					}
					wantOverdue[tk.Region.Province()] = n
				}
				return true
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(byProv) != fmt.Sprint(wantOverdue) {
			t.Fatalf("overdue by province at %s: counters %v, scan %v", now, byProv, wantOverdue)
		}
		got := map[string]int{}
		for _, c := range counts {
			got[string(c.Status)+"/"+string(c.Province)] += c.N
		}
		if fmt.Sprint(got) != fmt.Sprint(wantCounts) {
			t.Fatalf("tickets by status and province: counters %v, scan %v", got, wantCounts)
		}
	}
}
