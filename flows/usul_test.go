package flows_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
)

// Tests of the categories with their own questions (issue 11 items 5-7,
// 9): usul, sanggah, PBI-JK reactivation, ready answers for information
// requests.

// TestPBIReactivation files a "BPJS PBI nonaktif" complaint in both
// languages: its own explanation and question, and its own policy (a
// first response within 1 working day, settled within 14 calendar days).
func TestPBIReactivation(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, quiet())
			u := h.User(701, lang)
			u.Onboard(lang)
			u.Text("/lapor")
			u.Press("c:PBI_REACTIVATION")
			if !hasKey(h, "pbi.intro") {
				t.Errorf("choosing the category: %v; want pbi.intro", lastKeys(h))
			}
			u.Text("cibinong")
			u.Text("pakan")
			for _, k := range []string{"pbi.ask_description"} {
				if !hasKey(h, k) {
					t.Errorf("after the region: %v; want %s", lastKeys(h), k)
				}
			}
			desc := "Kartu BPJS ibu saya nonaktif sejak Oktober, beliau perlu cuci darah."
			if lang == "en" {
				desc = "My mother's BPJS card is inactive since October; she needs dialysis."
			}
			u.Text(desc)
			u.Press("done")
			u.Press("skip")
			u.Press("send")
			if !hasKey(h, "pbi.after") {
				t.Errorf("filing: %v; want pbi.after", lastKeys(h))
			}
			cmGolden(h, "pbi_reactivation_"+lang)
			ts := cmTickets(t, h, u.ID)
			if len(ts) != 1 {
				t.Fatalf("tickets = %d; want 1", len(ts))
			}
			tk := ts[0]
			// Filed Thursday 26 November 10:00 WIB: one working day is
			// Friday 10:00; 14 calendar days is 10 December.
			wantResp := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
			wantRes := time.Date(2026, 12, 10, 3, 0, 0, 0, time.UTC)
			if tk.Category != "PBI_REACTIVATION" || !tk.DueResponse.Equal(wantResp) || !tk.DueResolve.Equal(wantRes) {
				t.Errorf("ticket %s due %v / %v; want PBI_REACTIVATION due %v / %v", tk.Category, tk.DueResponse, tk.DueResolve, wantResp, wantRes)
			}
		})
	}
}

// TestCategoryPoliciesDiffer: the same filing time gives the default,
// sanggah and pbi deadlines their own dates, so a policy mix-up fails.
func TestCategoryPoliciesDiffer(t *testing.T) {
	h := newHarness(t, quiet())
	due := map[string][2]time.Time{}
	for i, code := range []string{"OTHER", "INELIGIBLE_RECIPIENT", "PBI_REACTIVATION"} {
		tk := fileTicket(t, h, int64(710+i), code, "32.01.01", "Uraian yang cukup panjang untuk tiket uji.")
		due[code] = [2]time.Time{tk.DueResponse, tk.DueResolve}
	}
	day := 24 * time.Hour
	want := map[string][2]time.Time{
		"OTHER":                {time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), epoch.Add(60 * day)},
		"INELIGIBLE_RECIPIENT": {time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), epoch.Add(14 * day)},
		"PBI_REACTIVATION":     {time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), epoch.Add(14 * day)},
	}
	for code, w := range want {
		if g := due[code]; !g[0].Equal(w[0]) || !g[1].Equal(w[1]) {
			t.Errorf("%s: due %v / %v; want %v / %v", code, g[0], g[1], w[0], w[1])
		}
	}
	_ = bansosbot.PhaseResponse
}

