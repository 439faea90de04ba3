package flows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
)

// Texts long enough for the default limits (20..2000 characters).
const (
	descText   = "Bantuan PKH tahap ketiga belum masuk ke rekening saya sejak Agustus."
	reasonText = "Penerima punya mobil dan rumah bertingkat, bukan keluarga miskin."
	targetText = "Pak Darto, RT 02/RW 05 dekat masjid"
)

// quiet is the test configuration: the per-minute message limit is off
// (transcripts send many inputs within the same minute; TestFloodLimit
// covers it) and a citizen may have 5 open tickets.
func quiet() flows.Config {
	return flows.Config{Limits: flows.Limits{OpenTickets: 5}}
}

// cmGolden compares the transcript with testdata/<name>.golden after
// folding the main menu's buttons into one line: other features add menu
// entries, which must not break the complaint transcripts.
func cmGolden(h *harness, name string) {
	h.t.Helper()
	lines := strings.SplitAfter(h.log.String(), "\n")
	h.log.Reset()
	inMenu := false
	for _, l := range lines {
		if strings.HasPrefix(l, "    [menu.") {
			if !inMenu {
				h.log.WriteString("    [menu …]\n")
			}
			inMenu = true
			continue
		}
		inMenu = false
		h.log.WriteString(l)
	}
	h.Golden(name)
}

