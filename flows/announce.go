package flows

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// Announcements: the office tells the citizens of a region (a payment stage
// starts, a schedule changes, a scam circulates). Citizens subscribe with
// consent (/langganan), leave with /berhenti or the button under every
// announcement; supervisors and admins write one (/pengumuman) for their
// regions only, see a preview with the number of recipients, and send it
// now or at a time; one over AnnounceApprovalOver recipients waits for a
// second supervisor or admin at the same or a higher level (four eyes).
// Engine.Announce queues the recipients in batches that the outbox sends
// with the capacity the conversations leave.

// AnnounceStore keeps subscriptions and announcements (store/announce.go).
type AnnounceStore interface {
	Subscription(userID int64) (*bansosbot.Subscription, error) // nil when none
	PutSubscription(s *bansosbot.Subscription) error            // none left: deleted
	DeleteSubscription(userID int64) error                      // and the user's marks
	Subscriptions(after int64, fn func(*bansosbot.Subscription) bool) error
	NextAnnouncementSeq() (uint64, error)
	Announcement(id uint64) (*bansosbot.Announcement, error)
	PutAnnouncement(a *bansosbot.Announcement) error
	Announcements(fn func(*bansosbot.Announcement) bool) error // newest first
	MarkAnnounced(annID uint64, userID int64) (bool, error)    // false: already queued
	// AnnouncedSince returns the announcements queued to the user since
	// the time that are not yet counted as acted upon, and marks them.
	ActOnAnnouncements(userID int64, since time.Time) ([]uint64, error)
}

const (
	subscribeFlow = "sb"
	announceFlow  = "an"
)

// Audit actions of announcements.
const (
	auditAnnounce        = "announce"
	auditAnnounceApprove = "announce_approve"
	auditAnnounceControl = "announce_control"
)

// announcer writes, approves, controls and queues the staff's
// announcements, and offers subscriptions under answers.
type announcer struct {
	admins       []int64 // configured admins (Config.Admins): approvers of last resort
	approvalOver int     // Config.AnnounceApprovalOver
	cat          *catalog
	conv         func(tx Store, now time.Time) *Conv
}

func (e *Engine) registerAnnounce() {
	sub, ann := subscribe{cat: e.cat}, announce{an: e.announcer}
	e.addFlow(sub)
	e.addFlow(ann)
	e.addCommand(Command{ID: "subscribe", Names: map[string]string{"id": "langganan", "en": "subscribe"}, Desc: "cmd.subscribe",
		Consent: true, Run: sub.Start})
	e.addCommand(Command{ID: "unsubscribe", Names: map[string]string{"id": "berhenti", "en": "unsubscribe"}, Desc: "cmd.unsubscribe",
		Consent: true, Run: sub.Start})
	// The rough effect of an announcement: its recipients checking their
	// status or filing a complaint within the week.
	for i := range e.commands {
		if id := e.commands[i].ID; id == "check" || id == "report" {
			e.commands[i].Effect = true
		}
	}
	e.addCommand(Command{ID: "announce", Names: map[string]string{"id": "pengumuman", "en": "announce"}, Desc: "cmd.announce",
		Staff: true, Supervisors: true, Run: ann.Start})
}

// ---- citizens: subscriptions ----

// subscribe is the citizen's subscriptions: a list with a button to leave
// each region, a search to add one, and the consent screen before any
// region (or program) is kept.
type subscribe struct {
	cat *catalog
}

// subscribeMachine: list → search (typed name) → confirm (consent) → list.
var subscribeMachine = NewMachine("subscribe", fsm.Events{
	{Name: "add", Src: []string{"list"}, Dst: "search"},
	{Name: "picked", Src: []string{"search"}, Dst: "confirm"},
	{Name: "back", Src: []string{"search", "confirm"}, Dst: "list"},
	{Name: "agreed", Src: []string{"confirm"}, Dst: "list"},
})

type subDraft struct {
	Region  bansosbot.RegionCode `json:"r,omitempty"`
	Program string               `json:"p,omitempty"` // keep this program (from a /cek YA)
	Found   []string             `json:"f,omitempty"` // the last search's codes
}

func (subscribe) Name() string { return subscribeFlow }

// free: the offers under answers and the stop button under announcements.
func (subscribe) free(payload string) bool {
	verb, _, _ := strings.Cut(payload, ":")
	return verb == "r" || verb == "p" || verb == "u"
}

func (f subscribe) Start(c *Conv) error {
	c.Begin(subscribeFlow, "list")
	return f.Prompt(c)
}

