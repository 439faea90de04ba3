package flows_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
)

// buttonData lists the data of a reply's buttons.
func buttonData(r flows.Reply) []string {
	var out []string
	for _, row := range r.Buttons {
		for _, b := range row {
			out = append(out, b.Data)
		}
	}
	return out
}

// resultReply is the reply carrying the check.found answer of the last input.
func resultReply(t *testing.T, h *harness) flows.Reply {
	t.Helper()
	for _, r := range h.Replies {
		if len(r.Text) > 0 && r.Text[0].Key == "check.found" {
			return r
		}
	}
	t.Fatalf("no check.found in %v", lastKeys(h))
	return flows.Reply{}
}

// TestCheckNotPaidShortcut: Wawan receives PKH (remark: paid), SEMBAKO
// (remark: still being paid out) and PBI-JK (a premium, nothing to pay
// out). The answer offers "SEMBAKO not received yet" only; the button
// starts a PAYMENT_NOT_RECEIVED complaint about SEMBAKO, the NIK's
// district suggested as the residence. Indonesian and English.
func TestCheckNotPaidShortcut(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, ckConfig())
			ckImport(t, h.DB, ckRegistry)
			addStaff(t, h, 501, "Petugas Cibinong", bansosbot.RoleWorker, "32.01.01")
			u := h.User(340, lang)
			u.Onboard(lang)
			u.Text("/cek")
			u.sendText(ckWawan, 3)
			u.Text("Wawan Lestari")
			res := resultReply(t, h)
			var got []string // the next steps; the announcement offers (sb..) are announce_test's
			for _, d := range buttonData(res) {
				if strings.HasPrefix(d, "ck.") {
					got = append(got, d)
				}
			}
			if len(got) != 1 || got[0] != "ck..np:SEMBAKO:320101" {
				t.Fatalf("next steps under the answer = %v; want only the not-received shortcut for SEMBAKO", got)
			}
			if res.Text[len(res.Text)-1].Key != "nextsteps.not_paid" {
				t.Errorf("answer %v; want it to end with nextsteps.not_paid", res.Text)
			}
			u.PressData("ck..np:SEMBAKO:320101")
			if !hasKey(h, "nextsteps.prefilled_program") || !hasKey(h, "residence.suggest") {
				t.Fatalf("after the shortcut: %v; want the program pre-filled and the residence asked with a suggestion", lastKeys(h))
			}
			u.Press("r:32.01.01") // still lives where the NIK was issued
			u.Text("pakansari")
			u.Text("Bantuan sembako bulan November belum masuk ke kartu KKS saya.")
			u.Press("done")
			u.Press("skip")
			if !hasKey(h, "nextsteps.summary_program") {
				t.Errorf("summary %v; want the program in it", lastKeys(h))
			}
			u.Press("send")
			if got := notified(h); !got[501] {
				t.Errorf("notified %v; want the worker of Cibinong", got)
			}
			cmGolden(h, "check_not_paid_"+lang)
			ts := cmTickets(t, h, u.ID)
			if len(ts) != 1 || ts[0].Category != "PAYMENT_NOT_RECEIVED" || ts[0].Extra[bansosbot.ExtraProgram] != "SEMBAKO" || ts[0].Region != "32.01.01" {
				t.Fatalf("tickets = %+v; want one PAYMENT_NOT_RECEIVED about SEMBAKO in 32.01.01", ts)
			}
			// The worker's card names the program.
			w := h.User(501, "id")
			w.Text("/antrian")
			w.Press("o:" + "1")
			if !hasKey(h, "nextsteps.card_program") {
				t.Errorf("ticket card %v; want the program line", lastKeys(h))
			}
		})
	}
}

// TestCheckAllNo: Siti is in the data with every program TIDAK: the
// answer offers an usul and a question for a petugas, and the question
// starts an INFO_REQUEST with the NIK's district suggested.
func TestCheckAllNo(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(341, "id")
	u.Onboard("id")
	u.Text("/cek")
	u.sendText("3201015203850002", 3)
	u.Text("Siti Nuraini")
	res := resultReply(t, h)
	if got := buttonData(res); len(got) != 2 || got[0] != "ck..rp:320101" || got[1] != "ck..ask:320101" {
		t.Fatalf("buttons under the answer = %v; want usul and ask-a-petugas", got)
	}
	if res.Text[len(res.Text)-1].Key != "nextsteps.none" {
		t.Errorf("answer %v; want it to end with nextsteps.none", res.Text)
	}
	u.PressData("ck..ask:320101")
	s := sessionOf(t, h, u.ID)
	if s.Flow != "rp" || s.State != "province" || !hasKey(h, "residence.suggest") {
		t.Fatalf("after ask-a-petugas: session %s/%s, replies %v; want the complaint at the residence step with a suggestion", s.Flow, s.State, lastKeys(h))
	}
	if want := `"cat":"INFO_REQUEST"`; !strings.Contains(string(s.Draft), want) {
		t.Errorf("draft %s; want %s", s.Draft, want)
	}
	// A forged program or district changes nothing but the pre-fill.
	u.Text("/batal")
	u.PressData("ck..np:NOPE:999999")
	if s := sessionOf(t, h, u.ID); s.Flow != "rp" || strings.Contains(string(s.Draft), "NOPE") || strings.Contains(string(s.Draft), "sug") {
		t.Errorf("forged shortcut: draft %s; want a plain PAYMENT_NOT_RECEIVED draft", s.Draft)
	}
}

// TestCheckNearMatchLikeMiss: in English too, a name one letter off for a
// registered NIK gets the very replies and leaves the very session an
// unknown NIK does (FoldName forgives spellings, never another letter), so
// /cek cannot be used to learn that a NIK is registered.
func TestCheckNearMatchLikeMiss(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(342, "en")
	u.Onboard("en")
	u.Text("/check")
	u.sendText(ckWawan, 4)
	near := u.Text("Wawan Lestary")
	nearSession := *sessionOf(t, h, u.ID)
	u.Text("/check")
	u.sendText(ckUnknown, 4)
	miss := u.Text("Wawan Lestary")
	missSession := *sessionOf(t, h, u.ID)
	if !reflect.DeepEqual(promptIDsOut(near), promptIDsOut(miss)) {
		t.Errorf("near match:\n%#v\nmiss:\n%#v\nwant the same replies", near, miss)
	}
	nearSession.Step, missSession.Step, nearSession.UpdatedAt = 0, 0, missSession.UpdatedAt
	if !reflect.DeepEqual(nearSession, missSession) {
		t.Errorf("session after a near match %+v; after a miss %+v; want the same", nearSession, missSession)
	}
	if r := lastSend(t, miss); r.Text[0].Key != "check.not_found" {
		t.Errorf("miss: %v; want check.not_found", r.Text)
	}
}
