package flows_test

import (
	"strings"
	"testing"

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
