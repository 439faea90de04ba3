package flows

import (
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// Names of the complaint flows.
const (
	reportFlow  = "rp" // filing a complaint (/lapor)
	ticketsFlow = "tk" // the citizen's tickets (/tiket)
)

// registerComplaints adds the complaint conversation (/lapor) and the
// citizen's ticket views (/tiket).
func (e *Engine) registerComplaints() {
	tk := tickets{descMax: e.cfg.DescriptionMax, cat: e.cat, sla: e.sla, routes: e.routes, menu: e.menu}
	e.addFlow(e.report)
	e.addFlow(tk)
	e.addCommand(Command{ID: "report", Names: map[string]string{"id": "lapor", "en": "report"}, Desc: "cmd.report", Consent: true,
		Run: func(c *Conv) error { return c.Start(reportFlow) }})
	e.addCommand(Command{ID: "tickets", Names: map[string]string{"id": "tiket", "en": "tickets"}, Desc: "cmd.tickets", Consent: true,
		Run: tk.Start})
	e.idle = append(e.idle, e.report.strayContact, tk.offerToWaitingTicket)
	regionsAbove(e.cfg.Regions) // build the search index now, not inside a citizen's transaction
}

// States of the report conversation, in the order they are asked.
const (
	rsCategory    = "category"
	rsProvince    = "province"
	rsRegency     = "regency"
	rsDistrict    = "district"
	rsVillage     = "village" // categories asking bansosbot.FieldVillage
	rsReason      = "reason"  // categories asking bansosbot.FieldReason
	rsDescription = "description"
	rsMedia       = "media" // photos and location
	rsPhone       = "phone"
	rsSummary     = "summary"
	rsDuplicate   = "duplicate" // "a similar ticket exists: file anyway?"
)

// reportMachine is the report conversation's transition table. Events are
// named after the state they lead to ("to_district"); the sources list
// every legal way in: forward, Back, a region search that jumps levels, and
// the summary's edit buttons (editing returns to the summary or to the
// first required field still empty).
var reportMachine = NewMachine("report", append(fsm.Events{
	{Name: "to_" + rsCategory, Src: []string{rsProvince, rsSummary}, Dst: rsCategory},
	{Name: "to_" + rsProvince, Src: []string{rsCategory, rsRegency, rsSummary}, Dst: rsProvince},
	{Name: "to_" + rsRegency, Src: []string{rsProvince, rsRegency, rsDistrict}, Dst: rsRegency},
	{Name: "to_" + rsDistrict, Src: []string{rsProvince, rsRegency, rsDistrict, rsVillage, rsReason, rsDescription}, Dst: rsDistrict},
	{Name: "to_" + rsVillage, Src: []string{rsCategory, rsProvince, rsRegency, rsDistrict, rsReason, rsDescription, rsSummary}, Dst: rsVillage},
	{Name: "to_" + rsReason, Src: []string{rsCategory, rsProvince, rsRegency, rsDistrict, rsVillage, rsDescription, rsSummary}, Dst: rsReason},
	{Name: "to_" + rsDescription, Src: []string{rsCategory, rsProvince, rsRegency, rsDistrict, rsVillage, rsReason, rsMedia, rsSummary}, Dst: rsDescription},
	{Name: "to_" + rsMedia, Src: []string{rsDescription, rsPhone, rsSummary}, Dst: rsMedia},
	{Name: "to_" + rsPhone, Src: []string{rsMedia, rsSummary}, Dst: rsPhone},
	{Name: "to_" + rsSummary, Src: []string{rsCategory, rsProvince, rsRegency, rsDistrict, rsVillage, rsReason, rsDescription, rsMedia, rsPhone, rsDuplicate}, Dst: rsSummary},
	{Name: "to_" + rsDuplicate, Src: []string{rsSummary}, Dst: rsDuplicate},
	// A draft whose category left the configuration while it waited
	// (categoryGone) asks the category again from whichever step it
	// stopped at.
	{Name: evCategoryGone, Src: []string{rsProvince, rsRegency, rsDistrict, rsVillage, rsReason, rsDescription, rsMedia, rsPhone,
		rsSummary, rsDuplicate, rsAnswers, rsProposed, rsMembers, rsWork, rsTarget, rsProgram}, Dst: rsCategory},
}, categoryEvents...))

const evCategoryGone = "category_gone" // the category questions: complaint_fields.go

const (
	maxReportPhotos = 3    // photos a report carries at filing
	summaryShown    = 1000 // characters of the reason and the description in the summary (a message holds 4096)
)

// reportDraft is the complaint being written, kept in the session so it
// survives restarts and pauses.
type reportDraft struct {
	Category    string                 `json:"cat,omitempty"`
	Browse      bansosbot.RegionCode   `json:"browse,omitempty"` // region whose children the region step lists
	Page        int                    `json:"page,omitempty"`   // page of the region or village buttons
	Query       string                 `json:"q,omitempty"`      // region search with several results, shown as buttons
	Region      bansosbot.RegionCode   `json:"region,omitempty"` // the chosen kecamatan
	Village     bansosbot.RegionCode   `json:"village,omitempty"`
	Reason      string                 `json:"reason,omitempty"`
	Description string                 `json:"desc,omitempty"`
	Photos      []bansosbot.Attachment `json:"photos,omitempty"`
	Location    *bansosbot.Location    `json:"loc,omitempty"`
	Phone       string                 `json:"phone,omitempty"`
	Voice       *bansosbot.Attachment  `json:"voice,omitempty"`     // a voice note as the description
	CallMe      bool                   `json:"call,omitempty"`      // "minta ditelepon petugas": the phone is shared for a call back
	Editing     bool                   `json:"edit,omitempty"`      // came from the summary's edit buttons
	EditFrom    string                 `json:"edit_from,omitempty"` // the step the edit started at: its Back returns to the summary
	DupOK       bool                   `json:"dup_ok,omitempty"`    // the citizen confirmed filing despite a similar ticket
	// Suggest is the kecamatan (or kabupaten/kota) of the NIK's district,
	// offered at the province step as a one-tap answer to confirm; never
	// taken without the citizen's press (a NIK says where it was first
	// issued, not where the citizen lives now).
	Suggest bansosbot.RegionCode `json:"sug,omitempty"`
	// Program is the aid program the complaint is about (a code), when it
	// started from a status check's "not received yet" button.
	Program       string `json:"prog,omitempty"`
	categoryDraft        // answers to the category questions (complaint_fields.go)

	cat *bansosbot.Category // the resolved Category, not stored
}

// report is the complaint conversation (flow "rp").
type report struct {
	descMin, descMax int    // Config.DescriptionMin/Max: a description's length
	limits           Limits // open tickets and filings per citizen
	ticketKey        []byte // Config.TicketKey: the permutation of ticket numbers
	log              *slog.Logger
	cat              *catalog
	sla              *deadlines
	routes           *router
	announcer        *announcer // the subscription offered after filing
	menu             menu
}

func (report) Name() string { return reportFlow }

func (f report) Start(c *Conv) error {
	if c.Session.Flow == reportFlow && len(c.Session.Draft) > 0 {
		// /lapor again while a draft is open (perhaps one waiting for
		// "resume or discard?"): never throw it away silently.
		c.Session.State = strings.TrimPrefix(c.Session.State, resumePrefix)
		c.Say(T("complaint.in_progress"))
		return f.Prompt(c)
	}
	if p := c.Session.Parked; p != nil && p.Flow == reportFlow {
		// A complaint set aside by another flow: continue it or start over.
		c.Session.Parked = nil
		c.Begin(reportFlow, p.State)
		c.Session.Draft = p.Draft
		c.Ask([]Msg{T("drafts.offer")}, [][]Choice{{
			{T("general.resume"), "resume"}, {T("drafts.restart"), "restart"},
		}})
		c.Session.State = resumePrefix + c.Session.State
		return nil
	}
	if err := f.checkOpenLimit(c); err != nil {
		return err
	}
	c.Begin(reportFlow, rsCategory)
	return f.Prompt(c)
}

func (f report) load(c *Conv) (*reportDraft, error) {
	d := &reportDraft{}
	if err := c.LoadDraft(d); err != nil {
		return nil, err
	}
	if cat, ok := f.cat.categories.Get(d.Category); ok {
		d.cat = &cat
	}
	return d, nil
}

// steps lists the states the draft's category asks for, in order.
func (d *reportDraft) steps() []string {
	s := []string{rsCategory}
	if d.asks(bansosbot.FieldAnswers) {
		s = append(s, rsAnswers)
	}
	if d.asks(bansosbot.FieldProposed) {
		s = append(s, rsProposed)
	}
	s = append(s, rsProvince, rsRegency, rsDistrict)
	if d.asks(bansosbot.FieldVillage) {
		s = append(s, rsVillage)
	}
	if d.asks(bansosbot.FieldHousehold) {
		s = append(s, rsMembers, rsWork)
	}
	if d.asks(bansosbot.FieldTarget) {
		s = append(s, rsTarget)
	}
	if d.asks(bansosbot.FieldProgram) {
		s = append(s, rsProgram)
	}
	if d.asks(bansosbot.FieldReason) {
		s = append(s, rsReason)
	}
	return append(s, rsDescription, rsMedia, rsPhone, rsSummary)
}

// asks reports whether the draft's category asks for the extra field. The
// desa/kelurahan is part of where the citizen lives (province, kabupaten/
// kota, kecamatan, desa/kelurahan): every category asks it; FieldVillage
// in a category's configuration is accepted and changes nothing.
func (d *reportDraft) asks(field string) bool {
	return d.cat != nil && (field == bansosbot.FieldVillage || d.cat.Asks(field))
}

// missing is the first required field still empty, as its state; "" when
// the draft is complete.
func (d *reportDraft) missing() string {
	switch {
	case d.cat == nil:
		return rsCategory
	case d.asks(bansosbot.FieldProposed) && d.Proposed == "":
		return rsProposed
	case d.Region == "":
		return rsProvince
	case d.asks(bansosbot.FieldVillage) && d.Village == "":
		return rsVillage
	case d.asks(bansosbot.FieldHousehold) && d.Members == 0:
		return rsMembers
	case d.asks(bansosbot.FieldHousehold) && d.Work == "":
		return rsWork
	case d.asks(bansosbot.FieldTarget) && d.Target == "":
		return rsTarget
	case d.asks(bansosbot.FieldProgram) && d.Program == "":
		return rsProgram
	case d.asks(bansosbot.FieldReason) && d.Reason == "":
		return rsReason
	case d.Description == "" && d.Voice == nil:
		return rsDescription
	case d.evidenceMissing():
		return rsMedia
	}
	return ""
}

func isRegionStep(state string) bool {
	return state == rsProvince || state == rsRegency || state == rsDistrict
}

// goTo moves to state (checked against reportMachine), sets up the step's
// context, saves the draft and asks the step's question.
func (f report) goTo(c *Conv, d *reportDraft, state string) error {
	prev := c.Session.State
	next, err := c.fire(reportMachine, "to_"+state)
	if err != nil {
		return err
	}
	d.Page, d.Query = 0, ""
	switch next {
	case rsProvince:
		d.Browse = ""
	case rsRegency:
		if d.Browse.Level() < 1 {
			d.Browse = d.Region.Province()
		}
		d.Browse = d.Browse.Province()
	case rsDistrict:
		if d.Browse.Level() < 2 {
			d.Browse = d.Region.Regency()
		}
		d.Browse = d.Browse.Regency()
	case rsVillage:
		d.Browse = d.Region
	case rsSummary:
		d.Editing, d.EditFrom = false, ""
	}
	if prev == rsPhone && next != rsPhone {
		// The contact keyboard stays under the input field until removed.
		key := "complaint.phone_skipped"
		if d.Phone != "" {
			key = "complaint.phone_saved"
		}
		c.Reply(Reply{Action: Send, Text: []Msg{T(key)}, Keyboard: &Keyboard{Remove: true}})
	}
	if err := c.SaveDraft(d); err != nil {
		return err
	}
	return f.prompt(c, d)
}

// advance moves past the current step: to the next one, or when editing
// from the summary, to the first required field still empty or back to
// the summary.
func (f report) advance(c *Conv, d *reportDraft) error {
	if d.Editing {
		if m := d.missing(); m != "" && m != rsCategory && m != rsProvince {
			return f.goTo(c, d, m)
		}
		return f.goTo(c, d, rsSummary)
	}
	steps := d.steps()
	cur := c.Session.State
	if isRegionStep(cur) {
		cur = rsDistrict // a search may finish the region from any level
	}
	for i, s := range steps {
		if s == cur && i+1 < len(steps) {
			return f.goTo(c, d, steps[i+1])
		}
	}
	return f.goTo(c, d, rsSummary)
}

// back goes one step back. While editing, Back at the step the edit
// started returns to the summary; Back at the first step leaves the flow.
func (f report) back(c *Conv, d *reportDraft) error {
	cur := c.Session.State
	if d.Query != "" { // from search results to the plain list of the step
		d.Query, d.Page = "", 0
		if err := c.SaveDraft(d); err != nil {
			return err
		}
		return f.prompt(c, d)
	}
	if d.Editing && cur == d.EditFrom {
		return f.goTo(c, d, rsSummary)
	}
	switch cur {
	case rsCategory:
		c.End()
		return f.menu.showMenu(c)
	case rsDuplicate:
		return f.goTo(c, d, rsSummary)
	case rsRegency:
		return f.goTo(c, d, rsProvince)
	case rsDistrict:
		d.Browse = d.Browse.Province()
		return f.goTo(c, d, rsRegency)
	}
	steps := d.steps()
	for i, s := range steps {
		if s == cur && i > 0 {
			return f.goTo(c, d, steps[i-1])
		}
	}
	return f.goTo(c, d, rsSummary)
}

func (f report) Prompt(c *Conv) error {
	d, err := f.load(c)
	if err != nil {
		return err
	}
	if _, err := f.categoryGone(c, d); err != nil {
		return err
	}
	return f.prompt(c, d)
}

// categoryGone handles a draft whose category left the configuration
// while it waited (parked, paused or across an upgrade): the citizen says
// which category now, and the answers given so far are kept (as when
// editing from the summary, the next step is the first one missing).
func (f report) categoryGone(c *Conv, d *reportDraft) (bool, error) {
	if d.cat != nil || d.Category == "" || c.Session.State == rsCategory {
		return false, nil
	}
	c.Say(T("drafts.category_gone"))
	d.Editing, d.EditFrom = true, rsCategory
	if _, err := c.fire(reportMachine, evCategoryGone); err != nil {
		return false, err
	}
	return true, c.SaveDraft(d)
}

// navRow is the Back and Cancel buttons every step has.
func navRow() []Choice {
	return []Choice{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}}
}