// TestUsulAnotherFamily: a citizen proposes another family (who, where
// that family lives, the household, what happens next); the worker of
// that kecamatan ticks the usul checklist and records the official
// proposal's outcome, which the citizen hears of. In both languages.
func TestUsulAnotherFamily(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, quiet())
			wati := addStaff(t, h, 501, "Wati", bansosbot.RoleWorker, cibinong)
			u := h.User(720, lang)
			u.Onboard(lang)
			u.Text("/lapor")
			u.Press("c:NOT_REGISTERED")
			if !hasKey(h, "usul.intro") || !hasKey(h, "usul.ask_proposed") {
				t.Fatalf("choosing usul: %v; want what happens, then whom it is for", lastKeys(h))
			}
			u.Press("p:other")
			if !hasKey(h, "usul.ask_province_other") {
				t.Errorf("after 'another family': %v; want where that family lives", lastKeys(h))
			}
			u.Text("cibinong")
			u.Text("pakan")
			u.Press("m:8") // 8 or more
			u.Press("w:farm")
			desc := "Bu Sumiati, RT 01/RW 04, janda dengan tiga anak, rumah bilik bambu, buruh tani."
			if lang == "en" {
				desc = "Mrs Sumiati, RT 01/RW 04, a widow with three children in a bamboo house, farm labourer."
			}
			u.Text(desc)
			u.Photo("") // the house
			u.Press("done")
			u.Press("skip")
			u.Press("send")
			if !hasKey(h, "usul.after") {
				t.Errorf("filing: %v; want the next steps", lastKeys(h))
			}
			tk := cmTickets(t, h, u.ID)[0]
			if tk.Extra["proposed"] != "other" || tk.Extra["members"] != "8" || tk.Extra["work"] != "farm" || tk.Village != "32.01.01.1007" {
				t.Errorf("ticket extra %v village %s; want other, 8, farm in Pakansari", tk.Extra, tk.Village)
			}
			id := fmt.Sprint(tk.ID)

			h.Note("the worker of the family's kecamatan")
			wati.Tap("wk", "o:"+id)
			card := sentTo(t, h.Replies, 501, "staff.card")
			if !replyHas(card, "usul.staff.card_household") || !replyHas(card, "usul.staff.card_checklist") || !buttonIn(card, "u:"+id+":k") {
				t.Errorf("card %v; want the household, the checklist count and its button", card)
			}
			wati.Tap("wk", "c:"+id+":k") // claim
			wati.Tap("wk", "u:"+id+":k") // the checklist, in place of the card
			wati.Tap("wk", "u:"+id+":ktp")
			wati.Tap("wk", "u:"+id+":kk")
			wati.Tap("wk", "u:"+id+":house")
			wati.Tap("wk", "u:"+id+":ktp") // untick
			wati.Tap("wk", "o:"+id+":k")   // back to the card
			wati.Tap("wk", "v:"+id+":k")   // the outcomes
			wati.Tap("wk", "v:"+id+":filed_desa")
			sentTo(t, h.Replies, u.ID, "usul.citizen_outcome")
			h.Advance(40 * 24 * time.Hour)
			wati.Tap("wk", "v:"+id+":accepted") // months later: also on a ticket no longer new
			u.Text("/tiket")
			u.Press("o:" + id)
			cmGolden(h, "usul_other_family_"+lang)

			got, evs := ticketOf(t, h, tk.ID)
			if got.Usul == nil || !slices.Equal(got.Usul.Checked, []string{"kk", "house"}) || got.Usul.Outcome != "accepted" || got.Usul.OutcomeBy != 501 {
				t.Errorf("usul record %+v; want kk and house checked, accepted by 501", got.Usul)
			}
			var checks, outcomes int
			for _, ev := range evs {
				switch ev.Kind {
				case bansosbot.EventChecklist:
					checks++
					if ev.Public {
						t.Error("a checklist event is public")
					}
				case bansosbot.EventOutcome:
					outcomes++
					if !ev.Public {
						t.Error("an outcome event is not public")
					}
				}
			}
			if checks != 4 || outcomes != 2 {
				t.Errorf("history: %d checklist and %d outcome events; want 4 and 2", checks, outcomes)
			}
			var audited []string
			for _, a := range auditTicket(t, h, tk.ID) {
				if a.Action == bansosbot.AuditChecklist || a.Action == bansosbot.AuditOutcome {
					audited = append(audited, a.Action+":"+a.Reason)
				}
			}
			want := []string{"usul_checklist:ktp=on", "usul_checklist:kk=on", "usul_checklist:house=on", "usul_checklist:ktp=off",
				"usul_outcome:filed_desa", "usul_outcome:accepted"}
			if !slices.Equal(audited, want) {
				t.Errorf("audit = %v; want %v", audited, want)
			}
		})
	}
}

