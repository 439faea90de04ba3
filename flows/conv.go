package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Conv is one input being handled: the user's profile and session, the
// transaction, and the replies collected so far.
type Conv struct {
	ctx     context.Context
	e       *Engine
	Tx      Store
	In      Input
	Now     time.Time
	Profile *bansosbot.Profile // nil for a user the bot does not know
	Session *bansosbot.Session
	Lang    string
	// Payload is the pressed button's payload (callbacks only).
	Payload string

	staff    *bansosbot.Staff
	replies  []Reply
	answered bool // the callback query was answered
	pressed  pressedPrompt
	// shown is the chat's delivered prompt when it asks the session's
	// current step (the question this input may answer).
	shown  pressedPrompt
	forget bool // delete profile and session instead of saving them
	counts Counts
}

// Context is the context of the input's handling.
func (c *Conv) Context() context.Context { return c.ctx }

func (c *Conv) load() error {
	var err error
	if c.Profile, err = c.Tx.Profile(c.In.UserID); err != nil {
		return err
	}
	if c.Session, err = c.Tx.Session(c.In.UserID); err != nil {
		return err
	}
	if c.staff, err = c.Tx.Staff(c.In.UserID); err != nil {
		return err
	}
	if c.staff == nil && slices.Contains(c.e.cfg.Admins, c.In.UserID) {
		c.staff = &bansosbot.Staff{UserID: c.In.UserID, Role: bansosbot.RoleAdmin, Active: true}
	}
	switch {
	case c.Profile != nil && c.Profile.Lang != "":
		c.Lang = c.Profile.Lang
	default:
		c.Lang = bansosbot.NormalizeLang(c.In.LangCode)
	}
	if c.Profile != nil && c.Profile.Unreachable {
		// They wrote to us, so they unblocked the bot.
		c.Profile.Unreachable = false
		return c.Tx.PutProfile(c.Profile)
	}
	return nil
}

func (c *Conv) save() error {
	if c.forget {
		return c.Tx.DeleteProfile(c.In.UserID)
	}
	c.Session.UpdatedAt = c.Now
	return c.Tx.PutSession(c.Session)
}

// Consented reports whether the user agreed to the current privacy notice.
func (c *Conv) Consented() bool { return c.Profile.Consented() }

// Staff returns the user's active staff record, or nil.
func (c *Conv) Staff() *bansosbot.Staff {
	if c.staff == nil || !c.staff.Active {
		return nil
	}
	return c.staff
}

// IsStaff reports whether the user is active staff.
func (c *Conv) IsStaff() bool { return c.Staff() != nil }

// EnsureProfile returns the user's profile, creating it (in memory; save it
// with Tx.PutProfile) when missing.
func (c *Conv) EnsureProfile() *bansosbot.Profile {
	if c.Profile == nil {
		c.Profile = &bansosbot.Profile{UserID: c.In.UserID, Lang: c.Lang, CreatedAt: c.Now}
	}
	return c.Profile
}

// Say sends text to the user.
func (c *Conv) Say(text ...Msg) {
	c.replies = append(c.replies, Reply{Action: Send, ChatID: c.In.ChatID, Lang: c.Lang, Text: text})
}

// Reply queues a reply to the user's chat (ChatID and Lang are filled in).
func (c *Conv) Reply(r Reply) {
	r.ChatID, r.Lang = c.In.ChatID, c.Lang
	c.replies = append(c.replies, r)
}

// Choice is a button of a prompt: a label and the payload the flow gets.
type Choice struct {
	Label   Msg
	Payload string
}

// pageNav is the "previous / next page" row of a paged list (nil for a
// single page); payloads are prefix + the page number.
func pageNav(prefix string, page, pages int) []Choice {
	var nav []Choice
	if page > 0 {
		nav = append(nav, Choice{T("general.page_prev"), prefix + strconv.Itoa(page-1)})
	}
	if page < pages-1 {
		nav = append(nav, Choice{T("general.page_next"), prefix + strconv.Itoa(page+1)})
	}
	return nav
}

// Ask sends a prompt whose buttons belong to the current flow and this step
// only: pressing a button of an older prompt is answered as stale.
func (c *Conv) Ask(text []Msg, rows [][]Choice) {
	c.Session.Step++
	r := Reply{Action: Send, ChatID: c.In.ChatID, Lang: c.Lang, Text: text,
		Buttons: c.stamp(c.Session.Flow, c.Session.Step, rows)}
	if len(r.Buttons) > 0 {
		r.Prompt = &bansosbot.Prompt{Flow: c.Session.Flow, Step: c.Session.Step}
	}
	c.replies = append(c.replies, r)
}

// AskWithKeyboard sends a prompt with a reply keyboard (contact or location
// request) instead of inline buttons.
func (c *Conv) AskWithKeyboard(text []Msg, kb *Keyboard) {
	c.Session.Step++
	c.replies = append(c.replies, Reply{Action: Send, ChatID: c.In.ChatID, Lang: c.Lang, Text: text, Keyboard: kb})
}

