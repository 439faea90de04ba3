package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
)

// expect waits for a bot message in u's chat, after the ones already
// seen (seen[u.ID]), whose text contains want; it returns the message and
// marks everything up to it as seen.
func (e *e2e) expect(seen map[int64]int, chat int64, want string) telegramtest.Entry {
	e.t.Helper()
	var got telegramtest.Entry
	err := e.fake.WaitFor(ctxTimeout(e.t, 20*time.Second), func(st *telegramtest.State) bool {
		msgs := st.BotMessages(chat)
		for i := seen[chat]; i < len(msgs); i++ {
			if strings.Contains(msgs[i].Text, want) {
				got, seen[chat] = msgs[i], i+1
				return true
			}
		}
		return false
	})
	if err != nil {
		e.t.Fatalf("chat %d: no message containing %q: %v\ntranscript:\n%s", chat, want, err, telegramtest.FormatTranscript(e.fake.Transcript(chat)))
	}
	return got
}

// pressOn presses the button with the payload on a given message (old
// messages' buttons stay usable, as in Telegram).
func (e *e2e) pressOn(u telegramtest.User, msg telegramtest.Entry, payload string) {
	e.t.Helper()
	for _, row := range msg.Inline {
		for _, b := range row {
			if strings.HasSuffix(b.CallbackData, "."+payload) {
				if _, err := e.fake.PressButton(u, msg.MessageID, b.CallbackData); err != nil {
					e.t.Fatal(err)
				}
				return
			}
		}
	}
	e.t.Fatalf("chat %d: no button %q on %s", u.ID, payload, msg)
}