func (f subscribe) Prompt(c *Conv) error {
	var d subDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	sub, err := c.Tx.Subscription(c.In.UserID)
	if err != nil {
		return err
	}
	back := []Choice{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}}
	switch c.Session.State {
	case "search":
		c.Ask([]Msg{T("announce.sub_search")}, [][]Choice{back})
	case "confirm":
		what := Msg(T("announce.sub_what_region", "Region", f.cat.regionName(d.Region)))
		if d.Program != "" {
			what = T("announce.sub_what_program", "Program", f.cat.programName(d.Program, c.Lang))
		}
		c.Ask([]Msg{T("announce.sub_consent", "What", what)}, [][]Choice{
			{{T("announce.sub_agree"), "yes"}}, back,
		})
	default: // list
		text := []Msg{T("announce.sub_none")}
		var rows [][]Choice
		if sub != nil {
			var names []string
			for _, r := range sub.Regions {
				names = append(names, f.cat.regionName(r))
				rows = append(rows, []Choice{{T("announce.sub_leave", "Region", f.cat.shortRegion(r)), "rm:" + string(r)}})
			}
			text = []Msg{T("announce.sub_list", "Regions", strings.Join(names, "; "), "Since", Time{T: sub.ConsentAt, Loc: regionZone(sub.Regions), DateOnly: true})}
			if len(sub.Programs) > 0 {
				var progs []string
				for _, p := range sub.Programs {
					progs = append(progs, f.cat.programName(p, c.Lang))
				}
				text = append(text, T("announce.sub_programs", "Programs", strings.Join(progs, ", ")))
			}
			rows = append(rows, []Choice{{T("announce.sub_leave_all"), "all"}})
		}
		if sub == nil || len(sub.Regions) < bansosbot.MaxSubscriptionRegions {
			rows = append([][]Choice{{{T("announce.sub_add"), "add"}}}, rows...)
		}
		rows = append(rows, []Choice{{T("announce.done"), PayloadCancel}})
		c.Ask(text, rows)
	}
	return nil
}

func (f subscribe) Handle(c *Conv) error {
	if c.In.Callback != nil {
		if _, step, _, _ := parseData(c.In.Callback.Data); step == "" {
			return f.button(c)
		}
	}
	var d subDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	if c.Payload == PayloadBack && subscribeMachine.Can(c.Session.State, "back") {
		// (The list has no Back button: a forged one re-prompts below.)
		d.Found = nil
		return f.step(c, d, "back")
	}
	switch c.Session.State {
	case "list":
		switch {
		case c.Payload == "add":
			return f.step(c, d, "add")
		case c.Payload == "all":
			return f.leave(c, "", 0)
		case strings.HasPrefix(c.Payload, "rm:"):
			return f.leave(c, bansosbot.RegionCode(strings.TrimPrefix(c.Payload, "rm:")), 0)
		}
	case "search":
		if code, ok := strings.CutPrefix(c.Payload, "pick:"); ok && slices.Contains(d.Found, code) {
			d.Region, d.Found = bansosbot.RegionCode(code), nil
			return f.step(c, d, "picked")
		}
		if c.In.Callback == nil && strings.TrimSpace(c.In.Text) != "" {
			return f.search(c, d, c.In.Text)
		}
	case "confirm":
		if c.Payload == "yes" {
			return f.agree(c, d)
		}
	}
	if c.In.Callback == nil && c.Session.State != "search" {
		c.Say(T("announce.use_buttons"))
	}
	return f.Prompt(c)
}

// button handles the buttons that are not tied to a prompt: the offers
// after a ticket or a status check ("r:<region>", "p:<program>") and the
// "stop" under an announcement ("u:<announcement id>").
func (f subscribe) button(c *Conv) error {
	verb, arg, _ := strings.Cut(c.Payload, ":")
	switch verb {
	case "r":
		r := bansosbot.RegionCode(arg)
		if _, ok := f.cat.regions.Get(r); !ok || r.Level() < 2 || r.Level() > 3 {
			c.AnswerCallback(T("general.button_unknown"), false)
			return nil
		}
		c.Begin(subscribeFlow, "confirm")
		c.AnswerCallback(Msg{}, false)
		if err := c.SaveDraft(subDraft{Region: r}); err != nil {
			return err
		}
		return f.Prompt(c)
	case "p":
		if _, ok := f.cat.program(arg); !ok {
			c.AnswerCallback(T("general.button_unknown"), false)
			return nil
		}
		sub, err := c.Tx.Subscription(c.In.UserID)
		if err != nil {
			return err
		}
		state := "confirm"
		if sub == nil { // a program needs a region first
			state = "search"
		}
		c.Begin(subscribeFlow, state)
		c.AnswerCallback(Msg{}, false)
		if sub == nil {
			c.Say(T("announce.sub_program_region"))
		}
		if err := c.SaveDraft(subDraft{Program: arg}); err != nil {
			return err
		}
		return f.Prompt(c)
	case "u":
		id, _ := parseID(arg)
		c.AnswerCallback(Msg{}, false)
		return f.leave(c, "", id)
	}
	c.AnswerCallback(T("general.button_unknown"), false)
	return nil
}

// regionSearchLimit bounds the regions offered for a typed name.
const regionSearchLimit = 8

func (f subscribe) search(c *Conv, d subDraft, q string) error {
	var found []bansosbot.Region
	for _, lvl := range []int{2, 3} {
		found = append(found, f.cat.regions.Search(q, lvl, "", regionSearchLimit)...)
	}
	found = found[:min(len(found), regionSearchLimit)]
	if len(found) == 0 {
		c.Say(T("announce.sub_not_found", "Query", q))
		return f.Prompt(c)
	}
	d.Found = nil
	var rows [][]Choice
	for _, r := range found {
		d.Found = append(d.Found, string(r.Code))
		rows = append(rows, []Choice{{T("announce.name", "Name", f.cat.regionName(r.Code)), "pick:" + string(r.Code)}})
	}
	rows = append(rows, []Choice{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}})
	if err := c.SaveDraft(d); err != nil {
		return err
	}
	c.Ask([]Msg{T("announce.sub_choose")}, rows)
	return nil
}

func (f subscribe) step(c *Conv, d subDraft, event string) error {
	if _, err := c.fire(subscribeMachine, event); err != nil {
		return err
	}
	if err := c.SaveDraft(d); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	return f.Prompt(c)
}

