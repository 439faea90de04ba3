package flows

import (
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// The status check (/cek): NIK, then the full name as on the KTP, then the
// answer the official Cek Bansos service gives (per program yes/no, period
// and remark, the decile, the masked name, the date of the data). The NIK
// message is deleted from the chat as soon as it is read; the session
// keeps only the NIK's keyed hash. A wrong name gets exactly the answer an
// unknown NIK gets, and lookups are limited per user and per NIK, so the
// bot cannot be used to find out who is registered.

// RegistryStore reads the eligibility registry.
type RegistryStore interface {
	// RegistryCurrent returns the snapshot that answers lookups (without
	// statistics); nil when no registry was imported.
	RegistryCurrent() (*bansosbot.Snapshot, error)
	// RegistryLookup finds a NIK hash in the current snapshot: the snapshot
	// is nil when none was imported, the record nil when the NIK is not in it.
	RegistryLookup(h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error)
	// Peek reports what Allow would answer now, without recording a hit.
	Peek(name string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error)
}

const checkFlow = "ck"

// States of the check conversation.
const (
	csNIK  = "nik"
	csName = "name"
)

var checkMachine = NewMachine("check", fsm.Events{
	{Name: "nik_ok", Src: []string{csNIK}, Dst: csName},
	{Name: "back", Src: []string{csName}, Dst: csNIK},
	// A name step whose draft holds no NIK hash (cut short, or written by
	// an older version) cannot look anything up: the NIK is asked again.
	{Name: "nik_lost", Src: []string{csName}, Dst: csNIK},
})

// Payloads of the buttons under a "not found" answer. They are not tied to
// a prompt (the conversation has ended), and carry only the NIK's district
// code, which the citizen typed and which is the same for a wrong name and
// an unknown NIK.
const (
	payloadCheckAgain  = "again"
	payloadNotRegistry = "rp:"  // + 6-digit district code: usul (NOT_REGISTERED)
	payloadAskOfficer  = "ask:" // + district code: a question for a petugas (INFO_REQUEST)
	payloadNotPaid     = "np:"  // + program code + ":" + district code: PAYMENT_NOT_RECEIVED for the program
)

// Lookup windows of the anti-enumeration limits.
const (
	lookupUserWindow = time.Hour
	lookupNIKWindow  = 24 * time.Hour
)

// checkDraft is the conversation's state between the NIK and the name.
type checkDraft struct {
	NIK      []byte `json:"h,omitempty"` // bansosbot.HashNIK of the NIK: never the digits
	District string `json:"d,omitempty"` // its district code (not personal): pre-fills a complaint's region
}

func (e *Engine) registerCheck() {
	f := check{nikKey: e.cfg.NIKKey, limits: e.cfg.Limits, cat: e.cat, menu: e.menu, announcer: e.announcer, report: e.report}
	e.addFlow(f)
	e.addCommand(Command{ID: "check", Names: map[string]string{"id": "cek", "en": "check"}, Desc: "cmd.check", Consent: true,
		Sensitive: true, Run: func(c *Conv) error { return c.Start(checkFlow) }})
}

type check struct {
	nikKey    []byte // Config.NIKKey: NIKs and names are looked up by their keyed hash
	limits    Limits // lookups per user and per NIK
	cat       *catalog
	menu      menu
	announcer *announcer // the subscriptions offered under an answer
	report    report     // the complaints the answer's buttons start
}

func (check) Name() string { return checkFlow }

// free: the buttons under an answer (check again, next steps).
func (check) free(payload string) bool {
	// The prompts (NIK, name) carry only Back and Cancel; every other
	// button is under an answer.
	return payload != PayloadBack && payload != PayloadCancel
}

func (f check) Start(c *Conv) error {
	if len(f.nikKey) == 0 {
		return errors.New("flows: status check: no NIK key configured")
	}
	arg := "" // "/cek 3201..." carries the NIK already (runCommand deleted the message)
	if c.In.Command != "" {
		arg = strings.TrimSpace(c.In.Args)
	}
	snap, err := c.Tx.RegistryCurrent()
	if err != nil {
		return err
	}
	if snap == nil {
		c.Say(T("check.unavailable"))
		return nil
	}
	lim := f.limits.LookupsPerHour
	ok, wait, err := c.Tx.Peek(lookupUserKey(c), lim, lookupUserWindow, c.Now)
	if err != nil {
		return err
	}
	if !ok {
		c.refused(LimitLookupsUser)
		m, err := limitMsg(c, "check.limit_user", lim, wait)
		if err != nil {
			return err
		}
		c.Say(m)
		return nil
	}
	c.Begin(checkFlow, csNIK)
	if arg != "" {
		return f.readNIK(c, arg)
	}
	return f.prompt(c, snap)
}

func (f check) Prompt(c *Conv) error {
	snap, err := c.Tx.RegistryCurrent()
	if err != nil {
		return err
	}
	if snap == nil {
		c.End()
		c.Say(T("check.unavailable"))
		return nil
	}
	return f.prompt(c, snap)
}

func (check) prompt(c *Conv, snap *bansosbot.Snapshot) error {
	if c.Session.State == csName {
		c.Ask([]Msg{T("check.ask_name")}, [][]Choice{{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}}})
		return nil
	}
	c.Ask([]Msg{T("check.ask_nik", "AsOf", asOf(snap))}, [][]Choice{{{T("general.cancel"), PayloadCancel}}})
	return nil
}

