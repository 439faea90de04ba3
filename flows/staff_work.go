package flows

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// Verbs of the work flow's buttons: "<verb>:<ticket id>". The buttons are
// not tied to a prompt (they sit on notifications and cards), so every
// press is authorized again on the server: role, region, hidden-reporter
// rules, active staff, assignee and status.
const (
	verbQueue    = "q" // q:<filter>:<page>
	verbOpen     = "o" // the ticket card
	verbHistory  = "h" // the whole history
	verbClaim    = "c"
	verbReply    = "r"
	verbAsk      = "a"
	verbNote     = "n"
	verbTransfer = "t"
	verbResolve  = "s"
	verbRefer    = "f"
	verbReject   = "j"
	verbVoice    = "p" // play the citizen's voice note
)

// verbSpec says what a verb needs and does.
type verbSpec struct {
	action  string // audit action
	event   string // lifecycle event it fires ("" = none)
	handler bool   // a worker must be the assignee (or the ticket unassigned)
	assign  bool   // an unassigned ticket is first assigned to the actor
	text    bool   // asks for a text
	confirm bool   // the text is shown back for confirmation before it goes out
}

var verbs = map[string]verbSpec{
	verbOpen:     {action: bansosbot.AuditView},
	verbHistory:  {action: bansosbot.AuditView},
	verbVoice:    {action: bansosbot.AuditView},
	verbClaim:    {action: bansosbot.AuditClaim, event: EvAssign},
	verbReply:    {action: bansosbot.AuditReply, handler: true, assign: true, text: true, confirm: true},
	verbAsk:      {action: bansosbot.AuditAsk, event: EvAskCitizen, handler: true, assign: true, text: true, confirm: true},
	verbNote:     {action: bansosbot.AuditNote, text: true},
	verbTransfer: {action: bansosbot.AuditTransfer, event: EvAssign, handler: true},
	verbResolve:  {action: bansosbot.AuditResolve, event: EvResolve, handler: true, assign: true, text: true, confirm: true},
	verbRefer:    {action: bansosbot.AuditRefer, event: EvRefer, handler: true, text: true, confirm: true},
	verbReject:   {action: bansosbot.AuditReject, event: EvReject, handler: true, text: true, confirm: true},
	// The usul record (staff_usul.go): a worker must be the assignee.
	verbChecklist: {action: bansosbot.AuditChecklist, handler: true},
	verbOutcome:   {action: bansosbot.AuditOutcome, handler: true},
}

// cardVerbs are the action buttons of a card, in display order.
var cardVerbs = [][]string{
	{verbClaim, verbReply, verbAsk},
	{verbNote, verbTransfer},
	{verbResolve, verbRefer, verbReject},
}

// workspace is the staff's desk: queues, cards, the actions on tickets
// and the usul records, the weekly summary, and closing resolved tickets
// the citizen left unanswered.
type workspace struct {
	autoClose time.Duration // Config.AutoCloseAfter
	cat       *catalog
	routes    *router
	announcer *announcer // the summary lists the region's announcements
	conv      func(tx Store, now time.Time) *Conv
	flow      work // asks the work flow's questions again
}

// check decides whether s may do verb on t now; "" when allowed, else the
// reason code recorded in the audit log.
func (w *workspace) check(s *bansosbot.Staff, t *bansosbot.Ticket, verb string) string {
	spec := verbs[verb]
	switch {
	case s == nil:
		return "not_staff"
	case !s.Covers(t.Region):
		return "region"
	case !s.MayHandle(t, w.cat.restricted(t)):
		return "hidden"
	}
	worker := s.Role == bansosbot.RoleWorker
	switch verb {
	case verbChecklist, verbOutcome:
		if r := w.checkUsul(t, verb); r != "" {
			return r
		}
	case verbClaim:
		switch {
		case t.Assignee == s.UserID:
			return "mine"
		case t.Assignee != 0 && worker:
			return "assignee"
		}
	case verbReply:
		if !t.Status.Open() {
			return "status"
		}
	}
	if spec.handler && worker && t.Assignee != 0 && t.Assignee != s.UserID {
		return "assignee"
	}
	if spec.event != "" {
		st := string(t.Status)
		if spec.assign && t.Assignee == 0 && Lifecycle.Can(st, EvAssign) {
			st = string(bansosbot.StatusAssigned)
		}
		if !Lifecycle.Can(st, spec.event) {
			return "status"
		}
	}
	return ""
}

// refusalMsg is the polite answer to a refused reason. Tickets outside the
// area, restricted ones and unknown ids get the same answer, so that
// presses cannot probe which tickets exist.
func refusalMsg(reason string, t *bansosbot.Ticket) Msg {
	switch reason {
	case "not_staff":
		return T("staff.refused_not_staff")
	case "assignee":
		return T("staff.refused_assignee")
	case "mine":
		return T("staff.already_yours")
	case "status":
		return T("staff.refused_status", "Status", T(StaffStatusKey(t.Status)))
	case "bad_verb":
		return T("general.button_unknown")
	}
	return T("staff.refused_ticket")
}