func (f report) prompt(c *Conv, d *reportDraft) error {
	switch c.Session.State {
	case rsCategory:
		rows := make([][]Choice, 0, len(f.cat.categories)+1)
		for _, cat := range f.cat.categories {
			rows = append(rows, []Choice{{T("complaint.category_button", "Name", Localized(cat.Names)), "c:" + cat.Code}})
		}
		c.Ask([]Msg{T("complaint.ask_category")}, append(rows, navRow()))
	case rsProvince, rsRegency, rsDistrict, rsVillage:
		return f.promptRegion(c, d)
	case rsReason:
		c.Ask([]Msg{reasonPrompt(d, f.descMin, f.descMax)}, [][]Choice{navRow()})
	case rsDescription:
		c.Ask([]Msg{descriptionPrompt(d, f.descMin, f.descMax), T("lowlit.voice_hint")}, [][]Choice{navRow()})
	case rsMedia:
		if d.asks(bansosbot.FieldEvidence) {
			return f.promptEvidence(c, d)
		}
		label := "complaint.media_skip"
		if len(d.Photos) > 0 || d.Location != nil {
			label = "complaint.media_done"
		}
		c.Ask([]Msg{T("complaint.ask_media", "Max", maxReportPhotos, "Count", len(d.Photos), "Location", d.Location != nil)},
			[][]Choice{{{T(label), "done"}}, navRow()})
	case rsPhone:
		// A reply keyboard (the contact button) and inline buttons cannot
		// share one message: the contact button comes with the question,
		// Skip/Back/Cancel follow in a second message.
		c.Reply(Reply{Action: Send, Text: []Msg{T("complaint.ask_phone")}, Keyboard: &Keyboard{
			Rows: [][]KeyButton{{{Label: T("complaint.share_phone"), RequestContact: true}}},
		}})
		if d.CallMe {
			c.Ask([]Msg{T("lowlit.call_share")}, [][]Choice{
				{{T("lowlit.call_undo"), "skip"}},
				{{T("general.back"), PayloadBack}, {T("general.cancel"), "xk"}},
			})
			break
		}
		c.Ask([]Msg{T("complaint.phone_optional"), T("lowlit.call_offer")}, [][]Choice{
			{{T("lowlit.call_button"), "call"}},
			{{T("general.skip"), "skip"}},
			{{T("general.back"), PayloadBack}, {T("general.cancel"), "xk"}},
		})
	case rsSummary:
		return f.promptSummary(c, d)
	case rsDuplicate:
		return f.promptDuplicate(c, d)
	default:
		return f.promptCategoryStep(c, d)
	}
	return nil
}

