package flows

import (
	"strconv"
	"time"

	"github.com/bansosbot/bansosbot"
)

// duplicateWindow: a ticket of the same citizen, category and region filed
// this recently is probably the same complaint.
const duplicateWindow = 24 * time.Hour

// checkOpenLimit refuses a new report when the citizen has as many open
// tickets as the limit allows. It reads only that citizen's index entries.
func (f report) checkOpenLimit(c *Conv) error {
	lim := f.limits.OpenTickets
	if lim <= 0 {
		return nil
	}
	ts, err := c.Tx.CitizenTickets(c.In.UserID)
	if err != nil {
		return err
	}
	open := 0
	for _, t := range ts {
		if t.Status.Open() {
			open++
		}
	}
	if open >= lim {
		return bansosbot.Errorf(bansosbot.ERateLimited, "complaint.limit_reached", "Max", lim)
	}
	return f.checkFilings(c, c.Tx.Peek)
}

// filingWindow is the period of Limits.FilingsPerDay.
const filingWindow = 24 * time.Hour

// filingKey names the counter of a citizen's filings. It counts filings,
// not tickets: a withdrawn ticket (or one erased with /hapusdata) still
// counts, so that withdrawing and filing again cannot get round the
// open-tickets limit (issue 10 item 15).
func filingKey(c *Conv) string { return "file:" + strconv.FormatInt(c.In.UserID, 10) }

// checkFilings refuses when the citizen filed FilingsPerDay complaints
// within the last 24 hours. hit is Peek (asking before a report starts)
// or Allow (recording the filing on submit).
func (f report) checkFilings(c *Conv, hit func(string, int, time.Duration, time.Time) (bool, time.Duration, error)) error {
	lim := f.limits.FilingsPerDay
	if lim <= 0 {
		return nil
	}
	ok, wait, err := hit(filingKey(c), lim, filingWindow, c.Now)
	if err != nil || ok {
		return err
	}
	c.refused(LimitFilings)
	retry, err := retryAt(c, wait)
	if err != nil {
		return err
	}
	return bansosbot.Errorf(bansosbot.ERateLimited, "complaint.filing_limit", "Max", lim, "Retry", retry)
}

// likelyDuplicate returns the citizen's recent ticket of the same category
// and region, if any (withdrawn and rejected ones do not count).
func likelyDuplicate(c *Conv, d *reportDraft) (*bansosbot.Ticket, error) {
	ts, err := c.Tx.CitizenTickets(c.In.UserID)
	if err != nil {
		return nil, err
	}
	for _, t := range ts { // newest first
		if c.Now.Sub(t.CreatedAt) > duplicateWindow {
			break
		}
		if t.Category == d.Category && t.Region == d.Region &&
			t.Status != bansosbot.StatusWithdrawn && t.Status != bansosbot.StatusRejected {
			return t, nil
		}
	}
	return nil, nil
}

func (f report) promptDuplicate(c *Conv, d *reportDraft) error {
	dup, err := likelyDuplicate(c, d)
	if err != nil {
		return err
	}
	if dup == nil { // withdrawn meanwhile
		return f.goTo(c, d, rsSummary)
	}
	c.Ask([]Msg{T("complaint.duplicate", "No", string(dup.No),
		"Created", Time{T: dup.CreatedAt, Loc: dup.Region.TimeZone()}, "Status", T("status."+string(dup.Status)))},
		[][]Choice{{{T("complaint.file_anyway"), "send"}}, navRow()})
	return nil
}