// cmTickets returns the citizen's stored tickets, newest first.
func cmTickets(t *testing.T, h *harness, citizen int64) []*bansosbot.Ticket {
	t.Helper()
	var out []*bansosbot.Ticket
	if err := h.DB.View(func(tx *store.Tx) error {
		var err error
		out, err = tx.CitizenTickets(citizen)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func eventsOf(t *testing.T, h *harness, id uint64) []bansosbot.Event {
	t.Helper()
	var out []bansosbot.Event
	if err := h.DB.View(func(tx *store.Tx) error {
		var err error
		out, err = tx.Events(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func sessionOf(t *testing.T, h *harness, user int64) *bansosbot.Session {
	t.Helper()
	var s *bansosbot.Session
	if err := h.DB.View(func(tx *store.Tx) error {
		var err error
		s, err = tx.Session(user)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// lastKey is the locale key of the first text of the last input's last
// reply that has text.
func lastKeys(h *harness) []string {
	var keys []string
	for _, r := range h.Replies {
		for _, m := range r.Text {
			keys = append(keys, m.Key)
		}
	}
	return keys
}

func hasKey(h *harness, key string) bool {
	for _, k := range lastKeys(h) {
		if k == key {
			return true
		}
	}
	return false
}

// filedNo is the ticket number announced by the last input.
func filedNo(t *testing.T, h *harness) string {
	t.Helper()
	for _, r := range h.Replies {
		for _, m := range r.Text {
			if m.Key == "complaint.filed" {
				return m.Args["No"].(string)
			}
		}
	}
	t.Fatalf("no complaint.filed reply in %v", lastKeys(h))
	return ""
}

// TestReportEveryCategory files one complaint of each of the nine
// categories, each a little differently (search, photo with caption,
// location, contact, skips, English), and checks what was stored.
func TestReportEveryCategory(t *testing.T) {
	for i, cat := range bansosbot.DefaultCategories() {
		t.Run(cat.Code, func(t *testing.T) {
			h := newHarness(t, quiet())
			lang := "id"
			if cat.Code == "INFO_REQUEST" {
				lang = "en"
			}
			u := h.User(int64(200+i), lang)
			u.Onboard(lang)
			u.Text("/lapor")
			u.Press("c:" + cat.Code)
			if cat.Asks(bansosbot.FieldAnswers) {
				u.Press("ask") // the ready answers: still wants an officer
			}
			if cat.Asks(bansosbot.FieldProposed) {
				u.Press("p:other") // usul for another family
			}
			u.Text("cibinong") // one kecamatan matches: chosen directly
			u.Text("pakan")    // one village of Cibinong matches: every category asks where the citizen lives
			if cat.Asks(bansosbot.FieldHousehold) {
				u.Press("m:4")
				u.Press("w:daily")
			}
			if cat.Asks(bansosbot.FieldTarget) {
				u.Text(targetText)
			}
			if cat.Asks(bansosbot.FieldProgram) {
				u.Press("g:PKH")
			}

			if cat.Asks(bansosbot.FieldReason) {
				u.Photo(reasonText) // a caption counts as the reason; the photo is evidence
			}
			switch cat.Code {
			case "KKS_CARD":
				u.Photo("Kartu KKS saya tertelan mesin ATM di Cibinong kemarin.") // description + first photo
			default:
				u.Text(descText)
			}
			switch cat.Code {
			case "PAYMENT_NOT_RECEIVED", "INELIGIBLE_RECIPIENT":
				u.Photo("")
				u.Location(-6.48167, 106.85417)
				u.Press("done")
			default:
				u.Press("done") // skip
			}
			if cat.Code == "DATA_ERROR" || cat.Code == "INELIGIBLE_RECIPIENT" {
				u.Contact("+6281234567890", u.ID)
			} else {
				u.Press("skip")
			}
			u.Press("send")
			no := filedNo(t, h)
			cmGolden(h, "complaint_happy_"+strings.ToLower(cat.Code))

			ts := cmTickets(t, h, u.ID)
			if len(ts) != 1 {
				t.Fatalf("stored %d tickets; want 1", len(ts))
			}
			tk := ts[0]
			if string(tk.No) != no || tk.Category != cat.Code || tk.Region != "32.01.01" || tk.CitizenID != u.ID ||
				tk.CitizenLang != lang || tk.HideReporter != cat.HideReporter || tk.Status != bansosbot.StatusNew {
				t.Errorf("ticket = %+v; want no %s, category %s, region 32.01.01, citizen %d, lang %s, hide %v, status new",
					tk, no, cat.Code, u.ID, lang, cat.HideReporter)
			}
			if tk.DueResponse.IsZero() || tk.DueResolve.IsZero() || !tk.CreatedAt.Equal(epoch) {
				t.Errorf("deadlines %v / %v, created %v; want scheduled at %v", tk.DueResponse, tk.DueResolve, tk.CreatedAt, epoch)
			}
			wantPhotos := 0
			switch cat.Code {
			case "KKS_CARD", "PAYMENT_NOT_RECEIVED":
				wantPhotos = 1
			case "INELIGIBLE_RECIPIENT":
				wantPhotos = 2
			}
			if len(tk.Attachments) != wantPhotos {
				t.Errorf("attachments = %d; want %d", len(tk.Attachments), wantPhotos)
			}
			if tk.Village != "32.01.01.1007" {
				t.Errorf("village = %q; want 32.01.01.1007 (Pakansari)", tk.Village)
			}
			if cat.Asks(bansosbot.FieldReason) && tk.Extra[bansosbot.FieldReason] != reasonText {
				t.Errorf("reason = %q; want %q", tk.Extra[bansosbot.FieldReason], reasonText)
			}
			if (cat.Code == "DATA_ERROR" || cat.Code == "INELIGIBLE_RECIPIENT") != (tk.Phone == "+6281234567890") {
				t.Errorf("phone = %q", tk.Phone)
			}
			evs := eventsOf(t, h, tk.ID)
			if len(evs) != 1 || evs[0].Kind != bansosbot.EventCreated || evs[0].Role != flows.RoleCitizen || !evs[0].Public || tk.Events != 1 {
				t.Errorf("events = %+v (counter %d); want one public created event by the citizen", evs, tk.Events)
			}
			if s := sessionOf(t, h, u.ID); s.Flow != "" || len(s.Draft) != 0 {
				t.Errorf("session after filing = %+v; want no flow and no draft", s)
			}
		})
	}
}

// TestReportPagedRegions chooses the region with the paged buttons:
// provinces (page change), regency, Back, regency again, district page 2.
func TestReportPagedRegions(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(220, "id")
	u.Onboard("id")
	u.Text("/lapor")
	u.Press("c:OTHER")
	u.Press("p:1")        // provinces, page 2
	u.Press("p:0")        // and back to page 1
	u.Press("r:32")       // Jawa Barat
	u.Press("r:32.01")    // Kabupaten Bogor
	u.Press("b")          // back to the regencies of Jawa Barat
	u.Press("r:32.01")    // Kabupaten Bogor again
	u.Press("p:1")        // kecamatan page 2
	u.Press("r:32.01.13") // Bojonggede
	u.Press("b")          // back from the village to the kecamatan
	u.Press("p:1")
	u.Press("r:32.01.13")
	u.Press("r:32.01.13.2009") // desa Bojonggede
	u.Text(descText)
	u.Press("done")
	u.Press("skip")
	u.Press("send")
	cmGolden(h, "complaint_paged_regions")
	ts := cmTickets(t, h, u.ID)
	if len(ts) != 1 || ts[0].Region != "32.01.13" || ts[0].Village != "32.01.13.2009" {
		t.Fatalf("tickets = %+v; want one in 32.01.13, village 32.01.13.2009", ts)
	}
	for _, r := range h.Replies {
		if len(r.Buttons) > 8 {
			t.Errorf("a keyboard has %d rows; want at most 8", len(r.Buttons))
		}
	}
}

// cmToStep runs a fresh report of category up to state.
func cmToStep(u *user, category, state string) {
	u.Text("/lapor")
	if state == "category" {
		return
	}
	u.Press("c:" + category)
	switch state {
	case "province":
		return
	case "regency":
		u.Press("r:32")
		return
	case "district":
		u.Press("r:32")
		u.Press("r:32.01")
		return
	}
	u.Text("cibinong")
	if state == "village" {
		return
	}
	u.Text("pakansari")
	if category == "INELIGIBLE_RECIPIENT" {
		if state == "target" {
			return
		}
		u.Text(targetText)
		if state == "program" {
			return
		}
		u.Press("g:PKH")
	}
	if state == "reason" {
		return
	}
	if category == "INELIGIBLE_RECIPIENT" {
		u.Text(reasonText)
	}
	if state == "description" {
		return
	}
	u.Text(descText)
	if state == "media" {
		return
	}
	if category == "INELIGIBLE_RECIPIENT" {
		u.Photo("") // a sanggah needs a photo of the house
	}
	u.Press("done")
	if state == "phone" {
		return
	}
	u.Press("skip")
	if state == "summary" {
		return
	}
	u.Press("send") // duplicate: needs a similar ticket filed before
}

var reportSteps = []string{"category", "province", "regency", "district", "village", "target", "program", "reason", "description", "media", "phone", "summary"}

// TestReportCancelEveryStep: /batal at every step drops the draft.
func TestReportCancelEveryStep(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(221, "id")
	u.Onboard("id")
	for _, st := range reportSteps {
		h.Note("cancel at %s", st)
		cmToStep(u, "INELIGIBLE_RECIPIENT", st)
		u.Text("/batal")
		if s := sessionOf(t, h, u.ID); s.Flow != "" || len(s.Draft) != 0 {
			t.Errorf("after /batal at %s: session %+v; want no flow", st, s)
		}
	}
	h.Note("cancel at the duplicate question")
	cmToStep(u, "OTHER", "summary")
	u.Press("send")
	cmToStep(u, "OTHER", "duplicate")
	u.Text("/batal")
	h.Note("the Cancel buttons")
	cmToStep(u, "OTHER", "district")
	u.Press("x")
	cmToStep(u, "OTHER", "phone")
	u.Press("xk") // removes the contact keyboard too
	cmGolden(h, "complaint_cancel_every_step")
	if n := len(cmTickets(t, h, u.ID)); n != 1 {
		t.Errorf("tickets = %d; want only the one filed on purpose", n)
	}
}

// TestReportBadInputs sends each kind of bad input at the steps that
// expect something else; every one gets an explanation and the question
// again, and nothing is stored.
func TestReportBadInputs(t *testing.T) {
	long := strings.Repeat("panjang ", 1249) + "panjang!" // 10,000 characters
	cases := []struct {
		name  string
		steps []string
		do    func(u *user)
	}{
		{"empty", reportSteps, func(u *user) { u.Text("") }},
		{"blank", []string{"province", "reason", "description"}, func(u *user) { u.Text("   \n ") }},
		{"too_short", []string{"province", "reason", "description"}, func(u *user) { u.Text("ci") }},
		{"too_long", []string{"province", "village", "reason", "description"}, func(u *user) { u.Text(long) }},
		{"sticker", reportSteps, func(u *user) { u.Media("sticker") }},
		{"voice", reportSteps, func(u *user) { u.Media("voice") }},
		{"photo_no_caption", reportSteps, func(u *user) { u.Photo("") }},
		{"unknown_region", []string{"province", "regency", "district", "village"}, func(u *user) { u.Text("Atlantis Raya") }},
		{"text_at_buttons", []string{"category", "media", "phone", "summary"}, func(u *user) { u.Text("halo, saya mau lapor") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, quiet())
			u := h.User(222, "id")
			u.Onboard("id")
			for _, st := range tc.steps {
				h.Note("%s at %s", tc.name, st)
				cmToStep(u, "INELIGIBLE_RECIPIENT", st)
				before := sessionOf(t, h, u.ID)
				tc.do(u)
				after := sessionOf(t, h, u.ID)
				if after.Flow != "rp" || after.State != before.State {
					t.Errorf("%s at %s: state %s/%s → %s/%s; want it unchanged", tc.name, st, before.Flow, before.State, after.Flow, after.State)
				}
				if len(h.Replies) < 2 {
					t.Errorf("%s at %s: replies %v; want an explanation and the question again", tc.name, st, lastKeys(h))
				}
				u.Text("/batal")
			}
			cmGolden(h, "complaint_bad_"+tc.name)
			if n := len(cmTickets(t, h, u.ID)); n != 0 {
				t.Errorf("tickets = %d; want none", n)
			}
		})
	}
}

// TestReportRegionSearch: several matches give buttons, a typed code
// works, case and partial names are tolerated.
func TestReportRegionSearch(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(223, "id")
	u.Onboard("id")
	cmToStep(u, "OTHER", "province")
	u.Text("bogor") // Kabupaten Bogor, Kota Bogor, kecamatan Bogor ...: buttons
	u.Press("b")    // back to the plain province list
	u.Text("KAB BOGOR")
	u.Text("CIBINO") // partial, upper case: the single kecamatan
	u.Press("b")     // village → district list of Kabupaten Bogor
	u.Text("32.01.13")
	cmGolden(h, "complaint_region_search")
	s := sessionOf(t, h, u.ID)
	if s.State != "village" || !strings.Contains(string(s.Draft), `"region":"32.01.13"`) {
		t.Errorf("session = %s %s; want the village step with region 32.01.13", s.State, s.Draft)
	}
}

// TestReportStaleButtons: buttons of older prompts change nothing.
func TestReportStaleButtons(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(224, "id")
	u.Onboard("id")
	u.Text("/lapor")
	cat := h.Replies[0].Buttons[0][0].Data // NOT_REGISTERED on the first prompt
	u.Press("c:OTHER")
	prov := h.Prompt().Buttons[0][0].Data
	u.Press("r:32")
	u.PressData(cat)
	u.PressData(prov)
	u.PressData("rp.zz.r:11") // forged step
	cmGolden(h, "complaint_stale_button")
	s := sessionOf(t, h, u.ID)
	if s.State != "regency" || !strings.Contains(string(s.Draft), `"cat":"OTHER"`) {
		t.Errorf("session = %s %s; want regency of an OTHER report", s.State, s.Draft)
	}
}

// TestReportPhone accepts only the sender's own contact and removes the
// contact keyboard afterwards.
func TestReportPhone(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(225, "id")
	u.Onboard("id")
	cmToStep(u, "OTHER", "phone")
	u.Contact("+628111111111", 999) // somebody else's contact
	u.Text("081234567890")          // typed: not accepted
	u.Contact("+628222222222", u.ID)
	removed := false
	for _, r := range h.Replies {
		if r.Keyboard != nil && r.Keyboard.Remove {
			removed = true
		}
	}
	if !removed {
		t.Error("the contact keyboard was not removed after the phone was shared")
	}
	u.Press("e:phone")
	u.Press("skip") // skip at an edit clears the phone
	cmGolden(h, "complaint_phone")
	if s := sessionOf(t, h, u.ID); s.State != "summary" || strings.Contains(string(s.Draft), "phone") {
		t.Errorf("session = %s %s; want summary without phone", s.State, s.Draft)
	}
	u.Text("/batal")
	u.Contact("+628222222222", u.ID) // a stray contact after the flow ended
	if !hasKey(h, "complaint.contact_unexpected") {
		t.Errorf("stray contact: %v", lastKeys(h))
	}
}

// hasButton reports whether the chat's last keyboard has a button with
// the payload.
func hasButton(h *harness, chat int64, payload string) bool {
	for _, row := range h.keyboards[chat] {
		for _, b := range row {
			if parts := strings.SplitN(b.Data, ".", 3); len(parts) == 3 && parts[2] == payload {
				return true
			}
		}
	}
	return false
}

// TestReportEditFromSummary edits fields from the summary; switching to a
// category with extra fields asks them before returning.
func TestReportEditFromSummary(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(226, "id")
	u.Onboard("id")
	cmToStep(u, "OTHER", "summary")
	u.Press("e:description")
	u.Text("Uraian yang diperbaiki: bantuan sembako tidak pernah diterima.")
	u.Press("e:province")
	u.Press("b") // Back at the step the edit started: the summary, unchanged
	u.Press("e:province")
	u.Text("bojonggede")
	u.Text("waringin jaya") // a new kecamatan needs its village
	u.Press("e:category")
	u.Press("c:INELIGIBLE_RECIPIENT") // asks recipient, program, reason and evidence, then the summary
	u.Text(targetText)
	u.Press("g:PKH")
	u.Text(reasonText)
	u.Location(-6.5, 106.8) // the evidence step: no Done before a photo
	if hasButton(h, u.ID, "done") {
		t.Error("the evidence step offers Done without a photo")
	}
	u.Photo("")
	u.Press("done")
	u.Press("send")
	cmGolden(h, "complaint_edit")
	ts := cmTickets(t, h, u.ID)
	if len(ts) != 1 {
		t.Fatalf("tickets = %d; want 1", len(ts))
	}
	tk := ts[0]
	if tk.Category != "INELIGIBLE_RECIPIENT" || tk.Region != "32.01.13" || !strings.HasPrefix(string(tk.Village), "32.01.13.") ||
		!strings.HasPrefix(tk.Description, "Uraian yang diperbaiki") || tk.Location == nil || tk.Extra["reason"] != reasonText {
		t.Errorf("ticket = %+v", tk)
	}
}

// TestReportDraftSurvivesRestartAndIdle: a restart (a new engine on the
// same file) keeps the draft; after the idle timeout the citizen chooses to
// resume (the step is asked again) or discard.
func TestReportDraftSurvivesRestartAndIdle(t *testing.T) {
	h := newHarness(t, flows.Config{IdleTimeout: 30 * time.Minute, Limits: quiet().Limits})
	u := h.User(227, "id")
	u.Onboard("id")
	cmToStep(u, "OTHER", "description")
	h.Note("restart")
	h.Engine = flows.NewEngine(flows.Config{Now: h.Now, TicketKey: []byte("test ticket key"), IdleTimeout: 30 * time.Minute, Limits: quiet().Limits})
	h.Advance(45 * time.Minute)
	u.Text("halo")       // idle: resume or discard?
	u.Press("resume")    // the description is asked again
	u.Text(descText)     // continues where it stopped
	h.Advance(time.Hour) // idle again at the media step
	u.Location(-6.5, 106.8)
	u.Text("/lapor") // instead of answering: the draft is offered again
	h.Advance(time.Hour)
	u.Location(-6.5, 106.8)
	u.Press("discard")
	cmGolden(h, "complaint_resume")
	if s := sessionOf(t, h, u.ID); s.Flow != "" {
		t.Errorf("after discard: session %+v", s)
	}
}

// TestReportOpenTicketLimit: the per-citizen limit of open tickets is
// checked when the report starts and again on submit (nothing is written
// when refused); the draft stays.
func TestReportOpenTicketLimit(t *testing.T) {
	h := newHarness(t, flows.Config{Limits: flows.Limits{OpenTickets: 2}})
	u := h.User(228, "id")
	u.Onboard("id")
	cmToStep(u, "OTHER", "summary")
	u.Press("send")
	cmToStep(u, "DATA_ERROR", "summary") // the draft of a second one waits at its summary
	h.Note("meanwhile a second ticket is filed (e.g. from another device)")
	cmSeedTicket(t, h, u.ID, nil)
	u.Press("send") // refused: two open tickets
	if n := len(cmTickets(t, h, u.ID)); n != 2 {
		t.Fatalf("tickets after refused submit = %d; want 2", n)
	}
	if s := sessionOf(t, h, u.ID); s.State != "summary" {
		t.Errorf("draft after refusal: %s; want kept at the summary", s.State)
	}
	u.Text("/lapor") // the open draft is offered again, not dropped
	u.Text("/batal")
	u.Text("/lapor") // refused at once
	cmGolden(h, "complaint_limit")
	if s := sessionOf(t, h, u.ID); s.Flow != "" {
		t.Errorf("a report started over the limit: %+v", s)
	}
}

// TestReportFilingLimitCountsWithdrawn: withdrawing and filing again does
// not get round the open-tickets limit: the daily filing cap counts
// withdrawn tickets, refuses in the citizen's language with the time to
// come back, and lets them file again 24 hours after the first filing
// (issue 10 item 15).
func TestReportFilingLimitCountsWithdrawn(t *testing.T) {
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, flows.Config{Limits: flows.Limits{OpenTickets: 1, FilingsPerDay: 3}})
			u := h.User(231, lang)
			u.Onboard(lang)
			for i := range 3 {
				cmToStep(u, "OTHER", "summary")
				u.Press("send")
				ts := cmTickets(t, h, u.ID)
				if len(ts) != i+1 {
					t.Fatalf("filing %d: %d tickets; want %d", i+1, len(ts), i+1)
				}
				id := ticketID(ts[0].ID)
				u.Text(map[string]string{"id": "/tiket", "en": "/tickets"}[lang])
				u.Press("o:" + id)
				u.Press("w:" + id)
				u.Press("wy:" + id)
				if st := cmTickets(t, h, u.ID)[0].Status; st != bansosbot.StatusWithdrawn {
					t.Fatalf("filing %d: status %s after withdrawal; want withdrawn", i+1, st)
				}
				h.Advance(10 * time.Minute)
			}
			h.log.Reset()
			h.Note("three complaints filed and withdrawn within half an hour: no ticket is open")
			u.Text(map[string]string{"id": "/lapor", "en": "/report"}[lang]) // refused at once
			if s := sessionOf(t, h, u.ID); s.Flow != "" {
				t.Errorf("a report started over the daily cap: %+v", s)
			}
			h.Advance(24*time.Hour - 30*time.Minute + time.Minute)
			h.Note("24 hours after the first filing")
			u.Text(map[string]string{"id": "/lapor", "en": "/report"}[lang]) // a report starts again
			cmGolden(h, "complaint_filing_limit_"+lang)
			if n := len(cmTickets(t, h, u.ID)); n != 3 {
				t.Errorf("tickets = %d; want 3", n)
			}
			if s := sessionOf(t, h, u.ID); s.Flow == "" {
				t.Errorf("no report started once the first filing is 24 hours old")
			}
		})
	}
	// The refusal as the citizen reads it.
	cat := locales.MustDefault()
	for lang, want := range map[string][]string{"id": {"Bapak/Ibu", "3 pengaduan", "dibatalkan", "RETRY"}, "en": {"3 complaints", "withdrawn", "RETRY"}} {
		got := cat.Text(lang, "complaint.filing_limit", map[string]any{"Max": 3, "Retry": "RETRY"})
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s refusal %q; want it to contain %q", lang, got, w)
			}
		}
	}
}

// TestReportDuplicate asks before filing a second ticket of the same
// category and region within 24 hours.
func TestReportDuplicate(t *testing.T) {
	h := newHarness(t, quiet())
	u := h.User(229, "id")
	u.Onboard("id")
	cmToStep(u, "PAYMENT_NOT_RECEIVED", "summary")
	u.Press("send")
	h.Advance(2 * time.Hour)
	cmToStep(u, "PAYMENT_NOT_RECEIVED", "summary")
	u.Press("send") // similar: asks
	if n := len(cmTickets(t, h, u.ID)); n != 1 {
		t.Fatalf("tickets after the duplicate question = %d; want 1", n)
	}
	u.Press("b")    // back to the summary
	u.Press("send") // asks again
	u.Press("send") // file anyway
	if n := len(cmTickets(t, h, u.ID)); n != 2 {
		t.Fatalf("tickets after 'file anyway' = %d; want 2", n)
	}
	h.Advance(25 * time.Hour)
	cmToStep(u, "PAYMENT_NOT_RECEIVED", "summary")
	u.Press("send") // a day later: not a duplicate any more
	cmGolden(h, "complaint_duplicate")
	if n := len(cmTickets(t, h, u.ID)); n != 3 {
		t.Fatalf("tickets = %d; want 3", n)
	}
}

// cmSeedTicket stores a ticket of the citizen directly (a created event, as
// the report flow writes it); mutate may change it before it is stored.
func cmSeedTicket(t *testing.T, h *harness, citizen int64, mutate func(*bansosbot.Ticket)) *bansosbot.Ticket {
	t.Helper()
	var tk *bansosbot.Ticket
	err := h.DB.Update(func(tx *store.Tx) error {
		seq, err := tx.NextTicketSeq()
		if err != nil {
			return err
		}
		now := h.Now()
		tk = &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("test ticket key")), Category: "OTHER",
			Region: "32.01.01", Description: fmt.Sprintf("Seeded ticket %d for the tests.", seq), CitizenID: citizen,
			Status: bansosbot.StatusNew, CreatedAt: now, UpdatedAt: now, DueResponse: now.AddDate(0, 0, 3), DueResolve: now.AddDate(0, 0, 60)}
		if _, err := tx.AppendEvent(tk, bansosbot.Event{At: now, Actor: citizen, Role: flows.RoleCitizen, Kind: bansosbot.EventCreated,
			To: bansosbot.StatusNew, Public: true}); err != nil {
			return err
		}
		if mutate != nil {
			mutate(tk)
		}
		return tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}
