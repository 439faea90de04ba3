package flows_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
)

// buttonPayloads lists the payloads of a reply's buttons.
func buttonPayloads(r flows.Reply) []string {
	var out []string
	for _, row := range r.Buttons {
		for _, b := range row {
			out = append(out, b.Data)
		}
	}
	return out
}

// lastSend is the last Send of replies to chat.
func lastSendTo(t *testing.T, rs []flows.Reply, chat int64) flows.Reply {
	t.Helper()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].ChatID == chat && rs[i].Action == flows.Send {
			return rs[i]
		}
	}
	t.Fatalf("nothing sent to %d in %v", chat, keysOf(rs))
	return flows.Reply{}
}

// TestTransferOffersColleagues: the transfer list holds every active
// worker of the ticket's region (kecamatan and kabupaten level) and never
// the one transferring it, whether the ticket is theirs or unassigned.
func TestTransferOffersColleagues(t *testing.T) {
	h := newHarness(t, flows.Config{})
	onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, 602, "Budi", bansosbot.RoleWorker, cibinong)
	addStaff(t, h, 603, "Dewi", bansosbot.RoleWorker, bogor)
	addStaff(t, h, 604, "Joko", bansosbot.RoleWorker, gunungputri) // another kecamatan
	addStaff(t, h, 701, "Hadi", bansosbot.RoleSupervisor, bogor)   // takes tickets with Claim
	for _, claimed := range []bool{false, true} {
		tk := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan tentang jadwal pencairan di desa kami.")
		sari.Tap("wk", fmt.Sprintf("o:%d", tk.ID))
		if claimed {
			sari.Press(fmt.Sprintf("c:%d:k", tk.ID))
		}
		sari.Press(fmt.Sprintf("t:%d:k", tk.ID))
		got := buttonPayloads(lastSendTo(t, h.Replies, 601))
		want := []string{"w:602", "w:603"}
		var offered []string
		for _, d := range got {
			for _, w := range []string{"w:601", "w:602", "w:603", "w:604", "w:701"} {
				if len(d) >= len(w) && d[len(d)-len(w):] == w {
					offered = append(offered, w)
				}
			}
		}
		if !slices.Equal(offered, want) {
			t.Errorf("claimed=%v: transfer offers %v; want %v", claimed, offered, want)
		}
		sari.Press("x")
	}
}

// TestRejectReasons: the desk picks among the reasons a real desk needs,
// and the citizen reads a sentence for them, not the staff label.
func TestRejectReasons(t *testing.T) {
	h := newHarness(t, flows.Config{})
	onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	tk := fileTicket(t, h, 500, "OTHER", cibinong, "Tolong bantu, bansos saya bagaimana ya pak?")
	sari.Tap("wk", fmt.Sprintf("j:%d", tk.ID))
	var kinds []string
	for _, row := range lastSendTo(t, h.Replies, 601).Buttons {
		for _, b := range row {
			kinds = append(kinds, b.Label.Key)
		}
	}
	for _, k := range []string{"desk.reject_duplicate", "desk.reject_incomplete", "desk.reject_out_of_rules", "desk.reject_spam"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("reject offers %v; want %s", kinds, k)
		}
	}
	sari.Press("incomplete")
	sari.Text("Mohon sebutkan program dan kendalanya.")
	sari.Press("ok")
	r := sentTo(t, h.Replies, 500, "ct.rejected")
	reason, _ := r.Text[0].Args["Reason"].(flows.Msg)
	if reason.Key != "desk.reason_incomplete" {
		t.Errorf("citizen reads %v; want the citizen wording desk.reason_incomplete", r.Text[0])
	}
	sari.Tap("wk", fmt.Sprintf("h:%d", tk.ID))
	line := lastSendTo(t, h.Replies, 601).Text[len(lastSendTo(t, h.Replies, 601).Text)-1]
	if line.Key != "desk.evt_reject" {
		t.Errorf("history ends with %v; want desk.evt_reject", line)
	}
}

// TestHistoryFromTheDesk: the history tells what staff did ("Sari asked
// the reporter"), not the citizen's status name, and the ticket going back
// to work after the citizen's answer is nobody's action.
func TestHistoryFromTheDesk(t *testing.T) {
	h := newHarness(t, flows.Config{})
	cit := onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	tk := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan tentang jadwal pencairan di desa kami.")
	sari.Tap("wk", fmt.Sprintf("c:%d", tk.ID))
	sari.Tap("wk", fmt.Sprintf("a:%d", tk.ID))
	sari.Text("Mohon kirim foto KK.")
	sari.Press("ok")
	cit.Tap("tk", fmt.Sprintf("a:%d", tk.ID))
	cit.Text("Ini fotonya, sudah saya kirim lewat petugas desa.")
	sari.Tap("wk", fmt.Sprintf("h:%d", tk.ID))
	var keys []string
	for _, m := range lastSendTo(t, h.Replies, 601).Text[1:] {
		keys = append(keys, m.Key)
		if w, ok := m.Args["Who"].(flows.Msg); ok && w.Key == "staff.who_citizen" && m.Key != "staff.ev_created" && m.Key != "staff.ev_message" {
			t.Errorf("%s is attributed to the reporter", m.Key)
		}
	}
	want := []string{"staff.ev_created", "desk.evt_claim", "desk.evt_ask_citizen", "staff.ev_message", "desk.evt_citizen_reply"}
	if !slices.Equal(keys, want) {
		t.Errorf("history = %v; want %v", keys, want)
	}
}

