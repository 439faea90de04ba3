package flows

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// The citizen's tickets (flow "tk"): the list (/tiket), one ticket's public
// history, adding information or a photo, withdrawing, and offering a
// message sent outside any flow to a ticket that waits for the citizen.
//
// Viewing needs no state, so list and ticket buttons are not tied to a
// prompt: they keep working from old messages and notifications, and every
// press re-checks that the ticket belongs to the presser. Adding,
// withdrawing and the offer are short conversations.

// States of the tickets flow. tsIdle stands for "no tickets conversation".
const (
	tsIdle     = "idle"
	tsAdd      = "add"      // waiting for the text or photo to add
	tsWithdraw = "withdraw" // waiting for the confirmation
	tsOffer    = "offer"    // "add this message to ticket X?"
)

var ticketsMachine = NewMachine("tickets", fsm.Events{
	{Name: "add", Src: []string{tsIdle}, Dst: tsAdd},
	{Name: "withdraw", Src: []string{tsIdle}, Dst: tsWithdraw},
	{Name: "offer", Src: []string{tsIdle, tsOffer}, Dst: tsOffer},
	{Name: "done", Src: []string{tsAdd, tsWithdraw, tsOffer}, Dst: tsIdle},
})

const (
	ticketsPerPage  = 6   // tickets listed per page (one button row each)
	historyShown    = 10  // latest public events shown in a ticket
	textShown       = 300 // characters of a description or message shown in the history
	maxTicketPhotos = 10  // photos a ticket keeps in all
	maxOffered      = 3   // waiting tickets offered for a stray message
)

// ticketsDraft is the state of a tickets conversation.
type ticketsDraft struct {
	TicketID uint64                 `json:"t,omitempty"`
	Text     string                 `json:"text,omitempty"`   // the offered message (kept until answered)
	Photos   []bansosbot.Attachment `json:"photos,omitempty"` // the offered photos
	Offer    []uint64               `json:"offer,omitempty"`  // tickets offered
}

type tickets struct {
	descMax int // Config.DescriptionMax: the longest text added to a ticket
	cat     *catalog
	sla     *deadlines
	routes  *router
	menu    menu
}

func (tickets) Name() string { return ticketsFlow }

// free: the list, a ticket's buttons and "answer" under a staff message
// (each press checks that the ticket is the presser's); not the buttons
// of the add, withdraw and offer prompts.
func (tickets) free(payload string) bool {
	verb, _, _ := strings.Cut(payload, ":")
	if verb == PayloadCancel {
		return false
	}
	v, known := ticketVerbs[verb]
	return !known || v.step == "" // an unknown verb is answered as stale by Handle
}

func (f tickets) Start(c *Conv) error { return f.listTickets(c, 0) }

func (f tickets) Prompt(c *Conv) error {
	var d ticketsDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	switch c.Session.State {
	case tsAdd:
		t, err := ownTicket(c, d.TicketID)
		if err != nil {
			c.End()
			return err
		}
		c.Ask([]Msg{T("mytickets.ask_add", "No", string(t.No), "Max", f.descMax)}, [][]Choice{navRow()})
	case tsWithdraw:
		t, err := ownTicket(c, d.TicketID)
		if err != nil {
			c.End()
			return err
		}
		id := strconv.FormatUint(t.ID, 10)
		c.Ask([]Msg{T("mytickets.withdraw_confirm", "No", string(t.No))}, [][]Choice{
			{{T("mytickets.withdraw_yes"), tvWithdrawYes + ":" + id}}, navRow(),
		})
	case tsOffer:
		rows := make([][]Choice, 0, len(d.Offer)+1)
		for _, id := range d.Offer {
			if t, err := ownTicket(c, id); err == nil {
				rows = append(rows, []Choice{{T("mytickets.offer_yes", "No", string(t.No)), tvOfferYes + ":" + strconv.FormatUint(id, 10)}})
			}
		}
		rows = append(rows, []Choice{{T("mytickets.offer_no"), tvOfferNo}})
		c.Ask([]Msg{T("mytickets.offer", "Text", shorten(d.Text), "Photos", len(d.Photos))}, rows)
	default:
		c.End()
		return f.listTickets(c, 0)
	}
	return nil
}