func (f report) promptSummary(c *Conv, d *reportDraft) error {
	if d.cat == nil {
		// The category was removed from the configuration meanwhile.
		return f.goTo(c, d, rsCategory)
	}
	rs := f.cat.regions
	var lines []Msg
	lines = append(lines, T("complaint.summary_title"),
		T("complaint.summary_category", "Name", Localized(d.cat.Names)),
		T("complaint.summary_region", "Name", rs.DisplayName(d.Region)))
	if d.asks(bansosbot.FieldVillage) {
		lines = append(lines, T("complaint.summary_village", "Name", villageName(rs, d.Village)))
	}
	lines = append(lines, d.summaryLines()...)
	if d.asks(bansosbot.FieldReason) {
		lines = append(lines, T("complaint.summary_reason", "Text", clip(d.Reason, summaryShown)))
	}
	if d.Program != "" {
		lines = append(lines, T("nextsteps.summary_program", "Name", programName(c, d.Program)))
	}
	lines = append(lines,
		descriptionLine(d),
		T("complaint.summary_media", "Count", len(d.Photos), "Location", d.Location != nil),
		T("complaint.summary_phone", "Phone", d.Phone, "Given", d.Phone != ""))
	if d.CallMe && d.Phone != "" {
		lines = append(lines, T("lowlit.summary_call"))
	}
	if d.cat.HideReporter {
		lines = append(lines, hiddenNotice(*d.cat))
	}
	if m := identityNotice(d.cat); m != nil {
		lines = append(lines, *m)
	}
	lines = append(lines, T("complaint.summary_check"))
	rows := [][]Choice{
		{{T("complaint.edit_category"), "e:" + rsCategory}, {T("complaint.edit_region"), "e:" + rsProvince}},
	}
	var extra []Choice
	if d.asks(bansosbot.FieldVillage) {
		extra = append(extra, Choice{T("complaint.edit_village"), "e:" + rsVillage})
	}
	if d.asks(bansosbot.FieldReason) {
		extra = append(extra, Choice{T("complaint.edit_reason"), "e:" + rsReason})
	}
	if len(extra) > 0 {
		rows = append(rows, extra)
	}
	for more := d.editChoices(); len(more) > 0; more = more[min(2, len(more)):] {
		rows = append(rows, more[:min(2, len(more))])
	}
	rows = append(rows,
		[]Choice{{T("complaint.edit_description"), "e:" + rsDescription}, {T("complaint.edit_media"), "e:" + rsMedia}},
		[]Choice{{T("complaint.edit_phone"), "e:" + rsPhone}},
		[]Choice{{T("complaint.submit"), "send"}},
		navRow())
	c.Ask(lines, rows)
	return nil
}