// agree keeps the region (or the program) with the consent's time and
// version.
func (f subscribe) agree(c *Conv, d subDraft) error {
	sub, err := c.Tx.Subscription(c.In.UserID)
	if err != nil {
		return err
	}
	if sub == nil {
		sub = &bansosbot.Subscription{UserID: c.In.UserID}
	}
	sub.Lang, sub.ConsentAt, sub.NoticeVersion = c.Lang, c.Now, bansosbot.SubscriptionNoticeVersion
	if d.Region != "" && !slices.Contains(sub.Regions, d.Region) {
		if len(sub.Regions) >= bansosbot.MaxSubscriptionRegions {
			c.Say(T("announce.sub_full", "Max", bansosbot.MaxSubscriptionRegions))
			return f.step(c, subDraft{}, "back")
		}
		sub.Regions = append(sub.Regions, d.Region)
	}
	if d.Program != "" && !slices.Contains(sub.Programs, d.Program) {
		sub.Programs = append(sub.Programs, d.Program)
	}
	if err := c.Tx.PutSubscription(sub); err != nil {
		return err
	}
	c.Say(T("announce.sub_done"))
	return f.step(c, subDraft{}, "agreed")
}

// leave drops one region, or all of them (region ""), and the programs
// kept with them; from an announcement's button it counts there.
func (f subscribe) leave(c *Conv, region bansosbot.RegionCode, fromAnn uint64) error {
	sub, err := c.Tx.Subscription(c.In.UserID)
	if err != nil {
		return err
	}
	if sub == nil {
		c.End()
		c.Say(T("announce.sub_left_all"))
		return nil
	}
	if region != "" {
		sub.Regions = slices.DeleteFunc(sub.Regions, func(r bansosbot.RegionCode) bool { return r == region })
	} else {
		sub.Regions = nil
	}
	if len(sub.Regions) == 0 {
		if err := c.Tx.DeleteSubscription(c.In.UserID); err != nil {
			return err
		}
	} else if err := c.Tx.PutSubscription(sub); err != nil {
		return err
	}
	if fromAnn != 0 {
		a, err := c.Tx.Announcement(fromAnn)
		if err == nil {
			a.Unsubscribed++
			if err := c.Tx.PutAnnouncement(a); err != nil {
				return err
			}
		} else if bansosbot.ErrorCode(err) != bansosbot.ENotFound {
			return err
		}
	}
	if len(sub.Regions) == 0 {
		c.End()
		c.Say(T("announce.sub_left_all"))
		return nil
	}
	c.Say(T("announce.sub_left", "Region", f.cat.regionName(region)))
	c.Begin(subscribeFlow, "list")
	return f.Prompt(c)
}

// subscribeOffer is the button offering the citizen the announcements of
// a region (after a ticket is filed); nil when they follow it already or
// it cannot be followed.
func (an *announcer) subscribeOffer(c *Conv, region bansosbot.RegionCode) ([]Button, error) {
	if region.Level() == 4 {
		region = region.District()
	}
	if region.Level() < 2 {
		return nil, nil
	}
	sub, err := c.Tx.Subscription(c.In.UserID)
	if err != nil || sub != nil && (sub.Follows(region, "") || len(sub.Regions) >= bansosbot.MaxSubscriptionRegions) {
		return nil, err
	}
	return Buttons(subscribeFlow, [][]Choice{{{T("announce.offer"), "r:" + string(region)}}})[0], nil
}

// programOffers are the buttons under a status check's answer offering the
// announcements of each program that answered YA (at most two), unless the
// citizen already lets the bot keep that program: nothing of the answer is
// kept unless they accept.
func (an *announcer) programOffers(c *Conv, rec *bansosbot.Record) ([][]Button, error) {
	sub, err := c.Tx.Subscription(c.In.UserID)
	if err != nil {
		return nil, err
	}
	var rows [][]Choice
	for _, st := range rec.Programs {
		if _, known := an.cat.program(st.Code); !st.Receives || !known || sub != nil && slices.Contains(sub.Programs, st.Code) || len(rows) == 2 {
			continue
		}
		rows = append(rows, []Choice{{T("announce.offer_program", "Program", st.Code), "p:" + st.Code}})
	}
	return Buttons(subscribeFlow, rows), nil
}

// subscriptionData is the /datasaya line of the user's subscription: the
// regions, the programs kept and when and to which notice they agreed.
func subscriptionData(c *Conv, cat *catalog) (*Msg, error) {
	sub, err := c.Tx.Subscription(c.In.UserID)
	if err != nil || sub == nil {
		return nil, err
	}
	var regions, progs []string
	for _, r := range sub.Regions {
		regions = append(regions, cat.regionName(r))
	}
	for _, p := range sub.Programs {
		progs = append(progs, cat.programName(p, c.Lang))
	}
	m := T("announce.mydata", "Regions", strings.Join(regions, "; "), "Programs", strings.Join(progs, ", "),
		"At", Time{T: sub.ConsentAt, Loc: regionZone(sub.Regions)}, "Version", sub.NoticeVersion)
	return &m, nil
}

// eraseSubscription removes the user's subscription and its marks
// (/hapusdata).
func eraseSubscription(tx Store, userID int64) error { return tx.DeleteSubscription(userID) }