// begin starts a tickets conversation about ticket t.
func (tickets) begin(c *Conv, event string, d ticketsDraft) error {
	from := tsIdle
	if c.Session.Flow == ticketsFlow {
		from = c.Session.State
	}
	next, err := ticketsMachine.Next(from, event)
	if err != nil {
		return err
	}
	if c.Session.Flow != ticketsFlow || next != from {
		c.Begin(ticketsFlow, next)
	}
	return c.SaveDraft(d)
}

// done ends a tickets conversation.
func (tickets) done(c *Conv) error {
	if c.Session.Flow != ticketsFlow {
		return nil
	}
	if _, err := ticketsMachine.Next(c.Session.State, "done"); err != nil {
		return err
	}
	c.End()
	return nil
}

func (f tickets) Handle(c *Conv) error {
	var d ticketsDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	if mine := c.Session.Flow == ticketsFlow; c.In.Callback == nil {
		switch {
		case mine && c.Session.State == tsAdd:
			return f.addInput(c, d)
		case mine && c.Session.State == tsOffer:
			return f.moreOffer(c, d)
		}
		c.Say(T("complaint.use_buttons"))
		return f.Prompt(c)
	}
	verb, arg, _ := strings.Cut(c.Payload, ":")
	id, _ := strconv.ParseUint(arg, 10, 64)
	v, ok := ticketVerbs[verb]
	if !ok || !v.valid(c, d, id) {
		c.AnswerCallback(T("general.button_stale"), false)
		return nil
	}
	return v.run(f, c, d, id, arg)
}

// Verbs of the citizen's ticket buttons: "<verb>:<ticket id>" (the page
// for tvList).
const (
	tvList        = "l"  // l:<page>: the citizen's tickets
	tvOpen        = "o"  // a ticket and its public history
	tvAdd         = "a"  // add a text or photo to an open ticket
	tvWithdraw    = "w"  // withdraw a ticket (asks to confirm)
	tvWithdrawYes = "wy" // the confirmation
	tvOfferYes    = "y"  // add the offered message to this ticket
	tvOfferNo     = "n"  // add it to none
)

// ticketVerb is a button of the citizen's tickets: where it may be
// pressed, and its handler. Whoever presses it, a ticket is loaded with
// ownTicket, which answers for anyone else's ticket exactly as for a
// missing one.
type ticketVerb struct {
	// step is where the button is valid: "" on any message (the list, a
	// ticket, "answer" under a staff message: the buttons are free, not
	// tied to a prompt); a step of the conversation: only on that step's
	// prompt and for the ticket the step is about (the offer is about
	// several: its handler checks the ticket was offered); tsAny: in any
	// step of the conversation.
	step string
	run  func(f tickets, c *Conv, d ticketsDraft, id uint64, arg string) error
}

// tsAny: a verb valid in every step of the tickets conversation (Back).
const tsAny = "*"

