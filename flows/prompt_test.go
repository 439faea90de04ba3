package flows_test

import (
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// removals lists the messages whose buttons the replies remove.
func removals(replies []flows.Reply) []int {
	var out []int
	for _, r := range replies {
		if r.Action == flows.EditButtons && len(r.Buttons) == 0 {
			out = append(out, r.MessageID)
		}
	}
	return out
}

func promptOf(t *testing.T, h *harness, chat int64) *bansosbot.Prompt {
	t.Helper()
	var p *bansosbot.Prompt
	if err := h.DB.View(func(tx *store.Tx) error {
		var err error
		p, err = tx.Prompt(chat)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTypedAnswerRemovesPrompt: an answer typed to a prompt removes the
// prompt's buttons once the bot has recorded the prompt as delivered
// (Reply.Prompt; the harness records it as the outbox does), and only
// then; the record is used once; a record of an earlier step (its
// question is gone) removes nothing; the buttons under the answer (not a
// prompt) are never recorded.
func TestTypedAnswerRemovesPrompt(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(330, "id")
	u.Onboard("id")

	u.Text("/cek")
	ask := h.Prompt()
	if ask.Prompt == nil || ask.Prompt.Flow != "ck" || ask.Prompt.Step == 0 {
		t.Fatalf("NIK question marks itself as %+v; want the prompt of a ck step", ask.Prompt)
	}
	// Not delivered yet (the outbox sends after the commit): the typed
	// NIK cannot remove buttons it does not know the message of.
	if err := h.DB.Update(func(tx *store.Tx) error { return tx.DeletePrompt(u.ID) }); err != nil {
		t.Fatal(err)
	}
	if r := u.sendText(ckWawan, 41); len(removals(r)) != 0 {
		t.Errorf("NIK typed before its question was delivered: removals %v; want none", removals(r))
	}
	nameMsg := h.sent[u.ID]
	if p := promptOf(t, h, u.ID); p == nil || p.MessageID != nameMsg || p.Flow != "ck" {
		t.Fatalf("recorded prompt = %+v; want the name question, message %d", p, nameMsg)
	}
	r := u.Text("wawan lestari")
	if got := removals(r); len(got) != 1 || got[0] != nameMsg || r[len(r)-1].Action != flows.EditButtons {
		t.Errorf("typed name: removals %v; want the name question's buttons (message %d) removed, last", got, nameMsg)
	}
	if p := promptOf(t, h, u.ID); p != nil {
		t.Errorf("prompt record after its removal = %+v; want none", p)
	}
	for _, rep := range r {
		if rep.Prompt != nil {
			t.Errorf("reply %s marked as a prompt; the answer's buttons are not tied to a step", FormatReply(rep))
		}
	}

	// A record of an earlier step of the same flow: its buttons went with
	// the input that moved the session on; nothing is removed again.
	u.Text("/cek")
	s := sessionOf(t, h, u.ID)
	if err := h.DB.PutPrompt(u.ID, bansosbot.Prompt{MessageID: 7, Flow: "ck", Step: s.Step - 1}); err != nil {
		t.Fatal(err)
	}
	if r := u.sendText(ckWawan, 42); len(removals(r)) != 0 {
		t.Errorf("NIK typed with an earlier step's prompt recorded: removals %v; want none", removals(r))
	}
}