// descriptionLine is the summary's description: the text, or the voice
// note that stands for it.
func descriptionLine(d *reportDraft) Msg {
	if d.Voice != nil && d.Description == "" {
		return T("lowlit.summary_voice", "Seconds", d.Voice.Seconds)
	}
	return T("complaint.summary_description", "Text", clip(d.Description, summaryShown))
}

func villageName(rs *bansosbot.Regions, code bansosbot.RegionCode) string {
	if r, ok := rs.Get(code); ok {
		return r.Name
	}
	return string(code)
}

func (f report) Handle(c *Conv) error {
	d, err := f.load(c)
	if err != nil {
		return err
	}
	if gone, err := f.categoryGone(c, d); err != nil || gone {
		if err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		return f.prompt(c, d)
	}
	state := c.Session.State
	if c.Payload == PayloadBack {
		return f.back(c, d)
	}
	if c.Payload == "xk" { // Cancel at the phone step: also remove the contact keyboard
		c.End()
		c.Reply(Reply{Action: Send, Text: []Msg{T("general.cancelled")}, Keyboard: &Keyboard{Remove: true}})
		return f.menu.showMenu(c)
	}
	switch state {
	case rsCategory:
		return f.handleCategory(c, d)
	case rsProvince, rsRegency, rsDistrict, rsVillage:
		return f.handleRegion(c, d)
	case rsReason, rsDescription:
		if state == rsDescription && c.In.Voice != nil {
			// A voice note is the description (low literacy): kept as a
			// file id, staff play it from the card.
			v := *c.In.Voice
			d.Voice, d.Description = &v, ""
			c.Say(T("lowlit.voice_kept"))
			return f.advance(c, d)
		}
		text, ok := f.readText(c, d, state == rsDescription)
		if !ok {
			if err := c.SaveDraft(d); err != nil {
				return err
			}
			return f.prompt(c, d)
		}
		if state == rsReason {
			d.Reason = text
		} else {
			d.Description, d.Voice = text, nil // a written description replaces a voice note
		}
		return f.advance(c, d)
	case rsMedia:
		return f.handleMedia(c, d)
	case rsPhone:
		return f.handlePhone(c, d)
	case rsSummary:
		return f.handleSummary(c, d)
	case rsDuplicate:
		if c.Payload == "send" {
			d.DupOK = true
			return f.submit(c, d)
		}
		c.Say(T("complaint.use_buttons"))
		return f.prompt(c, d)
	case rsAnswers, rsProposed, rsMembers, rsWork, rsTarget, rsProgram:
		return f.handleCategoryStep(c, d)
	}
	return f.prompt(c, d)
}