var ticketVerbs = map[string]ticketVerb{
	// The list and a ticket end a conversation left open: the citizen went
	// elsewhere.
	tvList: {run: func(f tickets, c *Conv, _ ticketsDraft, _ uint64, arg string) error {
		page, _ := strconv.Atoi(arg)
		if err := f.done(c); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		return f.listTickets(c, page)
	}},
	tvOpen: {run: func(f tickets, c *Conv, _ ticketsDraft, id uint64, _ string) error {
		t, err := ownTicket(c, id)
		if err != nil {
			return err
		}
		if err := f.done(c); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		return f.viewTicket(c, t)
	}},
	// Adding and withdrawing start a step, refused before it begins when
	// the ticket's status does not allow them any more.
	tvAdd: {run: func(f tickets, c *Conv, _ ticketsDraft, id uint64, _ string) error {
		t, err := ownTicket(c, id)
		if err != nil {
			return err
		}
		if !t.Status.Open() {
			return bansosbot.Errorf(bansosbot.EConflict, "mytickets.closed", "No", string(t.No))
		}
		return f.restart(c, "add", t)
	}},
	tvWithdraw: {run: func(f tickets, c *Conv, _ ticketsDraft, id uint64, _ string) error {
		t, err := ownTicket(c, id)
		if err != nil {
			return err
		}
		if !Lifecycle.Can(string(t.Status), EvWithdraw) {
			return bansosbot.Errorf(bansosbot.EConflict, "mytickets.cannot_withdraw", "No", string(t.No))
		}
		return f.restart(c, "withdraw", t)
	}},
	tvWithdrawYes: {step: tsWithdraw, run: func(f tickets, c *Conv, _ ticketsDraft, id uint64, _ string) error {
		return f.withdraw(c, id)
	}},
	tvOfferYes: {step: tsOffer, run: func(f tickets, c *Conv, d ticketsDraft, id uint64, _ string) error {
		if !slices.Contains(d.Offer, id) {
			c.AnswerCallback(T("general.button_stale"), false)
			return nil
		}
		t, err := ownTicket(c, id)
		if err != nil {
			return err
		}
		if err := f.addToTicket(c, t, d.Text, d.Photos); err != nil {
			return err
		}
		if err := f.done(c); err != nil {
			return err
		}
		c.Say(T("mytickets.added", "No", string(t.No)))
		return f.viewTicket(c, t)
	}},
	tvOfferNo: {step: tsOffer, run: func(f tickets, c *Conv, _ ticketsDraft, _ uint64, _ string) error {
		if err := f.done(c); err != nil {
			return err
		}
		c.Say(T("mytickets.offer_declined"))
		return f.menu.showMenu(c)
	}},
	// Back leaves the step for the ticket it was about (or the list).
	PayloadBack: {step: tsAny, run: func(f tickets, c *Conv, d ticketsDraft, _ uint64, _ string) error {
		tid := d.TicketID
		if err := f.done(c); err != nil {
			return err
		}
		if tid == 0 {
			return f.listTickets(c, 0)
		}
		t, err := ownTicket(c, tid)
		if err != nil {
			return err
		}
		return f.viewTicket(c, t)
	}},
}

// valid reports whether the verb may be pressed now (see step).
func (v ticketVerb) valid(c *Conv, d ticketsDraft, id uint64) bool {
	mine := c.Session.Flow == ticketsFlow
	switch v.step {
	case "":
		return true
	case tsAny:
		return mine
	}
	return mine && c.Session.State == v.step && (id == d.TicketID || v.step == tsOffer)
}

// restart begins the step (add or withdraw) about t, replacing a step of
// the conversation left open, and asks its question.
func (f tickets) restart(c *Conv, event string, t *bansosbot.Ticket) error {
	if c.Session.Flow == ticketsFlow {
		c.End()
	}
	if err := f.begin(c, event, ticketsDraft{TicketID: t.ID}); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	return f.Prompt(c)
}

