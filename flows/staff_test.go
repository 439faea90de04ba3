package flows_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// Regions used by the staff tests (Kabupaten Bogor, Jawa Barat).
const (
	cibinong    bansosbot.RegionCode = "32.01.01"
	gunungputri bansosbot.RegionCode = "32.01.02"
	bogor       bansosbot.RegionCode = "32.01"
	jabar       bansosbot.RegionCode = "32"
	sukabumiKec bansosbot.RegionCode = "32.02.01" // Palabuhanratu, another kabupaten
)

// onboarded runs a citizen's onboarding outside the transcript: other
// features' menus are not this transcript's business.
func onboarded(h *harness, id int64) *user {
	u := h.User(id, "id")
	u.Onboard("id")
	h.log.Reset()
	return u
}

// addStaff stores an active staff member directly.
func addStaff(t *testing.T, h *harness, id int64, name string, role bansosbot.Role, regions ...bansosbot.RegionCode) *user {
	t.Helper()
	err := h.DB.Update(func(tx *store.Tx) error {
		return tx.PutStaff(&bansosbot.Staff{UserID: id, Name: name, Role: role, Regions: regions, Active: true, CreatedAt: h.now})
	})
	if err != nil {
		t.Fatal(err)
	}
	u := h.User(id, "id")
	u.Name = name
	return u
}

// fileTicket stores a ticket the way the complaint flow does (numbered,
// scheduled, a "created" event) and routes it in the same transaction;
// the routing notices go into the transcript like replies.
func fileTicket(t *testing.T, h *harness, citizen int64, category string, region bansosbot.RegionCode, desc string, opts ...func(*bansosbot.Ticket)) *bansosbot.Ticket {
	t.Helper()
	cat, ok := h.Engine.Config().Categories.Get(category)
	if !ok {
		t.Fatalf("unknown category %s", category)
	}
	var tk *bansosbot.Ticket
	var replies []flows.Reply
	err := h.DB.Update(func(tx *store.Tx) error {
		seq, err := tx.NextTicketSeq()
		if err != nil {
			return err
		}
		tk = &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, h.Engine.Config().TicketKey), Category: category,
			Region: region, Description: desc, CitizenID: citizen, CitizenLang: "id", HideReporter: cat.HideReporter,
			Status: bansosbot.StatusNew, CreatedAt: h.now, UpdatedAt: h.now}
		for _, o := range opts {
			o(tk)
		}
		h.Engine.Schedule(tk, h.now)
		if _, err := tx.AppendEvent(tk, bansosbot.Event{At: h.now, Actor: citizen, Role: flows.RoleCitizen,
			Kind: bansosbot.EventCreated, To: bansosbot.StatusNew, Public: true}); err != nil {
			return err
		}
		if err := tx.PutTicket(tk); err != nil {
			return err
		}
		o, err := h.Engine.RouteTicket(tx, tk, h.now)
		replies = o.Replies
		return err
	})
	if err != nil {
		t.Fatalf("file ticket: %v", err)
	}
	h.Note("ticket %d %s filed by %d: %s in %s", tk.ID, tk.No, citizen, category, region)
	h.record(replies)
	return tk
}

// record writes replies produced outside an input (routing, cron) into
// the transcript and remembers their keyboards.
func (h *harness) record(replies []flows.Reply) {
	for _, r := range replies {
		h.log.WriteString(FormatReply(r))
		if r.Action == flows.Send && len(r.Buttons) > 0 {
			h.keyboards[r.ChatID] = r.Buttons
		}
	}
	h.Replies = replies
}

// Tap presses a button not tied to a prompt (a card, a notice) from any
// earlier message: such buttons stay valid, so the last keyboard does not
// matter.
func (u *user) Tap(flow, payload string) []flows.Reply {
	return u.PressData(flow + ".." + payload)
}

func withPhone(p string) func(*bansosbot.Ticket) { return func(t *bansosbot.Ticket) { t.Phone = p } }