func (f report) handleCategory(c *Conv, d *reportDraft) error {
	code, ok := strings.CutPrefix(c.Payload, "c:")
	cat, found := f.cat.categories.Get(code)
	if !ok || !found {
		f.explain(c)
		return f.prompt(c, d)
	}
	changed := d.Category != cat.Code
	if changed {
		d.Category, d.cat, d.DupOK = cat.Code, &cat, false
		// The desa/kelurahan stays: every category asks it (asks).
		if !cat.Asks(bansosbot.FieldReason) {
			d.Reason = ""
		}
		d.clearUnasked()
	}
	if cat.HideReporter {
		c.Say(hiddenNotice(cat))
	}
	if m := f.cat.categoryIntro(&cat); m != nil && changed {
		c.Say(*m)
	}
	return f.advance(c, d)
}

// hiddenNotice tells the reporter of a hidden-identity category that
// field workers never see who they are.
func hiddenNotice(cat bansosbot.Category) Msg {
	return T("complaint.hidden_identity", "Supervisors", cat.SupervisorsOnly)
}

// explain answers an input the step cannot use, before the step's
// question is asked again.
func (f report) explain(c *Conv) {
	in := c.In
	switch {
	case in.Callback != nil:
		c.AnswerCallback(T("general.button_unknown"), false)
	case in.Voice != nil:
		c.Say(T("lowlit.voice_not_here"))
	case in.Media != "":
		c.Say(T("complaint.media_unsupported"))
	case in.Photo != nil:
		c.Say(T("complaint.photo_not_here"))
	case in.Location != nil || in.Contact != nil:
		c.Say(T("complaint.not_here"))
	case strings.TrimSpace(in.Text) == "":
		c.Say(T("complaint.empty"))
	default:
		c.Say(T("complaint.use_buttons"))
	}
}