// ownTicket loads a ticket of the user. A ticket of someone else is
// reported exactly like a missing one: a forged button learns nothing.
func ownTicket(c *Conv, id uint64) (*bansosbot.Ticket, error) {
	notFound := bansosbot.Errorf(bansosbot.ENotFound, "errors.ticket_not_found")
	if id == 0 {
		return nil, notFound
	}
	t, err := c.Tx.Ticket(id)
	if bansosbot.ErrorCode(err) == bansosbot.ENotFound {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if t.CitizenID == 0 || t.CitizenID != c.In.UserID {
		return nil, notFound
	}
	return t, nil
}

func (f tickets) categoryName(c *Conv, code string) Localized {
	if cat, ok := f.cat.categories.Get(code); ok {
		return Localized(cat.Names)
	}
	return Localized{bansosbot.Languages[0]: code}
}

// listTickets shows the user's tickets, newest first, a page at a time.
func (f tickets) listTickets(c *Conv, page int) error {
	ts, err := c.Tx.CitizenTickets(c.In.UserID)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		c.Reply(Reply{Action: Send, Text: []Msg{T("mytickets.none")},
			Buttons: Buttons(menuFlow, [][]Choice{{{T("menu.report"), "report"}}})})
		return nil
	}
	pages := (len(ts) + ticketsPerPage - 1) / ticketsPerPage
	page = min(max(page, 0), pages-1)
	text := []Msg{T("mytickets.list_title", "Count", len(ts))}
	if pages > 1 {
		text = append(text, T("complaint.page", "Page", page+1, "Pages", pages))
	}
	var rows [][]Choice
	for _, t := range ts[page*ticketsPerPage : min(len(ts), (page+1)*ticketsPerPage)] {
		st := T("status." + string(t.Status))
		text = append(text, T("mytickets.list_line", "No", string(t.No), "Category", f.categoryName(c, t.Category),
			"Status", st, "Created", Time{T: t.CreatedAt, Loc: t.Region.TimeZone(), DateOnly: true}))
		rows = append(rows, []Choice{{T("mytickets.list_button", "No", string(t.No), "Status", st), tvOpen + ":" + strconv.FormatUint(t.ID, 10)}})
	}
	if nav := pageNav(tvList+":", page, pages); nav != nil {
		rows = append(rows, nav)
	}
	c.Reply(Reply{Action: Send, Text: text, Buttons: Buttons(ticketsFlow, rows)})
	return nil
}

// shorten cuts text for the history and stands in for erased text.
func shorten(s string) any {
	if s == ErasedMarker {
		return T("general.erased")
	}
	return clip(s, textShown)
}

// clip cuts s to n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// viewTicket shows one ticket and its public history: no internal notes,
// no staff names or ids.
func (f tickets) viewTicket(c *Conv, t *bansosbot.Ticket) error {
	events, err := c.Tx.Events(t.ID)
	if err != nil {
		return err
	}
	loc := t.Region.TimeZone()
	text := []Msg{T("mytickets.view", "No", string(t.No), "Category", f.categoryName(c, t.Category),
		"Status", T("status."+string(t.Status)), "Region", f.cat.regions.DisplayName(t.Region),
		"Created", Time{T: t.CreatedAt, Loc: loc},
		"Due", Time{T: t.DueResolve, Loc: loc, DateOnly: true}, "DueSpan", f.sla.SpanMsg(t, bansosbot.PhaseResolution),
		"Open", t.Status.Open() && !t.DueResolve.IsZero()),
		T("mytickets.view_description", "Text", shorten(t.Description)),
	}
	if t.Description == "" && t.Voice != nil { // told in a voice note
		text[1] = T("lowlit.summary_voice", "Seconds", t.Voice.Seconds)
	}
	text = append(text, attachmentLines(t, loc)...)
	var public []bansosbot.Event
	for _, ev := range events {
		if ev.Public && ev.Kind != bansosbot.EventNote {
			public = append(public, ev)
		}
	}
	text = append(text, T("mytickets.history"))
	if n := len(public) - historyShown; n > 0 {
		text = append(text, T("mytickets.history_more", "Count", n))
		public = public[n:]
	}
	for _, ev := range public {
		text = append(text, historyLine(ev, loc))
	}
	text = f.cat.endedMsgs(text, t) // rejected or closed: where to go when the citizen disagrees
	id := strconv.FormatUint(t.ID, 10)
	var rows [][]Choice
	if t.Status.Open() {
		rows = append(rows, []Choice{{T("mytickets.add_button"), tvAdd + ":" + id}})
	}
	if Lifecycle.Can(string(t.Status), EvWithdraw) {
		rows = append(rows, []Choice{{T("mytickets.withdraw_button"), tvWithdraw + ":" + id}})
	}
	rows = append(rows, []Choice{{T("mytickets.list_back"), tvList + ":0"}})
	c.Reply(Reply{Action: Send, Text: text, Buttons: Buttons(ticketsFlow, rows)})
	return nil
}

