package main

import (
	"fmt"
	"testing"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
)

// TestE2ETypedAnswerRemovesPromptButtons: a prompt answered by typing
// loses its buttons in the chat, as one answered by a press does: the
// outbox records the delivered prompt's message id, and the typed answer
// that moves the conversation on removes that message's reply markup
// (editMessageReplyMarkup). The main menu's buttons, not tied to a
// prompt, stay.
func TestE2ETypedAnswerRemovesPromptButtons(t *testing.T) {
	e := newE2E(t)
	m := e.start(e.config())
	defer m.Close()
	cit := telegramtest.User{ID: 920, FirstName: "Rina", LanguageCode: "id"}
	seen := map[int64]int{}
	e.onboard(cit)
	menu, ok := lastWithButtons(e.fake.BotMessages(cit.ID))
	if !ok {
		t.Fatal("no main menu after onboarding")
	}
	seen[cit.ID] = len(e.fake.BotMessages(cit.ID))

	e.fake.SendCommand(cit, "/lapor")
	e.pressOn(cit, e.expect(seen, cit.ID, "Buat pengaduan"), "c:PAYMENT_NOT_RECEIVED")
	region := e.expect(seen, cit.ID, "provinsi")
	if len(region.Inline) == 0 {
		t.Fatalf("region question = %s; want its buttons (provinces, back, cancel)", region)
	}
	e.typeAnswer(m, cit, region, "Cibinong")
	village := e.expect(seen, cit.ID, "desa/kelurahan")
	e.buttonsRemoved(cit.ID, region.MessageID)
	e.typeAnswer(m, cit, village, "Pakansari")
	desc := e.expect(seen, cit.ID, "Ceritakan masalahnya")
	e.buttonsRemoved(cit.ID, village.MessageID)
	e.typeAnswer(m, cit, desc, "Bantuan PKH tahap ketiga belum masuk ke rekening saya sejak Agustus.")
	e.expect(seen, cit.ID, "foto pendukung")
	e.buttonsRemoved(cit.ID, desc.MessageID)

	if got, _ := e.fake.Message(cit.ID, menu.MessageID); len(got.Inline) == 0 {
		t.Errorf("main menu %s lost its buttons; want them kept (not a prompt)", got)
	}
	if n := e.fake.Calls("editMessageReplyMarkup"); n < 4 { // the consent notice and three typed answers
		t.Errorf("editMessageReplyMarkup called %d times; want at least 4", n)
	}
}

// typeAnswer types text in answer to the prompt once the outbox recorded
// the prompt as delivered (it does so right after Telegram returned its
// message id; an answer typed before that keeps the prompt's buttons).
func (e *e2e) typeAnswer(m *Main, u telegramtest.User, prompt telegramtest.Entry, text string) {
	e.t.Helper()
	e.until(fmt.Sprintf("prompt %d recorded", prompt.MessageID), func() bool {
		id := 0
		m.DB.View(func(tx *store.Tx) error {
			if p, err := tx.Prompt(u.ID); err == nil && p != nil {
				id = p.MessageID
			}
			return nil
		})
		return id == prompt.MessageID
	})
	e.fake.SendText(u, text)
}

// buttonsRemoved waits until the bot message has no inline keyboard.
func (e *e2e) buttonsRemoved(chat int64, messageID int) {
	e.t.Helper()
	e.until(fmt.Sprintf("message %d without its buttons", messageID), func() bool {
		got, ok := e.fake.Message(chat, messageID)
		return ok && len(got.Inline) == 0
	})
}
