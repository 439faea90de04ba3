package flows_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// lifecycleSpec is the ticket lifecycle of issue 3, written out on its own
// (not derived from flows.Lifecycle): for each status, the events allowed
// and where they lead. Everything else must be refused.
var lifecycleSpec = map[bansosbot.Status]map[string]bansosbot.Status{
	bansosbot.StatusNew: {
		flows.EvAssign: bansosbot.StatusAssigned, flows.EvRefer: bansosbot.StatusReferred,
		flows.EvReject: bansosbot.StatusRejected, flows.EvWithdraw: bansosbot.StatusWithdrawn,
	},
	bansosbot.StatusAssigned: {
		flows.EvAssign: bansosbot.StatusAssigned, flows.EvStart: bansosbot.StatusInProgress,
		flows.EvAskCitizen: bansosbot.StatusWaitingCitizen, flows.EvResolve: bansosbot.StatusResolved,
		flows.EvRefer: bansosbot.StatusReferred, flows.EvReject: bansosbot.StatusRejected, flows.EvWithdraw: bansosbot.StatusWithdrawn,
	},
	bansosbot.StatusInProgress: {
		flows.EvAssign: bansosbot.StatusAssigned, flows.EvAskCitizen: bansosbot.StatusWaitingCitizen,
		flows.EvResolve: bansosbot.StatusResolved, flows.EvRefer: bansosbot.StatusReferred,
		flows.EvReject: bansosbot.StatusRejected, flows.EvWithdraw: bansosbot.StatusWithdrawn,
	},
	bansosbot.StatusWaitingCitizen: {
		flows.EvAssign: bansosbot.StatusAssigned, flows.EvCitizenReply: bansosbot.StatusInProgress,
		flows.EvResolve: bansosbot.StatusResolved, flows.EvRefer: bansosbot.StatusReferred,
		flows.EvReject: bansosbot.StatusRejected, flows.EvWithdraw: bansosbot.StatusWithdrawn,
	},
	bansosbot.StatusResolved: {
		flows.EvClose: bansosbot.StatusClosed, flows.EvReopen: bansosbot.StatusReopened, flows.EvWithdraw: bansosbot.StatusWithdrawn,
	},
	bansosbot.StatusClosed:    {flows.EvReopen: bansosbot.StatusReopened},
	bansosbot.StatusReferred:  {},
	bansosbot.StatusRejected:  {},
	bansosbot.StatusWithdrawn: {},
	bansosbot.StatusReopened: {
		flows.EvAssign: bansosbot.StatusAssigned, flows.EvStart: bansosbot.StatusInProgress,
		flows.EvAskCitizen: bansosbot.StatusWaitingCitizen, flows.EvResolve: bansosbot.StatusResolved,
		flows.EvRefer: bansosbot.StatusReferred, flows.EvReject: bansosbot.StatusRejected, flows.EvWithdraw: bansosbot.StatusWithdrawn,
	},
}

var lifecycleEvents = []string{
	flows.EvAssign, flows.EvStart, flows.EvAskCitizen, flows.EvCitizenReply, flows.EvResolve,
	flows.EvClose, flows.EvReopen, flows.EvRefer, flows.EvReject, flows.EvWithdraw,
}

// TestLifecycleEveryTransition fires every event in every status against
// a stored ticket: an allowed one moves the ticket where the lifecycle says
// and writes exactly one public status event; an illegal one fails with a
// conflict error and writes nothing.
func TestLifecycleEveryTransition(t *testing.T) {
	h := newHarness(t, quiet())
	if len(lifecycleSpec) != len(bansosbot.Statuses) {
		t.Fatalf("the spec covers %d statuses; there are %d", len(lifecycleSpec), len(bansosbot.Statuses))
	}
	tkWorker := flows.Actor{ID: 9001, Role: string(bansosbot.RoleWorker)}
	for _, from := range bansosbot.Statuses {
		for _, ev := range lifecycleEvents {
			want, allowed := lifecycleSpec[from][ev]
			name := string(from) + "/" + ev
			pausedAt := h.Now().Add(-2 * time.Hour)
			tk := cmSeedTicket(t, h, 400, func(tk *bansosbot.Ticket) {
				tk.Status = from
				if from == bansosbot.StatusWaitingCitizen {
					tk.PausedSince = pausedAt
				}
			})
			var before bansosbot.Ticket
			var terr error
			err := h.DB.Update(func(tx *store.Tx) error {
				cur, err := tx.Ticket(tk.ID)
				if err != nil {
					return err
				}
				before = *cur
				if terr = flows.Transition(tx, cur, ev, tkWorker, flows.Change{Text: "catatan"}, h.Now()); terr != nil {
					return nil // commit whatever an illegal transition might have written
				}
				return tx.PutTicket(cur)
			})
			if err != nil {
				t.Fatal(err)
			}
			var after *bansosbot.Ticket
			var events []bansosbot.Event
			h.DB.View(func(tx *store.Tx) error {
				after, _ = tx.Ticket(tk.ID)
				events, _ = tx.Events(tk.ID)
				return nil
			})
			if !allowed {
				if bansosbot.ErrorCode(terr) != bansosbot.EConflict {
					t.Errorf("%s: err = %v; want a conflict error", name, terr)
				}
				if len(events) != 1 || !reflect.DeepEqual(*after, before) {
					t.Errorf("%s refused but the store changed: %d events, ticket %+v", name, len(events), after)
				}
				continue
			}
			if terr != nil {
				t.Errorf("%s: %v; want allowed", name, terr)
				continue
			}
			if after.Status != want || after.Events != 2 || len(events) != 2 {
				t.Errorf("%s: status %s, %d events (counter %d); want %s and exactly one new event", name, after.Status, len(events), after.Events, want)
				continue
			}
			e := events[1]
			if e.Kind != bansosbot.EventStatus || e.From != from || e.To != want || !e.Public || e.Args["event"] != ev ||
				e.Actor != tkWorker.ID || e.Text != "catatan" || !e.At.Equal(h.Now()) {
				t.Errorf("%s: event %+v", name, e)
			}
			switch {
			case want == bansosbot.StatusWaitingCitizen && from != bansosbot.StatusWaitingCitizen && !after.PausedSince.Equal(h.Now()):
				t.Errorf("%s: the clock did not pause (paused since %v)", name, after.PausedSince)
			case from == bansosbot.StatusWaitingCitizen && want != from && !after.PausedSince.IsZero():
				t.Errorf("%s: still paused since %v; want the pause ended", name, after.PausedSince)
			case want.Final() && !after.ClosedAt.Equal(h.Now()):
				t.Errorf("%s: closed at %v", name, after.ClosedAt)
			case want == bansosbot.StatusResolved && !after.ResolvedAt.Equal(h.Now()):
				t.Errorf("%s: resolved at %v", name, after.ResolvedAt)
			}
		}
	}
}

// TestLifecycleMachineMatchesSpec checks the transition table itself for
// the events it lists per status (what staff buttons are built from).
func TestLifecycleMachineMatchesSpec(t *testing.T) {
	for from, evs := range lifecycleSpec {
		for _, ev := range lifecycleEvents {
			_, want := evs[ev]
			if got := flows.Lifecycle.Can(string(from), ev); got != want {
				t.Errorf("Lifecycle.Can(%s, %s) = %v; want %v", from, ev, got, want)
			}
		}
	}
}