// authorize loads the ticket of a button and checks the verb; on refusal
// it records the attempt, answers politely and returns ok false.
func (w *workspace) authorize(c *Conv, verb, arg string) (*bansosbot.Staff, *bansosbot.Ticket, bool, error) {
	spec, known := verbs[verb]
	if !known {
		return nil, nil, false, c.refuse("unknown", 0, "bad_verb", refusalMsg("bad_verb", nil))
	}
	id, ok := parseID(arg)
	if !ok {
		return nil, nil, false, c.refuse(spec.action, 0, "bad_id", refusalMsg("bad_id", nil))
	}
	t, err := c.Tx.Ticket(id)
	if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
		return nil, nil, false, c.refuse(spec.action, id, "not_found", refusalMsg("not_found", nil))
	}
	if err != nil {
		return nil, nil, false, err
	}
	s := c.Staff()
	if reason := w.check(s, t, verb); reason != "" {
		return nil, nil, false, c.refuse(spec.action, id, reason, refusalMsg(reason, t))
	}
	return s, t, true, nil
}

// ---- the queue ----

// Queue filters.
const (
	queueAll        = "a"
	queueUnassigned = "u"
	queueMine       = "m"
	queueWaiting    = "w"
	queueOverdue    = "o"
)

var queueFilters = []string{queueAll, queueUnassigned, queueMine, queueWaiting, queueOverdue}

// QueuePage is the number of tickets per page of the queue.
const QueuePage = 5

// openStatuses are the statuses a queue lists.
var openStatuses = []bansosbot.Status{bansosbot.StatusNew, bansosbot.StatusAssigned, bansosbot.StatusInProgress,
	bansosbot.StatusWaitingCitizen, bansosbot.StatusReopened}

