package flows_test

import (
	"fmt"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// TestVoiceDescription: a voice note at the description step is the
// description (kept as a file id); a voice note at another step is
// explained; "minta ditelepon petugas" records the shared phone with the
// call-back request; staff see both on the card and play the voice note
// from it; the citizen's ticket view lists the voice note.
func TestVoiceDescription(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, quiet())
			u := h.User(250, lang)
			u.Onboard(lang)
			cmToStep(u, "OTHER", "village")
			u.Voice(12) // not the description step: explained, the village asked again
			u.Text("pakansari")
			u.Voice(42) // the description
			u.Press("done")
			u.Press("call") // ask to be called: the contact button
			u.Contact("+628123456789", u.ID)
			u.Press("send")
			u.Text("/tiket")
			u.Press("o:1")
			sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
			sari.Tap("wk", "o:1")
			rs := sari.Tap("wk", "p:1") // play
			cmGolden(h, "voice_description_"+lang)

			var tk *bansosbot.Ticket
			h.DB.View(func(tx *store.Tx) error { tk, _ = tx.Ticket(1); return nil })
			if tk == nil || tk.Voice == nil || tk.Voice.FileID == "" || tk.Voice.Seconds != 42 || tk.Description != "" {
				t.Fatalf("ticket = %+v; want the voice note as its description", tk)
			}
			if tk.Phone != "+628123456789" || tk.Extra[bansosbot.ExtraCallMe] != "yes" {
				t.Errorf("phone %q, extra %v; want the phone with the call-back request", tk.Phone, tk.Extra)
			}
			played := false
			for _, r := range rs {
				played = played || r.Action == flows.SendVoice && r.ChatID == 601 && r.FileID == tk.Voice.FileID
			}
			if !played {
				t.Errorf("play: %v; want the voice note sent to the staff member", rs)
			}
			// Erasure removes the voice note too.
			u.Text("/hapusdata")
			u.Press("yes")
			h.DB.View(func(tx *store.Tx) error { tk, _ = tx.Ticket(1); return nil })
			if tk.Voice != nil {
				t.Errorf("after erasure the ticket keeps its voice note %+v", tk.Voice)
			}
			if rs := sari.Tap("wk", fmt.Sprintf("p:%d", tk.ID)); len(rs) == 0 || rs[0].Action != flows.AnswerCallback {
				t.Errorf("play after erasure: %v; want only an answer", rs)
			}
		})
	}
}