// Buttons builds buttons not tied to a prompt (menus, notifications) for
// flow; their handlers must authorize each press.
func Buttons(flow string, rows [][]Choice) [][]Button {
	return stampRows(flow, 0, rows)
}

func (c *Conv) stamp(flow string, step uint32, rows [][]Choice) [][]Button {
	if flow == "" {
		panic("flows: Ask outside a flow")
	}
	return stampRows(flow, step, rows)
}

func stampRows(flow string, step uint32, rows [][]Choice) [][]Button {
	out := make([][]Button, 0, len(rows))
	for _, row := range rows {
		r := make([]Button, 0, len(row))
		for _, ch := range row {
			r = append(r, Button{Label: ch.Label, Data: ButtonData(flow, step, ch.Payload)})
		}
		out = append(out, r)
	}
	return out
}

// AnswerCallback answers the pressed button with an optional toast (an
// empty Msg answers silently).
func (c *Conv) AnswerCallback(text Msg, alert bool) {
	if c.In.Callback == nil || c.answered {
		return
	}
	c.answered = true
	r := Reply{Action: AnswerCallback, ChatID: c.In.ChatID, Lang: c.Lang, CallbackID: c.In.Callback.ID, Alert: alert}
	if text.Key != "" {
		r.Text = []Msg{text}
	}
	c.replies = append(c.replies, r)
}

// Notify queues a reply to another user, in that user's language.
func (c *Conv) Notify(userID int64, r Reply) error {
	lang, err := c.LangOf(userID)
	if err != nil {
		return err
	}
	r.ChatID, r.Lang = userID, lang
	c.replies = append(c.replies, r)
	return nil
}

// LangOf returns a user's language (Indonesian when unknown).
func (c *Conv) LangOf(userID int64) (string, error) {
	if userID == c.In.UserID {
		return c.Lang, nil
	}
	p, err := c.Tx.Profile(userID)
	if err != nil {
		return "", err
	}
	if p == nil || p.Lang == "" {
		return bansosbot.Languages[0], nil
	}
	return p.Lang, nil
}

// Begin makes flow the active one in state, with an empty draft. A flow
// already running is replaced; an unfinished complaint is parked instead
// (park).
func (c *Conv) Begin(flow, state string) {
	c.park(flow)
	c.Session.Flow, c.Session.State, c.Session.Draft, c.Session.Held = flow, state, nil, nil
}

// park sets an unfinished complaint aside when another flow (next) takes
// its place, and says so: /lapor offers to continue it. A draft is never
// dropped silently; only the citizen's cancel, "start over" or a filing
// ends it.
func (c *Conv) park(next string) {
	s := c.Session
	if s.Flow != reportFlow || next == reportFlow || len(s.Draft) == 0 {
		return
	}
	c.Session.Parked = &bansosbot.ParkedFlow{Flow: s.Flow, State: strings.TrimPrefix(s.State, resumePrefix), Draft: s.Draft, At: c.Now}
	c.Session.Flow, c.Session.State, c.Session.Draft, c.Session.Held = "", "", nil, nil
	c.Say(T("drafts.parked"))
}

// fire moves the active flow along m by event and returns the state it
// is in now. A flow's state changes only by an event of its machine (or by
// Begin and End, which enter and leave a flow), so every step a flow can
// take is in its transition table, where the reason for it is written.
func (c *Conv) fire(m Machine, event string) (string, error) {
	next, err := m.Next(c.Session.State, event)
	if err != nil {
		return "", err
	}
	c.Session.State = next
	return next, nil
}

// End finishes the active flow and drops its draft.
func (c *Conv) End() {
	c.Session.Flow, c.Session.State, c.Session.Draft, c.Session.Held = "", "", nil, nil
}

// watchRefusal tells the engine's Watcher that the input is refused.
func (c *Conv) watchRefusal(key string) {
	if w := c.e.cfg.Watch; w != nil {
		w.Refused(c.Tx, key)
	}
}

// Forget makes the engine delete the user's profile and session instead of
// saving them when the input is done.
func (c *Conv) Forget() { c.forget = true }

// LoadDraft decodes the session's draft into v (left as is when empty).
func (c *Conv) LoadDraft(v any) error {
	if len(c.Session.Draft) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.Session.Draft, v); err != nil {
		return fmt.Errorf("flows: decode %s draft: %w", c.Session.Flow, err)
	}
	return nil
}

// SaveDraft stores v as the session's draft.
func (c *Conv) SaveDraft(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("flows: encode %s draft: %w", c.Session.Flow, err)
	}
	c.Session.Draft = raw
	return nil
}

// Start runs another flow's Start (e.g. the menu's buttons).
func (c *Conv) Start(flow string) error {
	f := c.e.flows[flow]
	if f == nil {
		return fmt.Errorf("flows: unknown flow %q", flow)
	}
	return f.Start(c)
}

// RunCommand runs a command by id as if the user had typed it.
func (c *Conv) RunCommand(id string) error {
	for i := range c.e.commands {
		if c.e.commands[i].ID == id {
			return c.e.runCommand(c, &c.e.commands[i])
		}
	}
	return fmt.Errorf("flows: unknown command %q", id)
}