func (f check) Handle(c *Conv) error {
	switch p := c.Payload; {
	case p == payloadCheckAgain:
		c.AnswerCallback(Msg{}, false)
		return f.Start(c)
	case strings.HasPrefix(p, payloadNotRegistry):
		return f.startNotRegistered(c, strings.TrimPrefix(p, payloadNotRegistry))
	case strings.HasPrefix(p, payloadAskOfficer):
		return f.startFromCheck(c, "INFO_REQUEST", strings.TrimPrefix(p, payloadAskOfficer), "")
	case strings.HasPrefix(p, payloadNotPaid):
		program, district, _ := strings.Cut(strings.TrimPrefix(p, payloadNotPaid), ":")
		return f.startFromCheck(c, "PAYMENT_NOT_RECEIVED", district, program)
	case c.Session.Flow != checkFlow:
		c.AnswerCallback(T("general.button_unknown"), false)
		return nil
	case p == PayloadBack && checkMachine.Can(c.Session.State, "back"):
		// (The NIK prompt has no Back button: a forged one re-prompts below.)
		if _, err := c.fire(checkMachine, "back"); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		return f.Prompt(c)
	case p != "":
		return f.Prompt(c)
	}
	switch c.Session.State {
	case csNIK:
		return f.handleNIK(c)
	case csName:
		return f.handleName(c)
	}
	c.End() // a state from an older version
	return f.Start(c)
}

// handleNIK reads the NIK. Any message that may carry it (digits, a photo
// of the KTP, a file) is deleted from the chat first.
func (f check) handleNIK(c *Conv) error {
	f.scrub(c)
	if c.In.Text == "" || c.In.Photo != nil {
		return f.Prompt(c)
	}
	return f.readNIK(c, c.In.Text)
}

// scrub deletes the input message from the chat when it may carry a NIK:
// digits, or at the NIK question a photo, file or contact (a picture of
// the KTP). The engine calls it instead of holding a message that wakes
// the check after a pause: the check keeps nothing the citizen typed.
func (check) scrub(c *Conv) {
	in := c.In
	if c.Session.State == csNIK && (in.Photo != nil || in.Media != "" || in.Contact != nil) {
		c.Reply(Reply{Action: Delete, MessageID: in.MessageID})
		c.Say(T("check.non_text_deleted"))
		return
	}
	scrubNIK(c, in.Text)
}

// scrubNIK deletes the input message from the chat when its text may hold
// a NIK (any digit), and says so.
func scrubNIK(c *Conv, text string) {
	if deleteNIK(c, text) {
		c.Say(T("check.nik_deleted"))
	}
}

// deleteNIK deletes the input's message from the chat when text has
// digits (a NIK perhaps), without a word: scrubNIK says why.
func deleteNIK(c *Conv, text string) bool {
	if !strings.ContainsFunc(text, unicode.IsDigit) {
		return false
	}
	c.Reply(Reply{Action: Delete, MessageID: c.In.MessageID})
	return true
}

// readNIK validates the NIK and keeps its hash for the name question.
func (f check) readNIK(c *Conv, text string) error {
	nik, err := bansosbot.ParseNIK(text)
	if err != nil {
		var ue *bansosbot.Error
		if !errors.As(err, &ue) {
			return err
		}
		c.Say(Msg{Key: ue.Key, Args: ue.Args})
		return f.Prompt(c)
	}
	h := bansosbot.HashNIK(f.nikKey, nik)
	if err := c.SaveDraft(checkDraft{NIK: h[:], District: nik.DistrictCode()}); err != nil {
		return err
	}
	if _, err := c.fire(checkMachine, "nik_ok"); err != nil {
		return err
	}
	return f.Prompt(c)
}