// attachmentLines list what the ticket carries besides its text: each
// photo (when, from whom, its caption) and the location.
func attachmentLines(t *bansosbot.Ticket, loc *time.Location) []Msg {
	if len(t.Attachments) == 0 && t.Location == nil && t.Voice == nil {
		return []Msg{T("drafts.attachments_none")}
	}
	out := []Msg{T("drafts.attachments_head", "Count", len(t.Attachments)+btoi(t.Location != nil)+btoi(t.Voice != nil))}
	if t.Voice != nil {
		out = append(out, T("lowlit.attachment_voice", "Seconds", t.Voice.Seconds))
	}
	for i, a := range t.Attachments {
		out = append(out, T("drafts.attachment_photo", "N", i+1, "At", Time{T: a.AddedAt, Loc: loc}, "ByStaff", a.ByStaff, "Caption", shorten(a.Caption)))
	}
	if t.Location != nil {
		out = append(out, T("drafts.attachment_location"))
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// historyLine renders a public event for the citizen: who acted is only
// "you" or "the officer", never a name or an id.
func historyLine(ev bansosbot.Event, loc *time.Location) Msg {
	at := Time{T: ev.At, Loc: loc}
	you := ev.Role == RoleCitizen
	switch ev.Kind {
	case bansosbot.EventCreated:
		return T("mytickets.ev_created", "At", at)
	case bansosbot.EventStatus:
		return T("mytickets.ev_status", "At", at, "Status", T("status."+string(ev.To)), "Text", shorten(ev.Text))
	case bansosbot.EventMessage:
		return T("mytickets.ev_message", "At", at, "You", you, "Text", shorten(ev.Text))
	case bansosbot.EventAttachment:
		return T("mytickets.ev_photo", "At", at, "You", you)
	case bansosbot.EventOutcome:
		return T("usul.ev_citizen", "At", at, "Outcome", T("usul.citizen_"+ev.Args["outcome"]))
	}
	return T("mytickets.ev_update", "At", at)
}

// addInput adds the text or photo the citizen sent to the ticket.
func (f tickets) addInput(c *Conv, d ticketsDraft) error {
	t, err := ownTicket(c, d.TicketID)
	if err != nil {
		c.End()
		return err
	}
	in := c.In
	text := strings.TrimSpace(in.Text)
	var photos []bansosbot.Attachment
	switch {
	case in.Photo != nil:
		photos = []bansosbot.Attachment{*in.Photo}
	case in.Media != "" || in.Location != nil || in.Contact != nil:
		c.Say(T("mytickets.add_text_or_photo"))
		return f.Prompt(c)
	case text == "":
		c.Say(T("complaint.empty"))
		return f.Prompt(c)
	}
	if n := utf8.RuneCountInString(text); n > f.descMax {
		c.Say(T("complaint.too_long", "Max", f.descMax, "Got", n))
		return f.Prompt(c)
	}
	if err := f.addToTicket(c, t, text, photos); err != nil {
		return err
	}
	if err := f.done(c); err != nil {
		return err
	}
	c.Say(T("mytickets.added", "No", string(t.No)))
	return f.viewTicket(c, t)
}

// addToTicket adds the citizen's text and photos to an open ticket as
// public history events; a ticket waiting for the citizen goes back to
// work, and the assignee hears of it. Refusals come before any write.
func (f tickets) addToTicket(c *Conv, t *bansosbot.Ticket, text string, photos []bansosbot.Attachment) error {
	if !t.Status.Open() {
		return bansosbot.Errorf(bansosbot.EConflict, "mytickets.closed", "No", string(t.No))
	}
	if len(t.Attachments)+len(photos) > maxTicketPhotos {
		return bansosbot.Errorf(bansosbot.EInvalid, "mytickets.photos_full", "Max", maxTicketPhotos)
	}
	by := Actor{ID: c.In.UserID, Role: RoleCitizen}
	if text != "" {
		if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: by.ID, Role: by.Role,
			Kind: bansosbot.EventMessage, Public: true, Text: text}); err != nil {
			return err
		}
	}
	for _, p := range photos {
		t.Attachments = append(t.Attachments, p)
		if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: by.ID, Role: by.Role,
			Kind: bansosbot.EventAttachment, Public: true, Args: map[string]string{"file_unique_id": p.FileUniqueID}}); err != nil {
			return err
		}
	}
	if t.Status == bansosbot.StatusWaitingCitizen {
		if err := Transition(c.Tx, t, EvCitizenReply, by, Change{}, c.Now); err != nil {
			return err
		}
		// The clock runs again: new deadlines now, not at the next job run.
		if err := f.sla.Reschedule(c.Tx, t, c.Now); err != nil {
			return err
		}
	}
	t.UpdatedAt = c.Now
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	// The assignee (or, for an unclaimed ticket, its queue) hears of it,
	// with a button to open the ticket.
	return f.routes.tellHandlers(c, t, T("mytickets.staff_info_added", "No", string(t.No)))
}

