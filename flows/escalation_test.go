package flows_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
	"github.com/jackc/pgx/v5"
)

var (
	wib  = bansosbot.RegionCode("32").TimeZone()
	wita = bansosbot.RegionCode("73").TimeZone()
	wit  = bansosbot.RegionCode("91").TimeZone()
)

// The staff of the escalation tests: a worker in Cibinong (Kabupaten
// Bogor, Jawa Barat) and a supervisor on each rung above, plus a
// supervisor of the neighbouring kabupaten who must never hear of Bogor.
const (
	slaWorker    = 501 // 32.01.01
	slaRegency   = 601 // 32.01
	slaNeighbour = 602 // 32.02
	slaProvince  = 701 // 32
	slaNational  = 801 // nation
)

func slaStaff(t *testing.T, h *harness) {
	t.Helper()
	addStaff(t, h, slaWorker, "Wati", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, slaRegency, "Rudi", bansosbot.RoleSupervisor, bogor)
	addStaff(t, h, slaNeighbour, "Nina", bansosbot.RoleSupervisor, "32.02")
	addStaff(t, h, slaProvince, "Putu", bansosbot.RoleSupervisor, jabar)
	addStaff(t, h, slaNational, "Nasional", bansosbot.RoleSupervisor, "")
}

func putLang(t *testing.T, h *harness, user int64, lang string) {
	t.Helper()
	if err := h.DB.Update(func(tx *store.Tx) error {
		return tx.PutProfile(&bansosbot.Profile{UserID: user, Lang: lang, CreatedAt: h.Now()})
	}); err != nil {
		t.Fatal(err)
	}
}

// slaTicket stores a ticket filed now and scheduled by the engine as the
// complaint flow does, without routing, given to assignee (when not 0)
// by the system.
func slaTicket(t *testing.T, h *harness, region bansosbot.RegionCode, category string, assignee int64) *bansosbot.Ticket {
	t.Helper()
	tk := &bansosbot.Ticket{Category: category, Region: region, Description: "uraian",
		Status: bansosbot.StatusNew, CreatedAt: h.Now(), UpdatedAt: h.Now()}
	if err := h.DB.Update(func(tx *store.Tx) error {
		seq, err := tx.NextTicketSeq()
		if err != nil {
			return err
		}
		tk.ID, tk.No, tk.CitizenID = seq, bansosbot.NewTicketNo(seq, h.Engine.Config().TicketKey), 9000+int64(seq)
		h.Engine.Schedule(tk, h.Now())
		if _, err := tx.AppendEvent(tk, bansosbot.Event{At: h.Now(), Role: flows.RoleCitizen, Kind: bansosbot.EventCreated}); err != nil {
			return err
		}
		if assignee != 0 {
			if err := flows.Transition(tx, tk, flows.EvAssign, flows.Actor{Role: flows.RoleSystem}, flows.Change{}, h.Now()); err != nil {
				return err
			}
			tk.Assignee = assignee
		}
		return tx.PutTicket(tk)
	}); err != nil {
		t.Fatal(err)
	}
	h.Note("ticket %d %s filed in %s (%s), assignee %d", tk.ID, tk.No, region, category, assignee)
	return tk
}

// transition fires a lifecycle event on a stored ticket in its own
// transaction.
func transition(t *testing.T, h *harness, id uint64, event string, by flows.Actor) {
	t.Helper()
	if err := h.DB.Update(func(tx *store.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		if err := flows.Transition(tx, tk, event, by, flows.Change{}, h.Now()); err != nil {
			return err
		}
		return tx.PutTicket(tk)
	}); err != nil {
		t.Fatal(err)
	}
	h.Note("ticket %d: %s", id, event)
}

func ticket(t *testing.T, h *harness, id uint64) *bansosbot.Ticket {
	t.Helper()
	tk, _ := ticketOf(t, h, id)
	return tk
}