// Queue returns the open tickets s may handle that match the filter,
// sorted by due time (then id), reading only the status+region index
// entries of s's regions.
func (w *workspace) Queue(tx Store, s *bansosbot.Staff, filter string, now time.Time) ([]*bansosbot.Ticket, error) {
	regions := s.Regions
	if s.Role == bansosbot.RoleAdmin {
		regions = []bansosbot.RegionCode{""}
	}
	seen := map[uint64]bool{}
	var out []*bansosbot.Ticket
	for _, r := range regions {
		err := tx.RegionTickets(r, openStatuses, func(t *bansosbot.Ticket) bool {
			if seen[t.ID] || !s.MayHandle(t, w.cat.restricted(t)) {
				return true
			}
			seen[t.ID] = true
			switch filter {
			case queueUnassigned:
				if t.Assignee != 0 {
					return true
				}
			case queueMine:
				if t.Assignee != s.UserID {
					return true
				}
			case queueWaiting:
				if t.Status != bansosbot.StatusWaitingCitizen {
					return true
				}
			case queueOverdue:
				if !Overdue(t, now) {
					return true
				}
			}
			out = append(out, t)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	due := make(map[uint64]time.Time, len(out)) // computed once, not per comparison
	for _, t := range out {
		due[t.ID] = DueState(t, now).At
	}
	slices.SortFunc(out, func(a, b *bansosbot.Ticket) int {
		da, db := due[a.ID], due[b.ID]
		switch {
		case da.IsZero() != db.IsZero(): // tickets without a deadline last
			if da.IsZero() {
				return 1
			}
			return -1
		case !da.Equal(db):
			return da.Compare(db)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// showQueue lists one page of the queue. From the queue's own buttons
// (edit) it replaces the queue message in place.
func (w *workspace) showQueue(c *Conv, filter string, page int, edit bool) error {
	s := c.Staff()
	if s == nil {
		return c.refuse(bansosbot.AuditQueue, 0, "not_staff", T("staff.refused_not_staff"))
	}
	if !slices.Contains(queueFilters, filter) {
		filter = queueAll
	}
	tickets, err := w.Queue(c.Tx, s, filter, c.Now)
	if err != nil {
		return err
	}
	pages := max(1, (len(tickets)+QueuePage-1)/QueuePage)
	page = min(max(page, 0), pages-1)
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditQueue, Allowed: true, Reason: "filter=" + filter}); err != nil {
		return err
	}
	text := []Msg{T("staff.queue_head", "Filter", T("staff.filter_"+filter), "Count", len(tickets), "Page", page+1, "Pages", pages)}
	var rows [][]Choice
	var row []Choice
	for _, t := range tickets[page*QueuePage : min(len(tickets), (page+1)*QueuePage)] {
		text = append(text, T("staff.queue_line", "No", string(t.No), "Category", w.cat.categoryName(t),
			"Region", w.cat.shortRegion(t.Region), "Status", T(StaffStatusKey(t.Status)), "Due", DueState(t, c.Now).Msg(), "Mine", t.Assignee == s.UserID, "Unassigned", t.Assignee == 0))
		row = append(row, Choice{T("staff.btn_ticket", "No", string(t.No)), verbOpen + ":" + idStr(t.ID)})
		if len(row) == 2 {
			rows, row = append(rows, row), nil
		}
	}
	if len(tickets) == 0 {
		text = append(text, T("staff.queue_empty"))
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if nav := pageNav(verbQueue+":"+filter+":", page, pages); nav != nil {
		rows = append(rows, nav)
	}
	var filters []Choice
	for _, f := range queueFilters {
		if f != filter {
			filters = append(filters, Choice{T("staff.filter_" + f), verbQueue + ":" + f + ":0"})
		}
	}
	rows = append(rows, filters[:2], filters[2:])
	r := Reply{Action: Send, Text: text, Buttons: Buttons(workFlow, rows)}
	if edit && c.In.Callback != nil && c.In.Callback.MessageID != 0 {
		r.Action, r.MessageID = Edit, c.In.Callback.MessageID
		c.AnswerCallback(Msg{}, false)
	}
	c.Reply(r)
	return nil
}

// shortRegion names a kecamatan without its province, for queue lines.
func (k *catalog) shortRegion(r bansosbot.RegionCode) string {
	if reg, ok := k.regions.Get(r); ok {
		return reg.Name
	}
	return string(r)
}

// ---- the ticket card ----

// StaffStatusKey is the catalog key of a ticket status as staff read it:
// the citizen's own wording of a ticket waiting for them ("Menunggu
// jawaban Bapak/Ibu", "Waiting for your answer") would speak to the
// petugas, so staff read "waiting for the citizen" instead.
func StaffStatusKey(st bansosbot.Status) string {
	if st == bansosbot.StatusWaitingCitizen {
		return "desk.status_waiting_citizen"
	}
	return "status." + string(st)
}

func ageMsg(d time.Duration) Msg {
	switch {
	case d < time.Hour:
		return T("staff.age_minutes", "Count", int(d/time.Minute))
	case d < 48*time.Hour:
		return T("staff.age_hours", "Count", int(d/time.Hour))
	}
	return T("staff.age_days", "Count", int(d/(24*time.Hour)))
}

// reporter describes the citizen to staff: never who they are for a
// hidden-reporter ticket; otherwise "a citizen" and the phone they gave.
// Telegram ids are never shown (names and usernames are not stored).
func reporter(t *bansosbot.Ticket) Msg {
	switch {
	case t.HideReporter:
		return T("staff.reporter_hidden")
	case t.Phone != "":
		return T("staff.reporter_phone", "Phone", t.Phone)
	}
	return T("staff.reporter")
}

// showCard shows the ticket to s and records the view. Opened afresh it
// sends the photos, the location and the card; pressed on the card itself
// (inPlace, the card's message id) it edits that card instead, so that
// each action does not repeat the photos and the pin.
func (w *workspace) showCard(c *Conv, s *bansosbot.Staff, t *bansosbot.Ticket, inPlace int) error {
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditView, TicketID: t.ID, Allowed: true}); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	card, err := w.cardReply(c, s, t)
	if err != nil {
		return err
	}
	if inPlace != 0 {
		card.Action, card.MessageID = Edit, inPlace
		c.Reply(card)
		return nil
	}
	for _, a := range t.Attachments {
		c.Reply(Reply{Action: SendPhoto, FileID: a.FileID, Text: []Msg{T("staff.photo_caption", "No", string(t.No), "Caption", a.Caption)}})
	}
	if t.Location != nil {
		c.Reply(Reply{Action: SendLocation, Location: t.Location})
	}
	c.Reply(card)
	return nil
}

// cardSuffix marks the payloads of a card's own buttons ("c:12:k"): their
// press edits the card in place.
const cardSuffix = ":k"

// cardReply is the ticket's card with the actions s may take now.
func (w *workspace) cardReply(c *Conv, s *bansosbot.Staff, t *bansosbot.Ticket) (Reply, error) {
	loc := t.Region.TimeZone()
	assignee := Msg(T("staff.unassigned"))
	if t.Assignee != 0 {
		name, err := staffName(c.Tx, t.Assignee)
		if err != nil {
			return Reply{}, err
		}
		assignee = T("staff.assignee", "Name", name)
	}
	text := []Msg{T("staff.card", "No", string(t.No), "Category", w.cat.categoryName(t), "Status", T(StaffStatusKey(t.Status)),
		"Region", w.cat.regionName(t.Region), "Created", Time{T: t.CreatedAt, Loc: loc}, "Age", ageMsg(c.Now.Sub(t.CreatedAt)),
		"Due", DueState(t, c.Now).Msg(), "Assignee", assignee, "Reporter", reporter(t),
		"Description", t.Description)}
	if t.Village != "" {
		text = append(text, T("staff.card_village", "Village", w.cat.shortRegion(t.Village)))
	}
	if r := t.Extra[bansosbot.FieldReason]; r != "" {
		text = append(text, T("staff.card_reason", "Reason", r))
	}
	if t.Voice != nil {
		text = append(text, T("staff.card_voice", "Seconds", t.Voice.Seconds))
	}
	if t.Extra[bansosbot.ExtraCallMe] == "yes" && !t.HideReporter && t.Phone != "" {
		text = append(text, T("staff.card_call", "Phone", t.Phone))
	}
	if p := t.Extra[bansosbot.ExtraProgram]; p != "" {
		var code any = p
		if p == programNone { // a sanggah's reporter did not know
			code = T("sanggah.program_unknown")
		}
		text = append(text, T("nextsteps.card_program", "Code", code))
	}
	text = append(text, w.usulCardLines(t)...)
	if t.Rating > 0 {
		text = append(text, T("staff.card_rating", "Rating", t.Rating))
	}
	events, err := c.Tx.Events(t.ID)
	if err != nil {
		return Reply{}, err
	}
	const recent = 5
	if len(events) > 0 {
		text = append(text, T("staff.history_head", "Count", len(events)))
		hist, err := w.eventLines(c.Tx, t, events[max(0, len(events)-recent):])
		if err != nil {
			return Reply{}, err
		}
		text = append(text, hist...)
	}
	var rows [][]Choice
	for _, vs := range cardVerbs {
		var row []Choice
		for _, v := range vs {
			if w.check(s, t, v) == "" {
				label := "staff.btn_" + v
				if v == verbTransfer && t.Assignee != 0 && t.Assignee != s.UserID {
					label = "staff.btn_reassign"
				}
				row = append(row, Choice{T(label), v + ":" + idStr(t.ID) + cardSuffix})
			}
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	rows = append(rows, w.usulRows(s, t)...)
	if t.Voice != nil {
		rows = append(rows, []Choice{{T("staff.btn_p"), verbVoice + ":" + idStr(t.ID)}})
	}
	last := []Choice{{T("staff.btn_queue"), verbQueue + ":" + queueAll + ":0"}}
	if len(events) > recent {
		last = append([]Choice{{T("staff.btn_h"), verbHistory + ":" + idStr(t.ID)}}, last...)
	}
	rows = append(rows, last)
	return Reply{Action: Send, Text: text, Buttons: Buttons(workFlow, rows)}, nil
}

// playVoice sends the ticket's voice note to the staff member (a view,
// audited as one).
func (w *workspace) playVoice(c *Conv, t *bansosbot.Ticket) error {
	if t.Voice == nil { // removed by retention or erasure meanwhile
		c.AnswerCallback(T("staff.voice_gone"), true)
		return nil
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditView, TicketID: t.ID, Allowed: true, Reason: "voice"}); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	c.Reply(Reply{Action: SendVoice, FileID: t.Voice.FileID, Text: []Msg{T("staff.voice_caption", "No", string(t.No))}})
	return nil
}

// HistoryLimit bounds the history shown at once (Telegram's 4096
// characters).
const HistoryLimit = 30

func (w *workspace) showHistory(c *Conv, t *bansosbot.Ticket) error {
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditView, TicketID: t.ID, Allowed: true, Reason: "history"}); err != nil {
		return err
	}
	events, err := c.Tx.Events(t.ID)
	if err != nil {
		return err
	}
	lines, err := w.eventLines(c.Tx, t, events[max(0, len(events)-HistoryLimit):])
	if err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	c.Reply(Reply{Action: Send, Text: append([]Msg{T("staff.history_title", "No", string(t.No), "Count", len(events))}, lines...),
		Buttons: Buttons(workFlow, [][]Choice{{{T("staff.btn_o"), verbOpen + ":" + idStr(t.ID)}}})})
	return nil
}

// eventLines renders history for staff. The citizen appears only as "the
// reporter": never their id.
func (w *workspace) eventLines(tx Store, t *bansosbot.Ticket, events []bansosbot.Event) ([]Msg, error) {
	loc := t.Region.TimeZone()
	out := make([]Msg, 0, len(events))
	for _, ev := range events {
		var who any
		switch ev.Role {
		case RoleCitizen:
			who = T("staff.who_citizen")
		case RoleSystem, "":
			who = T("staff.who_system")
		default:
			name, err := staffName(tx, ev.Actor)
			if err != nil {
				return nil, err
			}
			who = name
		}
		at := Time{T: ev.At, Loc: loc}
		if m, ok := usulEventLine(ev, at, who); ok {
			out = append(out, m)
			continue
		}
		switch ev.Kind {
		case bansosbot.EventStatus:
			line, err := w.statusLine(tx, ev, at, who)
			if err != nil {
				return nil, err
			}
			out = append(out, line)
		case bansosbot.EventMessage, bansosbot.EventNote:
			out = append(out, T("staff.ev_"+ev.Kind, "At", at, "Who", who, "Text", ev.Text))
		case bansosbot.EventCreated, bansosbot.EventAttachment:
			out = append(out, T("staff.ev_"+ev.Kind, "At", at, "Who", who))
		case bansosbot.EventRated:
			out = append(out, T("staff.ev_rated", "At", at, "Who", who, "Rating", ev.Args["rating"]))
		case bansosbot.EventAssigned:
			to := ev.Args["region_to"]
			if to != "" {
				to = w.cat.shortRegion(bansosbot.RegionCode(to))
			}
			out = append(out, T("staff.ev_assigned", "At", at, "Who", who, "Region", to))
		default:
			out = append(out, T("staff.ev_other", "At", at, "Who", who, "Kind", ev.Kind))
		}
	}
	return out, nil
}

// statusLine tells a status change as the desk reads it: what was done
// and by whom ("Rina meminta informasi dari pelapor"), not the status name
// the citizen sees ("Menunggu jawaban Anda"). A change that follows from
// the citizen's answer or from a job is nobody's action.
func (w *workspace) statusLine(tx Store, ev bansosbot.Event, at Time, who any) (Msg, error) {
	event := ev.Args["event"]
	switch event {
	case EvAssign:
		to, _ := strconv.ParseInt(ev.Args["assignee"], 10, 64)
		if to == ev.Actor {
			return T("desk.evt_claim", "At", at, "Who", who), nil
		}
		name, err := staffName(tx, to)
		if err != nil {
			return Msg{}, err
		}
		return T("desk.evt_assign", "At", at, "Who", who, "Name", name), nil
	case EvCitizenReply:
		return T("desk.evt_citizen_reply", "At", at), nil
	case EvClose:
		return T("desk.evt_close", "At", at, "Rated", ev.Args["rating"] != ""), nil
	case EvReject:
		var reason any = ""
		if k := ev.Args["reason"]; slices.Contains(rejectKinds, k) {
			reason = T("desk.reject_" + k)
		}
		return T("desk.evt_reject", "At", at, "Who", who, "Reason", reason, "Text", ev.Text), nil
	case EvWithdraw:
		return T("desk.evt_withdraw", "At", at, "Erased", ev.Args["reason"] == "erasure"), nil
	case EvStart, EvAskCitizen, EvResolve, EvReopen, EvRefer:
		return T("desk.evt_"+event, "At", at, "Who", who, "Text", ev.Text), nil
	}
	return T("staff.ev_status", "At", at, "Who", who, "To", T(StaffStatusKey(ev.To)), "Text", ev.Text), nil
}

// ---- the flow: buttons and text inputs ----

// work is the staff's flow: the queue, cards, and the actions that need a
// text (reply, question, note, resolution, referral, rejection) or a
// choice (transfer).
type work struct {
	desk    *workspace
	descMax int // Config.DescriptionMax: the longest text sent to a citizen
}

var workMachine = NewMachine("work", fsm.Events{
	{Name: "typed", Src: []string{"text"}, Dst: "confirm"},
	{Name: "edit", Src: []string{"confirm"}, Dst: "text"},
	{Name: "kind_chosen", Src: []string{"kind"}, Dst: "text"},
	{Name: "other_region", Src: []string{"transfer"}, Dst: "region"},
	{Name: "back", Src: []string{"region"}, Dst: "transfer"},
})

type workDraft struct {
	Ticket uint64 `json:"t"`
	Verb   string `json:"v"`
	Text   string `json:"x,omitempty"`
	Kind   string `json:"k,omitempty"` // rejection reason, one of rejectKinds
	Card   int    `json:"c,omitempty"` // the card's message, refreshed in place after the action
}

// rejectKinds are the reasons a desk rejects a ticket for, in button
// order; each has a staff label (desk.reject_<kind>) and a wording for
// the citizen (desk.reason_<kind>).
var rejectKinds = []string{"duplicate", "incomplete", "out_of_rules", "spam"}

func (work) Name() string { return workFlow }

// free: cards, queues and notifications (workButton authorizes each press).
func (work) free(string) bool { return true }

func (f work) Start(c *Conv) error { return f.desk.showQueue(c, queueAll, 0, false) }

func (f work) Prompt(c *Conv) error {
	var d workDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	t, err := c.Tx.Ticket(d.Ticket)
	if err != nil {
		return err
	}
	no := string(t.No)
	switch c.Session.State {
	case "text":
		c.Ask([]Msg{T("staff.prompt_"+d.Verb, "No", no)}, [][]Choice{{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}}})
	case "confirm":
		c.Ask([]Msg{T("staff.confirm_"+d.Verb, "No", no, "Text", d.Text)}, [][]Choice{
			{{T("staff.btn_send"), "ok"}, {T("staff.btn_edit"), "edit"}},
			{{T("general.cancel"), PayloadCancel}},
		})
	case "kind":
		var rows [][]Choice
		for i := 0; i < len(rejectKinds); i += 2 {
			var row []Choice
			for _, k := range rejectKinds[i:min(i+2, len(rejectKinds))] {
				row = append(row, Choice{T("desk.reject_" + k), k})
			}
			rows = append(rows, row)
		}
		rows = append(rows, []Choice{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}})
		c.Ask([]Msg{T("staff.reject_kind", "No", no)}, rows)
	case "transfer":
		cands, err := f.desk.transferTargets(c.Tx, t, c.In.UserID)
		if err != nil {
			return err
		}
		var rows [][]Choice
		for _, s := range cands {
			rows = append(rows, []Choice{{T("staff.btn_staff", "Name", s.Name, "Role", T("role."+string(s.Role))), "w:" + strconv.FormatInt(s.UserID, 10)}})
		}
		rows = append(rows, []Choice{{T("staff.btn_other_region"), "region"}},
			[]Choice{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}})
		c.Ask([]Msg{T("staff.transfer_choose", "No", no, "Count", len(cands))}, rows)
	case "region":
		c.Ask([]Msg{T("staff.transfer_region", "No", no)}, [][]Choice{{{T("general.back"), PayloadBack}, {T("general.cancel"), PayloadCancel}}})
	default:
		c.End()
		return f.desk.showQueue(c, queueAll, 0, false)
	}
	return nil
}

