package flows_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
)

// TestForgedPayloadAtCurrentStep: the first prompt of every flow a command
// starts, pressed with its own (current) step but another payload, is
// answered and never an error. The first row is TestMonkey's seed
// 1796338714675955525 shrunk: Back at the check's NIK prompt, which has no
// Back button, was "check: illegal transition: back in state nik".
func TestForgedPayloadAtCurrentStep(t *testing.T) {
	payloads := []string{flows.PayloadBack, flows.PayloadCancel, "yes", "no", "id", "en", "send", "resume", "discard",
		"o:1", "a:99999", "w:3", "c:PUNGLI", "r:32", "wy:2", "y:1", "n", "ok", "edit", "again", "rp:320101", "l:-1", "D:501", "d:601", ""}
	tests := []struct {
		who     int64 // 310: a citizen, 501: a worker, 701: a supervisor
		command string
	}{
		{310, "/cek"},
		{310, "/cek 3201011203850001"}, // the name prompt
		{310, "/lapor"},
		{310, "/tiket"},
		{310, "/langganan"},
		{310, "/berhenti"},
		{310, "/bahasa"},
		{310, "/hapusdata"},
		{310, "/menu"},
		{310, "/grafik"},
		{310, "/start"},
		{501, "/antrian"},
		{501, "/ringkasan"},
		{501, "/dasbor"},
		{701, "/undang"},
		{701, "/petugas"},
		{701, "/pengumuman"},
		{701, "/antrian"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.who, tt.command), func(t *testing.T) {
			h := newHarness(t, ckConfig())
			ckImport(t, h.DB, ckRegistry)
			addStaff(t, h, 501, "Wati", bansosbot.RoleWorker, cibinong)
			addStaff(t, h, 701, "Putu", bansosbot.RoleSupervisor, jabar)
			fileTicket(t, h, 102, "PUNGLI", cibinong, "Uraian keluhan yang cukup panjang untuk diterima.")
			u := h.User(tt.who, "id")
			if tt.who == 310 {
				u.Onboard("id")
			}
			// stepped returns the stepped buttons of the last keyboard.
			stepped := func() (out [][3]string) {
				for _, row := range h.keyboards[u.ID] {
					for _, b := range row {
						if parts := strings.SplitN(b.Data, ".", 3); len(parts) == 3 && parts[1] != "" {
							out = append(out, [3]string(parts))
						}
					}
				}
				return out
			}
			// forge sends the command, presses the real buttons of path,
			// (by payload), then the first stepped button of the prompt reached with
			// each payload.
			forge := func(path []string) {
				for _, p := range payloads {
					h.keyboards[u.ID] = nil
					u.Text("/batal") // what a forged press may have started
					u.Text(tt.command)
					for _, payload := range path {
						i := slices.IndexFunc(stepped(), func(b [3]string) bool { return b[2] == payload })
						if i < 0 {
							t.Fatalf("%s, %v: no button %q on %v", tt.command, path, payload, h.keyboards[u.ID])
						}
						u.PressData(strings.Join(stepped()[i][:], "."))
					}
					b := stepped()
					if len(b) == 0 {
						return // no prompt there
					}
					data := b[0][0] + "." + b[0][1] + "." + p
					r, err := u.tryPress(data)
					if err != nil {
						t.Errorf("%s, %v, then %s: %v", tt.command, path, data, err)
						continue
					}
					if !answered(r) {
						t.Errorf("%s, %v, then %s: %v; want the button answered", tt.command, path, data, keysOf(r))
					}
				}
			}
			forge(nil)
			// One level deeper: the prompts behind each real button.
			h.keyboards[u.ID] = nil
			u.Text(tt.command)
			for _, b := range stepped() {
				forge([]string{b[2]})
			}
		})
	}
}
