package flows

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// citizenSide is the citizen's part of a resolved ticket (flow "ct"): the
// rating 1-5 with an optional comment, or "not solved", which reopens the
// ticket. The buttons sit on the resolution notice, so every press checks
// that the ticket is the presser's and still resolved. Answers to staff
// messages go through the tickets flow ("tk"), whose add button the
// notices carry.
type citizenSide struct {
	cat    *catalog
	routes *router
	sla    *deadlines
	menu   menu
}

// Citizen buttons: "s:<id>:<1-5>" rates, "u:<id>" says not solved.
const (
	verbStars     = "s"
	verbNotSolved = "u"
	payloadSkip   = "k"
)

var citizenMachine = NewMachine("citizen", fsm.Events{
	{Name: "rated", Src: []string{"idle"}, Dst: "comment"},
	{Name: "reopened", Src: []string{"idle"}, Dst: "explain"},
	{Name: "done", Src: []string{"comment", "explain"}, Dst: "idle"},
})

type citizenDraft struct {
	Ticket uint64 `json:"t"`
}

// lowRating is the highest rating that closes a ticket with the pointer
// to SP4N-LAPOR! and the Ombudsman (answers.disagree).
const lowRating = 3

// RatingCommentMax bounds a rating comment (characters).
const RatingCommentMax = 500

func (citizenSide) Name() string { return citizenFlow }

// free: the buttons under staff answers (each press checks the ticket).
func (citizenSide) free(string) bool { return true }

func (f citizenSide) Start(c *Conv) error { return f.menu.showMenu(c) }

func (f citizenSide) Prompt(c *Conv) error {
	var d citizenDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	t, err := c.Tx.Ticket(d.Ticket)
	if err != nil {
		c.End()
		return err
	}
	switch c.Session.State {
	case "comment":
		text := []Msg{T("ct.rated", "No", string(t.No), "Rating", t.Rating)}
		if t.Rating <= lowRating {
			// Closed by an unhappy citizen: where to go if they disagree.
			text = f.cat.endedMsgs(text, t)
		}
		c.Ask(text, [][]Choice{{{T("general.skip"), payloadSkip}}})
	case "explain":
		c.Ask([]Msg{T("ct.reopened", "No", string(t.No))}, [][]Choice{{{T("general.skip"), payloadSkip}}})
	default:
		c.End()
		return f.menu.showMenu(c)
	}
	return nil
}

func (f citizenSide) Handle(c *Conv) error {
	if c.In.Callback != nil {
		if _, step, _, _ := parseData(c.In.Callback.Data); step == "" {
			return f.button(c)
		}
	}
	var d citizenDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	if c.Payload == payloadSkip {
		return f.finish(c, T("ct.thanks"))
	}
	text := strings.TrimSpace(c.In.Text)
	if c.In.Callback != nil || text == "" {
		return f.Prompt(c)
	}
	t, err := c.Tx.Ticket(d.Ticket)
	if err != nil {
		return err
	}
	if t.CitizenID != c.In.UserID {
		c.End()
		return c.refuse("citizen_"+c.Session.State, t.ID, "not_owner", T("errors.ticket_not_found"))
	}
	switch c.Session.State {
	case "comment":
		if utf8.RuneCountInString(text) > RatingCommentMax {
			text = string([]rune(text)[:RatingCommentMax])
		}
		t.RatingComment, t.UpdatedAt = text, c.Now
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
	case "explain":
		if !t.Status.Open() {
			return f.finish(c, T("ct.too_late", "No", string(t.No)))
		}
		if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: c.In.UserID, Role: RoleCitizen,
			Kind: bansosbot.EventMessage, Public: true, Text: text}); err != nil {
			return err
		}
		t.UpdatedAt = c.Now
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		if err := f.routes.tellHandlers(c, t, T("staff.citizen_explained", "No", string(t.No), "Text", text)); err != nil {
			return err
		}
	}
	return f.finish(c, T("ct.thanks"))
}

func (citizenSide) finish(c *Conv, msg Msg) error {
	if _, err := c.fire(citizenMachine, "done"); err != nil {
		return err
	}
	c.End()
	c.AnswerCallback(Msg{}, false)
	c.Say(msg)
	return nil
}