// TransferTargetsLimit bounds the staff offered as transfer buttons.
const TransferTargetsLimit = 10

// transferTargets are the active workers (supervisors for restricted
// tickets) who may handle t, except its assignee and the one transferring
// (who would take it with Claim): the most specific coverage first, then
// by name.
func (w *workspace) transferTargets(tx Store, t *bansosbot.Ticket, by int64) ([]*bansosbot.Staff, error) {
	restricted := w.cat.restricted(t)
	role := bansosbot.RoleWorker
	if restricted {
		role = bansosbot.RoleSupervisor
	}
	var out []*bansosbot.Staff
	err := tx.AllStaff(func(s *bansosbot.Staff) bool {
		if s.UserID != t.Assignee && s.UserID != by && s.Active && s.Role == role && s.MayHandle(t, restricted) {
			out = append(out, s)
		}
		return true
	})
	slices.SortFunc(out, func(a, b *bansosbot.Staff) int {
		if c := cmp.Compare(b.Specificity(t.Region), a.Specificity(t.Region)); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.UserID, b.UserID))
	})
	return out[:min(len(out), TransferTargetsLimit)], err
}

func (f work) Handle(c *Conv) error {
	if c.In.Callback != nil {
		if _, step, _, _ := parseData(c.In.Callback.Data); step == "" {
			return f.desk.workButton(c)
		}
	}
	var d workDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	if c.Payload == PayloadBack && (c.Session.State == "text" || c.Session.State == "kind" || c.Session.State == "transfer") {
		c.End()
		if d.Card != 0 {
			s, t, ok, err := f.desk.authorize(c, verbOpen, idStr(d.Ticket))
			if !ok || err != nil {
				return err
			}
			return f.desk.showCard(c, s, t, d.Card)
		}
		return f.desk.openCard(c, d.Ticket)
	}
	switch c.Session.State {
	case "text":
		if c.In.Callback != nil || c.In.Text == "" {
			if c.In.Callback == nil {
				c.Say(T("staff.text_only"))
			}
			return f.Prompt(c)
		}
		text := strings.TrimSpace(c.In.Text)
		if n := len([]rune(text)); n > f.descMax {
			c.Say(T("staff.text_too_long", "Max", f.descMax, "Got", n))
			return f.Prompt(c)
		}
		d.Text = text
		if !verbs[d.Verb].confirm {
			return f.desk.act(c, d)
		}
		return f.step(c, d, "typed")
	case "confirm":
		switch c.Payload {
		case "ok":
			return f.desk.act(c, d)
		case "edit":
			return f.step(c, d, "edit")
		}
	case "kind":
		if slices.Contains(rejectKinds, c.Payload) {
			d.Kind = c.Payload
			return f.step(c, d, "kind_chosen")
		}
	case "transfer":
		if c.Payload == "region" {
			return f.step(c, d, "other_region")
		}
		if uid, ok := strings.CutPrefix(c.Payload, "w:"); ok {
			return f.desk.transferTo(c, d, uid)
		}
	case "region":
		if c.Payload == PayloadBack {
			return f.step(c, d, "back")
		}
		if c.In.Callback == nil && c.In.Text != "" {
			return f.desk.transferRegion(c, d.Ticket, c.In.Text)
		}
	}
	return f.Prompt(c)
}