// withdraw withdraws the ticket after the citizen confirmed.
func (f tickets) withdraw(c *Conv, id uint64) error {
	t, err := ownTicket(c, id)
	if err != nil {
		return err
	}
	if err := Transition(c.Tx, t, EvWithdraw, Actor{ID: c.In.UserID, Role: RoleCitizen}, Change{}, c.Now); err != nil {
		return err
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	if err := f.done(c); err != nil {
		return err
	}
	c.AnswerCallback(Msg{}, false)
	if t.Assignee != 0 {
		if err := c.Notify(t.Assignee, Reply{Action: Send, Text: []Msg{T("mytickets.staff_withdrawn", "No", string(t.No))}}); err != nil {
			return err
		}
	}
	c.Say(T("mytickets.withdrawn", "No", string(t.No)))
	return f.viewTicket(c, t)
}

// offerToWaitingTicket is an idle handler: a message sent outside any flow
// while one of the citizen's tickets waits for them is offered to that
// ticket. The message is kept in the draft until the citizen answers.
func (f tickets) offerToWaitingTicket(c *Conv) (bool, error) {
	in := c.In
	text := strings.TrimSpace(in.Text)
	if in.Command != "" || in.Callback != nil || (text == "" && in.Photo == nil) {
		return false, nil
	}
	ts, err := c.Tx.CitizenTickets(in.UserID)
	if err != nil {
		return false, err
	}
	var d ticketsDraft
	for _, t := range ts {
		if t.Status == bansosbot.StatusWaitingCitizen && len(d.Offer) < maxOffered {
			d.Offer = append(d.Offer, t.ID)
		}
	}
	if len(d.Offer) == 0 {
		return false, nil
	}
	d.Text = text
	if in.Photo != nil {
		d.Photos = []bansosbot.Attachment{*in.Photo}
	}
	if err := f.begin(c, "offer", d); err != nil {
		return false, err
	}
	return true, f.Prompt(c)
}

// moreOffer keeps a further message sent while the offer waits, so that
// nothing the citizen wrote is lost, and asks again.
func (f tickets) moreOffer(c *Conv, d ticketsDraft) error {
	in := c.In
	text := strings.TrimSpace(in.Text)
	switch {
	case in.Photo != nil && len(d.Photos) < maxReportPhotos:
		d.Photos = append(d.Photos, *in.Photo)
	case in.Photo != nil:
		c.Say(T("complaint.photos_full", "Max", maxReportPhotos))
		return f.Prompt(c)
	case text == "":
		c.Say(T("mytickets.add_text_or_photo"))
		return f.Prompt(c)
	}
	if text != "" {
		joined := strings.TrimSpace(d.Text + "\n" + text)
		if n := utf8.RuneCountInString(joined); n > f.descMax {
			c.Say(T("complaint.too_long", "Max", f.descMax, "Got", n))
			return f.Prompt(c)
		}
		d.Text = joined
	}
	if err := f.begin(c, "offer", d); err != nil {
		return err
	}
	c.Say(T("mytickets.offer_kept"))
	return f.Prompt(c)
}