// readText reads the free text of a step (reason, description) and checks
// its length in characters (runes). A photo with a caption counts as the
// text plus a photo; with keepPhoto, a photo without caption is kept while
// the text is asked again. ok is false when the input was answered with an
// explanation (the caller saves the draft: it may hold a new photo).
func (f report) readText(c *Conv, d *reportDraft, keepPhoto bool) (string, bool) {
	in := c.In
	if in.Photo != nil {
		caption := strings.TrimSpace(in.Text)
		if caption == "" && !keepPhoto {
			c.Say(T("complaint.photo_needs_caption"))
			return "", false
		}
		d.addPhoto(*in.Photo)
		if caption == "" {
			c.Say(T("complaint.photo_kept_need_text"))
			return "", false
		}
	} else if in.Callback != nil || in.Media != "" || in.Location != nil || in.Contact != nil {
		f.explain(c)
		return "", false
	}
	text := strings.TrimSpace(in.Text)
	n := utf8.RuneCountInString(text)
	switch {
	case n == 0:
		c.Say(T("complaint.empty"))
		return "", false
	case n < f.descMin:
		c.Say(T("complaint.too_short", "Min", f.descMin, "Got", n))
		return "", false
	case n > f.descMax:
		c.Say(T("complaint.too_long", "Max", f.descMax, "Got", n))
		return "", false
	}
	return text, true
}

