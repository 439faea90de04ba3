package flows

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// The questions some categories ask besides the common ones (issue 11
// items 5-7, 9): usul (who is proposed, the household), sanggah (who is
// objected to, the program, evidence), and ready answers offered before an
// information request becomes a ticket. Which category asks what is
// configuration (Category.Fields, Category.Prompt).

// States of the category questions.
const (
	rsAnswers  = "answers"  // FieldAnswers: ready answers before filing (answers.go)
	rsProposed = "proposed" // FieldProposed: whom the usul is for
	rsMembers  = "members"  // FieldHousehold: how many people live in the household
	rsWork     = "work"     // FieldHousehold: what the household lives from
	rsTarget   = "target"   // FieldTarget: who is objected to
	rsProgram  = "program"  // FieldProgram: which aid program
)

// categoryEvents extend reportMachine (looplab/fsm merges events of the
// same name) with the category questions. The same rules: an event is
// named after the state it leads to; the sources are the steps before it
// (forward, a region search that jumps levels, an edit that finds the
// field still empty), the step after it (Back) and the summary (edit).
var categoryEvents = fsm.Events{
	// The ready answers come first: a citizen whose question one answers
	// gives no region or anything else, and leaves without a ticket.
	{Name: "to_" + rsAnswers, Src: []string{rsCategory, rsProvince}, Dst: rsAnswers},
	// Whom the usul is for comes before the region: the region asked is
	// where that household lives.
	{Name: "to_" + rsProposed, Src: []string{rsCategory, rsProvince, rsSummary}, Dst: rsProposed},
	{Name: "to_" + rsMembers, Src: []string{rsCategory, rsProposed, rsProvince, rsRegency, rsDistrict, rsVillage, rsWork, rsDescription, rsSummary}, Dst: rsMembers},
	{Name: "to_" + rsWork, Src: []string{rsCategory, rsProposed, rsProvince, rsRegency, rsDistrict, rsVillage, rsMembers, rsDescription, rsSummary}, Dst: rsWork},
	{Name: "to_" + rsTarget, Src: []string{rsCategory, rsProvince, rsRegency, rsDistrict, rsVillage, rsProgram, rsReason, rsDescription, rsSummary}, Dst: rsTarget},
	{Name: "to_" + rsProgram, Src: []string{rsCategory, rsProvince, rsRegency, rsDistrict, rsVillage, rsTarget, rsReason, rsDescription, rsSummary}, Dst: rsProgram},
	// The common steps reached from the category questions: forward,
	// Back, and back to the summary after an edit.
	{Name: "to_" + rsCategory, Src: []string{rsAnswers, rsProposed}, Dst: rsCategory},
	{Name: "to_" + rsProvince, Src: []string{rsAnswers, rsProposed}, Dst: rsProvince},
	{Name: "to_" + rsVillage, Src: []string{rsProposed, rsMembers, rsTarget}, Dst: rsVillage},
	{Name: "to_" + rsReason, Src: []string{rsProposed, rsMembers, rsWork, rsTarget, rsProgram}, Dst: rsReason},
	{Name: "to_" + rsDescription, Src: []string{rsProposed, rsMembers, rsWork, rsTarget, rsProgram}, Dst: rsDescription},
	{Name: "to_" + rsSummary, Src: []string{rsProposed, rsMembers, rsWork, rsTarget, rsProgram}, Dst: rsSummary},
	// Evidence (a photo) is required: an edit that changed the category to
	// one needing it goes to the media step from wherever it finds it
	// missing.
	{Name: "to_" + rsMedia, Src: []string{rsCategory, rsProposed, rsProvince, rsRegency, rsDistrict, rsVillage, rsMembers, rsWork, rsTarget, rsProgram, rsReason}, Dst: rsMedia},
}

// Values of the category questions.
const (
	proposedSelf  = "self"  // the reporter's own household
	proposedOther = "other" // another family
	programNone   = "unknown"
	maxMembers    = 8 // the last members button is "8 or more"
	targetMin     = 3 // characters of a name
	targetMax     = 300
)

// workKinds are what a proposed household lives from, as buttons.
var workKinds = []string{"none", "daily", "farm", "trade", "other"}

