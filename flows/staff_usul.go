package flows

import (
	"slices"
	"strconv"
	"strings"

	"github.com/bansosbot/bansosbot"
)

// The petugas' side of an usul (issue 11 item 5): the bot does not file
// the official proposal; a petugas checks the household (KTP, KK, a photo
// of the house, a visit) and helps file it through the desa/kelurahan
// musyawarah or the Cek Bansos app, then records the outcome here. Every
// press is authorized like the card's other buttons and written to the
// audit log and the ticket's history.

// Verbs of the usul buttons: "u:<ticket id>" shows the checklist,
// "u:<ticket id>:<item>" ticks or unticks an item; "v:<ticket id>" offers
// the outcomes, "v:<ticket id>:<outcome>" records one.
const (
	verbChecklist = "u"
	verbOutcome   = "v"
)

// isUsul reports whether the ticket's category is an usul (its prompt is
// "usul"), the tickets that have a checklist and an outcome.
func (w *workspace) isUsul(t *bansosbot.Ticket) bool {
	cat, ok := w.cat.categories.Get(t.Category)
	return ok && cat.Prompt == "usul"
}

// checkUsul is check's part for the usul verbs: only usul tickets; the
// checklist while the case is worked on (open or resolved), the outcome
// also later (the musyawarah may decide months after), but never on a
// rejected, withdrawn or purged ticket.
func (w *workspace) checkUsul(t *bansosbot.Ticket, verb string) string {
	switch {
	case !w.isUsul(t):
		return "bad_verb"
	case t.Purged || t.Status == bansosbot.StatusRejected || t.Status == bansosbot.StatusWithdrawn:
		return "status"
	case verb == verbChecklist && t.Status.Final():
		return "status"
	}
	return ""
}

// usulCardLines are the card's lines of the category questions and the
// usul record.
func (w *workspace) usulCardLines(t *bansosbot.Ticket) []Msg {
	var out []Msg
	if p := t.Extra[extraProposed]; p != "" {
		out = append(out, T("usul.staff.card_proposed", "Other", p == proposedOther))
	}
	if m := t.Extra[extraMembers]; m != "" {
		n, _ := strconv.Atoi(m)
		out = append(out, T("usul.staff.card_household", "Count", n, "More", n >= maxMembers, "Work", workMsg(t.Extra[extraWork])))
	}
	if x := t.Extra[extraTarget]; x != "" {
		out = append(out, T("sanggah.staff.card_target", "Text", x))
	}
	if w.isUsul(t) {
		var done int
		if t.Usul != nil {
			done = len(t.Usul.Checked)
		}
		out = append(out, T("usul.staff.card_checklist", "Done", done, "Total", len(bansosbot.UsulChecklist)))
		if t.Usul != nil && t.Usul.Outcome != "" {
			out = append(out, T("usul.staff.card_outcome", "Outcome", outcomeMsg(t.Usul.Outcome),
				"At", Time{T: t.Usul.OutcomeAt, Loc: t.Region.TimeZone(), DateOnly: true}))
		}
	}
	return out
}

// workMsg names a household's work; an erased or unknown value is shown
// as "other".
func workMsg(w string) Msg {
	if !slices.Contains(workKinds, w) {
		w = "other"
	}
	return T("usul.work_" + w)
}

func outcomeMsg(o string) Msg { return T("usul.staff.outcome_" + o) }

// usulRows are the card's usul buttons s may press now.
func (w *workspace) usulRows(s *bansosbot.Staff, t *bansosbot.Ticket) [][]Choice {
	var row []Choice
	if w.check(s, t, verbChecklist) == "" {
		row = append(row, Choice{T("usul.staff.btn_checklist"), verbChecklist + ":" + idStr(t.ID) + cardSuffix})
	}
	if w.check(s, t, verbOutcome) == "" {
		row = append(row, Choice{T("usul.staff.btn_outcome"), verbOutcome + ":" + idStr(t.ID) + cardSuffix})
	}
	if row == nil {
		return nil
	}
	return [][]Choice{row}
}

// usulButton handles the presses of the usul buttons. The checklist and
// the outcomes replace the card in place when pressed on it, and the card
// comes back the same way.
func (w *workspace) usulButton(c *Conv, verb, arg string, inPlace int) error {
	id, item, _ := strings.Cut(arg, ":")
	s, t, ok, err := w.authorize(c, verb, id)
	if !ok || err != nil {
		return err
	}
	if c.In.Callback != nil && inPlace == 0 {
		inPlace = c.In.Callback.MessageID // the checklist's own buttons edit it
	}
	if item == "" {
		if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditView, TicketID: t.ID, Allowed: true, Reason: verbs[verb].action}); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		return w.showUsul(c, t, verb, inPlace)
	}
	if verb == verbChecklist {
		return w.toggleChecklist(c, s, t, item, inPlace)
	}
	return w.recordOutcome(c, s, t, item, inPlace)
}