// noteActivity counts a status check or a complaint as the effect of the
// announcements the user received within the effect window.
func noteActivity(c *Conv) error {
	ids, err := c.Tx.ActOnAnnouncements(c.In.UserID, c.Now.Add(-bansosbot.AnnouncementEffectWindow))
	if err != nil {
		return err
	}
	for _, id := range ids {
		a, err := c.Tx.Announcement(id)
		if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
			continue
		}
		if err != nil {
			return err
		}
		a.Acted++
		if err := c.Tx.PutAnnouncement(a); err != nil {
			return err
		}
	}
	return nil
}

// ---- staff: writing, approving and controlling announcements ----

// AnnounceApprovalOver is the default size above which an announcement
// needs a second staff member's approval (Config.AnnounceApprovalOver).
const AnnounceApprovalOver = 1000

// announce is the supervisors' and admins' flow that writes one.
type announce struct {
	an *announcer
}

// announceMachine: region → program → text → text_en → photo → preview,
// with "when" for a scheduled send; back goes one step up.
var announceMachine = NewMachine("announce", fsm.Events{
	{Name: "region_chosen", Src: []string{"region"}, Dst: "program"},
	{Name: "program_chosen", Src: []string{"program"}, Dst: "text"},
	{Name: "typed", Src: []string{"text"}, Dst: "text_en"},
	{Name: "typed", Src: []string{"text_en"}, Dst: "photo"},
	{Name: "skip", Src: []string{"text_en"}, Dst: "photo"},
	{Name: "photo", Src: []string{"photo"}, Dst: "preview"},
	{Name: "skip", Src: []string{"photo"}, Dst: "preview"},
	{Name: "schedule", Src: []string{"preview"}, Dst: "when"},
	// Back, one step at a time.
	{Name: "back", Src: []string{"program"}, Dst: "region"},
	{Name: "back", Src: []string{"text"}, Dst: "program"},
	{Name: "back", Src: []string{"text_en"}, Dst: "text"},
	{Name: "back", Src: []string{"photo"}, Dst: "text_en"},
	{Name: "back", Src: []string{"preview"}, Dst: "photo"},
	{Name: "back", Src: []string{"when"}, Dst: "preview"},
})

type annDraft struct {
	Region  bansosbot.RegionCode `json:"r"`
	Program string               `json:"p,omitempty"`
	TextID  string               `json:"ti,omitempty"`
	TextEN  string               `json:"te,omitempty"`
	Photo   string               `json:"f,omitempty"`
	Found   []string             `json:"fd,omitempty"` // regions offered by the last search
}

// AnnounceMax is the longest announcement text (a photo caption holds
// 1024 characters; the rest of the message needs room too).
const AnnounceMax = 900

func (announce) Name() string { return announceFlow }

// free: the approval and control buttons on requests and progress messages.
func (announce) free(payload string) bool {
	verb, _, _ := strings.Cut(payload, ":")
	switch verb {
	case "ok", "no", "v", "p", "r", "c":
		return true
	}
	return false
}

func (f announce) Start(c *Conv) error {
	s := c.Staff()
	if s == nil || s.Role == bansosbot.RoleWorker {
		return c.refuse(auditAnnounce, 0, "role", T("announcing.supervisors_only"))
	}
	c.Begin(announceFlow, "region")
	if err := f.an.listAnnouncements(c, s); err != nil {
		return err
	}
	return f.Prompt(c)
}

// announceRegions are the regions s may announce to as buttons: their
// own (admins: the nation).
func announceRegions(s *bansosbot.Staff) []bansosbot.RegionCode {
	if s.Role == bansosbot.RoleAdmin {
		return []bansosbot.RegionCode{""}
	}
	return outermost(s.Regions)
}

func (f announce) Prompt(c *Conv) error {
	var d annDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	s := c.Staff()
	if s == nil {
		c.End()
		return nil
	}
	back := []Choice{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}}
	switch c.Session.State {
	case "region":
		var rows [][]Choice
		for _, r := range announceRegions(s) {
			rows = append(rows, []Choice{{T("announce.name", "Name", f.an.cat.regionName(r)), "reg:" + string(r)}})
		}
		for _, code := range d.Found {
			rows = append(rows, []Choice{{T("announce.name", "Name", f.an.cat.regionName(bansosbot.RegionCode(code))), "reg:" + code}})
		}
		rows = append(rows, []Choice{{T("general.cancel"), PayloadCancel}})
		c.Ask([]Msg{T("announcing.region")}, rows)
	case "program":
		rows := [][]Choice{{{T("announcing.program_all"), "prog:"}}}
		for _, p := range f.an.cat.programs {
			rows = append(rows, []Choice{{T("announce.name", "Name", p.Name(c.Lang)), "prog:" + p.Code}})
		}
		c.Ask([]Msg{T("announcing.program", "Region", f.an.cat.regionName(d.Region))}, append(rows, back))
	case "text":
		c.Ask([]Msg{T("announcing.text", "Max", AnnounceMax)}, [][]Choice{back})
	case "text_en":
		c.Ask([]Msg{T("announcing.text_en")}, [][]Choice{{{T("announce.skip"), "skip"}}, back})
	case "photo":
		c.Ask([]Msg{T("announcing.photo")}, [][]Choice{{{T("announce.skip"), "skip"}}, back})
	case "preview":
		n, err := f.an.countRecipients(c.Tx, d.Region, d.Program)
		if err != nil {
			return err
		}
		preview := f.an.announcementReply(&bansosbot.Announcement{Region: d.Region, Text: map[string]string{"id": d.TextID, "en": d.TextEN}, PhotoID: d.Photo}, c.Lang, 0)
		preview.Buttons, preview.Announcement = nil, 0
		c.Reply(preview)
		program := Msg(T("announcing.program_all"))
		if d.Program != "" {
			program = T("announce.name", "Name", f.an.cat.programName(d.Program, c.Lang))
		}
		c.Ask([]Msg{T("announcing.preview", "Region", f.an.cat.regionName(d.Region), "Program", program, "Count", n,
			"Approval", n > f.an.approvalOver, "Over", f.an.approvalOver)}, [][]Choice{
			{{T("announcing.send_now"), "now"}, {T("announcing.send_later"), "later"}}, back,
		})
	case "when":
		c.Ask([]Msg{T("announcing.when", "Zone", d.Region.TimeZoneName())}, [][]Choice{back})
	default:
		c.End()
	}
	return nil
}

