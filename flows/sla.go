package flows

import (
	"time"

	"github.com/bansosbot/bansosbot"
)

// The service-level clock of a ticket runs from the moment it was filed,
// in the time zone of the ticket's region, in each phase's unit: working
// time of the business calendar (with the region's own holidays) for the
// first response, calendar time for the resolution (by default; see
// bansosbot.SLAPolicy). It stands still while the ticket waits for the
// citizen or is resolved (a reopened ticket continues where it stopped),
// and in the final statuses. Every deadline and ladder step of the
// ticket's policy is a point on this clock, so a pause pushes all the
// later ones out by the time paused, and one that passed before a pause
// stays where it was. Ladder steps come a number of working hours after
// their deadline.

// clockStops reports whether the service-level clock stands still in s.
func clockStops(s bansosbot.Status) bool {
	return s == bansosbot.StatusWaitingCitizen || !s.Open()
}

// clockPauses reads the intervals in which the clock stood still from the
// ticket's history (its status events); the last one is open while the
// clock still stands.
func clockPauses(events []bansosbot.Event) []bansosbot.Interval {
	var out []bansosbot.Interval
	for _, ev := range events {
		if ev.Kind != bansosbot.EventStatus || clockStops(ev.From) == clockStops(ev.To) {
			continue
		}
		n := len(out)
		switch {
		case clockStops(ev.To) && (n == 0 || !out[n-1].End.IsZero()):
			out = append(out, bansosbot.Interval{Start: ev.At})
		case !clockStops(ev.To) && n > 0 && out[n-1].End.IsZero():
			out[n-1].End = ev.At
		}
	}
	return out
}

// deadlines lays the service-level policies on tickets: due times from
// the business calendar, the policy of the ticket's category, and the
// pauses of its clock.
type deadlines struct {
	calendar   *bansosbot.Calendar
	sla        *bansosbot.SLAPolicies
	categories bansosbot.Categories
}

// slaPlan is a ticket's policy laid on its clock.
type slaPlan struct {
	cal    *bansosbot.Calendar
	loc    *time.Location
	start  time.Time
	pauses []bansosbot.Interval
	policy *bansosbot.SLAPolicy
	steps  []bansosbot.SLAStep
}

func (d *deadlines) plan(t *bansosbot.Ticket, pauses []bansosbot.Interval) slaPlan {
	p := d.sla.ForCategory(d.categories, t.Category)
	cal := d.calendar.For(t.Region)
	return slaPlan{cal: cal, loc: t.Region.TimeZone(), start: t.CreatedAt, pauses: pauses,
		policy: p, steps: p.Steps(cal)}
}

// at is the instant at which the clock shows d in unit; zero when the
// clock stands still before that.
func (p slaPlan) at(unit string, d time.Duration) time.Time {
	if unit == bansosbot.UnitCalendar {
		return bansosbot.AddElapsedExcluding(p.start, d, p.pauses, p.loc)
	}
	return p.cal.AddWorkingDurationExcluding(p.start, d, p.pauses, p.loc)
}

// deadline is the phase's deadline; zero while the clock stands still
// before it.
func (p slaPlan) deadline(phase int) time.Time {
	return p.at(p.policy.Unit(phase), p.policy.Budget(phase, p.cal))
}

// stepAt is when the step falls due: its point on the phase's clock,
// then its working time after that; zero while the clock stands still
// before it.
func (p slaPlan) stepAt(s bansosbot.SLAStep) time.Time {
	t := p.at(s.Unit, s.Offset)
	if t.IsZero() || s.After == 0 {
		return t
	}
	return p.cal.AddWorkingDurationExcluding(t, s.After, p.pauses, p.loc)
}

// phasePending reports whether the ticket still owes what the phase
// measures. Resolved and final tickets owe nothing (a reopened one owes
// again).
func phasePending(t *bansosbot.Ticket, phase int) bool {
	if !t.Status.Open() {
		return false
	}
	return phase != bansosbot.PhaseResponse || t.FirstResponseAt.IsZero()
}

// apply sets the ticket's deadlines, the working time paused so far and
// its next check: when the next step still to fire falls due (zero when
// none, or while the clock stands still before it). A deadline not
// reached before the clock stopped keeps its last value until the clock
// runs again.
func (p slaPlan) apply(t *bansosbot.Ticket, now time.Time) {
	if d := p.deadline(bansosbot.PhaseResponse); !d.IsZero() {
		t.DueResponse = d
	}
	if d := p.deadline(bansosbot.PhaseResolution); !d.IsZero() {
		t.DueResolve = d
	}
	t.PausedFor = 0
	if len(p.pauses) > 0 && now.After(p.start) {
		t.PausedFor = p.cal.WorkingDuration(p.start, now, p.loc) - p.cal.WorkingDurationExcluding(p.start, now, p.pauses, p.loc)
	}
	t.NextCheck = time.Time{}
	if s, ok := p.next(t); ok {
		t.NextCheck = p.stepAt(s)
	}
}

