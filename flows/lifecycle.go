package flows

import (
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// Lifecycle events of a ticket.
const (
	EvAssign       = "assign"        // claimed, given or transferred to a worker
	EvStart        = "start"         // the assignee begins work (first reply)
	EvAskCitizen   = "ask_citizen"   // staff need information; the clock pauses
	EvCitizenReply = "citizen_reply" // the citizen answered
	EvResolve      = "resolve"
	EvClose        = "close" // after a rating, or when the rating window passed
	EvReopen       = "reopen"
	EvRefer        = "refer"  // not our authority
	EvReject       = "reject" // duplicate or spam
	EvWithdraw     = "withdraw"
)

func st(ss ...bansosbot.Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

const (
	sNew      = bansosbot.StatusNew
	sAssigned = bansosbot.StatusAssigned
	sProgress = bansosbot.StatusInProgress
	sWaiting  = bansosbot.StatusWaitingCitizen
	sResolved = bansosbot.StatusResolved
	sClosed   = bansosbot.StatusClosed
	sReferred = bansosbot.StatusReferred
	sRejected = bansosbot.StatusRejected
	sWithdrwn = bansosbot.StatusWithdrawn
	sReopened = bansosbot.StatusReopened
)

// Lifecycle is the ticket's transition table:
//
//	new → assigned → in_progress ⇄ waiting_citizen → resolved → closed
//
// plus referred, rejected, withdrawn and reopened (from resolved or closed).
var Lifecycle = NewMachine("ticket", fsm.Events{
	{Name: EvAssign, Src: st(sNew, sAssigned, sProgress, sWaiting, sReopened), Dst: string(sAssigned)},
	{Name: EvStart, Src: st(sAssigned, sReopened), Dst: string(sProgress)},
	{Name: EvAskCitizen, Src: st(sAssigned, sProgress, sReopened), Dst: string(sWaiting)},
	{Name: EvCitizenReply, Src: st(sWaiting), Dst: string(sProgress)},
	{Name: EvResolve, Src: st(sAssigned, sProgress, sWaiting, sReopened), Dst: string(sResolved)},
	{Name: EvClose, Src: st(sResolved), Dst: string(sClosed)},
	{Name: EvReopen, Src: st(sResolved, sClosed), Dst: string(sReopened)},
	{Name: EvRefer, Src: st(sNew, sAssigned, sProgress, sWaiting, sReopened), Dst: string(sReferred)},
	{Name: EvReject, Src: st(sNew, sAssigned, sProgress, sWaiting, sReopened), Dst: string(sRejected)},
	{Name: EvWithdraw, Src: st(sNew, sAssigned, sProgress, sWaiting, sReopened, sResolved), Dst: string(sWithdrwn)},
})

// Actor is who acts on a ticket.
type Actor struct {
	ID   int64  // Telegram user id; 0 for the system
	Role string // RoleCitizen, RoleSystem or a staff role
}

// Change is what a transition carries besides the event: a text for the
// citizen (the resolution, the reason of a rejection, where a referral
// goes) and extra arguments for the history.
type Change struct {
	Text string
	Args map[string]string
}

// Transition fires event on the ticket, updates its timestamps, and appends
// one status event to its history; the caller stores the ticket. An event
// not allowed in the ticket's status fails with a conflict error and
// changes nothing.
func Transition(tx TicketStore, t *bansosbot.Ticket, event string, by Actor, ch Change, now time.Time) error {
	next, err := Lifecycle.Next(string(t.Status), event)
	if err != nil {
		return bansosbot.Errorf(bansosbot.EConflict, "errors.illegal_transition",
			"Status", string(t.Status), "Event", event)
	}
	from, to := t.Status, bansosbot.Status(next)
	switch {
	case to == sWaiting:
		t.PausedSince = now
	case from == sWaiting:
		t.PausedSince = time.Time{}
	}
	if clockStops(from) && !clockStops(to) {
		// The service-level clock runs again: due at once, so that the
		// escalation job (Engine.Reschedule) pushes the deadlines out by the
		// working time paused.
		t.NextCheck = now
	}
	switch to {
	case sResolved:
		t.ResolvedAt = now
		t.NextCheck = time.Time{}
	case sClosed, sReferred, sRejected, sWithdrwn:
		t.ClosedAt = now
		t.NextCheck = time.Time{}
	case sReopened:
		t.ResolvedAt, t.ClosedAt = time.Time{}, time.Time{}
	}
	if t.FirstResponseAt.IsZero() && by.Role != RoleCitizen && by.Role != RoleSystem && event != EvAssign {
		t.FirstResponseAt = now
	}
	t.Status, t.UpdatedAt = to, now
	args := map[string]string{"event": event}
	for k, v := range ch.Args {
		args[k] = v
	}
	_, err = tx.AppendEvent(t, bansosbot.Event{At: now, Actor: by.ID, Role: by.Role, Kind: bansosbot.EventStatus,
		From: from, To: to, Public: true, Text: ch.Text, Args: args})
	return err
}