func (f announce) Handle(c *Conv) error {
	if c.In.Callback != nil {
		if _, step, _, _ := parseData(c.In.Callback.Data); step == "" {
			return f.an.announceButton(c)
		}
	}
	s := c.Staff()
	if s == nil || s.Role == bansosbot.RoleWorker {
		c.End()
		return c.refuse(auditAnnounce, 0, "role", T("announcing.supervisors_only"))
	}
	var d annDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	if c.Payload == PayloadBack && c.Session.State != "region" {
		return f.step(c, d, "back")
	}
	text := strings.TrimSpace(c.In.Text)
	switch c.Session.State {
	case "region":
		if code, ok := strings.CutPrefix(c.Payload, "reg:"); ok {
			r := bansosbot.RegionCode(code)
			if !slices.Contains(announceRegions(s), r) && !slices.Contains(d.Found, code) || !s.Covers(r) {
				// A forged or stale button: only the staff member's own
				// regions are ever offered.
				return c.refuse(auditAnnounce, 0, "region", T("announcing.region_refused"))
			}
			d.Region, d.Found = r, nil
			return f.step(c, d, "region_chosen")
		}
		if c.In.Callback == nil && text != "" {
			d.Found = nil
			for _, within := range announceRegions(s) {
				for _, r := range f.an.cat.regions.Search(text, 0, within, regionSearchLimit) {
					if r.Level <= 3 && len(d.Found) < regionSearchLimit {
						d.Found = append(d.Found, string(r.Code))
					}
				}
			}
			if len(d.Found) == 0 {
				c.Say(T("announcing.region_not_found", "Query", text))
			}
			if err := c.SaveDraft(d); err != nil {
				return err
			}
			return f.Prompt(c)
		}
	case "program":
		if code, ok := strings.CutPrefix(c.Payload, "prog:"); ok {
			if _, known := f.an.cat.program(code); code != "" && !known {
				break
			}
			d.Program = code
			return f.step(c, d, "program_chosen")
		}
	case "text", "text_en":
		if c.In.Callback == nil {
			if text == "" {
				c.Say(T("staff.text_only"))
				return f.Prompt(c)
			}
			if n := len([]rune(text)); n > AnnounceMax {
				c.Say(T("staff.text_too_long", "Max", AnnounceMax, "Got", n))
				return f.Prompt(c)
			}
			if c.Session.State == "text" {
				d.TextID = text
			} else {
				d.TextEN = text
			}
			return f.step(c, d, "typed")
		}
		if c.Payload == "skip" && c.Session.State == "text_en" {
			d.TextEN = ""
			return f.step(c, d, "skip")
		}
	case "photo":
		if c.In.Photo != nil {
			d.Photo = c.In.Photo.FileID
			return f.step(c, d, "photo")
		}
		if c.Payload == "skip" {
			d.Photo = ""
			return f.step(c, d, "skip")
		}
	case "preview":
		switch c.Payload {
		case "now":
			return f.an.createAnnouncement(c, s, d, c.Now)
		case "later":
			return f.step(c, d, "schedule")
		}
	case "when":
		if c.In.Callback == nil && text != "" {
			loc := d.Region.TimeZone()
			at, err := time.ParseInLocation("2006-01-02 15:04", text, loc)
			if err != nil || !at.After(c.Now) || at.After(c.Now.AddDate(0, 3, 0)) {
				c.Say(T("announcing.when_invalid", "Example", c.Now.In(loc).Add(24*time.Hour).Format("2006-01-02")+" 08:00"))
				return f.Prompt(c)
			}
			return f.an.createAnnouncement(c, s, d, at)
		}
	}
	if c.In.Callback == nil {
		c.Say(T("announce.use_buttons"))
	}
	return f.Prompt(c)
}

func (f announce) step(c *Conv, d annDraft, event string) error {
	if _, err := c.fire(announceMachine, event); err != nil {
		return err
	}
	if err := c.SaveDraft(d); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	return f.Prompt(c)
}

