package flows_test

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// testdata/ops_fixture.json holds eight tickets with their histories,
// chosen so that every figure of November 2026 can be computed by hand
// (see the comments in TestReportNovember): time zones at the month's
// edges, a wait for the citizen, late and timely deadlines, ratings.

type fixtureTicket struct {
	Ticket bansosbot.Ticket  `json:"ticket"`
	Events []bansosbot.Event `json:"events"`
}

// loadOpsFixture stores the fixture's tickets and events.
func loadOpsFixture(t testing.TB, db *store.DB) []fixtureTicket {
	t.Helper()
	raw, err := os.ReadFile("testdata/ops_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx []fixtureTicket
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		for i := range fx {
			tk := fx[i].Ticket
			tk.Events = len(fx[i].Events)
			for _, ev := range fx[i].Events { // the history first, as the flows store it
				ev.TicketID = tk.ID
				if err := tx.PutEvent(ev); err != nil {
					return err
				}
			}
			if err := tx.PutTicket(&tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func report(t *testing.T, h *harness, q flows.ReportQuery) *flows.Report {
	t.Helper()
	var rep *flows.Report
	err := h.DB.View(func(tx *store.Tx) (err error) {
		rep, err = h.Engine.Report(tx, q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// want is a row's expected figures; -1 for "none" (no median, no share).
type want struct {
	received, resolved, resolvedOnTime, responses, responsesOnTime, overdue int
	medianResponse, medianResolution, rating                                float64
	rated                                                                   int
}

func checkFigures(t *testing.T, name string, f flows.Figures, w want) {
	t.Helper()
	got := want{received: f.Received, resolved: f.Resolved, resolvedOnTime: f.ResolvedOnTime,
		responses: f.Responses, responsesOnTime: f.ResponsesOnTime, overdue: f.Overdue, rated: f.Rated,
		medianResponse: -1, medianResolution: -1, rating: -1}
	if v, ok := f.MedianResponseHours(); ok {
		got.medianResponse = v
	}
	if v, ok := f.MedianResolutionHours(); ok {
		got.medianResolution = v
	}
	if v, ok := f.RatingAverage(); ok {
		got.rating = v
	}
	if got != w {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
	}
}

// TestReportNovember checks the figures of November 2026 per province and
// category against the hand computation (calendar Mon-Fri 08:00-16:00,
// no holidays in October and November 2026):
//
//	T1 32 PAYMENT  filed Mon 2 Nov 09:00 WIB; response 11:00 = 2 h;
//	               resolved Wed 4 Nov 10:00 = 7+8+2 = 17 h, on time; closed 4 Nov, rating 5
//	T2 32 PAYMENT  filed Fri 6 Nov 15:00; response Tue 10 Nov 10:00 = 1+8+2 = 11 h, on time;
//	               waits for the citizen Tue 10:00 - Thu 12 10:00; resolved Fri 13 12:00
//	               = 1+8+2+6+4 = 21 h, after its deadline (Fri 09:00)
//	T3 32 PUNGLI   filed Mon 9 Nov 08:00; response Wed 11 08:00 = 16 h, late (due Mon 16:00);
//	               open, resolution due Fri 27 Nov: overdue at the month's end
//	T4 73 INFO     filed 1 Dec 00:30 WITA (30 Nov in WIB): not November's
//	T5 73 INFO     filed 1 Nov 00:30 WITA (31 Oct in WIB): November's; response Mon 2 Nov
//	               09:00 WITA = 1 h; resolved 15:00 = 7 h; closed without rating
//	T6 32 PAYMENT  filed 20 Oct; resolved Tue 3 Nov 10:00 = 7+24+40+8+2 = 81 h, on time;
//	               closed 3 Nov, rating 2
//	T7 32 OTHER    filed 3 Nov, withdrawn the same day
//	T8 32 OTHER    filed Mon 16 Nov; no response, due Thu 19 Nov: overdue
func TestReportNovember(t *testing.T) {
	h := newHarness(t, quiet())
	loadOpsFixture(t, h.DB)
	nov, err := flows.ParseMonth("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 15, 3, 0, 0, 0, time.UTC)
	rep := report(t, h, flows.ReportQuery{Periods: []flows.Period{nov}, Now: now, ByRegion: true, ByCategory: true})
	rows := map[string]flows.Figures{}
	for _, r := range rep.Rows {
		rows[string(r.Region)+"/"+r.Category] = r.Figures[0]
	}
	if len(rows) != 4 {
		t.Errorf("rows = %v; want 4 (32/OTHER, 32/PAYMENT_NOT_RECEIVED, 32/PUNGLI, 73/INFO_REQUEST)", rows)
	}
	checkFigures(t, "32/OTHER", rows["32/OTHER"], want{received: 2, overdue: 1, medianResponse: -1, medianResolution: -1, rating: -1})
	checkFigures(t, "32/PAYMENT_NOT_RECEIVED", rows["32/PAYMENT_NOT_RECEIVED"], want{received: 2, resolved: 3, resolvedOnTime: 2,
		responses: 2, responsesOnTime: 2, medianResponse: 6.5, medianResolution: 21, rating: 3.5, rated: 2})
	checkFigures(t, "32/PUNGLI", rows["32/PUNGLI"], want{received: 1, responses: 1, overdue: 1, medianResponse: 16, medianResolution: -1, rating: -1})
	checkFigures(t, "73/INFO_REQUEST", rows["73/INFO_REQUEST"], want{received: 1, resolved: 1, resolvedOnTime: 1,
		responses: 1, responsesOnTime: 1, medianResponse: 1, medianResolution: 7, rating: -1})
	// Medians of all: responses {2, 11, 16, 1}, resolutions {17, 21, 81, 7}.
	checkFigures(t, "total", rep.Total.Figures[0], want{received: 6, resolved: 4, resolvedOnTime: 3, responses: 4, responsesOnTime: 3,
		overdue: 2, medianResponse: 6.5, medianResolution: 19, rating: 3.5, rated: 2})
	if c, ok := rep.Total.Figures[0].ResolutionCompliance(); !ok || math.Abs(c-75) > 1e-9 {
		t.Errorf("resolution compliance = %v, %v; want 75%%", c, ok)
	}
	if c, ok := rep.Total.Figures[0].ResponseCompliance(); !ok || math.Abs(c-75) > 1e-9 {
		t.Errorf("response compliance = %v, %v; want 75%%", c, ok)
	}
	if _, ok := rows["32/OTHER"].ResponseCompliance(); ok {
		t.Error("a share without responses must be none, not 0%")
	}

	// One province: rows per kabupaten/kota.
	rep = report(t, h, flows.ReportQuery{Region: "32", Periods: []flows.Period{nov}, Now: now, ByRegion: true})
	if len(rep.Rows) != 2 || rep.Rows[0].Region != "32.01" || rep.Rows[1].Region != "32.02" {
		t.Fatalf("rows of 32 = %+v; want 32.01 and 32.02", rep.Rows)
	}
	checkFigures(t, "32.02", rep.Rows[1].Figures[0], want{received: 1, overdue: 1, medianResponse: -1, medianResolution: -1, rating: -1})
	if got := rep.Total.Figures[0].Received; got != 5 {
		t.Errorf("received in 32 = %d; want 5", got)
	}
}

func TestPeriods(t *testing.T) {
	if _, err := flows.ParseMonth("2026-13"); err == nil {
		t.Error("ParseMonth(2026-13) succeeded")
	}
	dec, _ := flows.ParseMonth("2026-12")
	if got := dec.String(); got != "2026-12-01..2027-01-01" {
		t.Errorf("December = %s", got)
	}
	// Thursday 26 November 2026 10:00 WIB: the current week began Monday 23.
	weeks := flows.WeekPeriods(epoch, bansosbot.RegionCode("32").TimeZone(), 12)
	if len(weeks) != 12 || weeks[11].String() != "2026-11-23..2026-11-30" || weeks[0].String() != "2026-09-07..2026-09-14" {
		t.Errorf("weeks = %v .. %v", weeks[0], weeks[len(weeks)-1])
	}
	// The week is the one of the local date: Sunday 23:30 WIT (Monday in
	// UTC+10 and later, Sunday in WIB) belongs to the week of Monday 23.
	sun := time.Date(2026, 11, 29, 23, 30, 0, 0, bansosbot.RegionCode("91").TimeZone())
	if w := flows.WeekPeriods(sun, sun.Location(), 1)[0]; w.From != (flows.Date{Year: 2026, Month: 11, Day: 23}) {
		t.Errorf("week of Sunday 29 Nov 23:30 WIT starts %v; want 2026-11-23", w.From)
	}
}

// TestChartForSupervisor: /grafik draws the province's last 12 weeks for
// its supervisor: received and resolved per week, overdue at each week's
// end (at now for the current week). Workers are refused and audited.
func TestChartForSupervisor(t *testing.T) {
	h := newHarness(t, quiet())
	loadOpsFixture(t, h.DB)
	sup := addStaff(t, h, 70, "Dewi", bansosbot.RoleSupervisor, "32")
	worker := addStaff(t, h, 71, "Sari", bansosbot.RoleWorker, "32.01")
	worker.Lang = "en"
	sup.Text("/grafik")
	var chart *flows.Chart
	for _, r := range h.Replies {
		if r.Action == flows.SendChart {
			chart = r.Chart
		}
	}
	if chart == nil {
		t.Fatalf("no chart in %v", lastKeys(h))
	}
	zeros := func(n int) []float64 { return make([]float64, n) }
	// Weeks from Mon 7 Sep to Mon 23 Nov 2026 (index 6: 19 Oct, 8: 2 Nov).
	wantReceived := append(zeros(6), 1, 0, 3, 1, 1, 0)
	wantResolved := append(append(zeros(8), 2, 1), 0, 0)
	wantOverdue := append(zeros(10), 1, 1)
	if len(chart.Labels) != 12 || chart.Labels[0] != "07/09" || chart.Labels[11] != "23/11" {
		t.Errorf("labels = %v", chart.Labels)
	}
	for i, w := range [][]float64{wantReceived, wantResolved, wantOverdue} {
		if got := chart.Series[i].Values; !reflect.DeepEqual(got, w) {
			t.Errorf("series %s = %v; want %v", chart.Series[i].Name.Key, got, w)
		}
	}
	// An admin sees the nation: T5 (1 Nov in WITA, a Sunday) adds to the
	// week of 26 Oct.
	admin := addStaff(t, h, 72, "Admin", bansosbot.RoleAdmin)
	admin.Text("/grafik")
	for _, r := range h.Replies {
		if r.Action == flows.SendChart {
			if got := r.Chart.Series[0].Values[7]; got != 1 {
				t.Errorf("admin's chart, received in the week of 26 Oct = %v; want 1 (T5)", got)
			}
			if r.Text[0].Args["Received"] != 7 {
				t.Errorf("admin's caption = %v; want 7 received", flows.T(r.Text[0].Key, "Received", r.Text[0].Args["Received"]))
			}
		}
	}
	worker.Text("/chart")
	if !hasKey(h, "ops.chart.supervisors") {
		t.Errorf("worker's /chart: %v; want the refusal", lastKeys(h))
	}
	var audit []bansosbot.AuditEntry
	h.DB.View(func(tx *store.Tx) (err error) { audit, err = tx.AuditByStaff(71); return err })
	if len(audit) != 1 || audit[0].Action != "chart" || audit[0].Allowed {
		t.Errorf("audit of the worker = %+v; want one refused chart", audit)
	}
	h.Golden("ops_chart")
}

// TestPurgeTicketKeepsStatistics: purging the closed tickets removes
// every personal field and text of their histories, and no figure of the
// report changes.
func TestPurgeTicketKeepsStatistics(t *testing.T) {
	h := newHarness(t, quiet())
	fx := loadOpsFixture(t, h.DB)
	nov, _ := flows.ParseMonth("2026-11")
	q := flows.ReportQuery{Periods: []flows.Period{nov}, Now: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), ByRegion: true, ByCategory: true}
	before := report(t, h, q)
	// A year after the last closing: T1, T5, T6 (closed) and T7
	// (withdrawn) are due; T2 is only resolved, T3, T4 and T8 are open.
	now := time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)
	var purged []uint64
	err := h.DB.Update(func(tx *store.Tx) error {
		var due []*bansosbot.Ticket
		tx.TicketsAfter(0, func(tk *bansosbot.Ticket) bool {
			if flows.RetentionDue(tk, now, flows.DefaultRetention) {
				due = append(due, tk)
			}
			return true
		})
		for _, tk := range due {
			if _, err := flows.PurgeTicket(tx, tk, "retention", now); err != nil {
				return err
			}
			purged = append(purged, tk.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(purged, []uint64{1, 5, 6, 7}) {
		t.Errorf("purged %v; want [1 5 6 7]", purged)
	}
	after := report(t, h, q)
	if !reflect.DeepEqual(before.Rows, after.Rows) || !reflect.DeepEqual(before.Total, after.Total) {
		t.Errorf("the report changed:\nbefore %+v\nafter  %+v", before.Rows, after.Rows)
	}
	h.DB.View(func(tx *store.Tx) error {
		for _, f := range fx {
			tk, _ := tx.Ticket(f.Ticket.ID)
			events, _ := tx.Events(tk.ID)
			if !tk.Purged {
				if tk.Description == flows.ErasedMarker || tk.CitizenID == 0 {
					t.Errorf("ticket %d was not due but lost data", tk.ID)
				}
				continue
			}
			if tk.Description != flows.ErasedMarker || tk.Phone != "" || tk.Location != nil || len(tk.Attachments) != 0 ||
				tk.RatingComment != "" || tk.CitizenID != 0 {
				t.Errorf("purged ticket %d still holds personal data: %+v", tk.ID, tk)
			}
			for k, v := range tk.Extra {
				if v != flows.ErasedMarker {
					t.Errorf("purged ticket %d keeps extra field %s", tk.ID, k)
				}
			}
			if tk.Rating != f.Ticket.Rating || tk.Category != f.Ticket.Category || !tk.ResolvedAt.Equal(f.Ticket.ResolvedAt) {
				t.Errorf("purged ticket %d lost statistics: %+v", tk.ID, tk)
			}
			last := events[len(events)-1]
			if last.Kind != bansosbot.EventPurged || len(events) != len(f.Events)+1 {
				t.Errorf("ticket %d history ends with %+v; want one purged event", tk.ID, last)
			}
			for _, ev := range events {
				if ev.Text != "" && ev.Text != flows.ErasedMarker || ev.Args["file_unique_id"] != "" {
					t.Errorf("ticket %d event %d keeps %q %v", tk.ID, ev.Seq, ev.Text, ev.Args)
				}
			}
			if cs, _ := tx.CitizenTickets(f.Ticket.CitizenID); len(cs) != 0 {
				t.Errorf("citizen %d still linked to %d tickets", f.Ticket.CitizenID, len(cs))
			}
		}
		return nil
	})
	// A second run finds nothing more to do.
	h.DB.View(func(tx *store.Tx) error {
		return tx.TicketsAfter(0, func(tk *bansosbot.Ticket) bool {
			if flows.RetentionDue(tk, now, flows.DefaultRetention) {
				t.Errorf("ticket %d due again after its purge", tk.ID)
			}
			return true
		})
	})
}

func TestExpireDraftKeepsStep(t *testing.T) {
	s := &bansosbot.Session{UserID: 1, Flow: "rp", State: "desc", Step: 7, Draft: []byte(`{"d":"rumah saya"}`), Held: []byte(`{"Text":"rumah saya"}`),
		Parked: &bansosbot.ParkedFlow{Flow: "rp", State: "desc", Draft: []byte(`{"d":"rumah saya"}`)}}
	flows.ExpireDraft(s)
	if s.Flow != "" || s.State != "" || s.Draft != nil || s.Held != nil || s.Parked != nil || s.Step != 7 || strings.Contains(string(s.Draft), "rumah") {
		t.Errorf("expired session = %+v", s)
	}
}