// step fires a machine event, saves the draft and asks the next question.
func (f work) step(c *Conv, d workDraft, event string) error {
	if _, err := c.fire(workMachine, event); err != nil {
		return err
	}
	if err := c.SaveDraft(d); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	return f.Prompt(c)
}

// openCard shows a card after authorizing the view again.
func (w *workspace) openCard(c *Conv, id uint64) error {
	s, t, ok, err := w.authorize(c, verbOpen, idStr(id))
	if !ok || err != nil {
		return err
	}
	return w.showCard(c, s, t, 0)
}

// workButton handles the presses of cards, queues and notifications.
func (w *workspace) workButton(c *Conv) error {
	verb, arg, _ := strings.Cut(c.Payload, ":")
	card := 0 // the card's message when the press is on the card itself
	if a, ok := strings.CutSuffix(arg, cardSuffix); ok && verb != verbQueue {
		arg = a
		if c.In.Callback != nil {
			card = c.In.Callback.MessageID
		}
	}
	if c.Session.Flow == workFlow && (verb == verbQueue || verb == verbOpen || verb == verbHistory || verb == verbClaim) {
		// Browsing elsewhere abandons a half-typed action, so that the
		// next message is not taken as its text.
		c.End()
	}
	if verb == verbQueue {
		filter, page, _ := strings.Cut(arg, ":")
		p, _ := strconv.Atoi(page)
		return w.showQueue(c, filter, p, true)
	}
	if verb == verbChecklist || verb == verbOutcome {
		return w.usulButton(c, verb, arg, card)
	}
	s, t, ok, err := w.authorize(c, verb, arg)
	if !ok || err != nil {
		return err
	}
	switch verb {
	case verbOpen:
		return w.showCard(c, s, t, card)
	case verbHistory:
		return w.showHistory(c, t)
	case verbVoice:
		return w.playVoice(c, t)
	case verbClaim:
		return w.claim(c, s, t, card)
	case verbTransfer:
		c.Begin(workFlow, "transfer")
	case verbReject:
		c.Begin(workFlow, "kind")
	default:
		c.Begin(workFlow, "text")
	}
	if err := c.SaveDraft(workDraft{Ticket: t.ID, Verb: verb, Card: card}); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	return w.flow.Prompt(c)
}