// createAnnouncement stores the announcement: scheduled, or pending when
// it needs a second pair of eyes (the approvers are asked).
func (an *announcer) createAnnouncement(c *Conv, s *bansosbot.Staff, d annDraft, at time.Time) error {
	n, err := an.countRecipients(c.Tx, d.Region, d.Program)
	if err != nil {
		return err
	}
	id, err := c.Tx.NextAnnouncementSeq()
	if err != nil {
		return err
	}
	text := map[string]string{"id": d.TextID}
	if d.TextEN != "" {
		text["en"] = d.TextEN
	}
	a := &bansosbot.Announcement{ID: id, Author: s.UserID, Region: d.Region, Program: d.Program, Text: text, PhotoID: d.Photo,
		Status: bansosbot.AnnScheduled, CreatedAt: c.Now, SendAt: at, Recipients: n}
	approvers, err := an.approvers(c.Tx, s, a)
	if err != nil {
		return err
	}
	needsApproval := n > an.approvalOver
	if needsApproval {
		a.Status = bansosbot.AnnPending
	}
	if err := c.Tx.PutAnnouncement(a); err != nil {
		return err
	}
	reason := "recipients=" + strconv.Itoa(n)
	if err := c.audit(bansosbot.AuditEntry{Action: auditAnnounce, Allowed: true, Reason: "id=" + idStr(id) + " " + reason}); err != nil {
		return err
	}
	c.End()
	c.AnswerCallback(Msg{}, false)
	switch {
	case needsApproval && len(approvers) == 0:
		c.Say(T("announcing.no_approver", "No", id))
	case needsApproval:
		for _, ap := range approvers {
			if err := c.Notify(ap.UserID, an.approvalRequest(a, s.Name)); err != nil {
				return err
			}
		}
		c.Say(T("announcing.pending", "No", id, "Count", len(approvers)))
	default:
		c.Say(T("announcing.scheduled", "No", id, "At", Time{T: at, Loc: d.Region.TimeZone()}, "Count", n))
	}
	return nil
}

// approvers are the active supervisors and admins other than the author
// who cover the announcement's region at the author's level or above.
func (an *announcer) approvers(tx Store, author *bansosbot.Staff, a *bansosbot.Announcement) ([]*bansosbot.Staff, error) {
	var out []*bansosbot.Staff
	level := author.Specificity(a.Region)
	err := tx.AllStaff(func(s *bansosbot.Staff) bool {
		if mayApprove(s, author.UserID, level, a) {
			out = append(out, s)
		}
		return true
	})
	for _, id := range an.admins {
		if id != author.UserID && !slices.ContainsFunc(out, func(s *bansosbot.Staff) bool { return s.UserID == id }) {
			out = append(out, &bansosbot.Staff{UserID: id, Role: bansosbot.RoleAdmin, Active: true})
		}
	}
	slices.SortFunc(out, func(x, y *bansosbot.Staff) int { return cmp.Compare(x.UserID, y.UserID) })
	return out, err
}

// mayApprove: a supervisor or admin, not the author, covering the region
// at the author's level (authorLevel, Staff.Specificity) or above.
func mayApprove(s *bansosbot.Staff, author int64, authorLevel int, a *bansosbot.Announcement) bool {
	if s == nil || !s.Active || s.UserID == author || s.Role == bansosbot.RoleWorker || !s.Covers(a.Region) {
		return false
	}
	return s.Role == bansosbot.RoleAdmin || s.Specificity(a.Region) <= authorLevel
}

// mayControl: the author, or anyone who may approve, may see, pause,
// resume and cancel an announcement.
func (an *announcer) mayControl(tx Store, s *bansosbot.Staff, a *bansosbot.Announcement) (bool, error) {
	if s == nil || s.Role == bansosbot.RoleWorker || !s.Covers(a.Region) {
		return false, nil
	}
	if s.UserID == a.Author {
		return true, nil
	}
	author, err := tx.Staff(a.Author)
	if err != nil {
		return false, err
	}
	level := 0
	if author != nil {
		level = max(0, author.Specificity(a.Region))
	}
	return mayApprove(s, a.Author, level, a), nil
}

func (an *announcer) approvalRequest(a *bansosbot.Announcement, author string) Reply {
	return Reply{Action: Send, Text: []Msg{T("announcing.approve_request", "No", a.ID, "Author", author,
		"Region", an.cat.regionName(a.Region), "Count", a.Recipients, "Text", a.Text["id"])},
		Buttons: Buttons(announceFlow, [][]Choice{{{T("announcing.approve"), "ok:" + idStr(a.ID)}, {T("announcing.reject"), "no:" + idStr(a.ID)}}})}
}

