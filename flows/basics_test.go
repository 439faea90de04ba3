package flows_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

var _ flows.Store = (*store.Tx)(nil)

func TestOnboardingGolden(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(100, "id")
	u.Text("halo")      // before consent: the notice
	u.Press("lang:en")  // switch the notice to English
	u.Press("yes")      // agree
	u.Press("en")       // language
	u.Text("/help")     // help
	u.Text("/bahasa")   // change language again
	u.Press("id")       //
	u.Text("/tidakada") // unknown command
	u.Media("sticker")  // unexpected media without a flow
	u.Text("/start")    // welcome back
	h.Golden("onboarding")

	h.DB.View(func(tx *store.Tx) error {
		p, err := tx.Profile(100)
		if err != nil || p == nil {
			t.Fatalf("profile after consent: %v, %v", p, err)
		}
		if !p.Consented() || p.Lang != "id" || !p.ConsentAt.Equal(epoch) {
			t.Errorf("profile = %+v; want consent v1 at %v, lang id", p, epoch)
		}
		return nil
	})
}

func TestDeclineStoresNothing(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(101, "en-GB")
	u.Text("/start")
	u.Press("no")
	h.Golden("consent_declined")
	h.DB.View(func(tx *store.Tx) error {
		p, _ := tx.Profile(101)
		s, _ := tx.Session(101)
		if p != nil || s.Flow != "" || s.Step != 0 {
			t.Errorf("after decline: profile %+v, session %+v; want nothing stored", p, s)
		}
		return nil
	})
}

func TestStaleAndForgedButtons(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(102, "id")
	u.Text("/start")
	first := h.Replies[0].Buttons[0][0].Data // the "agree" button of the first notice
	u.Press("lang:en")                       // a new prompt: the first one is stale now
	u.PressData(first)
	u.PressData("zz.1.whatever") // unknown flow
	u.PressData("garbage")
	u.PressData(strings.Repeat("x", 64))
	h.Golden("stale_buttons")
	h.DB.View(func(tx *store.Tx) error {
		if p, _ := tx.Profile(102); p.Consented() {
			t.Error("a stale agree button recorded consent")
		}
		return nil
	})
}

func TestCancelEverywhere(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(103, "id")
	u.Onboard("id")
	u.Text("/batal") // nothing running
	u.Text("/bahasa")
	u.Text("/batal") // cancels the language choice
	u.Text("/hapusdata")
	u.Press(flows.PayloadCancel) // the cancel button
	h.Golden("cancel")
}

func TestFloodLimit(t *testing.T) {
	h := newHarness(t, flows.Config{Limits: flows.Limits{MessagesPerMinute: 3}})
	u := h.User(104, "id")
	u.Onboard("id") // 3 inputs
	u.Text("satu")  // 4th in a minute: refused with a warning
	u.Text("dua")   // refused silently
	h.Advance(61e9)
	u.Text("tiga") // allowed again
	h.Golden("flood")
}

func TestMyDataAndErasure(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(105, "id")
	u.Onboard("id")
	u.Text("/datasaya")
	u.Text("/hapusdata")
	u.Press("yes")
	u.Text("/datasaya")
	h.Golden("erasure")
	h.DB.View(func(tx *store.Tx) error {
		if p, _ := tx.Profile(105); p != nil {
			t.Errorf("profile after erasure = %+v; want none", p)
		}
		return nil
	})
}

func TestGroupChatsGetNoPersonalData(t *testing.T) {
	h := newHarness(t, flows.Config{})
	in := flows.Input{UserID: 106, ChatID: -5001, ChatType: "group", Command: "/cek", Text: "/cek"}
	replies := h.Do(in, "group /cek")
	if len(replies) != 1 || replies[0].ChatID != -5001 || replies[0].Text[0].Key != "general.private_only" {
		t.Fatalf("group command replies = %+v; want one private_only notice", replies)
	}
	in = flows.Input{UserID: 106, ChatID: -5001, ChatType: "group", Text: "halo semua"}
	if replies := h.Do(in, "group text"); len(replies) != 0 {
		t.Fatalf("group chatter replies = %+v; want none", replies)
	}
}

// TestErasureAnonymisesTickets: /hapusdata withdraws the open ticket and
// removes from both tickets everything that identifies the citizen, in the
// store and in the bbolt file's bytes (free pages included once scrubbed).
func TestErasureAnonymisesTickets(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(107, "id")
	u.Onboard("id")
	secret := "Rumah saya di Gang Melati nomor 7, telepon 081299998888"
	open := cmSeedTicket(t, h, 107, func(tk *bansosbot.Ticket) {
		tk.Description, tk.Phone = secret, "+6281299998888"
		tk.Location = &bansosbot.Location{Lat: -6.5, Lon: 106.8}
		tk.Attachments = []bansosbot.Attachment{{FileID: "AgACAgPHOTO", FileUniqueID: "uniq1"}}
	})
	closed := cmSeedTicket(t, h, 107, func(tk *bansosbot.Ticket) { tk.Status = bansosbot.StatusClosed })
	u.Text("/hapusdata")
	u.Press("yes")
	h.DB.View(func(tx *store.Tx) error {
		for _, id := range []uint64{open.ID, closed.ID} {
			tk, err := tx.Ticket(id)
			if err != nil {
				t.Fatal(err)
			}
			if tk.CitizenID != 0 || tk.Phone != "" || tk.Location != nil || len(tk.Attachments) != 0 || tk.Description != flows.ErasedMarker || !tk.Purged {
				t.Errorf("ticket %d after erasure = %+v; want it anonymised", id, tk)
			}
			events, _ := tx.Events(id)
			for _, ev := range events {
				if ev.Text != "" && ev.Text != flows.ErasedMarker {
					t.Errorf("ticket %d keeps event text %q", id, ev.Text)
				}
			}
		}
		if tk, _ := tx.Ticket(open.ID); tk.Status != bansosbot.StatusWithdrawn {
			t.Errorf("open ticket status after erasure = %s; want withdrawn", tk.Status)
		}
		if mine, _ := tx.CitizenTickets(107); len(mine) != 0 {
			t.Errorf("citizen index still lists %d tickets", len(mine))
		}
		return nil
	})
	if _, err := h.DB.ScrubFreePages(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(h.DB.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, "6281299998888", "AgACAgPHOTO"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the store file still holds %q", s)
		}
	}
}