// escalate runs the job like cron does: transactions of at most limit
// tickets while more are due. The replies go into the transcript.
func escalate(t *testing.T, h *harness, limit int) []flows.Reply {
	t.Helper()
	h.Note("escalate at %s", h.Now().In(wib).Format("Mon 2006-01-02 15:04 MST"))
	var all []flows.Reply
	for range 100 {
		var replies []flows.Reply
		var more bool
		err := h.DB.Update(func(tx *store.Tx) error {
			o, m, err := h.Engine.Escalate(context.Background(), tx, h.Now(), limit)
			replies, more = o.Replies, m
			return err
		})
		if err != nil {
			t.Fatalf("Escalate: %v", err)
		}
		h.record(replies)
		all = append(all, replies...)
		if !more {
			return all
		}
	}
	t.Fatal("Escalate keeps reporting more")
	return nil
}

// advanceTo moves the clock to a wall time in loc.
func advanceTo(t *testing.T, h *harness, s string, loc *time.Location) {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(h.Now()) {
		t.Fatalf("advanceTo(%s) goes back in time", s)
	}
	h.Advance(at.Sub(h.Now()))
}

// listed returns the ticket numbers an escalation message lists and the
// step keys, in order.
func listed(r flows.Reply) (nos []string, steps []string) {
	for _, m := range r.Text[1:] {
		if m.Key != "escalation.item" {
			continue
		}
		nos = append(nos, fmt.Sprint(m.Args["No"]))
		steps = append(steps, m.Args["What"].(flows.Msg).Key)
	}
	return nos, steps
}

// escalations are the ticket's EventEscalated in order, as "phase/step/level".
func escalations(t *testing.T, h *harness, id uint64) []string {
	t.Helper()
	var out []string
	for _, ev := range eventsOf(t, h, id) {
		if ev.Kind == bansosbot.EventEscalated {
			out = append(out, ev.Args["phase"]+"/"+ev.Args["step"]+"/"+ev.Args["level"]+"→"+ev.Args["to"])
		}
	}
	return out
}

// A ticket nobody answers climbs the whole ladder of the first response:
// warning to the assignee, breach to the assignee and the kabupaten
// supervisor, then the province, then the nation; each once.
func TestEscalationLadderGolden(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	putLang(t, h, slaProvince, "en")
	tk := slaTicket(t, h, cibinong, "PAYMENT_NOT_RECEIVED", slaWorker) // Thursday 26 Nov 10:00 WIB

	steps := []struct {
		at   string // WIB
		want []int64
		step string
	}{
		{"2026-11-30 11:59", nil, ""},
		// 75% of 3 working days = 18 h: Thu 6 h, Fri 8 h, Mon 4 h.
		{"2026-11-30 12:00", []int64{slaWorker}, "escalation.what.warning"},
		{"2026-12-01 09:59", nil, ""},
		{"2026-12-01 10:00", []int64{slaWorker, slaRegency}, "escalation.what.breach"},
		// 2 more working days: Tue 6 h, Wed 8 h, Thu 2 h.
		{"2026-12-03 10:00", []int64{slaProvince}, "escalation.what.escalate"},
		// 5 more working days.
		{"2026-12-10 09:59", nil, ""},
		{"2026-12-10 10:00", []int64{slaNational}, "escalation.what.escalate"},
		{"2026-12-24 10:00", nil, ""},
	}
	for _, s := range steps {
		advanceTo(t, h, s.at, wib)
		replies := escalate(t, h, 100)
		if got := chats(replies); !slices.Equal(got, s.want) {
			t.Fatalf("%s: notified %v; want %v", s.at, got, s.want)
		}
		for _, r := range replies {
			if nos, keys := listed(r); !slices.Equal(nos, []string{string(tk.No)}) || !slices.Equal(keys, []string{s.step}) {
				t.Errorf("%s: message to %d lists %v %v; want %s %s", s.at, r.ChatID, nos, keys, tk.No, s.step)
			}
		}
		// Running again at the same instant sends nothing new.
		if again := escalate(t, h, 100); len(again) != 0 {
			t.Fatalf("%s: second run sent %v", s.at, chats(again))
		}
	}
	h.Golden("escalation_ladder")

	want := []string{
		"response/warning/→501",
		"response/breach/regency→501,601",
		"response/escalate/province→701",
		"response/escalate/national→801",
	}
	if got := escalations(t, h, tk.ID); !slices.Equal(got, want) {
		t.Errorf("history = %q; want %q", got, want)
	}
	got := ticket(t, h, tk.ID)
	resolutionWarning := tk.CreatedAt.Add(45 * 24 * time.Hour) // 75% of 60 calendar days
	if got.Escalation != 4 || !got.NextCheck.Equal(resolutionWarning) {
		t.Errorf("after the response ladder: position %d, next check %v; want 4, %v (resolution warning)",
			got.Escalation, got.NextCheck.In(wib), resolutionWarning.In(wib))
	}
	if !flows.Overdue(got, h.Now()) {
		t.Error("the unanswered ticket is not overdue")
	}
}