// announceButton handles approval and control buttons; every press is
// authorized again from the stored announcement and the presser's record.
func (an *announcer) announceButton(c *Conv) error {
	verb, arg, _ := strings.Cut(c.Payload, ":")
	id, ok := parseID(arg)
	s := c.Staff()
	var a *bansosbot.Announcement
	if ok {
		var err error
		a, err = c.Tx.Announcement(id)
		if err != nil && bansosbot.ErrorCode(err) != bansosbot.ENotFound {
			return err
		}
	}
	action := auditAnnounceControl
	if verb == "ok" || verb == "no" {
		action = auditAnnounceApprove
	}
	if a == nil || s == nil {
		return c.refuse(action, 0, "not_found", T("announcing.refused"))
	}
	allowed := false
	switch verb {
	case "ok", "no":
		author, err := c.Tx.Staff(a.Author)
		if err != nil {
			return err
		}
		level := 0
		if author != nil {
			level = max(0, author.Specificity(a.Region))
		}
		allowed = mayApprove(s, a.Author, level, a)
	case "v", "p", "r", "c":
		var err error
		if allowed, err = an.mayControl(c.Tx, s, a); err != nil {
			return err
		}
	}
	if !allowed {
		return c.refuse(action, 0, "announcement="+idStr(a.ID), T("announcing.refused"))
	}
	before := a.Status
	switch verb {
	case "ok", "no":
		if a.Status != bansosbot.AnnPending {
			c.AnswerCallback(T("announcing.already", "Status", T("announcing.status."+string(a.Status))), true)
			return nil
		}
		a.Status, a.ApprovedBy = bansosbot.AnnScheduled, s.UserID
		if verb == "no" {
			a.Status = bansosbot.AnnRejected
		}
	case "p":
		if a.Status == bansosbot.AnnSending || a.Status == bansosbot.AnnScheduled {
			a.Status = bansosbot.AnnPaused
		}
	case "r":
		if a.Status == bansosbot.AnnPaused {
			a.Status = bansosbot.AnnScheduled
		}
	case "c":
		if a.Status.Active() {
			a.Status, a.FinishedAt = bansosbot.AnnCancelled, c.Now
		}
	}
	if a.Status != before {
		if err := c.Tx.PutAnnouncement(a); err != nil {
			return err
		}
		if err := c.audit(bansosbot.AuditEntry{Action: action, Allowed: true, Reason: verb + " id=" + idStr(a.ID)}); err != nil {
			return err
		}
		if (verb == "ok" || verb == "no") && a.Author != s.UserID {
			if err := c.Notify(a.Author, Reply{Action: Send, Text: []Msg{T("announcing.decided_"+verb, "No", a.ID, "Name", s.Name)}}); err != nil {
				return err
			}
		}
	}
	c.AnswerCallback(Msg{}, false)
	c.Reply(an.progressReply(a))
	return nil
}

// progressReply shows an announcement's state with its control buttons.
func (an *announcer) progressReply(a *bansosbot.Announcement) Reply {
	var row []Choice
	id := idStr(a.ID)
	switch a.Status {
	case bansosbot.AnnSending, bansosbot.AnnScheduled:
		row = append(row, Choice{T("announcing.pause"), "p:" + id})
	case bansosbot.AnnPaused:
		row = append(row, Choice{T("announcing.resume"), "r:" + id})
	}
	if a.Status.Active() {
		row = append(row, Choice{T("announcing.cancel"), "c:" + id})
	}
	row = append(row, Choice{T("announcing.refresh"), "v:" + id})
	loc := a.Region.TimeZone()
	return Reply{Action: Send, Text: []Msg{T("announcing.progress", "No", a.ID, "Region", an.cat.regionName(a.Region),
		"Status", T("announcing.status."+string(a.Status)), "At", Time{T: a.SendAt, Loc: loc}, "Recipients", a.Recipients,
		"Queued", a.Queued, "Sent", a.Sent, "Failed", a.Failed, "Blocked", a.Blocked, "Unsubscribed", a.Unsubscribed, "Acted", a.Acted)},
		Buttons: Buttons(announceFlow, [][]Choice{row})}
}

// AnnouncementsIn returns the announcements to region or inside it
// created since the time, newest first (the figures of /ringkasan and of
// the report).
func AnnouncementsIn(tx Store, region bansosbot.RegionCode, since time.Time) ([]*bansosbot.Announcement, error) {
	var out []*bansosbot.Announcement
	err := tx.Announcements(func(a *bansosbot.Announcement) bool {
		if !a.CreatedAt.Before(since) && region.Covers(a.Region) {
			out = append(out, a)
		}
		return true
	})
	return out, err
}

// announcementLines are the summary's lines on the region's recent
// announcements: delivery, who left, and the rough effect.
func (an *announcer) announcementLines(tx Store, region bansosbot.RegionCode, since time.Time) ([]Msg, error) {
	anns, err := AnnouncementsIn(tx, region, since)
	if err != nil || len(anns) == 0 {
		return nil, err
	}
	out := []Msg{T("announcing.summary_head", "Count", len(anns))}
	for _, a := range anns[:min(len(anns), announceListed)] {
		out = append(out, T("announcing.summary_line", "No", a.ID, "Region", an.cat.shortRegion(a.Region),
			"Status", T("announcing.status."+string(a.Status)), "Sent", a.Sent, "Recipients", a.Recipients,
			"Failed", a.Failed+a.Blocked, "Unsubscribed", a.Unsubscribed, "Acted", a.Acted))
	}
	return out, nil
}

// announceListed is how many recent announcements /pengumuman lists.
const announceListed = 5

// listAnnouncements shows the recent announcements s may control.
func (an *announcer) listAnnouncements(c *Conv, s *bansosbot.Staff) error {
	var lines []Msg
	var rows [][]Choice
	var ferr error
	err := c.Tx.Announcements(func(a *bansosbot.Announcement) bool {
		ok, err := an.mayControl(c.Tx, s, a)
		if err != nil {
			ferr = err
			return false
		}
		if ok {
			lines = append(lines, T("announcing.list_line", "No", a.ID, "Region", an.cat.shortRegion(a.Region),
				"Status", T("announcing.status."+string(a.Status)), "Sent", a.Sent, "Recipients", a.Recipients))
			rows = append(rows, []Choice{{T("announcing.open", "No", a.ID), "v:" + idStr(a.ID)}})
		}
		return len(lines) < announceListed
	})
	if err = cmp.Or(err, ferr); err != nil || len(lines) == 0 {
		return err
	}
	c.Reply(Reply{Action: Send, Text: append([]Msg{T("announcing.list_head")}, lines...), Buttons: Buttons(announceFlow, rows)})
	return nil
}