// claim assigns the ticket to the presser and tells the citizen that
// someone took it; the card is shown again (in place when pressed on it).
func (w *workspace) claim(c *Conv, s *bansosbot.Staff, t *bansosbot.Ticket, card int) error {
	prev := t.Assignee
	if err := w.assign(c, s, t, s.UserID, nil); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditClaim, TicketID: t.ID, Target: prev, Allowed: true}); err != nil {
		return err
	}
	if prev == 0 {
		if err := w.notifyCitizen(c, t, Reply{Action: Send, Text: []Msg{T("ct.claimed", "No", string(t.No))}}); err != nil {
			return err
		}
	} else if err := c.Notify(prev, Reply{Action: Send, Text: []Msg{T("staff.taken_over", "No", string(t.No), "Name", s.Name)}}); err != nil {
		return err
	}
	c.AnswerCallback(T("staff.claimed", "No", string(t.No)), false)
	return w.showCard(c, s, t, card)
}

// assign fires EvAssign to give t to user id and stores it.
func (w *workspace) assign(c *Conv, s *bansosbot.Staff, t *bansosbot.Ticket, to int64, args map[string]string) error {
	a := map[string]string{"assignee": strconv.FormatInt(to, 10)}
	for k, v := range args {
		a[k] = v
	}
	if err := Transition(c.Tx, t, EvAssign, Actor{ID: s.UserID, Role: string(s.Role)}, Change{Args: a}, c.Now); err != nil {
		return err
	}
	t.Assignee = to
	return c.Tx.PutTicket(t)
}