// An answer stops the response ladder; the resolution clock keeps going.
func TestEscalationStopsWhenAnswered(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	tk := slaTicket(t, h, cibinong, "KKS_CARD", slaWorker)
	advanceTo(t, h, "2026-11-30 12:00", wib)
	if got := chats(escalate(t, h, 100)); !slices.Equal(got, []int64{slaWorker}) {
		t.Fatalf("warning went to %v", got)
	}
	transition(t, h, tk.ID, flows.EvStart, flows.Actor{ID: slaWorker, Role: string(bansosbot.RoleWorker)})
	advanceTo(t, h, "2026-12-10 10:00", wib) // past every response step
	if got := escalate(t, h, 100); len(got) != 0 {
		t.Fatalf("answered ticket escalated to %v", chats(got))
	}
	got := ticket(t, h, tk.ID)
	if got.Escalation != 1 || !got.NextCheck.Equal(tk.CreatedAt.Add(45*24*time.Hour)) { // 75% of 60 calendar days
		t.Errorf("position %d, next check %v; want 1 and the resolution warning", got.Escalation, got.NextCheck.In(wib))
	}
	// Resolved and closed tickets leave the due-time index.
	transition(t, h, tk.ID, flows.EvResolve, flows.Actor{ID: slaWorker, Role: string(bansosbot.RoleWorker)})
	if got := ticket(t, h, tk.ID); !got.NextCheck.IsZero() || flows.Overdue(got, h.Now()) {
		t.Errorf("resolved ticket: next check %v, overdue %v; want none", got.NextCheck, flows.Overdue(got, h.Now()))
	}
	transition(t, h, tk.ID, flows.EvClose, flows.Actor{Role: flows.RoleSystem})
	if got := escalations(t, h, tk.ID); len(got) != 1 {
		t.Errorf("closed ticket's escalation history = %q; want the warning kept", got)
	}
	h.DB.View(func(tx *store.Tx) error {
		return tx.DueTickets(h.Now().AddDate(1, 0, 0), func(t2 *bansosbot.Ticket) bool {
			t.Errorf("ticket %d still in the due-time index", t2.ID)
			return true
		})
	})
}

// PUNGLI follows the sensitive policy: one working day, and the breach
// skips the kabupaten (the accused chain) for the province.
func TestEscalationSensitive(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	tk := slaTicket(t, h, cibinong, "PUNGLI", slaProvince)
	advanceTo(t, h, "2026-11-27 10:00", wib) // 8 working hours later
	replies := escalate(t, h, 100)
	if got := chats(replies); !slices.Equal(got, []int64{slaProvince}) {
		t.Fatalf("PUNGLI breach went to %v; want the province supervisor only", got)
	}
	if _, keys := listed(replies[0]); !slices.Equal(keys, []string{"escalation.what.breach"}) {
		t.Errorf("steps %v; want warning collapsed into the breach", keys)
	}
	want := []string{"response/warning/→701", "response/breach/province→701"}
	if got := escalations(t, h, tk.ID); !slices.Equal(got, want) {
		t.Errorf("history = %q; want %q", got, want)
	}
	advanceTo(t, h, "2026-11-30 10:00", wib) // one more working day
	if got := chats(escalate(t, h, 100)); !slices.Equal(got, []int64{slaNational}) {
		t.Fatalf("then %v; want the nation", got)
	}
}

