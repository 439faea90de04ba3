package flows_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"github.com/bansosbot/bansosbot"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// Tests of the security review (issue 10): what the flows keep of a
// citizen's input, and what they do with input nobody expected.

const secNIK = "3201011203850001" // Wawan Lestari in ckRegistry

// deleted reports whether the replies delete message msgID.
func deleted(replies []flows.Reply, msgID int) bool {
	for _, r := range replies {
		if r.Action == flows.Delete && r.MessageID == msgID {
			return true
		}
	}
	return false
}

// fileHolds reports which of the needles the store file holds.
func fileHolds(t *testing.T, h *harness, needles ...string) []string {
	t.Helper()
	raw, err := storeBytes(h.DB)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, n := range needles {
		for _, form := range encodings(n) {
			if bytes.Contains(raw, []byte(form)) {
				found = append(found, n)
				break
			}
		}
	}
	return found
}

// encodings are the forms a string takes in the store: as is, and in the
// base64 of a JSON []byte (such as Session.Held), at each of the three
// alignments it can have there (only the whole 4-character groups).
func encodings(s string) []string {
	forms := []string{s}
	for skip := 0; skip < 3 && len(s)-skip >= 6; skip++ {
		rest := s[skip:]
		enc := base64.StdEncoding.EncodeToString([]byte(rest))
		forms = append(forms, enc[:4*(len(rest)/3)])
	}
	return forms
}

// TestCheckIdleResumeHoldsNothing: a NIK typed when /cek has been idle
// past the timeout is deleted from the chat before the "continue or
// discard?" question, and nothing of it (nor the user's names) is held in
// the session; continuing asks the question again.
func TestCheckIdleResumeHoldsNothing(t *testing.T) {
	for _, spelling := range []string{secNIK, "3201 0112 0385 0001"} {
		h := newHarness(t, ckConfig())
		ckImport(t, h.DB, ckRegistry)
		u := h.User(320, "id")
		u.Name = "Wawanesa"
		u.Onboard("id")
		u.Text("/cek")
		h.Advance(45 * time.Minute)
		r := u.sendText(spelling, 51)
		if !deleted(r, 51) {
			t.Errorf("%q after the idle timeout: %v; want the message deleted", spelling, r)
		}
		if r := lastSend(t, r); r.Text[0].Key != "general.resume_question" {
			t.Errorf("%q after the idle timeout: %v; want the resume question", spelling, r.Text)
		}
		h.DB.View(func(tx *store.Tx) error {
			if s, _ := tx.Session(320); len(s.Held) != 0 {
				t.Errorf("held input %s; want nothing held by the status check", s.Held)
			}
			return nil
		})
		if found := fileHolds(t, h, secNIK, "Wawanesa", "wawanesa"); len(found) > 0 {
			t.Errorf("the store file holds %q", found)
		}
		r = u.Press("resume")
		if r := lastSend(t, r); r.Text[0].Key != "check.ask_nik" {
			t.Errorf("resume: %v; want the NIK asked again", r.Text)
		}
	}
}

// TestResumeHoldsNoNames: another flow keeps the message that woke it, but
// never who sent it.
func TestResumeHoldsNoNames(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(321, "id")
	u.Name = "Sulastrinah"
	u.Onboard("id")
	u.Text("/lapor")
	u.Press("c:OTHER")
	u.Text("cibinong")
	u.Text("pakansari")
	h.Advance(45 * time.Minute)
	u.Text("Bantuan PKH tahap ketiga belum masuk ke rekening saya")
	h.DB.View(func(tx *store.Tx) error {
		s, _ := tx.Session(321)
		if !strings.Contains(string(s.Held), "Bantuan PKH") {
			t.Errorf("held %s; want the description kept for when the citizen continues", s.Held)
		}
		if strings.Contains(strings.ToLower(string(s.Held)), "sulastrinah") {
			t.Errorf("held %s; want no first name or username", s.Held)
		}
		return nil
	})
	r := u.Press("resume")
	if r := lastSend(t, r); r.Text[0].Key != "complaint.ask_media" {
		t.Errorf("resume: %v; want the held description used and the media step asked", r.Text)
	}
}

// TestCheckScrubsNIKEverywhere: a NIK typed with /cek before the consent or
// in a group, or typed at the name question, is deleted from the chat.
func TestCheckScrubsNIKEverywhere(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)

	newcomer := h.User(322, "id")
	if r := newcomer.sendText("/cek "+secNIK, 61); !deleted(r, 61) {
		t.Errorf("/cek NIK before the consent: %v; want the message deleted", r)
	}

	member := h.User(323, "id")
	in := member.input()
	in.ChatID, in.ChatType, in.MessageID = -100123, "supergroup", 62
	in.Text, in.Command, in.Args = "/cek "+secNIK, "/cek", secNIK
	if r := h.Do(in, "group text /cek NIK"); !deleted(r, 62) {
		t.Errorf("/cek NIK in a group: %v; want the message deleted", r)
	}

	u := h.User(324, "id")
	u.Onboard("id")
	u.Text("/cek")
	u.sendText(ckUnknown, 63)
	if r := u.sendText(secNIK, 64); !deleted(r, 64) {
		t.Errorf("a NIK at the name question: %v; want the message deleted", r)
	}
}