// submit files the draft as a ticket, all in the input's transaction:
// limits first (nothing written when refused), then the likely-duplicate
// question, then the ticket with its created event, deadlines and
// routing.
func (f report) submit(c *Conv, d *reportDraft) error {
	if m := d.missing(); m != "" {
		// Only possible when the configuration changed under the draft.
		if c.Session.State != rsSummary {
			return f.goTo(c, d, rsSummary)
		}
		d.Editing, d.EditFrom = true, ""
		return f.goTo(c, d, m)
	}
	if err := f.checkOpenLimit(c); err != nil {
		return err
	}
	if !d.DupOK {
		dup, err := likelyDuplicate(c, d)
		if err != nil {
			return err
		}
		if dup != nil {
			return f.goTo(c, d, rsDuplicate)
		}
	}
	if err := f.checkFilings(c, c.Tx.Allow); err != nil {
		return err
	}
	seq, no, err := f.newTicketNo(c.Tx)
	if err != nil {
		return err
	}
	uid := c.In.UserID
	t := &bansosbot.Ticket{
		ID: seq, No: no,
		Category: d.cat.Code, Region: d.Region, Village: d.Village, Description: d.Description,
		Attachments: d.Photos, Location: d.Location, Phone: d.Phone, Voice: d.Voice,
		CitizenID: uid, CitizenLang: c.Lang, HideReporter: d.cat.HideReporter,
		Status: bansosbot.StatusNew, CreatedAt: c.Now, UpdatedAt: c.Now,
	}
	if d.Reason != "" {
		t.Extra = map[string]string{bansosbot.FieldReason: d.Reason}
	}
	if d.Program != "" {
		if t.Extra == nil {
			t.Extra = map[string]string{}
		}
		t.Extra[bansosbot.ExtraProgram] = d.Program
	}
	if d.CallMe && d.Phone != "" {
		if t.Extra == nil {
			t.Extra = map[string]string{}
		}
		t.Extra[bansosbot.ExtraCallMe] = "yes"
	}
	for k, v := range d.extras() { // the category questions (complaint_fields.go)
		if t.Extra == nil {
			t.Extra = map[string]string{}
		}
		t.Extra[k] = v
	}
	f.sla.Schedule(t, c.Now)
	if _, err := c.Tx.AppendEvent(t, bansosbot.Event{At: c.Now, Actor: uid, Role: RoleCitizen,
		Kind: bansosbot.EventCreated, To: bansosbot.StatusNew, Public: true}); err != nil {
		return err
	}
	// Routing sees the ticket stored (it may look it up or transition it)
	// and the ticket is stored again with what routing changed.
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	routed, err := f.routes.RouteNewTicket(c, t)
	if err != nil {
		return err
	}
	if err := c.Tx.PutTicket(t); err != nil {
		return err
	}
	c.End()
	loc := t.Region.TimeZone()
	text := []Msg{T("complaint.filed", "No", string(t.No),
		"DueResponse", Time{T: t.DueResponse, Loc: loc}, "ResponseSpan", f.sla.SpanMsg(t, bansosbot.PhaseResponse),
		"DueResolve", Time{T: t.DueResolve, Loc: loc, DateOnly: true}, "ResolveSpan", f.sla.SpanMsg(t, bansosbot.PhaseResolution))}
	if t.HideReporter {
		text = append(text, hiddenNotice(*d.cat))
	}
	if m := identityNotice(d.cat); m != nil {
		text = append(text, *m)
	}
	if m := f.cat.afterFiling(d.cat); m != nil {
		text = append(text, *m)
	}
	if !routed {
		text = append(text, T("routing.unstaffed"))
	}
	text = append(text, T("complaint.filed_follow"))
	buttons := Buttons(ticketsFlow, [][]Choice{
		{{T("mytickets.open_button", "No", string(t.No)), tvOpen + ":" + strconv.FormatUint(t.ID, 10)}},
	})
	if offer, err := f.announcer.subscribeOffer(c, t.Region); err != nil {
		return err
	} else if offer != nil {
		buttons = append(buttons, offer)
	}
	c.Reply(Reply{Action: Send, Text: text, Buttons: buttons})
	f.log.Info("ticket filed", "ticket", t.ID, "category", t.Category, "region", string(t.Region))
	return nil
}

// newTicketNo takes the next ticket sequence number and its ticket number
// under the ticket key. A number another ticket has already (one made
// under a secret since rotated: another key's permutation may give any
// number) is skipped with its sequence number, so numbers stay unique
// across a rotation.
func (f report) newTicketNo(tx Store) (uint64, bansosbot.TicketNo, error) {
	for {
		seq, err := tx.NextTicketSeq()
		if err != nil {
			return 0, "", err
		}
		no := bansosbot.NewTicketNo(seq, f.ticketKey)
		switch _, err := tx.TicketByNo(no); {
		case bansosbot.ErrorCode(err) == bansosbot.ENotFound:
			return seq, no, nil
		case err != nil:
			return 0, "", err
		}
		f.log.Info("ticket number taken by an older ticket (made under a former secret); skipped", "seq", seq)
	}
}