// Nobody at a rung: the next one up hears. A warning for a ticket nobody
// holds goes to the first rung, who can assign it.
func TestEscalationClimbsWhenARungIsEmpty(t *testing.T) {
	h := newHarness(t, quiet())
	addStaff(t, h, slaProvince, "Putu", bansosbot.RoleSupervisor, jabar)
	if err := h.DB.Update(func(tx *store.Tx) error {
		return tx.PutStaff(&bansosbot.Staff{UserID: slaRegency, Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{bogor}})
	}); err != nil {
		t.Fatal(err)
	}
	tk := slaTicket(t, h, cibinong, "OTHER", 0)
	advanceTo(t, h, "2026-12-01 10:00", wib)
	replies := escalate(t, h, 100)
	if got := chats(replies); !slices.Equal(got, []int64{slaProvince}) {
		t.Fatalf("notified %v; want the province (no active kabupaten supervisor)", got)
	}
	want := []string{"response/warning/province→701", "response/breach/province→701"}
	if got := escalations(t, h, tk.ID); !slices.Equal(got, want) {
		t.Errorf("history = %q; want %q", got, want)
	}
}

// Three days without the job: every step passed is fired in order, and
// each recipient gets one message listing their tickets.
func TestEscalationCatchUpGolden(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	putLang(t, h, slaRegency, "en")
	a := slaTicket(t, h, cibinong, "PAYMENT_NOT_RECEIVED", slaWorker) // Thu 10:00
	h.Advance(4 * time.Hour)
	b := slaTicket(t, h, cibinong, "DATA_ERROR", slaWorker) // Thu 14:00
	advanceTo(t, h, "2026-11-27 09:00", wib)
	c := slaTicket(t, h, cibinong, "KKS_CARD", 0) // Fri 09:00, nobody holds it
	other := slaTicket(t, h, "32.02.01", "OTHER", 0)

	advanceTo(t, h, "2026-11-30 08:30", wib) // the last run before the outage: nothing due
	if got := escalate(t, h, 100); len(got) != 0 {
		t.Fatalf("before the outage: %v", chats(got))
	}
	advanceTo(t, h, "2026-12-03 11:00", wib) // back on Thursday
	replies := escalate(t, h, 100)
	h.Golden("escalation_catchup")

	if got := chats(replies); !slices.Equal(got, []int64{slaWorker, slaRegency, slaNeighbour, slaProvince}) {
		t.Fatalf("messages to %v; want one each to the worker, the two kabupaten supervisors and the province", got)
	}
	byChat := map[int64]flows.Reply{}
	for _, r := range replies {
		byChat[r.ChatID] = r
	}
	check := func(chat int64, nos []bansosbot.TicketNo, keys ...string) {
		t.Helper()
		got, gotKeys := listed(byChat[chat])
		var want []string
		for _, n := range nos {
			want = append(want, string(n))
		}
		if !slices.Equal(got, want) || !slices.Equal(gotKeys, keys) {
			t.Errorf("message to %d lists %v %v; want %v %v", chat, got, gotKeys, want, keys)
		}
	}
	check(slaWorker, []bansosbot.TicketNo{a.No, b.No}, "escalation.what.breach", "escalation.what.breach")
	check(slaRegency, []bansosbot.TicketNo{a.No, b.No, c.No}, "escalation.what.breach", "escalation.what.breach", "escalation.what.breach")
	check(slaNeighbour, []bansosbot.TicketNo{other.No}, "escalation.what.breach")
	check(slaProvince, []bansosbot.TicketNo{a.No}, "escalation.what.escalate")
	if byChat[slaRegency].Lang != "en" || byChat[slaWorker].Lang != "id" {
		t.Errorf("languages %s/%s; want en for the supervisor who chose it", byChat[slaRegency].Lang, byChat[slaWorker].Lang)
	}
	// In order, each once.
	if got, want := escalations(t, h, a.ID), []string{"response/warning/→501", "response/breach/regency→501,601", "response/escalate/province→701"}; !slices.Equal(got, want) {
		t.Errorf("ticket a history = %q; want %q", got, want)
	}
	if got, want := escalations(t, h, c.ID), []string{"response/warning/regency→601", "response/breach/regency→601"}; !slices.Equal(got, want) {
		t.Errorf("ticket c history = %q; want %q", got, want)
	}
	var reached []string
	for _, ev := range eventsOf(t, h, a.ID) {
		if ev.Kind == bansosbot.EventEscalated {
			reached = append(reached, ev.Args["reached"])
		}
	}
	if !slices.IsSorted(reached) {
		t.Errorf("steps fired out of order: %v", reached)
	}
	if again := escalate(t, h, 100); len(again) != 0 {
		t.Errorf("second run sent %v", chats(again))
	}
}