// handleName checks the limits, looks the NIK up and answers.
func (f check) handleName(c *Conv) error {
	name := c.In.Text
	f.scrub(c)             // a NIK typed again instead of the name
	if c.In.Photo != nil { // a caption is not an answer
		return f.Prompt(c)
	}
	norm := bansosbot.NormalizeName(name)
	if !strings.ContainsFunc(norm, unicode.IsLetter) || utf8.RuneCountInString(norm) > bansosbot.MaxNameRunes {
		if name != "" {
			c.Say(T("check.name_invalid", "Max", bansosbot.MaxNameRunes))
		}
		return f.Prompt(c)
	}
	var d checkDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	var h bansosbot.NIKHash
	if len(d.NIK) != len(h) {
		if _, err := c.fire(checkMachine, "nik_lost"); err != nil {
			return err
		}
		return f.Prompt(c)
	}
	copy(h[:], d.NIK)

	// Both limits are asked before either counts the lookup: a lookup the
	// NIK's limit refuses is not charged to the user's (refusals come
	// before any write).
	lim := f.limits
	nikKey := "ck:n:" + hex.EncodeToString(h[:16])
	ok, wait, err := c.Tx.Peek(lookupUserKey(c), lim.LookupsPerHour, lookupUserWindow, c.Now)
	if err != nil {
		return err
	}
	if !ok {
		c.refused(LimitLookupsUser)
		c.End()
		m, err := limitMsg(c, "check.limit_user", lim.LookupsPerHour, wait)
		if err != nil {
			return err
		}
		c.Say(m)
		return nil
	}
	// Per NIK whether or not it is registered, so the limit says nothing.
	ok, wait, err = c.Tx.Peek(nikKey, lim.LookupsPerNIKDay, lookupNIKWindow, c.Now)
	if err != nil {
		return err
	}
	if !ok {
		c.refused(LimitLookupsNIK)
		c.End()
		m, err := limitMsg(c, "check.limit_nik", lim.LookupsPerNIKDay, wait)
		if err != nil {
			return err
		}
		c.Say(m)
		return nil
	}
	for _, l := range []struct {
		key    string
		limit  int
		window time.Duration
	}{{lookupUserKey(c), lim.LookupsPerHour, lookupUserWindow}, {nikKey, lim.LookupsPerNIKDay, lookupNIKWindow}} {
		if _, _, err := c.Tx.Allow(l.key, l.limit, l.window, c.Now); err != nil {
			return err
		}
	}

	snap, rec, err := c.Tx.RegistryLookup(h)
	if err != nil {
		return err
	}
	c.lookedUp(snap != nil)
	c.End()
	if snap == nil {
		c.Say(T("check.unavailable"))
		return nil
	}
	if rec == nil || !rec.MatchesName(f.nikKey, name) {
		notFound(c, snap, d.District)
		return nil
	}
	text, rows := nextSteps(snap, rec, d.District)
	offers, err := f.announcer.programOffers(c, rec)
	if err != nil {
		return err
	}
	c.Reply(Reply{Action: Send, Text: append([]Msg{found(snap, rec), T("check.not_legal")}, text...), Buttons: append(Buttons(checkFlow, rows), offers...)})
	return f.menu.showMenu(c)
}

// nextSteps are the buttons under a found answer: for each program that
// pays out, says YA and whose remark does not say it was paid, a "not
// received yet" complaint about that program; when every program says
// TIDAK, an usul and a question for a petugas. Their payloads carry the
// program code and the NIK's district (a suggestion for where the citizen
// lives), never anything of the record.
func nextSteps(snap *bansosbot.Snapshot, rec *bansosbot.Record, district string) ([]Msg, [][]Choice) {
	var text []Msg
	var rows [][]Choice
	anyYes := false
	for i, st := range rec.Programs {
		if !st.Receives {
			continue
		}
		anyYes = true
		if paysOut(snap, i, st.Code) && !st.Paid() {
			rows = append(rows, []Choice{{T("nextsteps.not_paid_button", "Code", st.Code), payloadNotPaid + st.Code + ":" + district}})
		}
	}
	if len(rows) > 0 {
		text = append(text, T("nextsteps.not_paid"))
	}
	if !anyYes && len(rec.Programs) > 0 {
		text = append(text, T("nextsteps.none"))
		rows = append(rows,
			[]Choice{{T("check.report_button"), payloadNotRegistry + district}},
			[]Choice{{T("nextsteps.ask_button"), payloadAskOfficer + district}})
	}
	return text, rows
}

