package flows

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
)

// escalationFlow owns the buttons of escalation and digest messages. They
// are not tied to a prompt ("es..o:42"), so every press is authorized
// here, on the server.
const escalationFlow = "es"

// Payloads of the escalation buttons: <action>:<ticket id>.
const (
	esOpen     = "o" // the ticket's card (the staff workspace's)
	esAck      = "a" // a supervisor acknowledges the escalation
	esReassign = "r" // a supervisor hands the ticket to someone else
)

// One escalation message lists at most maxListed tickets (Telegram's
// 4096 characters) and carries buttons for the first maxButtonRows.
const (
	maxListed     = 20
	maxButtonRows = 5
)

func (e *Engine) registerEscalation() { e.addFlow(escalation{desk: e.desk}) }

// escalator fires the service-level ladders of due tickets (the
// escalation job).
type escalator struct {
	admins []int64 // configured admins (Config.Admins): the ladder's top
	log    *slog.Logger
	sla    *deadlines
	cat    *catalog
	conv   func(tx Store, now time.Time) *Conv
}

// Escalate is the escalation job: it reads the due entries of the
// due-time index (at most limit tickets; more reports that others are
// due), fires every ladder step each ticket reached, in order, and
// reschedules it. Each step writes an EventEscalated to the ticket's
// history and moves the ticket's ladder position, in the caller's
// transaction together with the notifications returned, so that each
// (ticket, step) fires exactly once however often the job runs, crashes
// or restarts. A recipient hears of all their tickets of one run in one
// message. Call it in a loop of transactions while more.
func (x *escalator) Escalate(ctx context.Context, tx Store, now time.Time, limit int) (o Outcome, more bool, err error) {
	if limit <= 0 {
		limit = 100
	}
	var due []*bansosbot.Ticket
	err = tx.DueTickets(now, func(t *bansosbot.Ticket) bool {
		if len(due) == limit {
			more = true
			return false
		}
		due = append(due, t)
		return true
	})
	if err != nil {
		return Outcome{}, false, fmt.Errorf("flows: escalation scan: %w", err)
	}
	// The tickets are changed only after the scan: writing into the index
	// while its cursor runs would skip entries.
	r := &escalationRun{esc: x, c: x.conv(tx, now), now: now,
		supervisors: map[supervisorsKey][]*bansosbot.Staff{}, staff: map[int64]*bansosbot.Staff{}, inbox: map[int64][]notice{}}
	r.c.ctx = ctx
	for _, t := range due {
		if err := ctx.Err(); err != nil {
			return Outcome{}, false, err
		}
		if err := r.ticket(t); err != nil {
			return Outcome{}, false, fmt.Errorf("flows: escalate ticket %d: %w", t.ID, err)
		}
	}
	if err := r.send(); err != nil {
		return Outcome{}, false, err
	}
	return r.c.outcome(), more, nil
}

// escalationRun is one call of Escalate: caches and the notices collected
// per recipient.
type escalationRun struct {
	esc         *escalator
	c           *Conv // the system's conversation, for Notify
	now         time.Time
	supervisors map[supervisorsKey][]*bansosbot.Staff
	staff       map[int64]*bansosbot.Staff // nil: not active staff
	inbox       map[int64][]notice
}

type supervisorsKey struct {
	region bansosbot.RegionCode
	level  int
}

// notice is one ticket in a recipient's message: the latest step fired.
type notice struct {
	t        *bansosbot.Ticket
	step     bansosbot.SLAStep
	level    int // the level the supervisors were found at; -1 for none
	deadline time.Time
}

func (r *escalationRun) ticket(t *bansosbot.Ticket) error {
	events, err := r.c.Tx.Events(t.ID)
	if err != nil {
		return err
	}
	p := r.esc.sla.plan(t, clockPauses(events))
	for {
		s, ok := p.next(t)
		if !ok {
			break
		}
		at := p.stepAt(s)
		if at.IsZero() || at.After(r.now) {
			break
		}
		if err := r.fire(t, p, s, at); err != nil {
			return err
		}
		t.Escalation = s.Pos + 1
	}
	p.apply(t, r.now)
	return r.c.Tx.PutTicket(t)
}