// TestUsulRecordRefused: the usul buttons are refused (and audited) for a
// worker of another kecamatan, for another worker's ticket, for a ticket
// that is not an usul, and with an unknown item or outcome; nothing
// changes.
func TestUsulRecordRefused(t *testing.T) {
	h := newHarness(t, quiet())
	wati := addStaff(t, h, 501, "Wati", bansosbot.RoleWorker, cibinong)
	budi := addStaff(t, h, 502, "Budi", bansosbot.RoleWorker, gunungputri)
	sari := addStaff(t, h, 503, "Sari", bansosbot.RoleWorker, cibinong)
	usul := fileTicket(t, h, 730, "NOT_REGISTERED", cibinong, "Usulan untuk keluarga tetangga kami yang miskin.")
	other := fileTicket(t, h, 731, "OTHER", cibinong, "Pertanyaan tentang jadwal pencairan di desa kami.")
	u, o := fmt.Sprint(usul.ID), fmt.Sprint(other.ID)
	wati.Tap("wk", "c:"+u) // Wati's now
	for _, tc := range []struct {
		who  *user
		data string
	}{
		{budi, "u:" + u + ":ktp"},       // another kecamatan
		{budi, "v:" + u + ":accepted"},  // another kecamatan
		{sari, "v:" + u + ":accepted"},  // Wati's ticket
		{wati, "u:" + o + ":ktp"},       // not an usul
		{wati, "v:" + o + ":filed_app"}, // not an usul
		{wati, "u:" + u + ":passport"},  // no such item
		{wati, "v:" + u + ":approved"},  // no such outcome
		{wati, "v:999:accepted"},        // no such ticket
	} {
		tc.who.Tap("wk", tc.data)
		if len(h.Replies) == 0 || h.Replies[0].Action != flows.AnswerCallback || !h.Replies[0].Alert {
			t.Errorf("%d %s: replies %v; want a refusal alert", tc.who.ID, tc.data, keysOf(h.Replies))
		}
	}
	got, _ := ticketOf(t, h, usul.ID)
	if got.Usul != nil {
		t.Errorf("usul record %+v after refused presses; want none", got.Usul)
	}
	refused := 0
	for _, id := range []int64{501, 502, 503} {
		for _, a := range auditOf(t, h, id) {
			if !a.Allowed && (a.Action == bansosbot.AuditChecklist || a.Action == bansosbot.AuditOutcome) {
				refused++
			}
		}
	}
	if refused != 8 { // every refused press, the unknown ticket too
		t.Errorf("refused usul actions audited: %d; want 8", refused)
	}
}

func replyHas(r flows.Reply, key string) bool {
	for _, m := range r.Text {
		if m.Key == key {
			return true
		}
	}
	return false
}

func buttonIn(r flows.Reply, payload string) bool {
	for _, row := range r.Buttons {
		for _, b := range row {
			if strings.HasSuffix(b.Data, "."+payload) {
				return true
			}
		}
	}
	return false
}

// TestSanggahWithEvidence: an objection names the recipient, where they
// live, the program and the reason; a photo of the house is required
// (Done is offered only once there is one) and the location is kept; the
// reporter is told who sees their identity; the sanggah policy gives 14
// calendar days. The worker's card shows the recipient and the evidence.
func TestSanggahWithEvidence(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, quiet())
			wati := addStaff(t, h, 501, "Wati", bansosbot.RoleWorker, cibinong)
			u := h.User(740, lang)
			u.Onboard(lang)
			u.Text("/lapor")
			u.Press("c:INELIGIBLE_RECIPIENT")
			if !hasKey(h, "sanggah.intro") || !hasKey(h, "sanggah.ask_province") {
				t.Fatalf("choosing sanggah: %v; want the explanation and where the recipient lives", lastKeys(h))
			}
			u.Text("cibinong")
			u.Text("pakan")
			u.Text("Pak Darto, RT 02/RW 05 dekat masjid")
			u.Press("g:SEMBAKO")
			reason, desc := "Pak Darto punya dua mobil dan toko bangunan.", "Saya tetangganya, rumahnya bertingkat sejak tahun lalu."
			if lang == "en" {
				reason, desc = "Mr Darto owns two cars and a building-supply shop.", "I am his neighbour; his house has had two floors since last year."
			}
			u.Text(reason)
			u.Text(desc)
			if !hasKey(h, "sanggah.ask_evidence") || hasButton(h, u.ID, "done") {
				t.Errorf("evidence step: %v, done offered %v; want the house photo asked without Done", lastKeys(h), hasButton(h, u.ID, "done"))
			}
			u.Location(-6.48167, 106.85417)
			u.Photo("")
			u.Press("done")
			u.Press("skip")
			if !hasKey(h, "sanggah.identity") {
				t.Errorf("summary: %v; want who sees the reporter's identity", lastKeys(h))
			}
			u.Press("send")
			if !hasKey(h, "sanggah.identity") || !hasKey(h, "sanggah.after") {
				t.Errorf("filing: %v; want the identity sentence and what happens next", lastKeys(h))
			}
			tk := cmTickets(t, h, u.ID)[0]
			if tk.Extra["target"] != "Pak Darto, RT 02/RW 05 dekat masjid" || tk.Extra["program"] != "SEMBAKO" || tk.Extra["reason"] != reason ||
				len(tk.Attachments) != 1 || tk.Location == nil || !tk.DueResolve.Equal(epoch.Add(14*24*time.Hour)) {
				t.Errorf("ticket extra %v, %d photos, location %v, due %v; want recipient, SEMBAKO, reason, 1 photo, a location, 14 days",
					tk.Extra, len(tk.Attachments), tk.Location, tk.DueResolve)
			}
			wati.Tap("wk", fmt.Sprint("o:", tk.ID))
			card := sentTo(t, h.Replies, 501, "staff.card")
			if !replyHas(card, "sanggah.staff.card_target") || !replyHas(card, "nextsteps.card_program") || !replyHas(card, "staff.card_reason") || buttonIn(card, fmt.Sprint("u:", tk.ID, ":k")) {
				t.Errorf("card %v; want the recipient, program and reason, and no usul checklist", card)
			}
			cmGolden(h, "sanggah_evidence_"+lang)
		})
	}
}