func withMedia(t *bansosbot.Ticket) {
	t.Attachments = []bansosbot.Attachment{{FileID: "photo-evidence-1", FileUniqueID: "ev1"}}
	t.Location = &bansosbot.Location{Lat: -6.4817, Lon: 106.8540}
}

func ticketOf(t *testing.T, h *harness, id uint64) (*bansosbot.Ticket, []bansosbot.Event) {
	t.Helper()
	var tk *bansosbot.Ticket
	var evs []bansosbot.Event
	err := h.DB.View(func(tx *store.Tx) error {
		var err error
		if tk, err = tx.Ticket(id); err != nil {
			return err
		}
		evs, err = tx.Events(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk, evs
}

func auditOf(t *testing.T, h *harness, staff int64) []bansosbot.AuditEntry {
	t.Helper()
	var out []bansosbot.AuditEntry
	if err := h.DB.View(func(tx *store.Tx) (err error) { out, err = tx.AuditByStaff(staff); return err }); err != nil {
		t.Fatal(err)
	}
	return out
}

func auditTicket(t *testing.T, h *harness, id uint64) []bansosbot.AuditEntry {
	t.Helper()
	var out []bansosbot.AuditEntry
	if err := h.DB.View(func(tx *store.Tx) (err error) { out, err = tx.AuditByTicket(id); return err }); err != nil {
		t.Fatal(err)
	}
	return out
}

// chats lists the chats the last input's replies went to.
func chats(rs []flows.Reply) []int64 {
	var out []int64
	for _, r := range rs {
		if !slices.Contains(out, r.ChatID) {
			out = append(out, r.ChatID)
		}
	}
	return out
}

// sentTo finds the first Send to chat with the key; fails when none.
func sentTo(t *testing.T, rs []flows.Reply, chat int64, key string) flows.Reply {
	t.Helper()
	for _, r := range rs {
		if r.ChatID == chat && r.Action == flows.Send && len(r.Text) > 0 && r.Text[0].Key == key {
			return r
		}
	}
	t.Fatalf("no %s sent to %d in %v", key, chat, keysOf(rs))
	return flows.Reply{}
}

func keysOf(rs []flows.Reply) []string {
	var out []string
	for _, r := range rs {
		k := ""
		if len(r.Text) > 0 {
			k = r.Text[0].Key
		}
		out = append(out, fmt.Sprintf("%d:%d:%s", r.ChatID, r.Action, k))
	}
	return out
}

func TestWorkerGolden(t *testing.T) {
	h := newHarness(t, flows.Config{})
	cit := onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, 602, "Budi", bansosbot.RoleWorker, bogor) // less specific: not notified
	addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)

	tk := fileTicket(t, h, 500, "PAYMENT_NOT_RECEIVED", cibinong, "Bantuan PKH tahap 3 belum saya terima sampai sekarang.", withPhone("081234567890"), withMedia)
	if got := chats(h.Replies); !slices.Equal(got, []int64{601}) {
		t.Fatalf("routed to %v; want only the kecamatan worker 601", got)
	}
	id := fmt.Sprint(tk.ID)

	sari.Press("c:" + id) // claim from the notice: the citizen hears of it, the card follows
	sentTo(t, h.Replies, 500, "ct.claimed")
	sari.Press("r:" + id + ":k") // reply, from the card
	sari.Text("Mohon maaf, kami cek dulu ke bank penyalur.")
	sari.Press("edit")
	sari.Text("Kami sedang memeriksa data penyaluran tahap 3 di bank penyalur.")
	sari.Press("ok")
	sentTo(t, h.Replies, 500, "ct.staff_reply")

	cit.Press("a:" + id) // the citizen answers through the tickets flow
	cit.Text("Terima kasih, saya tunggu kabarnya.")
	sentTo(t, h.Replies, 601, "mytickets.staff_info_added")

	sari.Text("/antrian")
	sari.Press("q:m:0") // filter: mine
	sari.Press("o:" + id)
	sari.Press("a:" + id + ":k") // ask for information: waiting for the citizen
	sari.Text("Mohon kirim foto buku tabungan halaman terakhir.")
	sari.Press("ok")
	if tk2, _ := ticketOf(t, h, tk.ID); tk2.Status != bansosbot.StatusWaitingCitizen || tk2.PausedSince.IsZero() {
		t.Fatalf("after asking: status %s, paused since %v; want waiting_citizen with the clock paused", tk2.Status, tk2.PausedSince)
	}
	sari.Text("/antrian")
	sari.Press("q:w:0") // filter: waiting on citizen

	h.Advance(2 * time.Hour)
	cit.Press("a:" + id)
	cit.Text("Sudah saya foto, saldo terakhir Rp0.")
	sari.Tap("wk", "n:"+id) // internal note
	sari.Text("Cek ke BNI cabang Cibinong, kemungkinan rekening dibekukan.")
	sari.Tap("wk", "s:"+id) // resolve
	sari.Text("Rekening sudah diaktifkan kembali oleh BNI; dana tahap 3 cair besok.")
	sari.Press("ok")
	sentTo(t, h.Replies, 500, "ct.resolved")

	cit.Press("s:" + id + ":4")
	cit.Text("Pelayanannya cepat, terima kasih.")
	h.Golden("staff_worker")

	got, evs := ticketOf(t, h, tk.ID)
	if got.Status != bansosbot.StatusClosed || got.Rating != 4 || got.RatingComment != "Pelayanannya cepat, terima kasih." || got.Assignee != 601 {
		t.Errorf("ticket = status %s rating %d comment %q assignee %d; want closed, 4, the comment, 601", got.Status, got.Rating, got.RatingComment, got.Assignee)
	}
	if got.FirstResponseAt.IsZero() || got.PausedFor != 0 && got.PausedFor < 0 {
		t.Errorf("first response %v; want set", got.FirstResponseAt)
	}
	var note, replyEv bool
	for _, ev := range evs {
		switch {
		case ev.Kind == bansosbot.EventNote:
			note = true
			if ev.Public {
				t.Error("an internal note is public")
			}
		case ev.Kind == bansosbot.EventMessage && ev.Role == string(bansosbot.RoleWorker):
			replyEv = ev.Public && ev.Text == "Kami sedang memeriksa data penyaluran tahap 3 di bank penyalur."
		}
	}
	if !note || !replyEv {
		t.Errorf("history has note=%v, edited public reply=%v; want both", note, replyEv)
	}
	var actions []string
	for _, a := range auditOf(t, h, 601) {
		if !a.Allowed {
			t.Errorf("refused audit entry for the worker's own actions: %+v", a)
		}
		actions = append(actions, a.Action)
	}
	for _, want := range []string{"claim", "view", "reply", "queue", "ask", "note", "resolve"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit of 601 = %v; want a %s entry", actions, want)
		}
	}
}