// showUsul shows the checklist or the outcome choices of t.
func (w *workspace) showUsul(c *Conv, t *bansosbot.Ticket, verb string, inPlace int) error {
	no := string(t.No)
	var text Msg
	var rows [][]Choice
	if verb == verbChecklist {
		text = T("usul.staff.checklist_title", "No", no)
		for _, it := range bansosbot.UsulChecklist {
			key := "usul.staff.check_off"
			if t.Usul != nil && slices.Contains(t.Usul.Checked, it) {
				key = "usul.staff.check_on"
			}
			rows = append(rows, []Choice{{T(key, "Item", T("usul.staff.item_"+it)), verbChecklist + ":" + idStr(t.ID) + ":" + it}})
		}
	} else {
		text = T("usul.staff.outcome_ask", "No", no)
		for _, o := range bansosbot.UsulOutcomes {
			label := outcomeMsg(o)
			if t.Usul != nil && t.Usul.Outcome == o {
				label = T("usul.staff.check_on", "Item", label)
			}
			rows = append(rows, []Choice{{label, verbOutcome + ":" + idStr(t.ID) + ":" + o}})
		}
	}
	rows = append(rows, []Choice{{T("usul.staff.back_to_card"), verbOpen + ":" + idStr(t.ID) + cardSuffix}})
	r := Reply{Action: Send, Text: []Msg{text}, Buttons: Buttons(workFlow, rows)}
	if inPlace != 0 {
		r.Action, r.MessageID = Edit, inPlace
	}
	c.Reply(r)
	return nil
}

func (w *workspace) usulRecord(t *bansosbot.Ticket) *bansosbot.UsulRecord {
	if t.Usul == nil {
		t.Usul = &bansosbot.UsulRecord{}
	}
	return t.Usul
}

// toggleChecklist ticks or unticks one item, records it in the history
// (internal) and the audit log, and shows the checklist again.
func (w *workspace) toggleChecklist(c *Conv, s *bansosbot.Staff, t *bansosbot.Ticket, item string, inPlace int) error {
	if !slices.Contains(bansosbot.UsulChecklist, item) {
		return c.refuse(bansosbot.AuditChecklist, t.ID, "bad_item", refusalMsg("bad_verb", t))
	}
	u := w.usulRecord(t)
	on := !slices.Contains(u.Checked, item)
	if on {
		u.Checked = append(u.Checked, item)
	} else {
		u.Checked = slices.DeleteFunc(u.Checked, func(x string) bool { return x == item })
	}
	state := "off"
	if on {
		state = "on"
	}
	t.UpdatedAt = c.Now
	if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: s.UserID, Role: string(s.Role),
		Kind: bansosbot.EventChecklist, Args: map[string]string{"item": item, "state": state}}); err != nil {
		return err
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditChecklist, TicketID: t.ID, Allowed: true, Reason: item + "=" + state}); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	return w.showUsul(c, t, verbChecklist, inPlace)
}

// recordOutcome records the official usul's outcome: a public history
// event, the audit log, and a message to the citizen; the card is shown
// again.
func (w *workspace) recordOutcome(c *Conv, s *bansosbot.Staff, t *bansosbot.Ticket, outcome string, inPlace int) error {
	if !slices.Contains(bansosbot.UsulOutcomes, outcome) {
		return c.refuse(bansosbot.AuditOutcome, t.ID, "bad_outcome", refusalMsg("bad_verb", t))
	}
	u := w.usulRecord(t)
	if u.Outcome == outcome {
		c.AnswerCallback(T("usul.staff.outcome_same"), false)
		return nil
	}
	u.Outcome, u.OutcomeAt, u.OutcomeBy = outcome, c.Now, s.UserID
	t.UpdatedAt = c.Now
	if t.FirstResponseAt.IsZero() { // the citizen hears from a petugas: a response
		t.FirstResponseAt = c.Now
	}
	if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: s.UserID, Role: string(s.Role),
		Kind: bansosbot.EventOutcome, Public: true, Args: map[string]string{"outcome": outcome}}); err != nil {
		return err
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditOutcome, TicketID: t.ID, Allowed: true, Reason: outcome}); err != nil {
		return err
	}
	if err := w.notifyCitizen(c, t, Reply{Action: Send, Text: []Msg{T("usul.citizen_outcome", "No", string(t.No),
		"Outcome", T("usul.citizen_"+outcome), "Declined", outcome == "declined")}}); err != nil {
		return err
	}
	c.AnswerCallback(T("usul.staff.outcome_saved", "Outcome", outcomeMsg(outcome)), false)
	return w.showCard(c, s, t, inPlace)
}

// usulEventLine renders the usul events of the history for staff; ok is
// false for other kinds.
func usulEventLine(ev bansosbot.Event, at Time, who any) (Msg, bool) {
	switch ev.Kind {
	case bansosbot.EventChecklist:
		return T("usul.staff.ev_checklist", "At", at, "Who", who, "Item", T("usul.staff.item_"+ev.Args["item"]), "On", ev.Args["state"] == "on"), true
	case bansosbot.EventOutcome:
		return T("usul.staff.ev_outcome", "At", at, "Who", who, "Outcome", outcomeMsg(ev.Args["outcome"])), true
	}
	return Msg{}, false
}