// fire records one step in the ticket's history and queues its notices.
func (r *escalationRun) fire(t *bansosbot.Ticket, p slaPlan, s bansosbot.SLAStep, at time.Time) error {
	deadline := p.deadline(s.Phase)
	if deadline.IsZero() { // reached before a pause that still lasts
		deadline = t.DueResolve
		if s.Phase == bansosbot.PhaseResponse {
			deadline = t.DueResponse
		}
	}
	to, level, err := r.recipients(t, p, s)
	if err != nil {
		return err
	}
	ids := make([]string, len(to))
	for i, id := range to {
		ids[i] = strconv.FormatInt(id, 10)
	}
	args := map[string]string{
		"phase": phaseName(s.Phase), "step": s.Kind, "pos": strconv.Itoa(s.Pos),
		"due": deadline.UTC().Format(time.RFC3339), "reached": at.UTC().Format(time.RFC3339),
		"to": strings.Join(ids, ","),
	}
	if level >= 0 {
		args["level"] = bansosbot.LevelName(level)
	}
	if _, err := r.c.Tx.AppendEvent(t, bansosbot.Event{At: r.now, Role: RoleSystem, Kind: bansosbot.EventEscalated, Args: args}); err != nil {
		return err
	}
	r.c.counts.Escalations = inc(r.c.counts.Escalations, s.Kind, 1)
	if len(to) == 0 {
		r.esc.log.Warn("escalation without recipients", "ticket", t.ID, "step", s.Kind, "region", string(t.Region))
	}
	for _, id := range to {
		r.add(id, notice{t: t, step: s, level: level, deadline: deadline})
	}
	return nil
}

// recipients are who hear of a step: the assignee for the warning and
// the breach, and the supervisors at the step's level covering the
// ticket's region, or the nearest level above that has any; a warning
// for a ticket nobody holds goes to the first ladder level, who can
// assign it. Admins from the configuration hear when nobody else would.
// level is where the supervisors were found (-1: none asked or found).
func (r *escalationRun) recipients(t *bansosbot.Ticket, p slaPlan, s bansosbot.SLAStep) (to []int64, level int, err error) {
	assignee, err := r.activeStaff(t.Assignee)
	if err != nil {
		return nil, -1, err
	}
	if s.Assignee && assignee != nil {
		to = append(to, assignee.UserID)
	}
	want := s.Level
	if want < 0 && assignee == nil {
		want = p.policy.Ladder[0].Level()
	}
	level = -1
	for l := want; l >= 0; l-- {
		sups, err := r.supervisorsAt(t.Region, l)
		if err != nil {
			return nil, -1, err
		}
		if len(sups) == 0 {
			continue
		}
		level = l
		for _, sp := range sups {
			if !slices.Contains(to, sp.UserID) {
				to = append(to, sp.UserID)
			}
		}
		break
	}
	if len(to) == 0 {
		to = slices.Clone(r.esc.admins)
	}
	return to, level, nil
}

func (r *escalationRun) supervisorsAt(region bansosbot.RegionCode, level int) ([]*bansosbot.Staff, error) {
	k := supervisorsKey{region, level}
	if s, ok := r.supervisors[k]; ok {
		return s, nil
	}
	s, err := SupervisorsFor(r.c.Tx, region, level)
	if err != nil {
		return nil, err
	}
	r.supervisors[k] = s
	return s, nil
}

func (r *escalationRun) activeStaff(id int64) (*bansosbot.Staff, error) {
	if id == 0 {
		return nil, nil
	}
	if s, ok := r.staff[id]; ok {
		return s, nil
	}
	s, err := r.c.Tx.Staff(id)
	if err != nil {
		return nil, err
	}
	if s != nil && !s.Active {
		s = nil
	}
	r.staff[id] = s
	return s, nil
}

// add queues a notice; a ticket appears once per recipient, with its
// latest step.
func (r *escalationRun) add(id int64, n notice) {
	list := r.inbox[id]
	for i := range list {
		if list[i].t.ID == n.t.ID {
			list[i] = n
			return
		}
	}
	r.inbox[id] = append(list, n)
}

// send makes one message per recipient, in user-id order.
func (r *escalationRun) send() error {
	ids := make([]int64, 0, len(r.inbox))
	for id := range r.inbox {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s, err := r.activeStaff(id)
		if err != nil {
			return err
		}
		supervises := s != nil && (s.Role == bansosbot.RoleSupervisor || s.Role == bansosbot.RoleAdmin) ||
			slices.Contains(r.esc.admins, id)
		if err := r.c.Notify(id, r.esc.escalationMessage(r.inbox[id], supervises)); err != nil {
			return err
		}
	}
	return nil
}

// escalationMessage lists the notices of one recipient, with buttons to
// open each ticket and, for supervisors, to acknowledge or reassign it.
func (x *escalator) escalationMessage(ns []notice, supervises bool) Reply {
	text := []Msg{T("escalation.header", "Count", len(ns))}
	var rows [][]Choice
	for i, n := range ns {
		if i == maxListed {
			text = append(text, T("escalation.more", "Count", len(ns)-maxListed))
			break
		}
		text = append(text, x.escalationItem(n))
		if i < maxButtonRows {
			row := []Choice{{T("escalation.open", "No", n.t.No), esOpen + ":" + idStr(n.t.ID)}}
			if supervises {
				row = append(row, Choice{T("escalation.ack"), esAck + ":" + idStr(n.t.ID)},
					Choice{T("escalation.reassign"), esReassign + ":" + idStr(n.t.ID)})
			}
			rows = append(rows, row)
		}
	}
	return Reply{Action: Send, Text: text, Buttons: Buttons(escalationFlow, rows)}
}