// TestRestrictedTicketsOutOfTheKecamatanChain: a PUNGLI ticket is neither
// listed nor counted in the daily digest of a supervisor whose coverage
// is the ticket's kecamatan, and that supervisor's forged "acknowledge"
// and "reassign" are refused without a trace in the ticket's history and
// without the ticket's number; the kabupaten supervisor sees it and may
// acknowledge it.
func TestRestrictedTicketsOutOfTheKecamatanChain(t *testing.T) {
	const kecSup = 703
	h := newHarness(t, quiet())
	addStaff(t, h, slaRegency, "Rudi", bansosbot.RoleSupervisor, bogor)
	kec := addStaff(t, h, kecSup, "Camat", bansosbot.RoleSupervisor, cibinong)
	tk := fileTicket(t, h, 500, "PUNGLI", cibinong, "Ada potongan Rp50.000 saat pencairan di balai desa.")
	advanceTo(t, h, "2026-11-27 07:00", wib)
	var kecDigest, regDigest *flows.Reply
	for _, r := range digest(t, h) {
		switch r.ChatID {
		case kecSup:
			kecDigest = &r
		case slaRegency:
			regDigest = &r
		}
	}
	if kecDigest == nil || regDigest == nil {
		t.Fatalf("digests to %v; want both supervisors", chats(h.Replies))
	}
	if strings.Contains(FormatReply(*kecDigest), string(tk.No)) || strings.Contains(FormatReply(*kecDigest), ".o:") {
		t.Errorf("kecamatan supervisor's digest lists the PUNGLI ticket:\n%s", FormatReply(*kecDigest))
	}
	if got := digestArg(t, *kecDigest, "digest.now_counts", "Open"); got != 0 {
		t.Errorf("kecamatan supervisor's digest counts %v open; want 0 (the PUNGLI ticket is not theirs to see)", got)
	}
	if !strings.Contains(FormatReply(*regDigest), string(tk.No)) {
		t.Errorf("kabupaten supervisor's digest misses the PUNGLI ticket:\n%s", FormatReply(*regDigest))
	}

	id := fmt.Sprint(tk.ID)
	for _, data := range []string{"es..a:" + id, "es..r:" + id, "es..o:" + id} {
		r := kec.PressData(data)
		for _, rep := range r {
			if strings.Contains(FormatReply(rep), string(tk.No)) {
				t.Errorf("%s by the kecamatan supervisor reveals the number: %s", data, FormatReply(rep))
			}
		}
	}
	for _, ev := range eventsOf(t, h, tk.ID) {
		if ev.Kind == bansosbot.EventAcked {
			t.Errorf("forged acknowledgement written to the history: %+v", ev)
		}
	}
	if s := sessionOf(t, h, kecSup); s.Flow != "" {
		t.Errorf("forged reassign started %s/%s", s.Flow, s.State)
	}
	for _, e := range auditOf(t, h, kecSup) {
		if e.Allowed {
			t.Errorf("audit %+v; want every press refused", e)
		}
	}
	h.User(slaRegency, "id").PressData("es..a:" + id)
	acked := 0
	for _, ev := range eventsOf(t, h, tk.ID) {
		if ev.Kind == bansosbot.EventAcked && ev.Actor == slaRegency {
			acked++
		}
	}
	if acked != 1 {
		t.Errorf("kabupaten supervisor's acknowledgement recorded %d times; want 1", acked)
	}
}

// try runs one input like harness.Do but returns the engine's error (a
// panic included) instead of failing the test.
func (h *harness) try(in flows.Input, shown string) (replies []flows.Reply, err error) {
	h.t.Helper()
	h.nextUpdate++
	in.UpdateID = h.nextUpdate
	if in.ChatID == 0 {
		in.ChatID = in.UserID
	}
	if in.ChatType == "" {
		in.ChatType = "private"
	}
	fmt.Fprintf(&h.log, "→ %d %s\n", in.UserID, shown)
	err = h.DB.Update(func(tx *store.Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		var o flows.Outcome
		var broken []string
		o, broken, err = h.handle(tx, in)
		replies = o.Replies
		for _, b := range broken {
			h.t.Errorf("%s: %s (refusals come before any write)", shown, b)
		}
		return err
	})
	for _, r := range replies {
		h.log.WriteString(FormatReply(r))
		if r.Action == flows.Send && len(r.Buttons) > 0 {
			h.keyboards[r.ChatID] = r.Buttons
		}
	}
	h.Replies = replies
	return replies, err
}