// button handles a rating or "not solved" press from a resolution notice.
func (f citizenSide) button(c *Conv) error {
	verb, rest, _ := strings.Cut(c.Payload, ":")
	arg, stars, _ := strings.Cut(rest, ":")
	action := "citizen_rate"
	if verb == verbNotSolved {
		action = "citizen_reopen"
	}
	id, ok := parseID(arg)
	n, _ := strconv.Atoi(stars)
	if !ok || (verb != verbStars && verb != verbNotSolved) || (verb == verbStars && (n < 1 || n > 5)) {
		return c.refuse(action, 0, "bad_id", T("errors.ticket_not_found"))
	}
	t, err := c.Tx.Ticket(id)
	if bansosbot.ErrorCode(err) == bansosbot.ENotFound || (err == nil && (t.CitizenID == 0 || t.CitizenID != c.In.UserID)) {
		// Someone else's ticket is answered like a missing one.
		return c.refuse(action, id, "not_owner", T("errors.ticket_not_found"))
	}
	if err != nil {
		return err
	}
	if t.Status != bansosbot.StatusResolved {
		c.AnswerCallback(T("ct.too_late", "No", string(t.No)), true)
		return nil
	}
	by := Actor{ID: c.In.UserID, Role: RoleCitizen}
	no := string(t.No)
	c.AnswerCallback(Msg{}, false)
	if verb == verbStars {
		t.Rating = n
		if err := Transition(c.Tx, t, EvClose, by, Change{Args: map[string]string{"rating": stars}}, c.Now); err != nil {
			return err
		}
		if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: by.ID, Role: by.Role, Kind: bansosbot.EventRated,
			Args: map[string]string{"rating": stars}}); err != nil {
			return err
		}
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		if t.Assignee != 0 {
			if err := c.Notify(t.Assignee, Reply{Action: Send, Text: []Msg{T("staff.rated", "No", no, "Rating", n)}}); err != nil {
				return err
			}
		}
		return f.begin(c, t, "rated")
	}
	if err := Transition(c.Tx, t, EvReopen, by, Change{}, c.Now); err != nil {
		return err
	}
	// The clock runs again: new deadlines now, not at the next job run.
	if err := f.sla.Reschedule(c.Tx, t, c.Now); err != nil {
		return err
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	if err := f.routes.tellHandlers(c, t, T("staff.reopened", "No", no)); err != nil {
		return err
	}
	return f.begin(c, t, "reopened")
}

func (f citizenSide) begin(c *Conv, t *bansosbot.Ticket, event string) error {
	next, err := citizenMachine.Next("idle", event)
	if err != nil {
		return err
	}
	c.Begin(citizenFlow, next)
	if err := c.SaveDraft(citizenDraft{Ticket: t.ID}); err != nil {
		return err
	}
	return f.Prompt(c)
}

// tellHandlers notifies the assignee of a ticket, or, when nobody has it,
// whoever routing would tell, with a button to open it.
func (r *router) tellHandlers(c *Conv, t *bansosbot.Ticket, msg Msg) error {
	ids := []int64{t.Assignee}
	if t.Assignee == 0 {
		staff, err := r.Route(c.Tx, t)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, s := range staff {
			ids = append(ids, s.UserID)
		}
	}
	open := Buttons(workFlow, [][]Choice{{{T("staff.btn_o"), verbOpen + ":" + idStr(t.ID)}}})
	for _, id := range ids {
		if err := c.Notify(id, Reply{Action: Send, Text: []Msg{msg}, Buttons: open}); err != nil {
			return err
		}
	}
	return nil
}

// DefaultAutoCloseAfter is how long a resolved ticket waits for the
// citizen's rating before it closes by itself (Config.AutoCloseAfter).
const DefaultAutoCloseAfter = 7 * 24 * time.Hour

// autoCloseAfter is Config.AutoCloseAfter or its default.
func (w *workspace) autoCloseAfter() time.Duration {
	if w.autoClose > 0 {
		return w.autoClose
	}
	return DefaultAutoCloseAfter
}

// AutoClose closes the resolved tickets whose citizen did not answer
// within Config.AutoCloseAfter, reading only the resolved entries of the
// status index, and returns the notices for their citizens (no rating
// request: the window has passed). Cron runs it in one transaction.
func (w *workspace) AutoClose(tx Store, now time.Time) (Outcome, error) {
	after := w.autoCloseAfter()
	var due []*bansosbot.Ticket
	err := tx.RegionTickets("", []bansosbot.Status{bansosbot.StatusResolved}, func(t *bansosbot.Ticket) bool {
		if !t.ResolvedAt.IsZero() && !now.Before(t.ResolvedAt.Add(after)) {
			due = append(due, t)
		}
		return true
	})
	if err != nil {
		return Outcome{}, err
	}
	sc := w.conv(tx, now)
	for _, t := range due { // changed after the scan: the index must not move under the cursor
		if err := Transition(tx, t, EvClose, Actor{Role: RoleSystem}, Change{Args: map[string]string{"reason": "no_answer"}}, now); err != nil {
			return Outcome{}, err
		}
		if err := tx.PutTicket(t); err != nil {
			return Outcome{}, err
		}
		if err := sc.audit(bansosbot.AuditEntry{Action: bansosbot.AuditClose, TicketID: t.ID, Allowed: true, Reason: "no_answer"}); err != nil {
			return Outcome{}, err
		}
		if err := w.notifyCitizen(sc, t, Reply{Action: Send, Text: w.cat.endedMsgs([]Msg{T("ct.auto_closed", "No", string(t.No), "Days", int(after/(24*time.Hour)))}, t)}); err != nil {
			return Outcome{}, err
		}
	}
	return sc.outcome(), nil
}
