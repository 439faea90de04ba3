package flows_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// snapshot is everything an action could change: tickets with their
// history, staff records and invitations.
func snapshot(t *testing.T, h *harness) string {
	t.Helper()
	var b strings.Builder
	err := h.DB.View(func(tx *store.Tx) error {
		enc := json.NewEncoder(&b)
		for id := uint64(1); ; id++ {
			tk, err := tx.Ticket(id)
			if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
				break
			}
			if err != nil {
				return err
			}
			evs, err := tx.Events(id)
			if err != nil {
				return err
			}
			enc.Encode(tk)
			enc.Encode(evs)
		}
		if err := tx.AllStaff(func(s *bansosbot.Staff) bool { enc.Encode(s); return true }); err != nil {
			return err
		}
		return tx.Invites(func(inv *bansosbot.Invite) bool { enc.Encode(inv); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestAuthorization: every attempt below is refused politely, changes no
// ticket, history, staff record or invitation, answers only the actor,
// and is recorded in the audit log as refused.
func TestAuthorization(t *testing.T) {
	h := newHarness(t, flows.Config{})
	cit := h.User(500, "id")
	cit.Onboard("id")
	other := h.User(501, "id") // another citizen
	other.Onboard("id")
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	budi := addStaff(t, h, 602, "Budi", bansosbot.RoleWorker, bogor)
	rina := addStaff(t, h, 603, "Rina", bansosbot.RoleWorker, cibinong)
	joko := addStaff(t, h, 604, "Joko", bansosbot.RoleWorker, sukabumiKec)
	dewi := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	kec := addStaff(t, h, 702, "Kecamatan", bansosbot.RoleSupervisor, cibinong)
	h.User(608, "id").Onboard("id") // used the bot as a citizen first: the consent gate does not stop them
	gone := addStaff(t, h, 608, "Gone", bansosbot.RoleWorker, cibinong)

	tk := fileTicket(t, h, 500, "DATA_ERROR", cibinong, "Nama saya di data salah ketik, mohon diperbaiki.", withPhone("081234567890"))
	pungli := fileTicket(t, h, 500, "PUNGLI", cibinong, "Ada potongan Rp50.000 saat pencairan di balai desa.")
	sari.Press(fmt.Sprintf("c:%d", tk.ID))
	// Sari resolves: the citizen's rating buttons exist now.
	sari.Tap("wk", fmt.Sprintf("s:%d", tk.ID))
	sari.Text("Data sudah diperbaiki di DTSEN.")
	sari.Press("ok")
	if err := h.DB.Update(func(tx *store.Tx) error {
		s, _ := tx.Staff(608)
		s.Active = false // removed
		return tx.PutStaff(s)
	}); err != nil {
		t.Fatal(err)
	}
	// Invitations: one expired, one already used.
	var expired, used string
	h.DB.Update(func(tx *store.Tx) (err error) {
		if expired, _, err = h.Engine.CreateInvite(tx, nil, bansosbot.RoleWorker, []bansosbot.RegionCode{cibinong}, -time.Minute, h.now); err != nil {
			return err
		}
		used, _, err = h.Engine.CreateInvite(tx, nil, bansosbot.RoleSupervisor, []bansosbot.RegionCode{bogor}, time.Hour, h.now)
		return err
	})
	h.User(610, "id").Text("/daftar " + used)

	// Dewi opens a transfer: a forged target must be refused.
	dewi.Tap("wk", fmt.Sprintf("t:%d", pungli.ID))
	first := h.Replies[len(h.Replies)-1].Buttons[0][0].Data // "wk.<step>.w:<id>"
	transferStep := first[:strings.LastIndex(first, ".")+1]

	one, two := fmt.Sprint(tk.ID), fmt.Sprint(pungli.ID)
	h.log.Reset() // the transcript holds the attempts only
	tests := []struct {
		name   string
		actor  *user
		do     func(u *user) []flows.Reply
		action string
		reason string
	}{
		{"citizen claims", cit, tap("wk", "c:"+two), "claim", "not_staff"},
		{"citizen opens a card", cit, tap("wk", "o:"+one), "view", "not_staff"},
		{"citizen resolves", cit, tap("wk", "s:"+two), "resolve", "not_staff"},
		{"citizen lists the queue", cit, tap("wk", "q:a:0"), "queue", "not_staff"},
		{"citizen deactivates staff", cit, tap("sf", "D:601"), "staff_deactivate", "role"},
		{"worker of another region opens", joko, tap("wk", "o:"+two), "view", "region"},
		{"worker of another region claims", joko, tap("wk", "c:"+one), "claim", "region"},
		{"kecamatan worker opens PUNGLI", sari, tap("wk", "o:"+two), "view", "hidden"},
		{"kecamatan worker claims PUNGLI", rina, tap("wk", "c:"+two), "claim", "hidden"},
		{"kabupaten worker notes PUNGLI", budi, tap("wk", "n:"+two), "note", "hidden"},
		{"kecamatan supervisor opens PUNGLI", kec, tap("wk", "o:"+two), "view", "hidden"},
		{"worker replies on a colleague's ticket", rina, tap("wk", "r:"+one), "reply", "status"},
		{"worker transfers a colleague's ticket", rina, tap("wk", "t:"+two), "transfer", "hidden"},
		{"forged id: unknown ticket", sari, tap("wk", "o:999"), "view", "not_found"},
		{"forged id: not a number", sari, tap("wk", "c:1;DROP"), "claim", "bad_id"},
		{"forged id: negative", sari, tap("wk", "s:-1"), "resolve", "bad_id"},
		{"forged verb", sari, tap("wk", "zz:1"), "unknown", "bad_verb"},
		{"forged transfer target", dewi, func(u *user) []flows.Reply { return u.PressData(transferStep + "w:604") }, "transfer", "bad_target"},
		{"citizen rates someone else's ticket", other, tap("ct", "s:"+one+":1"), "citizen_rate", "not_owner"},
		{"citizen reopens someone else's ticket", other, tap("ct", "u:"+one), "citizen_reopen", "not_owner"},
		{"worker deactivates staff", sari, tap("sf", "d:602"), "staff_deactivate", "role"},
		{"worker asks for a summary", sari, text("/ringkasan"), "summary", "role"},
		{"worker invites", sari, text("/undang"), "invite", "role"},
		{"removed staff opens a card", gone, tap("wk", "o:"+one), "view", "not_staff"},
		{"removed staff claims", gone, tap("wk", "c:"+two), "claim", "not_staff"},
		{"expired invitation", h.User(611, "id"), text("/daftar " + expired), "register", "expired"},
		{"reused invitation", h.User(612, "id"), text("/daftar " + strings.ToLower(used)), "register", "used"},
		{"unknown invitation", h.User(613, "id"), text("/daftar 2345-6789"), "register", "unknown"},
		{"malformed invitation", h.User(614, "id"), text("/daftar 0000-OOOO"), "register", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, h)
			n := len(auditOf(t, h, tt.actor.ID))
			h.Note("attempt: %s", tt.name)
			replies := tt.do(tt.actor)
			if after := snapshot(t, h); after != before {
				t.Errorf("the attempt changed the store:\nbefore %s\nafter  %s", before, after)
			}
			entries := auditOf(t, h, tt.actor.ID)
			if len(entries) != n+1 {
				t.Fatalf("audit entries of %d: %d → %d; want one more", tt.actor.ID, n, len(entries))
			}
			if e := entries[n]; e.Allowed || e.Action != tt.action || e.Reason != tt.reason {
				t.Errorf("audit = %+v; want refused %s (%s)", e, tt.action, tt.reason)
			}
			if len(replies) == 0 {
				t.Fatal("no answer at all; want a polite refusal")
			}
			for _, r := range replies {
				if r.ChatID != tt.actor.ID {
					t.Errorf("a reply went to chat %d: %s", r.ChatID, FormatReply(r))
				}
				if r.Action == flows.Send && len(r.Buttons) > 0 && strings.HasPrefix(r.Buttons[0][0].Data, "wk") {
					t.Errorf("the refusal carries staff buttons: %s", FormatReply(r))
				}
			}
		})
	}
	h.Golden("staff_authz")
}

func tap(flow, payload string) func(u *user) []flows.Reply {
	return func(u *user) []flows.Reply { return u.Tap(flow, payload) }
}

func text(s string) func(u *user) []flows.Reply {
	return func(u *user) []flows.Reply { return u.Text(s) }
}

// TestRateLimitedRegistration: guessing codes is limited per user.
func TestRateLimitedRegistration(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(620, "id")
	for i := range 5 {
		u.Text(fmt.Sprintf("/daftar 2345-678%d", i+2))
	}
	u.Text("/daftar 2345-6789")
	if got := h.Replies[0].Text[0].Key; got != "staff.register_too_many" {
		t.Errorf("6th attempt answered %s; want staff.register_too_many", got)
	}
	entries := auditOf(t, h, 620)
	if last := entries[len(entries)-1]; last.Reason != "rate" || last.Allowed {
		t.Errorf("last audit entry %+v; want refused for rate", last)
	}
}

// TestHiddenReporterNeverShown runs a whole PUNGLI case, from the report
// to the rating, and checks every reply to staff, recursively through all
// arguments, for the reporter's name, username, phone and Telegram id.
func TestHiddenReporterNeverShown(t *testing.T) {
	h := newHarness(t, flows.Config{Admins: []int64{900}})
	const citID = 987654321
	cit := h.User(citID, "id")
	cit.Name = "Siti Aminah"
	cit.Onboard("id")
	addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	dewi := addStaff(t, h, 701, "Dewi", bansosbot.RoleSupervisor, bogor)
	hadi := addStaff(t, h, 702, "Hadi", bansosbot.RoleSupervisor, jabar)
	admin := h.User(900, "id")

	secrets := []string{"Siti Aminah", "siti aminah", "081299998888", "6281299998888", "987654321"}
	var staffReplies []flows.Reply
	collect := func(rs []flows.Reply) {
		for _, r := range rs {
			if r.ChatID != citID {
				staffReplies = append(staffReplies, r)
			}
		}
	}
	tk := fileTicket(t, h, citID, "PUNGLI", cibinong, "Pendamping meminta uang Rp100.000 untuk pencairan PKH.",
		withPhone("081299998888"), withMedia)
	collect(h.Replies)
	id := fmt.Sprint(tk.ID)
	for _, step := range []func() []flows.Reply{
		func() []flows.Reply { return dewi.Tap("wk", "o:"+id) },
		func() []flows.Reply { return dewi.Tap("wk", "c:"+id) },
		func() []flows.Reply { return dewi.Tap("wk", "a:"+id) },
		func() []flows.Reply { return dewi.Text("Kapan dan di mana kejadiannya?") },
		func() []flows.Reply { return dewi.Press("ok") },
		func() []flows.Reply { return cit.Tap("tk", "a:"+id) },
		func() []flows.Reply { return cit.Text("Di balai desa, tanggal 20 November.") },
		func() []flows.Reply { return cit.Photo("kuitansi") },
		func() []flows.Reply { return dewi.Tap("wk", "h:"+id) },
		func() []flows.Reply { return dewi.Tap("wk", "t:"+id) },
		func() []flows.Reply { return dewi.Press("w:702") },
		func() []flows.Reply { return hadi.Tap("wk", "o:"+id) },
		func() []flows.Reply { return hadi.Text("/antrian") },
		func() []flows.Reply { return hadi.Text("/ringkasan") },
		func() []flows.Reply { return hadi.Tap("wk", "s:"+id) },
		func() []flows.Reply {
			return hadi.Text("Pendamping sudah diperiksa Inspektorat dan uang dikembalikan.")
		},
		func() []flows.Reply { return hadi.Press("ok") },
		func() []flows.Reply { return cit.Tap("ct", "u:"+id) },
		func() []flows.Reply { return cit.Text("Uangnya belum dikembalikan kepada saya.") },
		func() []flows.Reply { return admin.Tap("wk", "o:"+id) },
		func() []flows.Reply { return admin.Text("/ringkasan") },
	} {
		collect(step())
	}
	if len(staffReplies) < 15 {
		t.Fatalf("only %d replies to staff; the scenario did not run", len(staffReplies))
	}
	for _, r := range staffReplies {
		for _, leak := range findSecrets(reflect.ValueOf(r), secrets) {
			t.Errorf("reply to %d reveals %q: %s", r.ChatID, leak, FormatReply(r))
		}
	}
	got, _ := ticketOf(t, h, tk.ID)
	if got.Assignee != 702 || got.Status != bansosbot.StatusReopened {
		t.Errorf("ticket assignee %d status %s; want the province supervisor, reopened", got.Assignee, got.Status)
	}
}

// findSecrets walks any value (structs, slices, maps, interfaces) and
// returns the secrets found in its strings and numbers.
func findSecrets(v reflect.Value, secrets []string) []string {
	var found []string
	check := func(s string) {
		for _, sec := range secrets {
			if strings.Contains(strings.ToLower(s), strings.ToLower(sec)) {
				found = append(found, sec)
			}
		}
	}
	if v.Type() == reflect.TypeFor[time.Time]() || v.Type() == reflect.TypeFor[time.Location]() {
		return nil // instants carry no identity
	}
	switch v.Kind() {
	case reflect.String:
		check(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		check(fmt.Sprint(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		check(fmt.Sprint(v.Uint()))
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			found = append(found, findSecrets(v.Elem(), secrets)...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Name == "ChatID" { // the recipient, not content
				continue
			}
			found = append(found, findSecrets(v.Field(i), secrets)...)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			found = append(found, findSecrets(v.Index(i), secrets)...)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			found = append(found, findSecrets(k, secrets)...)
			found = append(found, findSecrets(v.MapIndex(k), secrets)...)
		}
	}
	return found
}