// paysOut reports whether the snapshot's i-th program pays out to the
// household. A snapshot imported before programs said so (none has
// Payout) falls back to the built-in programs of the same code.
func paysOut(snap *bansosbot.Snapshot, i int, code string) bool {
	if slices.ContainsFunc(snap.Programs, func(p bansosbot.Program) bool { return p.Payout }) {
		return i < len(snap.Programs) && snap.Programs[i].Payout
	}
	p, _ := bansosbot.DefaultPrograms().Get(code)
	return p.Payout
}

// programName is a program's name from the current snapshot (the code
// when it is not there).
func programName(c *Conv, code string) any {
	if code == programNone { // the citizen did not know (complaint_fields.go)
		return T("sanggah.program_unknown")
	}
	if p, ok := programList(c).Get(code); ok { // the registry's programs, or the built-in ones
		return Localized(p.Names)
	}
	return code
}

func found(snap *bansosbot.Snapshot, rec *bansosbot.Record) Msg {
	progs := make([]Msg, 0, len(rec.Programs))
	for i, st := range rec.Programs {
		var name any = st.Code
		if i < len(snap.Programs) {
			name = Localized(snap.Programs[i].Names)
		}
		key := "check.program_no"
		if st.Receives {
			key = "check.program_yes"
		}
		progs = append(progs, T(key, "Name", name, "Period", st.Period, "Remark", st.Remark))
	}
	desil := T("check.desil_none")
	if rec.Desil > 0 {
		desil = T("check.desil", "N", rec.Desil)
	}
	return T("check.found", "Masked", rec.Masked, "Desil", desil, "Programs", progs, "AsOf", asOf(snap))
}

// notFound is the answer for an unknown NIK and for a known NIK with a
// wrong name alike: it depends only on what the citizen typed and the
// snapshot's date, never on the record.
func notFound(c *Conv, snap *bansosbot.Snapshot, district string) {
	rows := [][]Choice{{{T("check.again_button"), payloadCheckAgain}}}
	if district != "" {
		rows = append([][]Choice{
			{{T("check.report_button"), payloadNotRegistry + district}},
			{{T("nextsteps.ask_button"), payloadAskOfficer + district}},
		}, rows...)
	}
	c.Reply(Reply{Action: Send, Text: []Msg{T("check.not_found", "AsOf", asOf(snap))}, Buttons: Buttons(checkFlow, rows)})
}

// asOf is the date of the data, as imported (a calendar date).
func asOf(snap *bansosbot.Snapshot) Time {
	return Time{T: snap.AsOf, Loc: time.UTC, DateOnly: true}
}

func lookupUserKey(c *Conv) string { return "ck:u:" + strconv.FormatInt(c.In.UserID, 10) }

func limitMsg(c *Conv, key string, limit int, wait time.Duration) (Msg, error) {
	retry, err := retryAt(c, wait)
	return T(key, "Count", limit, "Retry", retry), err
}

// startNotRegistered starts a NOT_REGISTERED complaint (usul) with the
// region of the NIK's district, or the nearest region above it that still
// exists (a NIK keeps the code of its first registration for life).
func (f check) startNotRegistered(c *Conv, district string) error {
	if !bansosbot.KnownNIKDistrict(district) {
		c.AnswerCallback(T("general.button_unknown"), false)
		return nil
	}
	c.AnswerCallback(Msg{}, false)
	return f.report.StartComplaint(c, "NOT_REGISTERED", f.districtRegion(c, district))
}

// districtRegion is the region of a NIK's district code, or the nearest
// region above it that still exists (a NIK keeps the code of its first
// registration for life); "" for a code that is not a NIK district.
func (f check) districtRegion(c *Conv, district string) bansosbot.RegionCode {
	if !bansosbot.KnownNIKDistrict(district) {
		return ""
	}
	region, _ := bansosbot.ParseRegionCode(district)
	for ; region != ""; region = region.Parent() {
		if _, ok := f.cat.regions.Get(region); ok {
			break
		}
	}
	return region
}

// startFromCheck starts a complaint of category from a status check's
// buttons: the NIK's district as the suggested residence, and the program
// it is about ("" for none; a code the current data does not know is
// dropped).
func (f check) startFromCheck(c *Conv, category, district, program string) error {
	if program != "" {
		snap, err := c.Tx.RegistryCurrent()
		if err != nil {
			return err
		}
		if snap == nil {
			program = ""
		} else if _, ok := snap.Programs.Get(program); !ok {
			program = ""
		}
	}
	c.AnswerCallback(Msg{}, false)
	return f.report.startReport(c, category, f.districtRegion(c, district), program)
}