// next is the first step still to fire: at or after the ticket's ladder
// position, in a phase the ticket still owes.
func (p slaPlan) next(t *bansosbot.Ticket) (bansosbot.SLAStep, bool) {
	for _, s := range p.steps {
		if s.Pos >= t.Escalation && phasePending(t, s.Phase) {
			return s, true
		}
	}
	return bansosbot.SLAStep{}, false
}

// Schedule sets a new ticket's deadlines and its next check for the
// escalation job, from its category's policy (a ticket filed outside
// working hours starts counting at the next working period).
func (d *deadlines) Schedule(t *bansosbot.Ticket, now time.Time) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	t.Escalation = 0
	d.plan(t, nil).apply(t, now)
}

// Reschedule recomputes a ticket's deadlines and next check from its
// history after its clock stopped or restarted (waiting for the citizen,
// resolved, reopened); the caller stores the ticket. Transition makes a
// restarted ticket due at once, so the escalation job reschedules it
// within a minute anyway; call Reschedule right after the transition to
// show the new deadlines at once. It never fires a step: a step it finds
// due is left to the escalation job.
func (d *deadlines) Reschedule(tx TicketStore, t *bansosbot.Ticket, now time.Time) error {
	events, err := tx.Events(t.ID)
	if err != nil {
		return err
	}
	d.plan(t, clockPauses(events)).apply(t, now)
	return nil
}

// Deadline is where a ticket stands against its service levels, for
// queues and cards.
type Deadline struct {
	// Phase is bansosbot.PhaseResponse until staff first respond, then
	// bansosbot.PhaseResolution (also while the response is overdue once
	// the resolution is overdue too).
	Phase int
	// At is that phase's deadline; zero for resolved and closed tickets.
	At      time.Time
	Loc     *time.Location // the ticket's time zone
	Overdue bool           // a deadline passed (and the ticket owes it)
	Paused  bool           // waiting for the citizen: the clock stands still
}

// DueState tells where the ticket stands at now, from its stored
// deadlines. While the ticket waits for the citizen, it is overdue only
// for a deadline that passed before the wait began.
func DueState(t *bansosbot.Ticket, now time.Time) Deadline {
	d := Deadline{Loc: t.Region.TimeZone(), Phase: bansosbot.PhaseResolution}
	if !t.Status.Open() {
		return d
	}
	ref := now
	if t.Status == bansosbot.StatusWaitingCitizen {
		d.Paused = true
		if !t.PausedSince.IsZero() && t.PausedSince.Before(now) {
			ref = t.PausedSince
		}
	}
	passed := func(due time.Time) bool { return !due.IsZero() && !ref.Before(due) }
	response := t.FirstResponseAt.IsZero() && passed(t.DueResponse)
	resolution := passed(t.DueResolve)
	d.Overdue = response || resolution
	if t.FirstResponseAt.IsZero() && !t.DueResponse.IsZero() && !resolution {
		d.Phase, d.At = bansosbot.PhaseResponse, t.DueResponse
	} else {
		d.At = t.DueResolve
	}
	return d
}

// Overdue reports whether an open ticket is past a deadline it still
// owes (see DueState).
func Overdue(t *bansosbot.Ticket, now time.Time) bool { return DueState(t, now).Overdue }

// Msg renders the deadline for staff: "response due …", "⚠️ resolution
// overdue since …", "⏸ paused (was due …)"; empty for none.
func (d Deadline) Msg() Msg {
	if d.At.IsZero() {
		return Msg{}
	}
	due := Time{T: d.At, Loc: d.Loc}
	phase := T(phaseKey(d.Phase))
	switch {
	case d.Overdue:
		return T("sla.overdue", "Phase", phase, "Due", due)
	case d.Paused:
		return T("sla.paused", "Phase", phase, "Due", due)
	}
	return T("sla.due", "Phase", phase, "Due", due)
}

func phaseKey(phase int) string { return "sla.phase." + phaseName(phase) }

// phaseName names a phase in locale keys and history events.
func phaseName(phase int) string {
	if phase == bansosbot.PhaseResponse {
		return "response"
	}
	return "resolution"
}

// SpanMsg tells a citizen how a phase's budget is counted: "3 hari kerja;
// Sabtu, Minggu dan hari libur tidak dihitung" for working days (the
// weekend named only when the calendar has it off), "60 hari; ... ikut
// dihitung" for calendar days.
func (d *deadlines) SpanMsg(t *bansosbot.Ticket, phase int) Msg {
	p := d.sla.ForCategory(d.categories, t.Category)
	cal := d.calendar.For(t.Region)
	weekend := !cal.Workday(time.Saturday) && !cal.Workday(time.Sunday)
	if p.Unit(phase) == bansosbot.UnitCalendar {
		return T("deadline.calendar", "Days", p.Days(phase), "Weekend", weekend)
	}
	return T("deadline.working", "Days", p.Days(phase), "Weekend", weekend)
}

// ExpectedDate is the date the citizen may expect a resolution by (the
// Open311 expected_datetime), in the ticket's time zone.
func ExpectedDate(t *bansosbot.Ticket) Time {
	return Time{T: t.DueResolve, Loc: t.Region.TimeZone(), DateOnly: true}
}