// countRecipients counts the reachable subscribers of a target.
func (an *announcer) countRecipients(tx Store, region bansosbot.RegionCode, program string) (int, error) {
	n := 0
	var ferr error
	err := tx.Subscriptions(0, func(s *bansosbot.Subscription) bool {
		ok, err := reachable(tx, s, region, program)
		if err != nil {
			ferr = err
			return false
		}
		if ok {
			n++
		}
		return true
	})
	return n, cmp.Or(err, ferr)
}

// reachable: the subscriber follows the target and has not blocked the bot.
func reachable(tx Store, s *bansosbot.Subscription, region bansosbot.RegionCode, program string) (bool, error) {
	if !s.Follows(region, program) {
		return false, nil
	}
	p, err := tx.Profile(s.UserID)
	if err != nil {
		return false, err
	}
	return p != nil && !p.Unreachable, nil
}

// announcementReply is the message a subscriber gets, in their language,
// with the button to stop receiving them.
func (an *announcer) announcementReply(a *bansosbot.Announcement, lang string, chat int64) Reply {
	r := Reply{Action: Send, ChatID: chat, Lang: lang, Announcement: a.ID,
		Text:    []Msg{T("announce.message", "Region", an.cat.regionName(a.Region), "Text", a.TextFor(lang))},
		Buttons: Buttons(subscribeFlow, [][]Choice{{{T("announce.stop"), "u:" + idStr(a.ID)}}})}
	if a.PhotoID != "" {
		r.Action, r.FileID = SendPhoto, a.PhotoID
	}
	return r
}

// AnnouncementDue reports whether an announcement waits to be queued, so
// that the job writes nothing when none does.
func AnnouncementDue(tx Store, now time.Time) (bool, error) {
	due := false
	err := tx.Announcements(func(a *bansosbot.Announcement) bool {
		due = a.Status == bansosbot.AnnSending || a.Status == bansosbot.AnnScheduled && !a.SendAt.After(now)
		return !due
	})
	return due, err
}

// Announce queues at most budget recipients of the announcements due now
// (oldest first), each exactly once (a mark per recipient and a cursor,
// written in the caller's transaction with the replies), and finishes
// those whose subscribers are all queued, telling their author. Run it
// whenever the outbox has room for more: conversations go first.
func (an *announcer) Announce(ctx context.Context, tx Store, now time.Time, budget int) (Outcome, error) {
	var due []*bansosbot.Announcement
	err := tx.Announcements(func(a *bansosbot.Announcement) bool {
		if (a.Status == bansosbot.AnnScheduled && !a.SendAt.After(now)) || a.Status == bansosbot.AnnSending {
			due = append(due, a)
		}
		return true
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("flows: announce: %w", err)
	}
	slices.Reverse(due) // oldest first
	c := an.conv(tx, now)
	c.ctx = ctx
	for _, a := range due {
		if budget <= 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return Outcome{}, err
		}
		a.Status = bansosbot.AnnSending
		var ferr error
		finished := true
		err := tx.Subscriptions(a.Cursor, func(s *bansosbot.Subscription) bool {
			if budget <= 0 {
				finished = false
				return false
			}
			a.Cursor = s.UserID
			ok, err := reachable(tx, s, a.Region, a.Program)
			if err == nil && ok {
				ok, err = tx.MarkAnnounced(a.ID, s.UserID)
			}
			if err != nil {
				ferr = err
				return false
			}
			if ok {
				lang := cmp.Or(s.Lang, bansosbot.Languages[0])
				if p, _ := tx.Profile(s.UserID); p != nil && p.Lang != "" {
					lang = p.Lang
				}
				c.replies = append(c.replies, an.announcementReply(a, lang, s.UserID))
				a.Queued++
				budget--
			}
			return true
		})
		if err = cmp.Or(err, ferr); err != nil {
			return Outcome{}, fmt.Errorf("flows: announce %d: %w", a.ID, err)
		}
		if finished {
			a.Status, a.FinishedAt = bansosbot.AnnDone, now
			if err := c.Notify(a.Author, Reply{Action: Send, Text: []Msg{T("announcing.finished", "No", a.ID, "Queued", a.Queued)},
				Buttons: Buttons(announceFlow, [][]Choice{{{T("announcing.refresh"), "v:" + idStr(a.ID)}}})}); err != nil {
				return Outcome{}, err
			}
		}
		if err := tx.PutAnnouncement(a); err != nil {
			return Outcome{}, err
		}
	}
	return c.outcome(), nil
}

// AnnouncementOutcome records what Telegram answered for one recipient of
// an announcement: sent, failed, or blocked (the user is then skipped by
// later announcements until they write to the bot again).
func AnnouncementOutcome(tx Store, annID uint64, userID int64, outcome string) error {
	a, err := tx.Announcement(annID)
	if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	switch outcome {
	case OutcomeSent:
		a.Sent++
	case OutcomeBlocked:
		a.Blocked++
	default:
		a.Failed++
	}
	return tx.PutAnnouncement(a)
}

// Outcomes of a send, for AnnouncementOutcome.
const (
	OutcomeSent    = "sent"
	OutcomeFailed  = "failed"
	OutcomeBlocked = "blocked"
)

// program returns a configured program by code.
func (k *catalog) program(code string) (bansosbot.Program, bool) { return k.programs.Get(code) }

func (k *catalog) programName(code, lang string) string {
	if p, ok := k.program(code); ok {
		return p.Name(lang)
	}
	return code
}