// TestE2EStaffWorkflow: a citizen files a complaint, it is routed to the
// kecamatan's worker (not to the supervisor), who claims and answers it;
// the citizen replies, the worker resolves, the citizen rates; the
// supervisor sees it in the summary. Every message lands in the right
// chat, and the audit log has the worker's actions.
func TestE2EStaffWorkflow(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	m := e.start(e.config())
	defer m.Close()
	ctx := context.Background()
	for _, args := range [][]string{
		{"add", "--id", "801", "--name", "Sari", "--role", "worker", "--region", "32.01.01"},
		{"add", "--id", "802", "--name", "Dewi", "--role", "supervisor", "--region", "32.01"},
	} {
		if err := runStaff(ctx, m.Config, m.DB, args, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	cit := telegramtest.User{ID: 800, FirstName: "Siti", Username: "siti_w", LanguageCode: "id"}
	worker := telegramtest.User{ID: 801, FirstName: "Sari", LanguageCode: "id"}
	sup := telegramtest.User{ID: 802, FirstName: "Dewi", LanguageCode: "id"}
	seen := map[int64]int{}

	e.onboard(cit)
	seen[cit.ID] = len(e.fake.BotMessages(cit.ID))
	e.fake.SendCommand(cit, "/lapor")
	e.pressOn(cit, e.expect(seen, cit.ID, "Buat pengaduan"), "c:PAYMENT_NOT_RECEIVED")
	e.expect(seen, cit.ID, "provinsi")
	e.fake.SendText(cit, "cibinong")
	e.expect(seen, cit.ID, "Cibinong")
	e.fake.SendText(cit, "pakansari")
	e.expect(seen, cit.ID, "Pakansari")
	e.fake.SendText(cit, "Bantuan PKH tahap ketiga belum masuk ke rekening saya sejak Agustus.")
	e.pressOn(cit, e.expect(seen, cit.ID, "foto"), "done")
	e.pressOn(cit, e.expect(seen, cit.ID, "tidak wajib"), "skip")
	e.pressOn(cit, e.expect(seen, cit.ID, "Periksa pengaduan"), "send")
	filed := e.expect(seen, cit.ID, "Pengaduan diterima")
	no := ""
	for _, f := range strings.Fields(filed.Text) {
		if strings.HasPrefix(f, bansosbot.TicketPrefix) {
			no = strings.TrimRight(f, ".,")
		}
	}
	if no == "" {
		t.Fatalf("no ticket number in %q", filed.Text)
	}

	// Routed to the worker of Cibinong, with a claim button.
	notice := e.expect(seen, worker.ID, "Tiket baru "+no)
	e.pressOn(worker, notice, "c:1")
	e.expect(seen, cit.ID, "sudah diterima petugas")
	card := e.expect(seen, worker.ID, "Tiket "+no)
	if !strings.Contains(card.Text, "Pelapor: Warga") || strings.Contains(card.Text, "Siti") || strings.Contains(card.Text, "800") {
		t.Errorf("card shows the citizen as %q; want only \"Warga\"", card.Text)
	}

	// Reply, confirmed before it goes out.
	e.pressOn(worker, card, "r:1:k")
	e.expect(seen, worker.ID, "Tulis balasan")
	e.fake.SendText(worker, "Kami sedang memeriksa data penyaluran tahap 3 di bank penyalur.")
	e.pressOn(worker, e.expect(seen, worker.ID, "Kirim balasan ini"), "ok")
	e.expect(seen, worker.ID, "Balasan terkirim")
	reply := e.expect(seen, cit.ID, "Balasan petugas untuk pengaduan "+no)

	// The citizen answers through the reply button; the worker hears of it.
	e.pressOn(cit, reply, "a:1")
	e.expect(seen, cit.ID, no)
	e.fake.SendText(cit, "Terima kasih, saya tunggu kabarnya.")
	e.expect(seen, worker.ID, "Warga menambahkan informasi pada tiket "+no)

	// Resolve from the card; the citizen rates 5 and skips the comment.
	e.pressOn(worker, card, "s:1:k")
	e.expect(seen, worker.ID, "hasil penanganan")
	e.fake.SendText(worker, "Dana tahap 3 sudah cair ke rekening Anda hari ini.")
	e.pressOn(worker, e.expect(seen, worker.ID, "Selesaikan tiket"), "ok")
	e.expect(seen, worker.ID, "selesai")
	resolved := e.expect(seen, cit.ID, "selesai ditangani")
	e.pressOn(cit, resolved, "s:1:5")
	e.expect(seen, worker.ID, "penilaian 5/5")
	e.pressOn(cit, e.expect(seen, cit.ID, "Terima kasih atas penilaian 5/5"), "k")
	e.expect(seen, cit.ID, "Terima kasih. 🙏")

	// The supervisor was never notified, and sees the numbers.
	if msgs := e.fake.BotMessages(sup.ID); len(msgs) != 0 {
		t.Errorf("the supervisor got %d messages before asking; want none (a worker covers the kecamatan):\n%s", len(msgs), telegramtest.FormatTranscript(msgs))
	}
	e.fake.SendCommand(sup, "/ringkasan")
	summary := e.expect(seen, sup.ID, "Ringkasan Kabupaten Bogor")
	if !strings.Contains(summary.Text, "selesai minggu ini 1") || !strings.Contains(summary.Text, "penilaian 5,0 (1)") {
		t.Errorf("summary = %q; want one resolved this week and a 5,0 rating", summary.Text)
	}

	// Every message in the right chat: staff texts never reach the citizen
	// and the citizen's identity never reaches staff.
	for _, msg := range e.fake.BotMessages(cit.ID) {
		if strings.Contains(msg.Text, "Tiket baru") || strings.Contains(msg.Text, "catatan internal") || strings.Contains(msg.Text, "Ringkasan") {
			t.Errorf("staff text in the citizen's chat: %q", msg.Text)
		}
	}
	for _, chat := range []int64{worker.ID, sup.ID} {
		for _, msg := range e.fake.BotMessages(chat) {
			if strings.Contains(msg.Text, "Siti") || strings.Contains(msg.Text, "siti_w") || strings.Contains(msg.Text, "800") {
				t.Errorf("chat %d shows the citizen's identity: %q", chat, msg.Text)
			}
		}
	}
	if err := m.Server.Flush(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	m.DB.View(func(tx *store.Tx) error {
		tk, err := tx.Ticket(1)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != bansosbot.StatusClosed || tk.Rating != 5 || tk.Assignee != worker.ID {
			t.Errorf("ticket = %s rating %d assignee %d; want closed, 5, the worker", tk.Status, tk.Rating, tk.Assignee)
		}
		entries, err := tx.AuditByTicket(1)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range entries {
			actions = append(actions, a.Action)
		}
		if got := strings.Join(actions, " "); !strings.Contains(got, "route claim view reply") || !strings.Contains(got, "resolve") {
			t.Errorf("audit of the ticket = %q; want route, claim, view, reply … resolve", got)
		}
		return nil
	})
}