// notifyCitizen sends r to the ticket's citizen, unless the ticket was
// anonymised.
func (w *workspace) notifyCitizen(c *Conv, t *bansosbot.Ticket, r Reply) error {
	if t.CitizenID == 0 {
		return nil
	}
	return c.Notify(t.CitizenID, r)
}

// act carries out a confirmed text action after authorizing it again (the
// ticket or the staff member may have changed since the button).
func (w *workspace) act(c *Conv, d workDraft) error {
	s, t, ok, err := w.authorize(c, d.Verb, idStr(d.Ticket))
	if !ok || err != nil {
		c.End()
		return err
	}
	spec := verbs[d.Verb]
	by := Actor{ID: s.UserID, Role: string(s.Role)}
	no := string(t.No)
	if spec.assign && t.Assignee == 0 {
		if err := w.assign(c, s, t, s.UserID, nil); err != nil {
			return err
		}
	}
	var toCitizen []Msg
	var citizenButtons [][]Button
	// The citizen answers through their tickets flow ("tk", /tiket): its
	// add button appends to the ticket, resumes a waiting one and tells
	// the assignee.
	answer := Buttons(ticketsFlow, [][]Choice{{{T("ct.btn_answer"), tvAdd + ":" + idStr(t.ID)}}})
	switch d.Verb {
	case verbReply:
		if t.Status == bansosbot.StatusAssigned || t.Status == bansosbot.StatusReopened {
			if err := Transition(c.Tx, t, EvStart, by, Change{}, c.Now); err != nil {
				return err
			}
		}
		if t.FirstResponseAt.IsZero() {
			t.FirstResponseAt = c.Now
		}
		if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: s.UserID, Role: string(s.Role),
			Kind: bansosbot.EventMessage, Public: true, Text: d.Text}); err != nil {
			return err
		}
		toCitizen, citizenButtons = []Msg{T("ct.staff_reply", "No", no, "Text", d.Text)}, answer
	case verbNote:
		if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: s.UserID, Role: string(s.Role),
			Kind: bansosbot.EventNote, Text: d.Text}); err != nil {
			return err
		}
	default:
		ch := Change{Text: d.Text}
		if d.Kind != "" {
			ch.Args = map[string]string{"reason": d.Kind}
		}
		if err := Transition(c.Tx, t, spec.event, by, ch, c.Now); err != nil {
			return err
		}
		switch d.Verb {
		case verbAsk:
			toCitizen, citizenButtons = []Msg{T("ct.staff_asks", "No", no, "Text", d.Text)}, answer
		case verbResolve:
			toCitizen, citizenButtons = []Msg{T("ct.resolved", "No", no, "Text", d.Text, "Days", int(w.autoCloseAfter()/(24*time.Hour)))}, Buttons(citizenFlow, ratingButtons(t.ID))
		case verbRefer:
			toCitizen = []Msg{T("ct.referred", "No", no, "Text", d.Text)}
		case verbReject:
			toCitizen = w.cat.endedMsgs([]Msg{T("ct.rejected", "No", no, "Reason", T("desk.reason_"+d.Kind), "Text", d.Text)}, t)
		}
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: spec.action, TicketID: t.ID, Allowed: true, Reason: d.Kind}); err != nil {
		return err
	}
	if toCitizen != nil {
		if err := w.notifyCitizen(c, t, Reply{Action: Send, Text: toCitizen, Buttons: citizenButtons}); err != nil {
			return err
		}
	}
	c.End()
	c.AnswerCallback(Msg{}, false)
	if d.Card != 0 {
		// The card the action started from shows the new state; the
		// confirmation needs no button to open it again.
		if err := w.refreshCard(c, s, t, d.Card); err != nil {
			return err
		}
		c.Reply(Reply{Action: Send, Text: []Msg{T("staff.done_"+d.Verb, "No", no)}})
		return nil
	}
	c.Reply(Reply{Action: Send, Text: []Msg{T("staff.done_"+d.Verb, "No", no)},
		Buttons: Buttons(workFlow, [][]Choice{{{T("staff.btn_o"), verbOpen + ":" + idStr(t.ID)}, {T("staff.btn_queue"), verbQueue + ":" + queueAll + ":0"}}})})
	return nil
}

