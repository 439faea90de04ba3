package flows_test

import (
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// Schedule counts working time in the ticket's own time zone, with the
// holidays of the calendar and the category's policy.
func TestSchedule(t *testing.T) {
	e := flows.NewEngine(flows.Config{})
	tests := []struct {
		name     string
		region   bansosbot.RegionCode
		category string
		filed    string // local
		response string // local
		resolve  string // local; 60 calendar days (20 working days for PUNGLI)
		warning  string // first next check
	}{
		{"Friday 15:00 WITA before Kenaikan and cuti bersama", "73.71.01", "OTHER", "2026-05-08 15:00",
			"2026-05-13 15:00", "2026-07-07 15:00", "2026-05-13 09:00"},
		{"Wednesday in Jayapura (WIT), over the year end and Isra Mikraj", "91.71.01", "DATA_ERROR", "2026-12-30 10:00",
			"2027-01-06 10:00", "2027-02-28 10:00", "2027-01-04 12:00"},
		{"filed on Saturday night in Bogor (WIB)", "32.01.01", "KKS_CARD", "2026-11-28 22:00",
			"2026-12-02 16:00", "2027-01-27 22:00", "2026-12-02 10:00"},
		{"PUNGLI: one working day, warned halfway", "32.01.01", "PUNGLI", "2026-11-27 15:00",
			"2026-11-30 15:00", "2026-12-29 15:00", "2026-11-30 11:00"},
	}
	for _, tt := range tests {
		loc := tt.region.TimeZone()
		tk := &bansosbot.Ticket{Region: tt.region, Category: tt.category, Status: bansosbot.StatusNew}
		e.Schedule(tk, at(t, tt.filed, loc))
		got := func(x time.Time) string { return x.In(loc).Format("2006-01-02 15:04") }
		if got(tk.DueResponse) != tt.response || got(tk.DueResolve) != tt.resolve || got(tk.NextCheck) != tt.warning {
			t.Errorf("%s: response %s, resolve %s, next check %s; want %s, %s, %s", tt.name,
				got(tk.DueResponse), got(tk.DueResolve), got(tk.NextCheck), tt.response, tt.resolve, tt.warning)
		}
		if !tk.CreatedAt.Equal(at(t, tt.filed, loc)) || tk.Escalation != 0 {
			t.Errorf("%s: created %v, position %d", tt.name, tk.CreatedAt, tk.Escalation)
		}
		if d := flows.ExpectedDate(tk); !d.DateOnly || d.Loc != loc || !d.T.Equal(tk.DueResolve) {
			t.Errorf("%s: ExpectedDate = %+v", tt.name, d)
		}
	}
}

// TestScheduleLegalDeadlines: with the default policy the first response
// is due in 3 working days (weekends, national holidays, cuti bersama and
// the province's own holidays do not count) and the resolution in 60
// calendar days (they all count), across month, year and leap-day ends.
func TestScheduleLegalDeadlines(t *testing.T) {
	e := flows.NewEngine(flows.Config{})
	tests := []struct {
		name     string
		region   bansosbot.RegionCode
		filed    string // local
		response string // local, 3 working days
		resolve  string // local, 60 calendar days
	}{
		{"Thursday in Bogor", "32.01.01", "2026-11-26 10:00", "2026-12-01 10:00", "2027-01-25 10:00"},
		{"over the month end into the year end", "32.01.01", "2026-12-15 09:00", "2026-12-18 09:00", "2027-02-13 09:00"},
		{"over Christmas and its cuti bersama", "32.01.01", "2026-12-23 10:00", "2026-12-30 10:00", "2027-02-21 10:00"},
		{"Makassar (WITA) over February", "73.71.01", "2027-01-29 14:00", "2027-02-03 14:00", "2027-03-30 14:00"},
		{"New Year's Eve into a leap February", "32.01.01", "2027-12-31 10:00", "2028-01-05 10:00", "2028-02-29 10:00"},
		{"Jakarta on 1 Muharam, Galungan is a working day", "31.71.01", "2026-06-16 10:00", "2026-06-19 16:00", "2026-08-15 10:00"},
		{"Denpasar on 1 Muharam, then Galungan (Bali only)", "51.71.01", "2026-06-16 10:00", "2026-06-22 16:00", "2026-08-15 10:00"},
	}
	for _, tt := range tests {
		loc := tt.region.TimeZone()
		tk := &bansosbot.Ticket{Region: tt.region, Category: "OTHER", Status: bansosbot.StatusNew}
		e.Schedule(tk, at(t, tt.filed, loc))
		got := func(x time.Time) string { return x.In(loc).Format("2006-01-02 15:04") }
		if got(tk.DueResponse) != tt.response || got(tk.DueResolve) != tt.resolve {
			t.Errorf("%s: response %s, resolve %s; want %s, %s", tt.name, got(tk.DueResponse), got(tk.DueResolve), tt.response, tt.resolve)
		}
	}
}

// TestSpanMsg: citizens hear how each deadline counts; the weekend is
// named only when the calendar has it off.
func TestSpanMsg(t *testing.T) {
	sixDays, err := bansosbot.NewCalendar(bansosbot.CalendarConfig{Workdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cal      *bansosbot.Calendar
		category string
		phase    int
		want     string
	}{
		{nil, "OTHER", bansosbot.PhaseResponse, "deadline.working{Days=3, Weekend=true}"},
		{nil, "OTHER", bansosbot.PhaseResolution, "deadline.calendar{Days=60, Weekend=true}"},
		{nil, "INELIGIBLE_RECIPIENT", bansosbot.PhaseResolution, "deadline.calendar{Days=14, Weekend=true}"},
		{nil, "PUNGLI", bansosbot.PhaseResolution, "deadline.working{Days=20, Weekend=true}"},
		{sixDays, "OTHER", bansosbot.PhaseResponse, "deadline.working{Days=3, Weekend=false}"},
	}
	for _, tt := range tests {
		e := flows.NewEngine(flows.Config{Calendar: tt.cal})
		tk := &bansosbot.Ticket{Region: cibinong, Category: tt.category}
		if got := FormatMsg(e.SpanMsg(tk, tt.phase)); got != tt.want {
			t.Errorf("%s phase %d: %s; want %s", tt.category, tt.phase, got, tt.want)
		}
	}
}

func TestDueState(t *testing.T) {
	due := at(t, "2026-12-01 10:00", wib)
	resolve := at(t, "2027-02-24 10:00", wib)
	before, after := due.Add(-time.Minute), due.Add(time.Minute)
	base := func(status bansosbot.Status) *bansosbot.Ticket {
		return &bansosbot.Ticket{Region: cibinong, Status: status, DueResponse: due, DueResolve: resolve}
	}
	answered := func(tk *bansosbot.Ticket) *bansosbot.Ticket { tk.FirstResponseAt = before; return tk }
	waiting := func(since time.Time) *bansosbot.Ticket {
		tk := answered(base(bansosbot.StatusWaitingCitizen))
		tk.FirstResponseAt = time.Time{}
		tk.PausedSince = since
		return tk
	}
	tests := []struct {
		name    string
		t       *bansosbot.Ticket
		now     time.Time
		phase   int
		at      time.Time
		overdue bool
		paused  bool
		key     string
	}{
		{"new, before", base(bansosbot.StatusNew), before, bansosbot.PhaseResponse, due, false, false, "sla.due"},
		{"new, at the deadline", base(bansosbot.StatusNew), due, bansosbot.PhaseResponse, due, true, false, "sla.overdue"},
		{"assigned, after", base(bansosbot.StatusAssigned), after, bansosbot.PhaseResponse, due, true, false, "sla.overdue"},
		{"answered", answered(base(bansosbot.StatusInProgress)), after, bansosbot.PhaseResolution, resolve, false, false, "sla.due"},
		{"answered, resolution passed", answered(base(bansosbot.StatusInProgress)), resolve, bansosbot.PhaseResolution, resolve, true, false, "sla.overdue"},
		{"reopened, resolution passed", answered(base(bansosbot.StatusReopened)), resolve.Add(time.Hour), bansosbot.PhaseResolution, resolve, true, false, "sla.overdue"},
		{"waiting since before the deadline", waiting(before), after.Add(72 * time.Hour), bansosbot.PhaseResponse, due, false, true, "sla.paused"},
		{"waiting since after the deadline", waiting(after), after.Add(72 * time.Hour), bansosbot.PhaseResponse, due, true, true, "sla.overdue"},
		{"resolved", answered(base(bansosbot.StatusResolved)), resolve.Add(time.Hour), bansosbot.PhaseResolution, time.Time{}, false, false, ""},
		{"closed", answered(base(bansosbot.StatusClosed)), resolve.Add(time.Hour), bansosbot.PhaseResolution, time.Time{}, false, false, ""},
		{"rejected unanswered", base(bansosbot.StatusRejected), after, bansosbot.PhaseResolution, time.Time{}, false, false, ""},
	}
	for _, tt := range tests {
		d := flows.DueState(tt.t, tt.now)
		if d.Phase != tt.phase || !d.At.Equal(tt.at) || d.Overdue != tt.overdue || d.Paused != tt.paused || d.Loc != wib {
			t.Errorf("%s: DueState = %+v; want phase %d at %v overdue %v paused %v", tt.name, d, tt.phase, tt.at, tt.overdue, tt.paused)
		}
		if flows.Overdue(tt.t, tt.now) != tt.overdue {
			t.Errorf("%s: Overdue = %v", tt.name, !tt.overdue)
		}
		if got := d.Msg().Key; got != tt.key {
			t.Errorf("%s: Msg key %q; want %q", tt.name, got, tt.key)
		}
	}
}

// Reschedule reads the pauses from the history: waiting for the citizen
// and the time a ticket spent resolved before it was reopened push the
// open deadlines; one that passed before the pause stays.
func TestReschedule(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	worker := flows.Actor{ID: slaWorker, Role: string(bansosbot.RoleWorker)}
	citizen := func(tk *bansosbot.Ticket) flows.Actor { return flows.Actor{ID: tk.CitizenID, Role: flows.RoleCitizen} }
	tk := slaTicket(t, h, cibinong, "OTHER", slaWorker) // Thu 26 Nov 10:00
	responseDue := ticket(t, h, tk.ID).DueResponse

	advanceTo(t, h, "2026-12-02 10:00", wib) // past the response deadline, nobody answered
	transition(t, h, tk.ID, flows.EvResolve, worker)
	advanceTo(t, h, "2026-12-07 10:00", wib) // 3 working days resolved
	transition(t, h, tk.ID, flows.EvReopen, citizen(tk))
	advanceTo(t, h, "2026-12-08 10:00", wib)
	transition(t, h, tk.ID, flows.EvAskCitizen, worker)
	advanceTo(t, h, "2026-12-09 14:00", wib) // 1.5 working days waiting
	transition(t, h, tk.ID, flows.EvCitizenReply, citizen(tk))

	got := ticket(t, h, tk.ID)
	if err := h.DB.Update(func(tx *store.Tx) error { return h.Engine.Reschedule(tx, got, h.Now()) }); err != nil {
		t.Fatal(err)
	}
	paused := 3*8*time.Hour + 12*time.Hour
	if got.PausedFor != paused {
		t.Errorf("PausedFor = %v; want %v of working time", got.PausedFor, paused)
	}
	// The resolution counts calendar time: 5 days resolved, 28 hours waiting.
	if want := tk.CreatedAt.Add(60*24*time.Hour + 5*24*time.Hour + 28*time.Hour); !got.DueResolve.Equal(want) {
		t.Errorf("DueResolve = %v; want %v", got.DueResolve.In(wib), want.In(wib))
	}
	if !got.DueResponse.Equal(responseDue) {
		t.Errorf("DueResponse moved from %v to %v although it passed before the pauses", responseDue.In(wib), got.DueResponse.In(wib))
	}
}
