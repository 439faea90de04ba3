package flows_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

var _ flows.Store = (*store.Tx)(nil)

func TestOnboardingGolden(t *testing.T) {
	h := newHarness(t, flows.Config{})
	u := h.User(100, "id")
	u.Text("halo")      // before consent: the notice
	u.Press("lang:en")  // switch the notice to English: the language chosen once
	u.Press("yes")      // agree: thanks and the menu in English, no second language question
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
		// Only the mark that they declined, and the notice's language.
		if p != nil || s.Flow != "cs" || s.State != "declined" || len(s.Draft) > len(`{"lang":"en"}`) || len(s.Held) != 0 {
			t.Errorf("after decline: profile %+v, session %+v; want no profile and only the declined mark", p, s)
		}
		return nil
	})
}

// TestDeclinedThenReport: a citizen who declined and then tries /lapor,
// /cek, a text or a menu button is asked to agree first with one button,
// not shown the whole notice again; the notice is a button away; agreeing
// then takes them to the menu in the language they chose on the notice.
func TestDeclinedThenReport(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, flows.Config{})
			u := h.User(111, "id")
			u.Text("/start")
			if lang == "en" {
				u.Press("lang:en")
			}
			u.Press("no")
			for _, r := range u.Text("/lapor") {
				if replyHas(r, "consent.notice") || !replyHas(r, "consent.agree_first") {
					t.Errorf("/lapor after declining: %s; want consent.agree_first only", FormatReply(r))
				}
			}
			u.Text("halo")
			u.Press("read") // the whole notice, on request
			u.Press("no")
			u.Text("/start")
			u.Press("yes")
			u.Text("/lapor")
			h.Golden("consent_declined_then_report_" + lang)
			h.DB.View(func(tx *store.Tx) error {
				if p, _ := tx.Profile(111); !p.Consented() || p.Lang != lang {
					t.Errorf("profile = %+v; want consent in %s", p, lang)
				}
				return nil
			})
		})
	}
}

// TestPrivacyNoticeNamesController: the notice names the configured
// controller, its address and contact, and says the retention in words.
func TestPrivacyNoticeNamesController(t *testing.T) {
	for _, tt := range []struct {
		retention time.Duration
		key       string
		count     int
	}{
		{0, "consent.retention_years", 1}, // the default, 365 days
		{730 * 24 * time.Hour, "consent.retention_years", 2},
		{180 * 24 * time.Hour, "consent.retention_months", 6},
		{45 * 24 * time.Hour, "consent.retention_days", 45},
		{-1, "consent.retention_off", 0},
	} {
		h := newHarness(t, flows.Config{Retention: tt.retention, Controller: flows.Controller{
			Name: "Dinas Sosial Kabupaten Bogor", Address: "Jl. Tegar Beriman No. 1, Cibinong", Contact: "0251-123456"}})
		u := h.User(112, "id")
		rs := u.Text("/start")
		if len(rs) != 1 || len(rs[0].Text) != 1 || rs[0].Text[0].Key != "consent.notice" {
			t.Fatalf("/start = %v; want the notice", rs)
		}
		args := rs[0].Text[0].Args
		if args["Controller"] != "Dinas Sosial Kabupaten Bogor" || args["Address"] != "Jl. Tegar Beriman No. 1, Cibinong" || args["Contact"] != "0251-123456" {
			t.Errorf("notice args = %v; want the configured controller", args)
		}
		ret, _ := args["Retention"].(flows.Msg)
		if ret.Key != tt.key || tt.count != 0 && ret.Args["Count"] != tt.count {
			t.Errorf("retention %v: %s; want %s Count=%d", tt.retention, FormatMsg(ret), tt.key, tt.count)
		}
		if tt.retention == 0 {
			h.Golden("privacy_notice_controller")
		}
	}
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
	u.Onboard("id") // 2 inputs
	u.Text("nol")   // 3rd
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
	cmSeedTicket(t, h, 105, func(tk *bansosbot.Ticket) {
		tk.Description, tk.Phone = "Bantuan PKH bulan Oktober belum diterima di rumah kami.", "+6281299998888"
		tk.Location = &bansosbot.Location{Lat: -6.5, Lon: 106.8}
		tk.Attachments = []bansosbot.Attachment{{FileID: "f1", FileUniqueID: "u1"}, {FileID: "f2", FileUniqueID: "u2"}, {FileID: "s1", FileUniqueID: "s1", ByStaff: true}}
	})
	rs := u.Text("/datasaya") // the ticket's contents, phone, location and photo count
	if m, ok := findMsg(rs, "privacy.mydata_ticket"); !ok || m.Args["Phone"] != "+6281299998888" || m.Args["Location"] != true || m.Args["Photos"] != 2 ||
		!strings.Contains(m.Args["Description"].(string), "PKH bulan Oktober") {
		t.Errorf("/datasaya ticket line = %+v; want description, phone, location and 2 photos", m)
	}
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

// TestGroupFloodAnsweredOncePerInterval: commands typed in groups get the
// "private chats only" notice at most once per interval per group and per
// user, so that a busy group cannot fill the outbox (it drains at 20 a
// minute); a NIK typed there is deleted whatever the limit (issue 10 item 5).
func TestGroupFloodAnsweredOncePerInterval(t *testing.T) {
	h := newHarness(t, flows.Config{})
	notices := func(replies []flows.Reply) (n int) {
		for _, r := range replies {
			if r.Action != flows.Delete {
				n++
			}
		}
		return n
	}
	send := func(user int64, chat int64, msgID int, cmd, args string) []flows.Reply {
		text := strings.TrimSpace(cmd + " " + args)
		in := flows.Input{UserID: user, ChatID: chat, ChatType: "supergroup", MessageID: msgID, Command: cmd, Args: args, Text: text}
		return h.Do(in, fmt.Sprintf("group %d user %d %s", chat, user, cmd))
	}
	// 200 members of one group type commands within a minute: one notice.
	total := 0
	for i := range 200 {
		total += notices(send(int64(1000+i), -5001, i+1, []string{"/start", "/cek", "/lapor", "/help"}[i%4], ""))
	}
	if total != 1 {
		t.Errorf("notices to a group flooded by 200 commands = %d; want 1", total)
	}
	// One user in 50 groups: one notice as well.
	total = 0
	for g := range 50 {
		total += notices(send(2000, int64(-6000-g), 1, "/start", ""))
	}
	if total != 1 {
		t.Errorf("notices to one user across 50 groups = %d; want 1", total)
	}
	// Over the limit, a NIK is still deleted from the group, and nothing else is sent.
	if r := send(1001, -5001, 900, "/cek", "3201010101010001"); !deleted(r, 900) || notices(r) != 0 {
		t.Errorf("/cek NIK in a group over the limit: %+v; want the message deleted and no notice", r)
	}
	// An interval later the group (and a user who was not answered) hears it again.
	h.Advance(time.Minute + time.Second)
	if n := notices(send(1002, -5001, 901, "/start", "")); n != 1 {
		t.Errorf("notices a minute later = %d; want 1", n)
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
	raw, err := storeBytes(h.DB)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, "6281299998888", "AgACAgPHOTO"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the store file still holds %q", s)
		}
	}
}

// findMsg finds the first message with the key among the replies.
func findMsg(rs []flows.Reply, key string) (flows.Msg, bool) {
	for _, r := range rs {
		for _, m := range r.Text {
			if m.Key == key {
				return m, true
			}
		}
	}
	return flows.Msg{}, false
}