// TestCardEditedInPlace: an action pressed on the card edits that card;
// the photos and the location pin are sent only when the card is opened.
func TestCardEditedInPlace(t *testing.T) {
	h := newHarness(t, flows.Config{})
	onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	tk := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan tentang jadwal pencairan di desa kami.", withMedia)
	count := func(rs []flows.Reply, a flows.Action) int {
		n := 0
		for _, r := range rs {
			if r.ChatID == 601 && r.Action == a {
				n++
			}
		}
		return n
	}
	sari.Tap("wk", fmt.Sprintf("o:%d", tk.ID))
	if count(h.Replies, flows.SendPhoto) != 1 || count(h.Replies, flows.SendLocation) != 1 {
		t.Fatalf("opening the card: %v; want its photo and location", keysOf(h.Replies))
	}
	sari.PressData(fmt.Sprintf("wk..c:%d:k", tk.ID))
	if count(h.Replies, flows.SendPhoto)+count(h.Replies, flows.SendLocation)+count(h.Replies, flows.Send) != 0 || count(h.Replies, flows.Edit) != 1 {
		t.Errorf("claim on the card: %v; want one edit of the card and nothing sent", keysOf(h.Replies))
	}
	sari.PressData(fmt.Sprintf("wk..r:%d:k", tk.ID))
	sari.Text("Jadwal pencairan tahap 4 minggu depan.")
	sari.Press("ok")
	edits := 0
	for _, r := range h.Replies {
		if r.ChatID == 601 && r.Action == flows.Edit && r.MessageID == 1 && len(r.Text) > 0 && r.Text[0].Key == "staff.card" {
			edits++
		}
	}
	if edits != 1 || count(h.Replies, flows.SendPhoto) != 0 {
		t.Errorf("reply from the card: %v; want the card edited once, no photo", keysOf(h.Replies))
	}
	sari.PressData(fmt.Sprintf("wk..c:%d", tk.ID)) // from a notice: already hers, refused without a card
	if count(h.Replies, flows.Edit) != 0 {
		t.Errorf("a press on a notice edited a message: %v", keysOf(h.Replies))
	}
}

// TestStaffReadsWaitingForTheCitizen: a ticket waiting for the citizen's
// answer reads "waiting for the citizen" on the card, in the queue and in
// the history, not the citizen's own "waiting for your answer" (which
// speaks to the petugas as Bapak/Ibu); the citizen keeps their wording.
func TestStaffReadsWaitingForTheCitizen(t *testing.T) {
	h := newHarness(t, flows.Config{})
	cit := onboarded(h, 500)
	sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
	tk := fileTicket(t, h, 500, "OTHER", cibinong, "Pertanyaan tentang jadwal pencairan di desa kami.")
	sari.Tap("wk", fmt.Sprintf("c:%d", tk.ID))
	sari.Tap("wk", fmt.Sprintf("a:%d", tk.ID))
	sari.Text("Mohon kirim foto KK.")
	sari.Press("ok")
	statusOf := func(m flows.Msg, arg string) string {
		s, _ := m.Args[arg].(flows.Msg)
		return s.Key
	}
	const want = "desk.status_waiting_citizen"
	card := lastSendTo(t, sari.Tap("wk", fmt.Sprintf("o:%d", tk.ID)), 601).Text[0]
	if got := statusOf(card, "Status"); got != want {
		t.Errorf("card status %q; want %q", got, want)
	}
	rs := sari.Text("/antrian")
	line, ok := findMsg(rs, "staff.queue_line")
	if !ok || statusOf(line, "Status") != want {
		t.Errorf("queue line %v; want its status %q", line, want)
	}
	mine, ok := findMsg(cit.Text("/tiket"), "mytickets.list_line")
	if !ok || statusOf(mine, "Status") != "status.waiting_citizen" {
		t.Errorf("the citizen's list line %v; want status.waiting_citizen", mine)
	}
}

// TestLowRatingSaysWhereToGo: a citizen who closes their ticket with a low
// rating (1-3) is told where to go if they disagree (SP4N-LAPOR!,
// Ombudsman), like a rejected or auto-closed ticket; a good rating is
// just thanked (issue 11 item 9).
func TestLowRatingSaysWhereToGo(t *testing.T) {
	for _, tt := range []struct {
		stars string
		want  bool
	}{{"2", true}, {"3", true}, {"5", false}} {
		h := newHarness(t, flows.Config{})
		cit := onboarded(h, 500)
		sari := addStaff(t, h, 601, "Sari", bansosbot.RoleWorker, cibinong)
		tk := fileTicket(t, h, 500, "KKS_CARD", cibinong, "Kartu KKS saya tertelan mesin ATM kemarin sore.")
		id := fmt.Sprint(tk.ID)
		sari.Tap("wk", "s:"+id)
		sari.Text("Silakan ambil kartu pengganti di kantor cabang BNI.")
		sari.Press("ok")
		rs := cit.Press("s:" + id + ":" + tt.stars)
		r := sentTo(t, rs, 500, "ct.rated")
		if got := replyHas(r, "answers.disagree"); got != tt.want {
			t.Errorf("rating %s: %v; want answers.disagree %v", tt.stars, r.Text, tt.want)
		}
		if got, _ := ticketOf(t, h, tk.ID); got.Status != bansosbot.StatusClosed {
			t.Errorf("rating %s: ticket %s; want closed", tt.stars, got.Status)
		}
	}
}