// tryPress presses a button with arbitrary data and returns the error.
func (u *user) tryPress(data string) ([]flows.Reply, error) {
	in := u.input()
	in.Callback = &flows.Callback{ID: fmt.Sprintf("cb%d", u.h.nextUpdate+1), MessageID: 1, Data: data}
	return u.h.try(in, "press "+data)
}

// answered reports whether the replies answer the pressed button.
func answered(replies []flows.Reply) bool {
	return slices.ContainsFunc(replies, func(r flows.Reply) bool { return r.Action == flows.AnswerCallback })
}

// TestForgedButtonsAreAnswered: step-less data for the flows whose buttons
// all belong to a prompt (consent, language, erasure, complaint) is
// answered as unknown, whatever the session, never an error.
func TestForgedButtonsAreAnswered(t *testing.T) {
	h := newHarness(t, quiet())
	fresh := h.User(330, "id")
	u := h.User(331, "id")
	u.Onboard("id")
	mid := h.User(332, "id")
	mid.Onboard("id")
	mid.Text("/lapor")
	for _, who := range []*user{fresh, u, mid} {
		for _, data := range []string{"pv..x", "pv..zz", "pv..yes", "lg..x", "lg..zz", "lg..id", "cs..x", "cs..zz", "cs..yes", "cs..no", "rp..b", "rp..x", "rp..c:PUNGLI", "rp..send"} {
			r, err := who.tryPress(data)
			if err != nil {
				t.Errorf("user %d presses %s: %v", who.ID, data, err)
				continue
			}
			if !answered(r) {
				t.Errorf("user %d presses %s: %v; want the button answered", who.ID, data, keysOf(r))
			}
		}
	}
	if p := profileOf(t, h, 331); p == nil {
		t.Errorf("a forged pv..yes erased the citizen")
	}
	if p := profileOf(t, h, 330); p != nil && p.Consented() {
		t.Errorf("a forged cs..yes recorded a consent")
	}
}

// TestButtonOfIdleFlowAfterResumeQuestion: a ticket's "add" left idle asks
// "continue or discard?"; pressing the ticket's own buttons then (open,
// list) works like before the pause, and a later text is not taken into
// the abandoned step.
func TestButtonOfIdleFlowAfterResumeQuestion(t *testing.T) {
	for _, tap := range []string{"o", "l", "a", "w"} {
		h := newHarness(t, quiet())
		u := h.User(333, "id")
		u.Onboard("id")
		tk := cmSeedTicket(t, h, u.ID, nil)
		id := ticketID(tk.ID)
		u.Text("/tiket")
		u.Press("o:" + id)
		u.Press("a:" + id)
		h.Advance(45 * time.Minute)
		u.Text("foto menyusul")
		if r := lastSend(t, h.Replies); r.Text[0].Key != "general.resume_question" {
			t.Fatalf("after the pause: %v; want the resume question", keysOf(h.Replies))
		}
		data := "tk..o:" + id
		if tap == "l" {
			data = "tk..l:0"
		} else if tap != "o" {
			data = "tk.." + tap + ":" + id
		}
		r, err := u.tryPress(data)
		if err != nil {
			t.Errorf("%s after the resume question: %v", data, err)
			continue
		}
		if !answered(r) {
			t.Errorf("%s after the resume question: %v; want the button answered", data, keysOf(r))
		}
		if tap == "o" || tap == "l" {
			n := len(eventsOf(t, h, tk.ID))
			u.Text("teks yang lain, bukan untuk tiket")
			if got := len(eventsOf(t, h, tk.ID)); got != n {
				t.Errorf("%s ended the add, yet a later text was added to the ticket", data)
			}
		}
	}
}

func profileOf(t *testing.T, h *harness, id int64) *bansosbot.Profile {
	t.Helper()
	var p *bansosbot.Profile
	if err := h.DB.View(func(tx *store.Tx) (err error) { p, err = tx.Profile(id); return err }); err != nil {
		t.Fatal(err)
	}
	return p
}