// maxCaption is how much of a photo's caption is kept (characters):
// Telegram's own limit is 1024, and staff see it as the photo's caption.
const maxCaption = 900

// captionOf is the caption kept with a photo, and whether it was cut.
func captionOf(text string) (string, bool) {
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) <= maxCaption {
		return text, false
	}
	return string([]rune(text)[:maxCaption]) + "…", true
}

// addPhoto keeps a photo unless the draft is full or has it already (the
// same photo sent again, e.g. with a better caption).
func (d *reportDraft) addPhoto(a bansosbot.Attachment) bool {
	if len(d.Photos) >= maxReportPhotos {
		return false
	}
	for _, p := range d.Photos {
		if p.FileUniqueID == a.FileUniqueID {
			return false
		}
	}
	d.Photos = append(d.Photos, a)
	return true
}

func (f report) handleMedia(c *Conv, d *reportDraft) error {
	in := c.In
	switch {
	case c.Payload == "done" && d.evidenceMissing():
		c.Say(T("sanggah.evidence_needed"))
		return f.prompt(c, d)
	case c.Payload == "done":
		return f.advance(c, d)
	case in.Photo != nil:
		photo := *in.Photo
		caption, cut := captionOf(in.Text)
		photo.Caption = caption
		if !d.addPhoto(photo) {
			c.Say(T("complaint.photos_full", "Max", maxReportPhotos))
			return f.prompt(c, d)
		}
		c.Say(T("complaint.photo_added", "Count", len(d.Photos), "Max", maxReportPhotos))
		if caption != "" {
			c.Say(T("drafts.caption_kept", "Cut", cut, "Max", maxCaption))
		}
	case in.Location != nil:
		loc := *in.Location
		d.Location = &loc
		c.Say(T("complaint.location_added"))
	case in.Callback == nil && in.Media == "" && in.Contact == nil && strings.TrimSpace(in.Text) != "":
		c.Say(T("complaint.media_expected"))
		return f.prompt(c, d)
	default:
		f.explain(c)
		return f.prompt(c, d)
	}
	if err := c.SaveDraft(d); err != nil {
		return err
	}
	return f.prompt(c, d)
}