// categoryDraft holds the answers to the category questions; it is
// embedded in reportDraft (its JSON fields sit beside the others).
type categoryDraft struct {
	Proposed string `json:"proposed,omitempty"` // proposedSelf or proposedOther
	Members  int    `json:"members,omitempty"`  // 1..maxMembers (maxMembers = that many or more)
	Work     string `json:"work,omitempty"`     // one of workKinds
	Target   string `json:"target,omitempty"`   // who is objected to: name and address as typed
	Topic    string `json:"topic,omitempty"`    // the ready answer shown (answers.go)
}

// Ticket.Extra keys of the category questions (the program is
// bansosbot.ExtraProgram, the reason bansosbot.FieldReason).
const (
	extraProposed = bansosbot.FieldProposed
	extraMembers  = "members"
	extraWork     = "work"
	extraTarget   = bansosbot.FieldTarget
)

// extras are the answers to store on the ticket.
func (d *reportDraft) extras() map[string]string {
	m := map[string]string{}
	if d.asks(bansosbot.FieldProposed) && d.Proposed != "" {
		m[extraProposed] = d.Proposed
	}
	if d.asks(bansosbot.FieldHousehold) && d.Members > 0 {
		m[extraMembers] = strconv.Itoa(d.Members)
		m[extraWork] = d.Work
	}
	if d.asks(bansosbot.FieldTarget) && d.Target != "" {
		m[extraTarget] = d.Target
	}
	return m
}

// clearUnasked drops the answers of questions the (new) category does not
// ask.
func (d *reportDraft) clearUnasked() {
	if !d.asks(bansosbot.FieldProposed) {
		d.Proposed = ""
	}
	if !d.asks(bansosbot.FieldHousehold) {
		d.Members, d.Work = 0, ""
	}
	if !d.asks(bansosbot.FieldTarget) {
		d.Target = ""
	}
	if !d.asks(bansosbot.FieldProgram) && d.Program == programNone {
		d.Program = ""
	}
	d.Topic = ""
}

// evidenceMissing: the category needs a photo and the draft has none.
func (d *reportDraft) evidenceMissing() bool {
	return d.asks(bansosbot.FieldEvidence) && len(d.Photos) == 0
}

// promptEvidence is the media step of a category that needs evidence: a
// photo of the house is required, the location asked for; "done" is
// offered once a photo is there.
func (f report) promptEvidence(c *Conv, d *reportDraft) error {
	var rows [][]Choice
	if len(d.Photos) > 0 {
		rows = append(rows, []Choice{{T("complaint.media_done"), "done"}})
	}
	c.Ask([]Msg{T("sanggah.ask_evidence", "Max", maxReportPhotos, "Count", len(d.Photos), "Location", d.Location != nil)},
		append(rows, navRow()))
	return nil
}

// promptCategoryStep asks the question of a category step.
func (f report) promptCategoryStep(c *Conv, d *reportDraft) error {
	switch c.Session.State {
	case rsAnswers:
		return f.promptAnswers(c, d)
	case rsProposed:
		c.Ask([]Msg{T("usul.ask_proposed")}, [][]Choice{
			{{T("usul.proposed_self"), "p:" + proposedSelf}},
			{{T("usul.proposed_other"), "p:" + proposedOther}},
			navRow()})
	case rsMembers:
		var rows [][]Choice
		var row []Choice
		for n := 1; n <= maxMembers; n++ {
			label := T("usul.members_button", "Count", n)
			if n == maxMembers {
				label = T("usul.members_more", "Count", n)
			}
			row = append(row, Choice{label, "m:" + strconv.Itoa(n)})
			if len(row) == 4 {
				rows, row = append(rows, row), nil
			}
		}
		c.Ask([]Msg{T("usul.ask_members", "Other", d.Proposed == proposedOther)}, append(rows, navRow()))
	case rsWork:
		rows := make([][]Choice, 0, len(workKinds)+1)
		for _, w := range workKinds {
			rows = append(rows, []Choice{{T("usul.work_" + w), "w:" + w}})
		}
		c.Ask([]Msg{T("usul.ask_work", "Other", d.Proposed == proposedOther)}, append(rows, navRow()))
	case rsTarget:
		c.Ask([]Msg{T("sanggah.ask_target", "Max", targetMax)}, [][]Choice{navRow()})
	case rsProgram:
		progs := programList(c)
		rows := make([][]Choice, 0, len(progs)+2)
		for _, p := range progs {
			rows = append(rows, []Choice{{T("sanggah.program_button", "Name", Localized(p.Names)), "g:" + p.Code}})
		}
		rows = append(rows, []Choice{{T("sanggah.program_unknown"), "g:" + programNone}}, navRow())
		c.Ask([]Msg{T("sanggah.ask_program")}, rows)
	default:
		c.End()
		return f.menu.showMenu(c)
	}
	return nil
}

