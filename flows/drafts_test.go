package flows_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// TestDraftKeptAcrossFlows: /cek (or /start, /bahasa ...) in the middle of
// /lapor parks the draft and says so; /lapor then offers to continue it
// or start over; a caption sent with a photo at the photo step is kept
// (a 10,000-character one cut, and the citizen told), shown to staff with
// the photo, and the citizen's ticket view lists the attachments.
func TestDraftKeptAcrossFlows(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(240, "id")
	u.Onboard("id")
	cmToStep(u, "OTHER", "description")
	rs := u.Text("/cek") // another flow in the middle of /lapor
	if _, ok := findMsg(rs, "drafts.parked"); !ok {
		t.Errorf("/cek during /lapor: %v; want drafts.parked", keysOf(rs))
	}
	u.Text("/batal") // cancels the status check, not the complaint
	if s := sessionOf(t, h, u.ID); s.Parked == nil || s.Parked.State != "description" {
		t.Fatalf("after /cek and /batal: parked = %+v; want the complaint at its description", s.Parked)
	}
	u.Text("/lapor")
	u.Press("resume") // the description question again
	u.Text("Bantuan sembako bulan ini belum sampai ke rumah kami di RT 02.")
	u.Photo(strings.Repeat("Rumah kami yang di belakang masjid. ", 280)[:10000]) // a 10,000-character caption
	u.Photo("Pintu depan rumah")
	u.Text("/start") // /start parks it too
	u.Text("/lapor")
	u.Press("resume")
	u.Press("done") // photos done
	u.Press("skip") // no phone
	u.Press("send")
	h.Note("the ticket as its citizen sees it")
	u.Text("/tiket")
	u.Press("o:1")
	cmGolden(h, "drafts_kept")

	var tk *bansosbot.Ticket
	h.DB.View(func(tx *store.Tx) error {
		mine, _ := tx.CitizenTickets(u.ID)
		if len(mine) == 1 {
			tk = mine[0]
		}
		return nil
	})
	if tk == nil || len(tk.Attachments) != 2 {
		t.Fatalf("ticket = %+v; want one with two photos", tk)
	}
	if n := utf8.RuneCountInString(tk.Attachments[0].Caption); n != 901 || !strings.HasPrefix(tk.Attachments[0].Caption, "Rumah kami") {
		t.Errorf("first caption: %d characters; want the first 900 and a cut mark", n)
	}
	if tk.Attachments[1].Caption != "Pintu depan rumah" {
		t.Errorf("second caption = %q", tk.Attachments[1].Caption)
	}
	// Staff see the captions with the photos on the ticket card.
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	rs = sari.Tap("wk", fmt.Sprintf("o:%d", tk.ID))
	var captions []string
	for _, r := range rs {
		if r.Action == flows.SendPhoto {
			c, _ := r.Text[0].Args["Caption"].(string)
			captions = append(captions, c)
		}
	}
	if len(captions) != 2 || captions[1] != "Pintu depan rumah" || !strings.HasPrefix(captions[0], "Rumah kami") {
		t.Errorf("photos on the card carry captions %q; want both captions", captions)
	}
}

// TestDraftRestartAndCategoryGone: "start over" drops the parked draft for
// a new one; a parked draft whose category left the configuration asks the
// category again and keeps the other answers.
func TestDraftRestartAndCategoryGone(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(241, "en")
	u.Onboard("en")
	cmToStep(u, "OTHER", "description")
	u.Text("/check")
	u.Text("/report")
	u.Press("restart") // a new complaint from the category question
	if s := sessionOf(t, h, u.ID); s.Parked != nil || s.State != "category" || strings.Contains(string(s.Draft), "cibinong") {
		t.Errorf("after start over: session %s %s parked %+v; want a fresh complaint", s.State, s.Draft, s.Parked)
	}
	u.Press("c:OTHER")
	u.Text("cibinong")
	u.Text("pakansari")
	u.Text("/check") // parked at the description
	h.Note("the operator removes the category OTHER meanwhile")
	if err := h.DB.Update(func(tx *store.Tx) error {
		s, err := tx.Session(u.ID)
		if err != nil || s.Parked == nil {
			return fmt.Errorf("session %+v: %v", s, err)
		}
		s.Parked.Draft = []byte(strings.Replace(string(s.Parked.Draft), `"cat":"OTHER"`, `"cat":"REMOVED"`, 1))
		return tx.PutSession(s)
	}); err != nil {
		t.Fatal(err)
	}
	u.Text("/report")
	u.Press("resume")       // the category question, the rest kept
	u.Press("c:DATA_ERROR") // then the first missing answer: the description
	u.Text("The name on my family card is misspelled at the village office.")
	cmGolden(h, "drafts_category_gone")
	if s := sessionOf(t, h, u.ID); s.State != "summary" || !strings.Contains(string(s.Draft), `"village":"32.01.01.1007"`) {
		t.Errorf("after the category again: %s %s; want the summary with the village kept", s.State, s.Draft)
	}
}