func (x *escalator) escalationItem(n notice) Msg {
	phase, due := T(phaseKey(n.step.Phase)), Time{T: n.deadline, Loc: n.t.Region.TimeZone()}
	var what Msg
	switch n.step.Kind {
	case bansosbot.StepWarning:
		what = T("escalation.what.warning", "Phase", phase, "Due", due)
	case bansosbot.StepBreach:
		what = T("escalation.what.breach", "Phase", phase, "Due", due)
	default:
		what = T("escalation.what.escalate", "Phase", phase, "Due", due,
			"Level", T("escalation.level."+bansosbot.LevelName(max(n.level, bansosbot.LevelNational))))
	}
	return T("escalation.item", "No", n.t.No, "Category", x.cat.categoryName(n.t), "Region", x.cat.regionName(n.t.Region), "What", what)
}

// escalation handles the buttons of escalation and digest messages.
type escalation struct {
	desk *workspace
}

func (escalation) Name() string { return escalationFlow }

// free: every button of the flow (Handle authorizes each press).
func (escalation) free(string) bool { return true }

// Start and Prompt: the flow has no conversation, only buttons.
func (escalation) Start(c *Conv) error  { return nil }
func (escalation) Prompt(c *Conv) error { return nil }

// Handle authorizes each press on the server. Opening and reassigning are
// the staff workspace's card and transfer, which check role, region and
// the hidden-reporter rules again.
func (f escalation) Handle(c *Conv) error {
	action, raw, _ := strings.Cut(c.Payload, ":")
	id, ok := parseID(raw)
	if c.In.Callback == nil || !ok || (action != esOpen && action != esAck && action != esReassign) {
		c.AnswerCallback(T("general.button_unknown"), false)
		return nil
	}
	if action == esOpen {
		return f.desk.openCard(c, id)
	}
	audit := bansosbot.AuditAck
	if action == esReassign {
		audit = bansosbot.AuditReassign
	}
	t, err := c.Tx.Ticket(id)
	if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
		// The same answer as outside one's area: presses cannot probe ids.
		return c.refuse(audit, id, "not_found", T("escalation.not_allowed"))
	}
	if err != nil {
		return err
	}
	if s := c.Staff(); !f.maySupervise(s, t) {
		return c.refuse(audit, t.ID, f.refusal(s, t), T("escalation.not_allowed"))
	}
	if action == esReassign {
		c.Payload = verbTransfer + ":" + idStr(t.ID)
		return f.desk.workButton(c)
	}
	return acknowledge(c, t)
}

// maySupervise: an active supervisor (or admin) covering the ticket's
// region who may handle it: a restricted ticket (PUNGLI, misconduct) is
// out of reach of its own kecamatan's chain, as in the staff workspace.
func (f *escalation) maySupervise(s *bansosbot.Staff, t *bansosbot.Ticket) bool {
	return s != nil && (s.Role == bansosbot.RoleSupervisor || s.Role == bansosbot.RoleAdmin) && s.MayHandle(t, f.desk.cat.restricted(t))
}

func (escalation) refusal(s *bansosbot.Staff, t *bansosbot.Ticket) string {
	switch {
	case s == nil:
		return "not_staff"
	case s.Role == bansosbot.RoleWorker:
		return "role"
	case !s.Covers(t.Region):
		return "region"
	}
	return "hidden"
}

// acknowledge records in the history that a supervisor took up the
// escalation (once per supervisor until the next step fires).
func acknowledge(c *Conv, t *bansosbot.Ticket) error {
	events, err := c.Tx.Events(t.ID)
	if err != nil {
		return err
	}
	acked := false
	for _, ev := range events {
		switch {
		case ev.Kind == bansosbot.EventEscalated:
			acked = false
		case ev.Kind == bansosbot.EventAcked && ev.Actor == c.In.UserID:
			acked = true
		}
	}
	if acked {
		c.AnswerCallback(T("escalation.already_acked", "No", t.No), false)
		return nil
	}
	if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: c.In.UserID, Role: c.actorRole(), Kind: bansosbot.EventAcked}); err != nil {
		return err
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditAck, TicketID: t.ID, Allowed: true}); err != nil {
		return err
	}
	c.AnswerCallback(T("escalation.acked", "No", t.No), false)
	return nil
}