// TestReadyAnswers: an information request first offers the configured
// answers. Accepting one files nothing; "still want an officer" goes on
// to a ticket. A rejected ticket tells the citizen where to go when they
// disagree. In both languages.
func TestReadyAnswers(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, quiet())
			wati := addStaff(t, h, 501, "Wati", bansosbot.RoleWorker, cibinong)
			u := h.User(750, lang)
			u.Onboard(lang)

			h.Note("the answer is enough: no ticket")
			u.Text("/lapor")
			u.Press("c:INFO_REQUEST")
			if !hasKey(h, "answers.ask") || !hasButton(h, u.ID, "t:pay") || !hasButton(h, u.ID, "t:free") || !hasButton(h, u.ID, "ask") {
				t.Fatalf("information request: %v; want the topics and 'still ask'", lastKeys(h))
			}
			u.Press("t:pay")
			u.Press("list") // other topics
			u.Press("t:free")
			if !hasKey(h, "answers.answer") {
				t.Errorf("topic: %v; want the answer", lastKeys(h))
			}
			u.Press("ok")
			if !hasKey(h, "answers.thanks") {
				t.Errorf("accepted: %v; want answers.thanks", lastKeys(h))
			}
			if n := len(cmTickets(t, h, u.ID)); n != 0 {
				t.Fatalf("tickets after an accepted answer = %d; want 0", n)
			}
			if s := sessionOf(t, h, u.ID); s.Flow != "" {
				t.Errorf("session %s/%s after an accepted answer; want none", s.Flow, s.State)
			}

			h.Note("still wants an officer: the complaint goes on")
			u.Text("/lapor")
			u.Press("c:INFO_REQUEST")
			u.Press("t:require")
			u.Press("ask")
			if !hasKey(h, "residence.ask_province") {
				t.Errorf("still ask: %v; want the region asked", lastKeys(h))
			}
			u.Press("b") // Back: the topics again
			u.Press("ask")
			u.Text("cibinong")
			u.Text("pakan")
			q := "Kapan bantuan PKH tahap empat tahun ini dibayar di desa kami?"
			if lang == "en" {
				q = "When is the fourth PKH stage of this year paid in our village?"
			}
			u.Text(q)
			u.Press("done")
			u.Press("skip")
			u.Press("send")
			ts := cmTickets(t, h, u.ID)
			if len(ts) != 1 || ts[0].Category != "INFO_REQUEST" {
				t.Fatalf("tickets = %+v; want one INFO_REQUEST", ts)
			}

			h.Note("a rejected ticket says where to go on disagreement")
			id := fmt.Sprint(ts[0].ID)
			wati.Tap("wk", "j:"+id)
			wati.Press("duplicate")
			wati.Text("Pertanyaan ini sudah dijawab di tiket lain yang sama.")
			wati.Press("ok")
			r := sentTo(t, h.Replies, u.ID, "ct.rejected")
			if !replyHas(r, "answers.disagree") {
				t.Errorf("rejection to the citizen %v; want answers.disagree", r.Text)
			}
			cmGolden(h, "ready_answers_"+lang)
		})
	}
}