func TestSupervisorGolden(t *testing.T) {
	h := newHarness(t, flows.Config{})
	onboarded(h, 500)
	addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	rina := addStaff(t, h, 603, "Rina", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, 604, "Joko", bansosbot.RoleWorker, sukabumiKec)
	dewi := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	addStaff(t, h, 702, "Hadi", bansosbot.RoleSupervisor, jabar)

	pungli := fileTicket(t, h, 500, "PUNGLI", cibinong, "Ada potongan Rp50.000 saat pencairan di balai desa.", withPhone("081234567890"))
	if got := chats(h.Replies); !slices.Equal(got, []int64{701}) {
		t.Fatalf("PUNGLI routed to %v; want the kabupaten supervisor 701 only", got)
	}
	data := fileTicket(t, h, 500, "DATA_ERROR", cibinong, "Nama saya di data salah ketik, mohon diperbaiki.")
	if got := chats(h.Replies); !slices.Equal(got, []int64{601, 603}) {
		t.Fatalf("tie routed to %v; want both kecamatan workers", got)
	}
	sari := h.User(601, "id")
	sari.Press(fmt.Sprintf("c:%d", data.ID))
	rina.Press(fmt.Sprintf("c:%d", data.ID)) // too late: refused politely

	dewi.Text("/antrian")
	dewi.Press(fmt.Sprintf("o:%d", pungli.ID))
	dewi.Text("/ringkasan")
	dewi.Tap("wk", fmt.Sprintf("o:%d", data.ID))
	dewi.Press(fmt.Sprintf("t:%d:k", data.ID)) // reassign Sari's ticket
	dewi.Press("w:603")
	if got, _ := ticketOf(t, h, data.ID); got.Assignee != 603 {
		t.Fatalf("after reassign: assignee %d; want 603", got.Assignee)
	}
	dewi.Tap("wk", fmt.Sprintf("f:%d", pungli.ID)) // refer the PUNGLI report to the inspectorate
	dewi.Text("Inspektorat Kabupaten Bogor, Jl. Tegar Beriman, telp. (021) 8765432.")
	dewi.Press("ok")
	sentTo(t, h.Replies, 500, "ct.referred")

	dewi.Text("/undang") // supervisors invite workers of their own area
	dewi.Press("r:" + string(bogor))
	code := inviteCodeIn(t, h.Replies)
	nina := h.User(605, "id")
	nina.Name = "Nina"
	nina.Text("/daftar " + strings.ToLower(code))
	h.Golden("staff_supervisor")

	if got, _ := ticketOf(t, h, pungli.ID); got.Status != bansosbot.StatusReferred {
		t.Errorf("PUNGLI ticket status %s; want referred", got.Status)
	}
	var s *bansosbot.Staff
	h.DB.View(func(tx *store.Tx) (err error) { s, err = tx.Staff(605); return err })
	if s == nil || !s.Active || s.Role != bansosbot.RoleWorker || !slices.Equal(s.Regions, []bansosbot.RegionCode{bogor}) || s.CreatedBy != 701 {
		t.Errorf("registered staff = %+v; want an active worker of 32.01 invited by 701", s)
	}
	var reassign bool
	for _, a := range auditTicket(t, h, data.ID) {
		reassign = reassign || a.Action == bansosbot.AuditReassign && a.Actor == 701 && a.Target == 603 && a.Allowed
	}
	if !reassign {
		t.Errorf("no reassign entry in the ticket's audit: %+v", auditTicket(t, h, data.ID))
	}
}