// refreshCard edits the card message id to show t as it is now.
func (w *workspace) refreshCard(c *Conv, s *bansosbot.Staff, t *bansosbot.Ticket, id int) error {
	card, err := w.cardReply(c, s, t)
	if err != nil {
		return err
	}
	card.Action, card.MessageID = Edit, id
	c.Reply(card)
	return nil
}

// ratingButtons ask the citizen to rate 1-5 or say it is not solved.
func ratingButtons(id uint64) [][]Choice {
	row := make([]Choice, 5)
	for i := range row {
		n := strconv.Itoa(i + 1)
		row[i] = Choice{T("ct.btn_star", "N", i+1), "s:" + idStr(id) + ":" + n}
	}
	return [][]Choice{row, {{T("ct.btn_not_solved"), "u:" + idStr(id)}}}
}

// transferTo gives the ticket to another staff member chosen from the
// offered list; anyone else is refused.
func (w *workspace) transferTo(c *Conv, d workDraft, uidStr string) error {
	s, t, ok, err := w.authorize(c, verbTransfer, idStr(d.Ticket))
	if !ok || err != nil {
		c.End()
		return err
	}
	uid, _ := strconv.ParseInt(uidStr, 10, 64)
	cands, err := w.transferTargets(c.Tx, t, s.UserID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cands, func(x *bansosbot.Staff) bool { return x.UserID == uid })
	if i < 0 {
		c.End()
		return c.refuse(bansosbot.AuditTransfer, t.ID, "bad_target", T("staff.refused_target"))
	}
	prev := t.Assignee
	action := bansosbot.AuditTransfer
	if prev != 0 && prev != s.UserID {
		action = bansosbot.AuditReassign
	}
	if err := w.assign(c, s, t, uid, map[string]string{"from": strconv.FormatInt(prev, 10)}); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: action, TicketID: t.ID, Target: uid, Allowed: true}); err != nil {
		return err
	}
	open := Buttons(workFlow, [][]Choice{{{T("staff.btn_o"), verbOpen + ":" + idStr(t.ID)}}})
	if uid != s.UserID {
		if err := c.Notify(uid, Reply{Action: Send, Text: []Msg{T("staff.transferred_to_you", "No", string(t.No), "Name", s.Name)}, Buttons: open}); err != nil {
			return err
		}
	}
	if prev != 0 && prev != s.UserID && prev != uid {
		if err := c.Notify(prev, Reply{Action: Send, Text: []Msg{T("staff.taken_over", "No", string(t.No), "Name", s.Name)}}); err != nil {
			return err
		}
	}
	c.End()
	c.AnswerCallback(Msg{}, false)
	if d.Card != 0 {
		if err := w.refreshCard(c, s, t, d.Card); err != nil {
			return err
		}
	}
	c.Say(T("staff.done_t", "No", string(t.No), "Name", cands[i].Name))
	return nil
}

// transferRegion moves the ticket to another kecamatan (it was filed in
// the wrong one): it becomes unassigned there and is routed again.
func (w *workspace) transferRegion(c *Conv, id uint64, typed string) error {
	s, t, ok, err := w.authorize(c, verbTransfer, idStr(id))
	if !ok || err != nil {
		c.End()
		return err
	}
	r, err := bansosbot.ParseRegionCode(typed)
	if _, known := w.cat.regions.Get(r); err != nil || !known || r.Level() != 3 {
		c.Say(T("staff.transfer_bad_region"))
		return w.flow.Prompt(c)
	}
	if r == t.Region {
		c.Say(T("staff.transfer_same_region"))
		return w.flow.Prompt(c)
	}
	from := t.Region
	t.Region, t.Assignee, t.UpdatedAt = r, 0, c.Now
	if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: s.UserID, Role: string(s.Role), Kind: bansosbot.EventAssigned,
		Args: map[string]string{"region_from": string(from), "region_to": string(r)}}); err != nil {
		return err
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditTransfer, TicketID: t.ID, Allowed: true, Reason: "region=" + string(r)}); err != nil {
		return err
	}
	c.End()
	c.Say(T("staff.done_t_region", "No", string(t.No), "Region", w.cat.regionName(r)))
	_, err = w.routes.RouteNewTicket(c, t) // the ticket is new to the region
	return err
}
