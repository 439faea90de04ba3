package flows_test

import (
	"testing"

	"github.com/bansosbot/bansosbot"
)

// notified lists the chats the last input sent a staff.new_ticket to.
func notified(h *harness) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range h.Replies {
		if len(r.Text) > 0 && r.Text[0].Key == "staff.new_ticket" {
			out[r.ChatID] = true
		}
	}
	return out
}

// TestResidenceMovedCitizen: a citizen whose NIK was issued in Cibinong
// (Kabupaten Bogor) lives in Denpasar now. The usul proposed from a /cek
// answer offers Cibinong only as a suggestion; the citizen chooses where
// they live, and the ticket goes to the workers of Denpasar Selatan, not
// to those of the NIK's district. In Indonesian with a typed search, in
// English with the buttons.
func TestResidenceMovedCitizen(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, ckConfig())
			ckImport(t, h.DB, ckRegistry)
			addStaff(t, h, 501, "Petugas Cibinong", bansosbot.RoleWorker, "32.01.01")
			addStaff(t, h, 502, "Petugas Denpasar Selatan", bansosbot.RoleWorker, "51.71.01")
			u := h.User(330, lang)
			u.Onboard(lang)
			u.Text("/cek")
			u.sendText(ckUnknown, 3) // district 32.01.01, not in the registry
			u.Text("Budi Santoso")
			u.Press("rp:320101")
			u.Press("p:self") // the usul asks whom it is for before where they live
			if !hasKey(h, "residence.suggest") || !hasKey(h, "residence.ask_province") {
				t.Fatalf("after the usul button: %v; want the residence question with the NIK's district as a suggestion", lastKeys(h))
			}
			if lang == "id" {
				u.Text("denpasar selatan") // typed: the one kecamatan
				u.Text("sesetan")
			} else {
				u.Press("p:1")
				u.Press("r:51")
				u.Press("r:51.71")
				u.Press("r:51.71.01")
				u.Press("r:51.71.01.1003") // Sesetan
			}
			u.Press("m:3") // the household: members and work
			u.Press("w:none")
			u.Text(descText)
			u.Press("done")
			u.Press("skip")
			u.Press("send")
			if got := notified(h); !got[502] || got[501] {
				t.Errorf("notified %v; want the residence's worker 502 and not the NIK district's 501", got)
			}
			cmGolden(h, "residence_moved_"+lang)
			ts := cmTickets(t, h, u.ID)
			if len(ts) != 1 || ts[0].Region != "51.71.01" || ts[0].Village != "51.71.01.1003" || ts[0].Category != "NOT_REGISTERED" {
				t.Fatalf("tickets = %+v; want one NOT_REGISTERED ticket in 51.71.01, village Sesetan", ts)
			}
		})
	}
}

// TestResidenceSuggestionConfirmed: one tap on the suggestion takes the
// NIK's district as the residence; the village is still asked.
func TestResidenceSuggestionConfirmed(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	addStaff(t, h, 501, "Petugas Cibinong", bansosbot.RoleWorker, "32.01.01")
	addStaff(t, h, 502, "Petugas Denpasar Selatan", bansosbot.RoleWorker, "51.71.01")
	u := h.User(331, "id")
	u.Onboard("id")
	u.Text("/cek")
	u.sendText(ckUnknown, 3)
	u.Text("Budi Santoso")
	u.Press("rp:320101")
	u.Press("p:self")
	u.Press("r:32.01.01") // "Ya, saya tinggal di Cibinong, Kabupaten Bogor"
	if !hasKey(h, "complaint.ask_village") {
		t.Fatalf("after confirming the suggestion: %v; want the village asked", lastKeys(h))
	}
	u.Text("pakansari")
	u.Text("5") // members may be typed
	u.Press("w:farm")
	u.Text(descText)
	u.Press("done")
	u.Press("skip")
	u.Press("send")
	if got := notified(h); !got[501] || got[502] {
		t.Errorf("notified %v; want the worker of Cibinong 501 only", got)
	}
	if s := sessionOf(t, h, u.ID); s.Flow != "" {
		t.Errorf("session %+v; want the flow ended", s)
	}
}

// TestResidenceNoSuggestionWithoutNIK: /lapor typed directly knows no NIK
// and suggests nothing.
func TestResidenceNoSuggestionWithoutNIK(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(332, "id")
	u.Onboard("id")
	u.Text("/lapor")
	u.Press("c:OTHER")
	if hasKey(h, "residence.suggest") || !hasKey(h, "residence.ask_province") {
		t.Errorf("/lapor: %v; want the residence question without a suggestion", lastKeys(h))
	}
}