func (f report) handlePhone(c *Conv, d *reportDraft) error {
	in := c.In
	switch {
	case c.Payload == "skip":
		d.Phone, d.CallMe = "", false
		return f.advance(c, d)
	case c.Payload == "call":
		// Asking for a call back is the consent to use the number for it:
		// the number itself comes with the contact button (never typed).
		d.CallMe = true
		if err := c.SaveDraft(d); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		if d.Phone != "" { // shared before: the call back is recorded with it
			return f.advance(c, d)
		}
		return f.prompt(c, d)
	case in.Contact != nil && in.Contact.UserID == in.UserID && in.Contact.Phone != "":
		d.Phone = in.Contact.Phone
		return f.advance(c, d)
	case in.Contact != nil:
		c.Say(T("complaint.phone_not_own"))
	case in.Callback == nil && in.Media == "" && in.Photo == nil && in.Location == nil && strings.TrimSpace(in.Text) != "":
		c.Say(T("complaint.phone_use_button"))
	default:
		f.explain(c)
	}
	return f.prompt(c, d)
}

func (f report) handleSummary(c *Conv, d *reportDraft) error {
	if c.Payload == "send" {
		return f.submit(c, d)
	}
	if target, ok := strings.CutPrefix(c.Payload, "e:"); ok {
		switch target {
		case rsCategory, rsProvince, rsDescription, rsMedia, rsPhone, rsVillage, rsReason:
			if (target == rsVillage && !d.asks(bansosbot.FieldVillage)) || (target == rsReason && !d.asks(bansosbot.FieldReason)) {
				break
			}
			d.Editing, d.EditFrom = true, target
			return f.goTo(c, d, target)
		case rsProposed, rsMembers, rsTarget, rsProgram:
			if !d.editable(target) {
				break
			}
			d.Editing, d.EditFrom = true, target
			return f.goTo(c, d, target)
		}
	}
	f.explain(c)
	return f.prompt(c, d)
}

// strayContact removes a contact keyboard left over after the report flow
// ended some other way (e.g. /batal at the phone step): a shared contact
// with no flow running is not kept.
func (f report) strayContact(c *Conv) (bool, error) {
	if c.In.Contact == nil {
		return false, nil
	}
	c.Reply(Reply{Action: Send, Text: []Msg{T("complaint.contact_unexpected")}, Keyboard: &Keyboard{Remove: true}})
	return true, f.menu.showMenu(c)
}

// StartComplaint starts a complaint whose category is already known (the
// status check's buttons). suggest, when not "", is the region of the
// NIK's district: the province step offers it as a one-tap answer, and the
// citizen confirms it or chooses where they live now.
func (f report) StartComplaint(c *Conv, category string, suggest bansosbot.RegionCode) error {
	return f.startReport(c, category, suggest, "")
}

// startReport is StartComplaint with the aid program the complaint is
// about (a code; "" for none), kept on the ticket and shown in the summary.
func (f report) startReport(c *Conv, category string, suggest bansosbot.RegionCode, program string) error {
	cat, ok := f.cat.categories.Get(category)
	if !ok || c.Session.Flow == reportFlow && len(c.Session.Draft) > 0 || c.Session.Parked != nil {
		return c.Start(reportFlow) // an open or parked draft is offered, never dropped
	}
	if err := f.checkOpenLimit(c); err != nil {
		return err
	}
	d := &reportDraft{Category: category, cat: &cat, Program: program}
	if r, ok := f.cat.regions.Get(suggest); ok && r.Level >= 2 && r.Level <= 3 {
		d.Suggest = suggest
	}
	text := []Msg{T("residence.prefilled", "Category", Localized(cat.Names))}
	if program != "" {
		text = append(text, T("nextsteps.prefilled_program", "Name", programName(c, program)))
	}
	c.Say(text...)
	if m := f.cat.categoryIntro(&cat); m != nil {
		c.Say(*m)
	}
	c.Begin(reportFlow, rsCategory)
	if d.asks(bansosbot.FieldProposed) { // whom an usul is for comes before where they live
		return f.goTo(c, d, rsProposed)
	}
	return f.goTo(c, d, rsProvince)
}