var codeRE = regexp.MustCompile(`^[2-9A-Z]{4}-[2-9A-Z]{4}$`)

// inviteCodeIn finds the invitation code in a staff.invite_created reply.
func inviteCodeIn(t *testing.T, rs []flows.Reply) string {
	t.Helper()
	for _, r := range rs {
		for _, m := range r.Text {
			if m.Key == "staff.invite_created" {
				code, _ := m.Args["Code"].(string)
				if !codeRE.MatchString(code) {
					t.Fatalf("invite code %q is not XXXX-XXXX from the ticket alphabet", code)
				}
				return code
			}
		}
	}
	t.Fatalf("no invitation code in %v", keysOf(rs))
	return ""
}

func TestAdminManagesStaff(t *testing.T) {
	h := newHarness(t, flows.Config{Admins: []int64{900}})
	admin := h.User(900, "id")
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)

	admin.Text("/petugas")
	admin.Press("d:601")
	admin.Press("D:601")
	sari.Text("/antrian") // deactivated: staff commands are refused
	admin.Text("/undang")
	admin.Press(string(bansosbot.RoleSupervisor))
	admin.Press("r:") // national
	inviteCodeIn(t, h.Replies)
	sari.Text("/petugas") // not staff any more
	h.User(701, "id").Text("/petugas")
	admin.Text("/daftar 2345-6789") // a configured admin needs no code
	worker := addStaff(t, h, 602, "Budi", bansosbot.RoleWorker, bogor)
	worker.Tap("mn", "summary") // a forged summary menu button: workers are not offered it
	if r := h.Replies[len(h.Replies)-1]; r.Action != flows.AnswerCallback || r.Text[0].Key != "general.button_unknown" {
		t.Errorf("worker pressing the summary menu button: %v; want it refused as unknown", keysOf(h.Replies))
	}
	h.Golden("staff_admin")

	var s *bansosbot.Staff
	h.DB.View(func(tx *store.Tx) (err error) { s, err = tx.Staff(601); return err })
	if s == nil || s.Active {
		t.Errorf("after deactivation: %+v; want the record kept, inactive", s)
	}
}