// TestCategoryStepsBackAndEdit walks Back through every step of an usul
// and a sanggah, and uses every edit button of their summaries: each move
// is a legal transition of the report table (an illegal one would abort
// the input with an internal error) and lands where it should.
func TestCategoryStepsBackAndEdit(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(760, "id")
	u.Onboard("id")
	state := func() string { return sessionOf(t, h, u.ID).State }
	expect := func(want string) {
		t.Helper()
		if got := state(); got != want {
			t.Fatalf("state %s; want %s (replies %v)", got, want, lastKeys(h))
		}
	}

	h.Note("usul: Back from the description to the category")
	u.Text("/lapor")
	u.Press("c:NOT_REGISTERED")
	u.Press("p:self")
	u.Text("cibinong")
	u.Text("pakan")
	u.Press("m:2")
	u.Press("w:none")
	expect("description")
	for _, want := range []string{"work", "members", "village", "district", "regency", "province", "proposed", "category"} {
		u.Press("b")
		expect(want)
	}
	h.Note("usul: the summary's edit buttons")
	u.Press("c:NOT_REGISTERED")
	u.Press("p:self")
	u.Text("cibinong")
	u.Text("pakan")
	u.Press("m:2")
	u.Press("w:none")
	u.Text(descText)
	u.Press("done")
	u.Press("skip")
	expect("summary")
	u.Press("e:proposed")
	u.Press("b") // Back at the step the edit started: the summary
	expect("summary")
	u.Press("e:proposed")
	u.Press("p:other")
	expect("summary")
	u.Press("e:members") // the household as a whole: members, then work
	u.Press("m:6")
	expect("work")
	u.Press("b") // back to members, still editing
	expect("members")
	u.Press("m:7")
	u.Press("w:trade")
	expect("summary")
	h.Note("usul → sanggah from the summary: the new questions are asked, then the summary")
	u.Press("e:category")
	u.Press("c:INELIGIBLE_RECIPIENT")
	expect("target")
	u.Text("Bu Rina, RT 03/RW 01")
	expect("program")
	u.Press("g:unknown")
	expect("reason")
	u.Text(reasonText)
	expect("media") // a photo is required
	u.Photo("")
	u.Press("done")
	expect("summary")
	if !hasKey(h, "sanggah.identity") {
		t.Errorf("sanggah summary: %v; want the identity sentence", lastKeys(h))
	}
	for _, e := range []string{"target", "program"} {
		u.Press("e:" + e)
		expect(e)
		u.Press("b")
		expect("summary")
	}
	h.Note("sanggah: Back from the summary to the category")
	for _, want := range []string{"phone", "media", "description", "reason", "program", "target", "village", "district", "regency", "province", "category"} {
		u.Press("b")
		expect(want)
	}
	cmGolden(h, "category_steps_back_edit")
	s := sessionOf(t, h, u.ID)
	if strings.Contains(string(s.Draft), `"proposed"`) || strings.Contains(string(s.Draft), `"members"`) || !strings.Contains(string(s.Draft), `"target"`) {
		t.Errorf("draft %s keeps the usul answers after the category changed", s.Draft)
	}
}

// TestUsulOtherFamilyFromCheck: the usul button of a /cek answer, for
// another family: the NIK's district is offered as where that family
// lives, in words about them, not the citizen.
func TestUsulOtherFamilyFromCheck(t *testing.T) {
	h := newHarness(t, ckConfig())
	ckImport(t, h.DB, ckRegistry)
	u := h.User(770, "id")
	u.Onboard("id")
	u.Text("/cek")
	u.sendText(ckUnknown, 3)
	u.Text("Budi Santoso")
	u.Press("rp:320101")
	if !hasKey(h, "usul.intro") || !hasKey(h, "usul.ask_proposed") {
		t.Fatalf("usul from /cek: %v; want what happens and whom it is for", lastKeys(h))
	}
	u.Press("p:other")
	if !hasKey(h, "usul.ask_province_other") || !hasKey(h, "usul.suggest_other") || hasKey(h, "residence.suggest") {
		t.Errorf("another family: %v; want the family's residence with the NIK's district suggested about them", lastKeys(h))
	}
	u.Press("r:32.01.01")
	if !hasKey(h, "complaint.ask_village") {
		t.Errorf("after the suggestion: %v; want the village", lastKeys(h))
	}
}
