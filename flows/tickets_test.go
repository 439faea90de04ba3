package flows_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// The staff member of these tests; their id and name must never reach a
// citizen.
const (
	tkWorkerID   = 9001
	tkWorkerName = "Budi Santoso"
)

var tkWorker = flows.Actor{ID: tkWorkerID, Role: string(bansosbot.RoleWorker)}

// cmStaffAct changes a stored ticket as staff would: fn runs on the loaded
// ticket and the ticket is stored.
func cmStaffAct(t *testing.T, h *harness, id uint64, fn func(tx *store.Tx, tk *bansosbot.Ticket) error) {
	t.Helper()
	err := h.DB.Update(func(tx *store.Tx) error {
		tk, err := tx.Ticket(id)
		if err != nil {
			return err
		}
		if err := fn(tx, tk); err != nil {
			return err
		}
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// cmAskCitizen assigns the ticket to the tkWorker, records internal notes with
// the tkWorker's name, and asks the citizen for information.
func cmAskCitizen(t *testing.T, h *harness, id uint64) {
	cmStaffAct(t, h, id, func(tx *store.Tx, tk *bansosbot.Ticket) error {
		now := h.Now()
		tk.Assignee = tkWorkerID
		if err := flows.Transition(tx, tk, flows.EvAssign, tkWorker, flows.Change{Args: map[string]string{"assignee": strconv.Itoa(tkWorkerID)}}, now); err != nil {
			return err
		}
		if _, err := tx.AppendEvent(tk, bansosbot.Event{At: now, Actor: tkWorkerID, Role: tkWorker.Role, Kind: bansosbot.EventAssigned,
			Text: "Ditugaskan ke " + tkWorkerName}); err != nil {
			return err
		}
		if _, err := tx.AppendEvent(tk, bansosbot.Event{At: now, Actor: tkWorkerID, Role: tkWorker.Role, Kind: bansosbot.EventNote,
			Text: "Catatan internal: cek data DTSEN"}); err != nil {
			return err
		}
		if err := flows.Transition(tx, tk, flows.EvStart, tkWorker, flows.Change{}, now); err != nil {
			return err
		}
		if _, err := tx.AppendEvent(tk, bansosbot.Event{At: now, Actor: tkWorkerID, Role: tkWorker.Role, Kind: bansosbot.EventMessage,
			Public: true, Text: "Mohon kirim foto Kartu Keluarga."}); err != nil {
			return err
		}
		return flows.Transition(tx, tk, flows.EvAskCitizen, tkWorker, flows.Change{}, now)
	})
}

// noStaffIdentity fails when a reply to the citizen carries the tkWorker's
// id, name or an internal note.
func noStaffIdentity(t *testing.T, h *harness, citizen int64) {
	t.Helper()
	for _, r := range h.Replies {
		if r.ChatID != citizen {
			continue
		}
		s := FormatReply(r)
		for _, bad := range []string{strconv.Itoa(tkWorkerID), tkWorkerName, "Catatan internal"} {
			if strings.Contains(s, bad) {
				t.Errorf("a reply to the citizen reveals %q:\n%s", bad, s)
			}
		}
	}
}

func ticketID(id uint64) string { return strconv.FormatUint(id, 10) }

// TestTicketsListAndView lists the citizen's tickets and opens one: its
// public history only, no internal notes, no staff name or id.
func TestTicketsListAndView(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(300, "id")
	u.Onboard("id")
	u.Text("/tiket") // none yet
	a := cmSeedTicket(t, h, u.ID, nil)
	h.Advance(time.Hour)
	b := cmSeedTicket(t, h, u.ID, func(tk *bansosbot.Ticket) { tk.Category = "KKS_CARD" })
	cmAskCitizen(t, h, a.ID)
	cmStaffAct(t, h, b.ID, func(tx *store.Tx, tk *bansosbot.Ticket) error {
		if err := flows.Transition(tx, tk, flows.EvAssign, tkWorker, flows.Change{}, h.Now()); err != nil {
			return err
		}
		return flows.Transition(tx, tk, flows.EvResolve, tkWorker, flows.Change{Text: "Kartu pengganti bisa diambil di bank."}, h.Now())
	})
	cmSeedTicket(t, h, 301, nil) // somebody else's
	u.Text("/tiket")
	if got := h.Replies[0].Buttons[0][0].Data; got != "tk..o:"+ticketID(b.ID) {
		t.Errorf("first listed = %s; want the newest, ticket %d", got, b.ID)
	}
	if n := len(h.Replies[0].Buttons); n != 2 {
		t.Errorf("listed %d tickets; want the citizen's 2", n)
	}
	u.Press("o:" + ticketID(a.ID))
	noStaffIdentity(t, h, u.ID)
	u.Press("l:0")
	u.Press("o:" + ticketID(b.ID)) // resolved: withdraw only, no adding
	noStaffIdentity(t, h, u.ID)
	cmGolden(h, "tickets_view")
}

// TestTicketsPaging pages through many tickets, newest first.
func TestTicketsPaging(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(302, "en")
	u.Onboard("en")
	for range 8 {
		cmSeedTicket(t, h, u.ID, nil)
		h.Advance(time.Minute)
	}
	u.Text("/tickets")
	u.Press("l:1")
	u.Press("l:0")
	cmGolden(h, "tickets_paged")
}

// TestTicketsAddInfo adds text and a photo to an open ticket that waits
// for the citizen: history events, the ticket goes back to work, the
// assignee hears only the ticket number.
func TestTicketsAddInfo(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(303, "id")
	u.Onboard("id")
	tk := cmSeedTicket(t, h, u.ID, nil)
	cmAskCitizen(t, h, tk.ID)
	id := ticketID(tk.ID)
	u.Text("/tiket")
	u.Press("o:" + id)
	u.Press("a:" + id)
	u.Media("voice") // not accepted
	u.Text("  ")     // empty
	u.Text("Nomor KK saya sudah saya kirim lewat foto berikut.")
	var notified bool
	for _, r := range h.Replies {
		if r.ChatID == tkWorkerID {
			notified = true
			if len(r.Text) != 1 || r.Text[0].Key != "mytickets.staff_info_added" || r.Text[0].Args["No"] != string(tk.No) {
				t.Errorf("notification to the assignee = %s", FormatReply(r))
			}
		}
	}
	if !notified {
		t.Error("the assignee was not notified")
	}
	u.Press("a:" + id)
	u.Photo("Foto KK")
	u.Press("a:" + id)
	u.Press("b") // back to the ticket, nothing added
	cmGolden(h, "tickets_add")

	got := cmTickets(t, h, u.ID)[0]
	if got.Status != bansosbot.StatusInProgress || len(got.Attachments) != 1 {
		t.Errorf("ticket = status %s, %d attachments; want in_progress with one photo", got.Status, len(got.Attachments))
	}
	evs := eventsOf(t, h, tk.ID)
	var kinds []string
	for _, e := range evs[len(evs)-4:] {
		kinds = append(kinds, e.Kind+":"+e.Role)
	}
	if want := "message:citizen status:citizen message:citizen attachment:citizen"; strings.Join(kinds, " ") != want {
		t.Errorf("last events = %v; want %s", kinds, want)
	}
}

// TestTicketsWithdraw withdraws after a confirmation; Back keeps the
// ticket; a withdrawn ticket cannot be withdrawn again.
func TestTicketsWithdraw(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(304, "id")
	u.Onboard("id")
	tk := cmSeedTicket(t, h, u.ID, func(tk *bansosbot.Ticket) { tk.Assignee = tkWorkerID })
	id := ticketID(tk.ID)
	u.Text("/tiket")
	u.Press("o:" + id)
	u.Press("w:" + id)
	u.Text("ya") // text instead of the button: asked again
	u.Press("b")
	if got := cmTickets(t, h, u.ID)[0]; got.Status != bansosbot.StatusNew {
		t.Fatalf("status after Back = %s; want new", got.Status)
	}
	u.Press("w:" + id)
	u.Press("wy:" + id)
	u.PressData("tk..w:" + id) // from the old ticket view: refused politely
	cmGolden(h, "tickets_withdraw")
	got := cmTickets(t, h, u.ID)[0]
	evs := eventsOf(t, h, tk.ID)
	if got.Status != bansosbot.StatusWithdrawn || len(evs) != 2 || evs[1].To != bansosbot.StatusWithdrawn || evs[1].Role != flows.RoleCitizen {
		t.Errorf("ticket %s with events %+v; want withdrawn by the citizen with one new event", got.Status, evs)
	}
}

// TestTicketsForgedCallbacks: another citizen's ticket id in forged or
// stale buttons changes nothing and is answered as "not found".
func TestTicketsForgedCallbacks(t *testing.T) {
	h := newHarness(t, quiet())
	owner := h.User(305, "id")
	owner.Onboard("id")
	tk := cmSeedTicket(t, h, owner.ID, nil)
	cmAskCitizen(t, h, tk.ID)
	id := ticketID(tk.ID)
	owner.Text("/tiket")
	owner.Press("o:" + id)
	owner.Press("w:" + id)
	ownerConfirm := h.Replies[len(h.Replies)-1].Buttons[0][0].Data // the owner's stamped "yes, withdraw"
	owner.Press("b")

	mallory := h.User(306, "id")
	mallory.Onboard("id")
	cmToStep(mallory, "OTHER", "description") // a draft that must survive
	ticketState := func() string {
		var b strings.Builder
		h.DB.View(func(tx *store.Tx) error {
			t, _ := tx.Ticket(tk.ID)
			evs, _ := tx.Events(tk.ID)
			return json.NewEncoder(&b).Encode([]any{t, evs})
		})
		return b.String()
	}
	draft := func() string {
		s := sessionOf(t, h, mallory.ID)
		return s.Flow + "/" + s.State + "/" + string(s.Draft)
	}
	beforeTicket, beforeDraft := ticketState(), draft()
	for _, data := range []string{
		"tk..o:" + id, "tk..a:" + id, "tk..w:" + id, "tk..wy:" + id, "tk..y:" + id, "tk..n",
		ownerConfirm, "tk..o:99999", "tk..o:abc", "tk..a:0", "tk..l:-5", "tk..zz:" + id,
	} {
		mallory.PressData(data)
		for _, r := range h.Replies {
			if r.ChatID != mallory.ID {
				t.Errorf("%s: a reply went to chat %d", data, r.ChatID)
			}
		}
		if got := ticketState(); got != beforeTicket {
			t.Fatalf("%s changed the owner's ticket:\nbefore %s\nafter  %s", data, beforeTicket, got)
		}
		if got := draft(); got != beforeDraft {
			t.Fatalf("%s changed the presser's draft: %s → %s", data, beforeDraft, got)
		}
	}
	mallory.Text(descText) // the draft goes on
	cmGolden(h, "tickets_forged")
	if s := sessionOf(t, h, mallory.ID); s.Flow != "rp" || s.State != "media" {
		t.Errorf("mallory's draft = %s/%s; want the report to go on to the media step", s.Flow, s.State)
	}
	if got := cmTickets(t, h, owner.ID)[0]; got.Status != bansosbot.StatusWaitingCitizen {
		t.Errorf("owner's ticket status = %s; want unchanged", got.Status)
	}
}

// TestTicketsIdleOffer: a message sent outside any flow while a ticket
// waits for the citizen is offered to that ticket and kept until answered.
func TestTicketsIdleOffer(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(307, "id")
	u.Onboard("id")
	tk := cmSeedTicket(t, h, u.ID, nil)
	cmAskCitizen(t, h, tk.ID)
	id := ticketID(tk.ID)
	u.Text("Nomor KK saya 3201012345678901")
	u.Text("dan alamat sudah pindah ke RT 02")
	u.Media("sticker")
	u.Press("y:" + id)
	evs := eventsOf(t, h, tk.ID)
	var msg *bansosbot.Event
	for i := range evs {
		if evs[i].Kind == bansosbot.EventMessage && evs[i].Role == flows.RoleCitizen {
			msg = &evs[i]
		}
	}
	if msg == nil || msg.Text != "Nomor KK saya 3201012345678901\ndan alamat sudah pindah ke RT 02" {
		t.Errorf("citizen message = %+v; want both texts, in order", msg)
	}
	if got := cmTickets(t, h, u.ID)[0]; got.Status != bansosbot.StatusInProgress {
		t.Errorf("status = %s; want in_progress", got.Status)
	}
	h.Note("waiting again; this time the citizen says no")
	cmStaffAct(t, h, tk.ID, func(tx *store.Tx, tk *bansosbot.Ticket) error {
		return flows.Transition(tx, tk, flows.EvAskCitizen, tkWorker, flows.Change{}, h.Now())
	})
	n := len(eventsOf(t, h, tk.ID))
	u.Photo("")
	u.Press("n")
	if got := len(eventsOf(t, h, tk.ID)); got != n {
		t.Errorf("events after 'no' = %d; want %d", got, n)
	}
	h.Note("nothing waits: the usual menu")
	cmStaffAct(t, h, tk.ID, func(tx *store.Tx, tk *bansosbot.Ticket) error {
		return flows.Transition(tx, tk, flows.EvCitizenReply, flows.Actor{ID: u.ID, Role: flows.RoleCitizen}, flows.Change{}, h.Now())
	})
	u.Text("halo")
	cmGolden(h, "tickets_offer")
}

// TestReportThenFollow files a complaint and follows it from the button
// under the confirmation.
func TestReportThenFollow(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(308, "id")
	u.Onboard("id")
	cmToStep(u, "PUNGLI", "summary")
	u.Press("send")
	tk := cmTickets(t, h, u.ID)[0]
	u.Press("o:" + ticketID(tk.ID))
	if !hasKey(h, "mytickets.view") {
		t.Errorf("the button under the confirmation did not open the ticket: %v", lastKeys(h))
	}
	cmGolden(h, "tickets_after_report")
}