func TestInvitationCodes(t *testing.T) {
	h := newHarness(t, flows.Config{})
	var code string
	err := h.DB.Update(func(tx *store.Tx) (err error) {
		code, _, err = h.Engine.CreateInvite(tx, nil, bansosbot.RoleWorker, []bansosbot.RegionCode{cibinong}, time.Hour, h.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != bansosbot.InviteCodeLen || strings.Trim(code, bansosbot.TicketAlphabet) != "" {
		t.Fatalf("code %q: want %d characters of the ticket alphabet", code, bansosbot.InviteCodeLen)
	}
	// Only the hash is stored.
	h.DB.View(func(tx *store.Tx) error {
		return tx.Invites(func(inv *bansosbot.Invite) bool {
			if strings.Contains(inv.CodeHash, code) || !inv.Keyed() {
				t.Errorf("stored invite %+v; want it keyed by the hash of the code only", inv)
			}
			return true
		})
	})
	// Supervisors invite workers of their own area only.
	sup := &bansosbot.Staff{UserID: 701, Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{bogor}, Active: true}
	for _, tt := range []struct {
		role    bansosbot.Role
		regions []bansosbot.RegionCode
		key     string
	}{
		{bansosbot.RoleWorker, []bansosbot.RegionCode{cibinong}, ""},
		{bansosbot.RoleWorker, []bansosbot.RegionCode{sukabumiKec}, "staff.invite_outside"},
		{bansosbot.RoleSupervisor, []bansosbot.RegionCode{bogor}, "staff.invite_not_allowed"},
		{bansosbot.RoleAdmin, nil, "staff.invite_not_allowed"},
		{bansosbot.RoleWorker, []bansosbot.RegionCode{"99.99"}, "staff.invite_bad_region"},
		{bansosbot.RoleWorker, []bansosbot.RegionCode{""}, "staff.invite_bad_region"},
		{"boss", []bansosbot.RegionCode{bogor}, "staff.invite_bad_role"},
	} {
		err := h.DB.Update(func(tx *store.Tx) error {
			_, _, err := h.Engine.CreateInvite(tx, sup, tt.role, tt.regions, time.Hour, h.now)
			return err
		})
		if got := bansosbot.ErrorKey(err); got != tt.key {
			t.Errorf("supervisor invites %s %v: err %v; want key %q", tt.role, tt.regions, err, tt.key)
		}
	}
	// Codes differ from one invitation to the next.
	var second string
	h.DB.Update(func(tx *store.Tx) (err error) {
		second, _, err = h.Engine.CreateInvite(tx, sup, bansosbot.RoleWorker, []bansosbot.RegionCode{cibinong}, time.Hour, h.now)
		return err
	})
	if second == code {
		t.Errorf("two invitations got the same code %s", code)
	}
}

func TestCitizenNotSolvedAndAutoClose(t *testing.T) {
	h := newHarness(t, flows.Config{AutoCloseAfter: 3 * 24 * time.Hour})
	cit := onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	tk := fileTicket(t, h, 500, "KKS_CARD", cibinong, "Kartu KKS saya tertelan mesin ATM kemarin sore.")
	id := fmt.Sprint(tk.ID)
	sari.Tap("wk", "s:"+id) // resolve straight from new: claims it first
	sari.Text("Silakan ambil kartu pengganti di kantor cabang BNI.")
	sari.Press("ok")
	cit.Press("u:" + id) // not solved: reopened, Sari hears of it
	sentTo(t, h.Replies, 601, "staff.reopened")
	cit.Text("Kantor cabang bilang harus ada surat dari dinas.")
	sentTo(t, h.Replies, 601, "staff.citizen_explained")
	sari.Tap("wk", "s:"+id)
	sari.Text("Surat pengantar sudah kami kirim ke BNI cabang Cibinong.")
	sari.Press("ok")

	// Nothing happens before the window ends; then it closes without a rating request.
	h.Advance(3*24*time.Hour - time.Minute)
	autoClose(t, h)
	if got, _ := ticketOf(t, h, tk.ID); got.Status != bansosbot.StatusResolved {
		t.Fatalf("closed early: %s", got.Status)
	}
	h.Advance(time.Minute)
	autoClose(t, h)
	for _, r := range h.Replies {
		if len(r.Buttons) > 0 {
			t.Errorf("auto-close sent buttons %v; want no rating request", r.Buttons)
		}
	}
	cit.Tap("ct", "s:"+id+":5") // too late now
	h.Golden("staff_citizen")

	got, evs := ticketOf(t, h, tk.ID)
	if got.Status != bansosbot.StatusClosed || got.Rating != 0 {
		t.Errorf("after auto-close: %s rating %d; want closed, unrated", got.Status, got.Rating)
	}
	last := evs[len(evs)-1]
	if last.To != bansosbot.StatusClosed || last.Role != flows.RoleSystem {
		t.Errorf("last event %+v; want the system closing", last)
	}
}

func autoClose(t *testing.T, h *harness) {
	t.Helper()
	h.Note("cron: auto-close")
	var replies []flows.Reply
	if err := h.DB.Update(func(tx *store.Tx) error { o, err := h.Engine.AutoClose(tx, h.now); replies = o.Replies; return err }); err != nil {
		t.Fatal(err)
	}
	h.record(replies)
}

func TestTransferToRegion(t *testing.T) {
	h := newHarness(t, flows.Config{})
	onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, 606, "Tono", bansosbot.RoleWorker, gunungputri)
	tk := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan tentang jadwal pencairan di desa kami.")
	sari.Press(fmt.Sprintf("c:%d", tk.ID))
	sari.Press(fmt.Sprintf("t:%d:k", tk.ID))
	sari.Press("region")
	sari.Text("32.99.99") // unknown
	sari.Text("3201.02")  // not a code
	sari.Text(string(gunungputri))
	got, _ := ticketOf(t, h, tk.ID)
	if got.Region != gunungputri || got.Assignee != 0 {
		t.Fatalf("after transfer: region %s assignee %d; want %s, unassigned", got.Region, got.Assignee, gunungputri)
	}
	sentTo(t, h.Replies, 606, "staff.new_ticket")
	sari.Tap("wk", fmt.Sprintf("o:%d", tk.ID)) // no longer hers
	if h.Replies[0].Action != flows.AnswerCallback || h.Replies[0].Text[0].Key != "staff.refused_ticket" {
		t.Errorf("old worker opening the moved ticket: %v; want refused", keysOf(h.Replies))
	}
}

// TestBrowsingAbandonsTypedAction: opening a card or the queue while an
// action waits for its text drops that action, so a later message is not
// saved as, say, a note on the other ticket.
func TestBrowsingAbandonsTypedAction(t *testing.T) {
	h := newHarness(t, flows.Config{})
	onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	a := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan pertama tentang jadwal pencairan.")
	b := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan kedua tentang jadwal pencairan.")
	sari.Tap("wk", fmt.Sprintf("n:%d", a.ID))
	sari.Tap("wk", fmt.Sprintf("o:%d", b.ID))
	sari.Text("Ini bukan catatan.")
	for _, id := range []uint64{a.ID, b.ID} {
		if _, evs := ticketOf(t, h, id); len(evs) != 1 {
			t.Errorf("ticket %d has %d events; want only its creation", id, len(evs))
		}
	}
}