// Small transactions: with limit 1 the job takes one ticket per
// transaction and reports more until none is due.
func TestEscalationLimit(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	for range 3 {
		slaTicket(t, h, cibinong, "OTHER", slaWorker)
	}
	advanceTo(t, h, "2026-11-30 12:00", wib)
	var calls, sent int
	for {
		var more bool
		err := h.DB.Update(func(tx *store.Tx) error {
			o, m, err := h.Engine.Escalate(context.Background(), tx, h.Now(), 1)
			sent, more = sent+len(o.Replies), m
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if !more || calls > 10 {
			break
		}
	}
	if calls != 3 || sent != 3 {
		t.Errorf("%d calls sent %d messages; want 3 and 3 (one ticket each)", calls, sent)
	}
}

// crashingStore fails the n-th PutTicket, as if the program died there.
type crashingStore struct {
	flows.Store
	puts, failAt int
}

var errCrash = errors.New("crash")

func (s *crashingStore) PutTicket(t *bansosbot.Ticket) error {
	s.puts++
	if s.puts == s.failAt {
		return errCrash
	}
	return s.Store.PutTicket(t)
}

// A crash between two tickets of one run rolls the whole run back: the
// rerun sends every notification exactly once.
func TestEscalationCrashLosesAndRepeatsNothing(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	a := slaTicket(t, h, cibinong, "OTHER", slaWorker)
	b := slaTicket(t, h, cibinong, "DATA_ERROR", slaWorker)
	advanceTo(t, h, "2026-12-01 10:00", wib)

	err := h.DB.Update(func(tx *store.Tx) error {
		_, _, err := h.Engine.Escalate(context.Background(), &crashingStore{Store: tx, failAt: 2}, h.Now(), 100)
		return err
	})
	if !errors.Is(err, errCrash) {
		t.Fatalf("Escalate with a crash = %v; want the crash", err)
	}
	for _, id := range []uint64{a.ID, b.ID} {
		if got := escalations(t, h, id); len(got) != 0 || ticket(t, h, id).Escalation != 0 {
			t.Fatalf("ticket %d kept %v after the rollback", id, got)
		}
	}
	replies := escalate(t, h, 100)
	if got := chats(replies); !slices.Equal(got, []int64{slaWorker, slaRegency}) {
		t.Fatalf("rerun notified %v", got)
	}
	for _, r := range replies {
		if nos, _ := listed(r); len(nos) != 2 {
			t.Errorf("message to %d lists %v; want both tickets", r.ChatID, nos)
		}
	}
	for _, id := range []uint64{a.ID, b.ID} {
		if got := escalations(t, h, id); len(got) != 2 {
			t.Errorf("ticket %d history %q; want warning and breach once", id, got)
		}
	}
	if again := escalate(t, h, 100); len(again) != 0 {
		t.Errorf("third run sent %v", chats(again))
	}
}

// The buttons of an escalation: acknowledge (recorded once, audited),
// refused for anyone but a supervisor of the region, open and reassign
// handed to the staff workspace.
func TestEscalationButtonsGolden(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	tk := slaTicket(t, h, cibinong, "PAYMENT_NOT_RECEIVED", slaWorker)
	advanceTo(t, h, "2026-12-01 10:00", wib)
	replies := escalate(t, h, 100)
	var sup flows.Reply
	for _, r := range replies {
		if r.ChatID == slaRegency {
			sup = r
			h.keyboards[r.ChatID] = r.Buttons
		}
		if r.ChatID == slaWorker {
			h.keyboards[r.ChatID] = r.Buttons
			if n := len(r.Buttons[0]); n != 1 {
				t.Errorf("the worker's message has %d buttons in a row; want open only", n)
			}
		}
	}
	id := fmt.Sprint(tk.ID)
	if len(sup.Buttons) != 1 || len(sup.Buttons[0]) != 3 {
		t.Fatalf("supervisor's buttons = %+v; want open, acknowledge, reassign", sup.Buttons)
	}
	rudi := h.User(slaRegency, "id")
	rudi.Press("a:" + id)
	rudi.Press("a:" + id) // again: already acknowledged
	h.User(slaNeighbour, "id").PressData("es..a:" + id)
	h.User(slaWorker, "id").PressData("es..a:" + id)
	h.User(4242, "id").PressData("es..a:" + id) // not staff: the privacy notice first
	h.User(slaNeighbour, "id").PressData("es..r:" + id)
	h.User(slaRegency, "id").PressData("es..a:999")
	h.User(slaRegency, "id").PressData("es..z:" + id)
	h.Golden("escalation_buttons")

	var acks []bansosbot.Event
	for _, ev := range eventsOf(t, h, tk.ID) {
		if ev.Kind == bansosbot.EventAcked {
			acks = append(acks, ev)
		}
	}
	if len(acks) != 1 || acks[0].Actor != slaRegency || acks[0].Role != string(bansosbot.RoleSupervisor) {
		t.Errorf("acknowledgements = %+v; want one by %d", acks, slaRegency)
	}
	var audit []string
	for _, e := range auditTicket(t, h, tk.ID) {
		audit = append(audit, fmt.Sprintf("%s/%d/%v/%s", e.Action, e.Actor, e.Allowed, e.Reason))
	}
	wantAudit := []string{"ack/601/true/", "ack/602/false/region", "ack/501/false/role", "reassign/602/false/region"}
	if !slices.Equal(audit, wantAudit) {
		t.Errorf("audit = %q; want %q", audit, wantAudit)
	}

	// Open shows the staff workspace's card; reassign starts its transfer.
	rudi.Press("o:" + id)
	if !slices.ContainsFunc(h.Replies, func(r flows.Reply) bool { return len(r.Text) > 0 && r.Text[0].Key == "staff.card" }) {
		t.Errorf("open: replies %+v; want the staff card", h.Replies)
	}
	rudi.PressData("es..r:" + id)
	if s := sessionOf(t, h, slaRegency); s.Flow != "wk" || s.State != "transfer" {
		t.Errorf("reassign: session %s/%s; want the staff workspace's transfer", s.Flow, s.State)
	}
}

// The clock stands still while the ticket waits for the citizen: nothing
// falls due, and when the citizen answers every deadline moves out by the
// time paused (calendar time for the 60-day resolution).
func TestEscalationPausesWhileWaiting(t *testing.T) {
	h := newHarness(t, quiet())
	slaStaff(t, h)
	cal := bansosbot.DefaultCalendar()
	tk := slaTicket(t, h, cibinong, "OTHER", slaWorker) // Thu 26 Nov 10:00
	advanceTo(t, h, "2026-11-27 10:00", wib)            // 8 working hours used
	worker := flows.Actor{ID: slaWorker, Role: string(bansosbot.RoleWorker)}
	transition(t, h, tk.ID, flows.EvStart, worker) // the first response
	transition(t, h, tk.ID, flows.EvAskCitizen, worker)
	dueBefore := ticket(t, h, tk.ID).DueResolve
	advanceTo(t, h, "2027-02-15 10:00", wib) // far past the original warning (45 calendar days)
	if got := escalate(t, h, 100); len(got) != 0 {
		t.Fatalf("escalated while waiting for the citizen: %v", chats(got))
	}
	if got := ticket(t, h, tk.ID); !got.NextCheck.IsZero() || !flows.DueState(got, h.Now()).Paused || flows.Overdue(got, h.Now()) {
		t.Errorf("waiting ticket: next check %v, state %+v", got.NextCheck, flows.DueState(got, h.Now()))
	}
	transition(t, h, tk.ID, flows.EvCitizenReply, flows.Actor{ID: tk.CitizenID, Role: flows.RoleCitizen})
	if got := ticket(t, h, tk.ID); !got.NextCheck.Equal(h.Now()) {
		t.Fatalf("after the answer next check = %v; want now, for the job to reschedule", got.NextCheck)
	}
	if got := escalate(t, h, 100); len(got) != 0 {
		t.Fatalf("escalated right after the answer: %v", chats(got))
	}
	got := ticket(t, h, tk.ID)
	paused := cal.WorkingDuration(at(t, "2026-11-27 10:00", wib), h.Now(), wib)
	elapsed := h.Now().Sub(at(t, "2026-11-27 10:00", wib))
	wantDue := tk.CreatedAt.Add(60*24*time.Hour + elapsed)
	if !got.DueResolve.Equal(wantDue) || got.PausedFor != paused || !got.DueResolve.After(dueBefore) {
		t.Errorf("after the pause: due %v, paused %v; want %v, %v", got.DueResolve.In(wib), got.PausedFor, wantDue.In(wib), paused)
	}
	wantWarning := tk.CreatedAt.Add(45*24*time.Hour + elapsed)
	if !got.NextCheck.Equal(wantWarning) {
		t.Errorf("next check %v; want the resolution warning %v", got.NextCheck.In(wib), wantWarning.In(wib))
	}
	h.Advance(wantWarning.Sub(h.Now()))
	if got := chats(escalate(t, h, 100)); !slices.Equal(got, []int64{slaWorker}) {
		t.Errorf("resolution warning went to %v", got)
	}
}

func at(t *testing.T, s string, loc *time.Location) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var (
	escBackend = flag.String("escalate.backend", "bolt", "BenchmarkEscalate's store: bolt, or postgres (BANSOSBOT_TEST_POSTGRES)")
	escStored  = flag.String("escalate.stored", "10000,1000000", "BenchmarkEscalate's numbers of stored tickets, comma-separated")
)

// BenchmarkEscalate measures one run of the escalation job over 100 due
// tickets among many more stored whose checks lie in the future: the job
// reads only the due entries of the index, so the time should not depend
// on the number stored. Each run rolls its transaction back, so the same
// 100 tickets are due every time (the commit is not measured). The store
// is a bbolt file or, with -escalate.backend postgres, a PostgreSQL schema.
//
//	go test ./flows -run '^$' -bench Escalate -benchtime 200x
//	go test ./flows -run '^$' -bench Escalate -benchtime 50x -escalate.backend postgres -escalate.stored 10000,100000
func BenchmarkEscalate(b *testing.B) {
	for _, f := range strings.Split(*escStored, ",") {
		stored, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || stored < 100 {
			b.Fatalf("bad -escalate.stored %q", *escStored)
		}
		b.Run(fmt.Sprintf("due=100/stored=%d", stored), func(b *testing.B) {
			benchEscalate(b, stored, 100)
		})
	}
}

// postgresCopy opens a store on a PostgreSQL schema of its own holding
// every row of src. Filling PostgreSQL through the store's API is a round
// trip per key (8 minutes for 300,000 tickets): the tickets are built in
// bbolt and its rows copied in bulk (COPY into a staging table, one
// INSERT), then analyzed as autovacuum would. The bucket sequences that
// matter here are the tickets': set to the number stored.
func postgresCopy(b *testing.B, src *store.DB, stored int) *store.DB {
	_, dsn := pgtest.Schema(b)
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, dsn, pgstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.OpenBackend(pg, "bench", b.TempDir(), store.Options{}) // creates the buckets
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE kv_in (bucket bytea, key bytea, value bytea)"); err != nil {
		b.Fatal(err)
	}
	var rows [][]any
	flush := func() error {
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"kv_in"}, []string{"bucket", "key", "value"}, pgx.CopyFromRows(rows))
		rows = rows[:0]
		return err
	}
	err = src.Walk(func(bk, k, v []byte) error {
		rows = append(rows, []any{bytes.Clone(bk), bytes.Clone(k), bytes.Clone(v)})
		if len(rows) == 100_000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	for _, q := range []string{
		"INSERT INTO kv SELECT bucket, key, value FROM kv_in ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value",
		fmt.Sprintf("INSERT INTO kv_seq (bucket, value) VALUES ('tickets', %d) ON CONFLICT (bucket) DO UPDATE SET value = EXCLUDED.value", stored),
		"ANALYZE kv",
	} {
		if err == nil {
			_, err = conn.Exec(ctx, q)
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	return db
}

var errRollback = errors.New("rollback")

func benchEscalate(b *testing.B, stored, due int) {
	if *escBackend != "bolt" && *escBackend != "postgres" {
		b.Fatalf("bad -escalate.backend %q: bolt or postgres", *escBackend)
	}
	db, err := store.Open(b.TempDir()+"/bench.db", store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	filed := at2(b, "2026-11-26 10:00")
	now := at2(b, "2026-12-01 10:00") // warning and breach of tickets filed at 10:00 on Thursday
	e := flows.NewEngine(flows.Config{Now: func() time.Time { return now }, TicketKey: []byte("bench")})
	if err := db.Update(func(tx *store.Tx) error {
		for _, s := range []*bansosbot.Staff{
			{UserID: slaWorker, Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{cibinong}, Active: true},
			{UserID: slaRegency, Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{bogor}, Active: true},
		} {
			if err := tx.PutStaff(s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	const batch = 20_000
	built := time.Now()
	for n := 0; n < stored; n += batch {
		if err := db.Update(func(tx *store.Tx) error {
			for i := n; i < min(n+batch, stored); i++ {
				seq, err := tx.NextTicketSeq()
				if err != nil {
					return err
				}
				tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("bench")), Category: "OTHER",
					Region: cibinong, CitizenID: 100_000 + int64(seq), Status: bansosbot.StatusAssigned, Assignee: slaWorker,
					CreatedAt: filed, UpdatedAt: filed}
				e.Schedule(tk, filed)
				if i >= due { // filed later: checks in the future
					tk.NextCheck = now.Add(time.Duration(1+i%1000) * time.Hour)
				}
				if err := tx.PutTicket(tk); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("bolt: %d tickets stored in %v", stored, time.Since(built).Round(time.Second))
	if *escBackend == "postgres" {
		copied := time.Now()
		db = postgresCopy(b, db, stored)
		b.Logf("postgres: copied in %v", time.Since(copied).Round(time.Second))
	}
	ctx := context.Background()
	for b.Loop() {
		err := db.Update(func(tx *store.Tx) error {
			o, more, err := e.Escalate(ctx, tx, now, 1000)
			if err != nil {
				return err
			}
			if replies := o.Replies; more || len(replies) != 2 {
				b.Fatalf("more %v, %d replies; want one message each to the worker and the supervisor", more, len(replies))
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			b.Fatal(err)
		}
	}
}

func at2(b *testing.B, s string) time.Time {
	v, err := time.ParseInLocation("2006-01-02 15:04", s, wib)
	if err != nil {
		b.Fatal(err)
	}
	return v
}