// handleCategoryStep reads the answer to a category step.
func (f report) handleCategoryStep(c *Conv, d *reportDraft) error {
	state := c.Session.State
	if state == rsAnswers {
		return f.handleAnswers(c, d)
	}
	if state == rsTarget {
		if c.In.Callback != nil || c.In.Photo != nil || c.In.Media != "" || c.In.Location != nil || c.In.Contact != nil {
			f.explain(c)
			return f.prompt(c, d)
		}
		text := strings.TrimSpace(c.In.Text)
		n := utf8.RuneCountInString(text)
		switch {
		case n == 0:
			c.Say(T("complaint.empty"))
		case n < targetMin:
			c.Say(T("sanggah.target_short", "Min", targetMin))
		case n > targetMax:
			c.Say(T("complaint.too_long", "Max", targetMax, "Got", n))
		default:
			d.Target = text
			return f.advance(c, d)
		}
		return f.prompt(c, d)
	}
	prefix := map[string]string{rsProposed: "p:", rsMembers: "m:", rsWork: "w:", rsProgram: "g:"}[state]
	v, ok := strings.CutPrefix(c.Payload, prefix)
	if !ok || prefix == "" {
		// A typed number of members is fine too.
		if n, err := strconv.Atoi(strings.TrimSpace(c.In.Text)); state == rsMembers && c.In.Callback == nil && err == nil && n >= 1 && n <= 99 {
			d.Members = min(n, maxMembers)
			if d.Editing {
				return f.goTo(c, d, rsWork)
			}
			return f.advance(c, d)
		}
		f.explain(c)
		return f.prompt(c, d)
	}
	switch state {
	case rsProposed:
		if v != proposedSelf && v != proposedOther {
			break
		}
		d.Proposed = v
		return f.advance(c, d)
	case rsMembers:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMembers {
			break
		}
		d.Members = n
		if d.Editing { // the household is edited as a whole: members, then work
			return f.goTo(c, d, rsWork)
		}
		return f.advance(c, d)
	case rsWork:
		if !contains(workKinds, v) {
			break
		}
		d.Work = v
		return f.advance(c, d)
	case rsProgram:
		if v != programNone {
			if _, known := programList(c).Get(v); !known {
				break
			}
		}
		d.Program = v
		return f.advance(c, d)
	}
	f.explain(c)
	return f.prompt(c, d)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// programList is the programs a citizen may name: those of the current
// registry, or the built-in ones before any import.
func programList(c *Conv) bansosbot.Programs {
	if snap, err := c.Tx.RegistryCurrent(); err == nil && snap != nil && len(snap.Programs) > 0 {
		return snap.Programs
	}
	return bansosbot.DefaultPrograms()
}

// summaryLines are the summary's lines of the category questions (the
// program's line is the summary's own).
func (d *reportDraft) summaryLines() []Msg {
	var lines []Msg
	if d.asks(bansosbot.FieldProposed) {
		lines = append(lines, T("usul.summary_proposed", "Other", d.Proposed == proposedOther))
	}
	if d.asks(bansosbot.FieldHousehold) {
		lines = append(lines, T("usul.summary_household", "Count", d.Members, "More", d.Members >= maxMembers, "Work", T("usul.work_"+d.Work)))
	}
	if d.asks(bansosbot.FieldTarget) {
		lines = append(lines, T("sanggah.summary_target", "Text", clip(d.Target, summaryShown)))
	}
	return lines
}

// editChoices are the summary's edit buttons of the category questions.
func (d *reportDraft) editChoices() []Choice {
	var out []Choice
	if d.asks(bansosbot.FieldProposed) {
		out = append(out, Choice{T("usul.edit_proposed"), "e:" + rsProposed})
	}
	if d.asks(bansosbot.FieldHousehold) {
		out = append(out, Choice{T("usul.edit_household"), "e:" + rsMembers})
	}
	if d.asks(bansosbot.FieldTarget) {
		out = append(out, Choice{T("sanggah.edit_target"), "e:" + rsTarget})
	}
	if d.asks(bansosbot.FieldProgram) {
		out = append(out, Choice{T("sanggah.edit_program"), "e:" + rsProgram})
	}
	return out
}

// editable reports whether the summary may edit target (a state).
func (d *reportDraft) editable(target string) bool {
	switch target {
	case rsProposed:
		return d.asks(bansosbot.FieldProposed)
	case rsMembers:
		return d.asks(bansosbot.FieldHousehold)
	case rsTarget:
		return d.asks(bansosbot.FieldTarget)
	case rsProgram:
		return d.asks(bansosbot.FieldProgram)
	}
	return false
}

// Texts of the categories with their own prompt (Category.Prompt): usul,
// sanggah and PBI-JK reactivation. Each is a switch over the known
// prompts (bansosbot.Prompts), so that the locale test sees every key.

// categoryIntro says, when the category is chosen, what the bot can and
// cannot do for it; nil for the general categories.
func (k *catalog) categoryIntro(cat *bansosbot.Category) *Msg {
	var m Msg
	switch cat.Prompt {
	case "usul":
		m = T("usul.intro")
	case "sanggah":
		m = T("sanggah.intro", "Days", k.resolveDays(cat))
	case "pbi":
		m = T("pbi.intro")
	default:
		return nil
	}
	return &m
}

// resolveDays is the number of days the category's policy gives to settle
// a case (14 for a sanggah in config/sla.json).
func (k *catalog) resolveDays(cat *bansosbot.Category) int {
	return k.sla.ForCategory(k.categories, cat.Code).Days(bansosbot.PhaseResolution)
}

// provinceQuestion is the first region question: where the citizen lives,
// or where the household proposed or the recipient objected to lives
// (their desa/kelurahan checks the case).
func provinceQuestion(d *reportDraft) Msg {
	switch {
	case d.cat != nil && d.cat.Prompt == "usul" && d.Proposed == proposedOther:
		return T("usul.ask_province_other")
	case d.cat != nil && d.cat.Prompt == "sanggah":
		return T("sanggah.ask_province")
	}
	return T("residence.ask_province")
}

// reasonPrompt is the reason question of the draft's category.
func reasonPrompt(d *reportDraft, lo, hi int) Msg {
	if d.cat != nil && d.cat.Prompt == "sanggah" {
		return T("sanggah.ask_reason", "Min", lo, "Max", hi)
	}
	return T("complaint.ask_reason", "Min", lo, "Max", hi)
}

// suggestion names the locale keys of the NIK district's suggestion at
// the province step: the NIK a /cek checked may be that of the family an
// usul proposes, which is then asked about, not the citizen.
func suggestion(d *reportDraft) (ask, button string) {
	if d.cat != nil && d.cat.Prompt == "usul" && d.Proposed == proposedOther {
		return "usul.suggest_other", "usul.suggest_other_button"
	}
	return "residence.suggest", "residence.suggest_button"
}

// descriptionPrompt is the description question of the draft's category.
func descriptionPrompt(d *reportDraft, lo, hi int) Msg {
	prompt := ""
	if d.cat != nil {
		prompt = d.cat.Prompt
	}
	switch prompt {
	case "usul":
		return T("usul.ask_description", "Min", lo, "Max", hi, "Other", d.Proposed == proposedOther)
	case "sanggah":
		return T("sanggah.ask_description", "Min", lo, "Max", hi)
	case "pbi":
		return T("pbi.ask_description", "Min", lo, "Max", hi)
	}
	return T("complaint.ask_description", "Min", lo, "Max", hi)
}

// identityNotice tells the reporter of an objection who will see who
// they are; nil for other categories (hidden-reporter categories have
// their own notice).
func identityNotice(cat *bansosbot.Category) *Msg {
	if cat.Prompt != "sanggah" || cat.HideReporter {
		return nil
	}
	m := T("sanggah.identity")
	return &m
}

// afterFiling says what happens next, after the ticket number; nil for the
// general categories.
func (k *catalog) afterFiling(cat *bansosbot.Category) *Msg {
	var m Msg
	switch cat.Prompt {
	case "usul":
		m = T("usul.after")
	case "sanggah":
		m = T("sanggah.after", "Days", k.resolveDays(cat))
	case "pbi":
		m = T("pbi.after")
	default:
		return nil
	}
	return &m
}