// citizenTraces lists where the store still names the user: events with
// them as actor, audit entries by them, dead letters of their chat.
func citizenTraces(t *testing.T, h *harness, user int64, tickets ...uint64) []string {
	t.Helper()
	var out []string
	h.DB.View(func(tx *store.Tx) error {
		for _, id := range tickets {
			evs, _ := tx.Events(id)
			for _, ev := range evs {
				if ev.Actor == user {
					out = append(out, fmt.Sprintf("ticket %d event %s by %d", id, ev.Kind, ev.Actor))
				}
			}
			audit, _ := tx.AuditByTicket(id)
			for _, e := range audit {
				if e.Actor == user {
					out = append(out, fmt.Sprintf("ticket %d audit %s by %d", id, e.Action, e.Actor))
				}
			}
		}
		audit, _ := tx.AuditByStaff(user)
		for _, e := range audit {
			out = append(out, fmt.Sprintf("audit %s (ticket %d) by %d", e.Action, e.TicketID, e.Actor))
		}
		return tx.AuditLog(0, func(e bansosbot.AuditEntry) bool {
			if e.Actor == user {
				out = append(out, fmt.Sprintf("audit log %s by %d", e.Action, e.Actor))
			}
			return true
		})
	})
	return out
}

// citizenActivity files a ticket for the user and makes them act on it:
// created, a message and a photo added, a forged staff button (audited),
// and a rating after the ticket is resolved.
func citizenActivity(t *testing.T, h *harness, u *user) *bansosbot.Ticket {
	t.Helper()
	addStaff(t, h, 501, "Wati", bansosbot.RoleWorker, cibinong)
	tk := fileTicket(t, h, u.ID, "PUNGLI", cibinong, "Ada potongan Rp50.000 saat pencairan di balai desa.")
	id := ticketID(tk.ID)
	u.Tap("tk", "a:"+id)
	u.Text("Petugasnya bernama Pak X, kejadian hari Senin.")
	u.Tap("tk", "a:"+id)
	u.Photo("")
	u.Tap("wk", "c:"+id) // a forged claim: refused and audited
	u.Tap("es", "a:"+id) // a forged acknowledgement
	cmStaffAct(t, h, tk.ID, func(tx *store.Tx, tk *bansosbot.Ticket) error {
		sup := flows.Actor{ID: 601, Role: string(bansosbot.RoleSupervisor)}
		if err := flows.Transition(tx, tk, flows.EvAssign, sup, flows.Change{}, h.Now()); err != nil {
			return err
		}
		return flows.Transition(tx, tk, flows.EvResolve, sup, flows.Change{Text: "sudah ditindak"}, h.Now())
	})
	u.Tap("ct", "s:"+id+":5")
	u.Text("/batal")
	if got := citizenTraces(t, h, u.ID, tk.ID); len(got) < 5 {
		t.Fatalf("the scripted activity left only %q; want the citizen named as actor (created, message, photo, audit, rating)", got)
	}
	return tk
}

// TestErasureForgetsTheCitizenAsActor: after /hapusdata no event of the
// citizen's tickets and no audit entry names their Telegram id (the
// "anonymous" ticket, PUNGLI included, cannot be linked back), and their
// dead letters (raw updates with what they typed) are gone, those of
// others stay.
func TestErasureForgetsTheCitizenAsActor(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(340, "id")
	u.Onboard("id")
	tk := citizenActivity(t, h, u)
	other := h.User(341, "id")
	if err := h.DB.Update(func(tx *store.Tx) error {
		for i, chat := range []int64{340, -100777, 341} {
			raw := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"from":{"id":%d,"first_name":"Wawan"},"chat":{"id":%d},"text":"NIK saya %s"}}`,
				900+i, map[int64]int64{-100777: 340}[chat]+map[bool]int64{true: chat}[chat > 0], chat, secNIK)
			if err := tx.ParkUpdate(store.InboxItem{UpdateID: int64(900 + i), ChatID: chat, Update: []byte(raw)}, "panic"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	u.Text("/hapusdata")
	u.Press("yes")
	if got := citizenTraces(t, h, u.ID, tk.ID); len(got) > 0 {
		t.Errorf("after erasure the store still names the citizen: %q", got)
	}
	dead, err := h.DB.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	var chatsLeft []int64
	for _, d := range dead {
		chatsLeft = append(chatsLeft, d.ChatID)
	}
	if !slices.Equal(chatsLeft, []int64{other.ID}) {
		t.Errorf("dead letters left for chats %v; want only the other user's (%d)", chatsLeft, other.ID)
	}
}

// TestRetentionForgetsTheCitizenAsActor: the retention purge of a closed
// ticket leaves no event or audit entry naming its citizen.
func TestRetentionForgetsTheCitizenAsActor(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(342, "id")
	u.Onboard("id")
	tk := citizenActivity(t, h, u)
	cmStaffAct(t, h, tk.ID, func(tx *store.Tx, tk *bansosbot.Ticket) error {
		if tk.Status != bansosbot.StatusClosed {
			t.Fatalf("ticket %s after the rating; want closed", tk.Status)
		}
		_, err := flows.PurgeTicket(tx, tk, "retention", h.Now())
		return err
	})
	if got := citizenTraces(t, h, u.ID, tk.ID); len(got) > 0 {
		t.Errorf("after the retention purge the store still names the citizen: %q", got)
	}
}
