// Package flows holds bansosbot's workflows: the citizen conversations
// (consent, language, status check, complaints, following tickets), the
// staff actions and the ticket lifecycle, each a looplab/fsm transition
// table, and the Engine that runs one input against one user's session and
// returns the replies as data. It also holds the escalation and digest
// policies that cron runs.
//
// Flows are pure: no Telegram types, no bbolt, no clock of their own. They
// read and write through Store inside the caller's transaction and describe
// replies as locale keys with arguments.
package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Limits are the abuse controls.
type Limits struct {
	MessagesPerMinute int // per user; 0 disables
	OpenTickets       int // per citizen
	LookupsPerHour    int // status checks per user
	LookupsPerNIKDay  int // status checks per NIK
	// FilingsPerDay: complaints one citizen may file within 24 hours,
	// withdrawn (and erased) ones included, so that withdrawing and filing
	// again does not get round OpenTickets; 0 disables.
	FilingsPerDay int
	// GroupNotice: a group chat, and a user in any group, hear "this bot
	// works in private chats" at most once per GroupNotice, however many
	// commands are typed there (a group drains at 20 messages a minute);
	// 0 answers every command.
	GroupNotice time.Duration
}

// DefaultLimits are the limits of an engine configured without any.
func DefaultLimits() Limits {
	return Limits{MessagesPerMinute: 30, OpenTickets: 5, LookupsPerHour: 5, LookupsPerNIKDay: 10, FilingsPerDay: 10,
		GroupNotice: time.Minute}
}

// Config configures an Engine.
type Config struct {
	Now        func() time.Time
	Log        *slog.Logger
	Categories bansosbot.Categories
	Regions    *bansosbot.Regions
	// Admins are Telegram user ids with the admin role from configuration.
	Admins []int64
	Limits Limits
	// IdleTimeout: a flow untouched for longer asks to resume or discard.
	IdleTimeout time.Duration
	// TicketKey keys the permutation of ticket numbers.
	TicketKey []byte
	// NIKKey is the HMAC key under which NIKs and names are hashed.
	NIKKey []byte
	// InviteKey is the HMAC key of the stored invitation code hashes
	// (default: derived from NIKKey).
	InviteKey []byte
	// Calendar is the business calendar for service-level deadlines
	// (default: the embedded config/calendar.json).
	Calendar *bansosbot.Calendar
	// SLA are the service-level policies (default: config/sla.json).
	SLA *bansosbot.SLAPolicies
	// DescriptionMin/Max bound a complaint's description (characters).
	DescriptionMin, DescriptionMax int
	AutoCloseAfter                 time.Duration // a resolved ticket without the citizen's answer closes (default 7 days; staff workspace)
	// Answers are the ready answers offered before an information request
	// becomes a ticket, and where to go on disagreement (default: the
	// embedded config/answers.json).
	Answers *bansosbot.Answers
	// Programs are the assistance programs an announcement may target
	// (default: config/programs.json).
	Programs bansosbot.Programs
	// AnnounceApprovalOver: an announcement to more recipients needs a
	// second staff member's approval (default AnnounceApprovalOver).
	AnnounceApprovalOver int
	// DashboardURL is the web dashboard's public address (web/); /dasbor
	// says the dashboard is off when it is empty.
	DashboardURL string
	// Controller is who controls the citizens' personal data (UU PDP),
	// named in the privacy notice.
	Controller Controller
	// Retention is how long a closed ticket's personal data is kept, as
	// the privacy notice tells it (default DefaultRetention; negative:
	// kept until the citizen erases it).
	Retention time.Duration
	// Watch, when set, hears the stages of each input's handling (the
	// golden harness checks with it that refusals come before any write).
	Watch Watcher
}

// Watcher hears how Handle goes, with the store it was given, so that a
// wrapper of the store can tell the flows' writes from the engine's own
// and see where a refusal falls among them. A refusal is answered and the
// transaction commits: whatever the flow wrote before refusing would stay
// written, half done, with a "no" to the user. So a flow checks first and
// writes after (the rule "refusals come before any write").
type Watcher interface {
	// Routing: the engine's own reads and writes (the user's records, the
	// message limit) are done; the input goes to the flows now.
	Routing(tx Store)
	// Refused: the input is refused with the answer key: a user error
	// (*bansosbot.Error) Handle turns into the answer, or a staff action
	// refused and audited (Conv.refuse; its audit entry follows).
	Refused(tx Store, key string)
}

// Controller is the data controller of the privacy notice: which Dinas
// Sosial, its address and how to reach it (phone, e-mail). Empty address
// and contact are left out of the notice.
type Controller struct {
	Name, Address, Contact string
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Categories == nil {
		c.Categories = bansosbot.DefaultCategories()
	}
	if c.Regions == nil {
		c.Regions = bansosbot.DefaultRegions()
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.Limits == (Limits{}) {
		c.Limits = DefaultLimits()
	}
	if c.DescriptionMin == 0 {
		c.DescriptionMin = 20
	}
	if c.DescriptionMax == 0 {
		c.DescriptionMax = 2000
	}
	if c.Calendar == nil {
		c.Calendar = bansosbot.DefaultCalendar()
	}
	if c.SLA == nil {
		c.SLA = bansosbot.DefaultSLAPolicies()
	}
	if c.Answers == nil {
		c.Answers = bansosbot.DefaultAnswers()
	}
	if c.Programs == nil {
		c.Programs = bansosbot.DefaultPrograms()
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.AnnounceApprovalOver <= 0 {
		c.AnnounceApprovalOver = AnnounceApprovalOver
	}
}

// Flow is one conversation.
type Flow interface {
	// Name is the flow's short id (2-3 letters), kept in sessions and
	// button data.
	Name() string
	// Prompt asks again the question of the current state (after a pause,
	// a Back, or a resumed draft).
	Prompt(c *Conv) error
	// Start begins the flow: from a command (c.In.Args holds its
	// arguments), a menu button, or another flow.
	Start(c *Conv) error
	// Handle continues the flow with an input: text, media, or one of its
	// buttons (c.Payload).
	Handle(c *Conv) error
}

// Command is a slash command, with a name per language.
type Command struct {
	ID      string            // stable id, e.g. "report"
	Names   map[string]string // per language, without the slash: {"id": "lapor", "en": "report"}
	Desc    string            // locale key of the description shown in Telegram's menu
	Consent bool              // requires the privacy consent
	// Sensitive: the arguments may be a NIK ("/cek 3201..."): a message
	// with digits in them is deleted from the chat wherever it arrives,
	// also when the command is refused (before the consent, in a group).
	Sensitive bool
	Staff     bool // for staff only (not in citizens' menu)
	// Supervisors: for supervisors and admins only (not in workers' menu).
	Supervisors bool
	// Effect: using it counts as the effect of an announcement received
	// within the week (announce.go).
	Effect bool
	Run    func(c *Conv) error
}

// Engine runs inputs against sessions: it routes each input to a command
// or a flow (the user's records, the flood limit, stale buttons, pauses)
// and forwards the program's jobs and questions to the parts that answer
// them. The flows and jobs are parts of their own, each holding only what
// it uses (the catalog, the deadlines, the router, the menu, its share of
// the configuration); NewEngine builds and wires them.
type Engine struct {
	cfg      Config
	flows    map[string]Flow
	commands []Command
	byName   map[string]int // "/lapor" and "/report" -> index of the same command
	// idle handlers are tried, in order, for free text when no flow runs.
	idle []func(c *Conv) (bool, error)

	// The parts the flows and jobs share; each holds only what it uses of
	// the configuration.
	cat       *catalog
	sla       *deadlines
	routes    *router
	reports   *reports
	digests   *digester
	escalator *escalator
	announcer *announcer
	desk      *workspace
	menu      menu
	roster    *roster
	report    report // the complaint flow, which the status check starts too
}

// NewEngine builds an engine with every flow of the bot.
func NewEngine(cfg Config) *Engine {
	cfg.setDefaults()
	e := &Engine{cfg: cfg, flows: map[string]Flow{}, byName: map[string]int{}}
	e.menu = menu{cmds: &e.commands}
	e.cat = newCatalog(&cfg)
	e.sla = &deadlines{calendar: cfg.Calendar, sla: cfg.SLA, categories: cfg.Categories}
	e.routes = &router{admins: cfg.Admins, log: cfg.Log, cat: e.cat, conv: e.systemConv}
	e.reports = &reports{now: cfg.Now, calendar: cfg.Calendar, cat: e.cat}
	e.digests = &digester{calendar: cfg.Calendar, cat: e.cat, conv: e.systemConv}
	e.escalator = &escalator{admins: cfg.Admins, log: cfg.Log, sla: e.sla, cat: e.cat, conv: e.systemConv}
	e.announcer = &announcer{admins: cfg.Admins, approvalOver: cfg.AnnounceApprovalOver, cat: e.cat, conv: e.systemConv}
	e.desk = &workspace{autoClose: cfg.AutoCloseAfter, cat: e.cat, routes: e.routes, announcer: e.announcer, conv: e.systemConv}
	e.desk.flow = work{desk: e.desk, descMax: cfg.DescriptionMax}
	e.report = report{descMin: cfg.DescriptionMin, descMax: cfg.DescriptionMax, limits: cfg.Limits, ticketKey: cfg.TicketKey, log: cfg.Log,
		cat: e.cat, sla: e.sla, routes: e.routes, announcer: e.announcer, menu: e.menu}
	e.roster = &roster{admins: cfg.Admins, inviteSecret: cfg.InviteKey, nikKey: cfg.NIKKey, ticketKey: cfg.TicketKey, cat: e.cat, menu: e.menu}
	e.registerBasics()
	e.registerComplaints() // complaint.go: /lapor and following tickets
	e.registerCheck()      // check.go: /cek, the eligibility status
	e.registerStaff()      // staff.go: registration, queue, ticket actions
	e.registerEscalation() // escalation.go: buttons of escalations and digests
	e.registerOps()        // chart.go: /grafik, the supervisors' chart
	e.registerAnnounce()   // announce.go: subscriptions and announcements
	e.registerDashboard()  // dashboard.go: /dasbor, a login link to the web dashboard
	return e
}

// Config returns the engine's configuration (with defaults).
func (e *Engine) Config() Config { return e.cfg }

// What the program, the dashboard and the tests ask of the engine's parts.

// Digest is the supervisors' digest job (digest.go).
func (e *Engine) Digest(ctx context.Context, tx Store, now time.Time) (Outcome, error) {
	return e.digests.Digest(ctx, tx, now)
}

// Escalate is the escalation job (escalation.go).
func (e *Engine) Escalate(ctx context.Context, tx Store, now time.Time, limit int) (Outcome, bool, error) {
	return e.escalator.Escalate(ctx, tx, now, limit)
}

// Announce is the announcement job (announce.go).
func (e *Engine) Announce(ctx context.Context, tx Store, now time.Time, budget int) (Outcome, error) {
	return e.announcer.Announce(ctx, tx, now, budget)
}

// AutoClose is the job closing resolved tickets the citizen left
// unanswered (staff_citizen.go).
func (e *Engine) AutoClose(tx Store, now time.Time) (Outcome, error) {
	return e.desk.AutoClose(tx, now)
}

// Queue lists a staff member's queue (staff_work.go).
func (e *Engine) Queue(tx Store, s *bansosbot.Staff, filter string, now time.Time) ([]*bansosbot.Ticket, error) {
	return e.desk.Queue(tx, s, filter, now)
}

// CreateInvite creates an invitation code for new staff (staff.go).
func (e *Engine) CreateInvite(tx Store, by *bansosbot.Staff, role bansosbot.Role, regions []bansosbot.RegionCode, ttl time.Duration, now time.Time) (string, *bansosbot.Invite, error) {
	return e.roster.CreateInvite(tx, by, role, regions, ttl, now)
}

// Schedule sets a new ticket's deadlines (sla.go).
func (e *Engine) Schedule(t *bansosbot.Ticket, now time.Time) { e.sla.Schedule(t, now) }

// Reschedule sets a ticket's deadlines again from its history (sla.go).
func (e *Engine) Reschedule(tx TicketStore, t *bansosbot.Ticket, now time.Time) error {
	return e.sla.Reschedule(tx, t, now)
}

// SpanMsg says how long a phase of the ticket is given (sla.go).
func (e *Engine) SpanMsg(t *bansosbot.Ticket, phase int) Msg { return e.sla.SpanMsg(t, phase) }

// Route lists the staff a ticket goes to (routing.go).
func (e *Engine) Route(tx Store, t *bansosbot.Ticket) ([]*bansosbot.Staff, error) {
	return e.routes.Route(tx, t)
}

// RouteTicket notifies a ticket's handlers (routing.go).
func (e *Engine) RouteTicket(tx Store, t *bansosbot.Ticket, now time.Time) (Outcome, error) {
	return e.routes.RouteTicket(tx, t, now)
}

// Unrouted counts the open tickets nobody covers (routing.go).
func (e *Engine) Unrouted(tx Store) (int, error) { return e.routes.Unrouted(tx) }

// Report computes a report's figures (report.go).
func (e *Engine) Report(tx Store, q ReportQuery) (*Report, error) { return e.reports.Report(tx, q) }

// ReportScan computes a report's figures from the tickets (report.go).
func (e *Engine) ReportScan(tx Store, q ReportQuery) (*Report, error) {
	return e.reports.ReportScan(tx, q)
}

// Tally is a ticket's contribution to the report counters (tally.go).
func (e *Engine) Tally(tx TicketStore, t *bansosbot.Ticket) (*bansosbot.TicketTally, error) {
	return e.reports.Tally(tx, t)
}

// OpenCounts counts open tickets per region for a staff member (tally.go).
func (e *Engine) OpenCounts(tx Store, region bansosbot.RegionCode, s *bansosbot.Staff, byRegion bool) (map[bansosbot.RegionCode]int, error) {
	return e.reports.OpenCounts(tx, region, s, byRegion)
}

// ResponseHours is a ticket's time to first response (tally.go).
func (e *Engine) ResponseHours(tx TicketStore, t *bansosbot.Ticket) (float64, bool, error) {
	return e.reports.ResponseHours(tx, t)
}

func (e *Engine) addFlow(f Flow) {
	if _, dup := e.flows[f.Name()]; dup {
		panic("flows: duplicate flow " + f.Name())
	}
	e.flows[f.Name()] = f
}

func (e *Engine) addCommand(cmd Command) {
	for _, n := range cmd.Names {
		if _, dup := e.byName["/"+n]; dup {
			panic("flows: duplicate command /" + n)
		}
		e.byName["/"+n] = len(e.commands)
	}
	e.commands = append(e.commands, cmd)
}

// Commands lists the commands (for Telegram's command menu).
func (e *Engine) Commands() []Command { return slices.Clone(e.commands) }

func (e *Engine) command(name string) *Command {
	i, ok := e.byName[name]
	if !ok {
		return nil
	}
	return &e.commands[i]
}

// Handle processes one input inside the caller's transaction and returns
// the replies to queue and the counts of what it did (Outcome), to be
// written in the same transaction. A *bansosbot.Error from a flow becomes
// a localized answer to the user; any other error aborts the transaction.
func (e *Engine) Handle(ctx context.Context, tx Store, in Input) (Outcome, error) {
	now := e.cfg.Now()
	if in.At.IsZero() {
		in.At = now
	}
	c := &Conv{ctx: ctx, e: e, Tx: tx, In: in, Now: now}
	if err := c.load(); err != nil {
		return Outcome{}, err
	}
	if in.ChatType != "" && in.ChatType != "private" {
		err := e.group(c)
		return c.outcome(), err
	}
	if ok, err := e.flood(c); err != nil || !ok {
		return c.outcome(), err
	}
	if err := c.loadShown(); err != nil {
		return Outcome{}, err
	}
	if w := e.cfg.Watch; w != nil {
		w.Routing(tx)
	}
	err := e.route(c)
	var ue *bansosbot.Error
	if errors.As(err, &ue) {
		c.watchRefusal(ue.Key)
		c.Say(Msg{Key: ue.Key, Args: ue.Args})
		err = nil
	}
	if err != nil {
		return Outcome{}, err
	}
	if err := c.save(); err != nil {
		return Outcome{}, err
	}
	if err := c.clearAnswered(); err != nil {
		return Outcome{}, err
	}
	if in.Callback != nil && !c.answered {
		// Answer first: it stops the button's spinner while the rest is sent.
		c.replies = append([]Reply{{Action: AnswerCallback, ChatID: in.ChatID, Lang: c.Lang, CallbackID: in.Callback.ID}}, c.replies...)
	}
	return c.outcome(), nil
}

// group answers in group chats only to say that the bot works in private:
// personal data never goes to a group. A NIK typed there is always
// deleted; the notice is not repeated within Limits.GroupNotice, neither
// to the group nor to the user, so that commands typed in busy groups
// cannot pile up in the outbox.
func (e *Engine) group(c *Conv) error {
	if c.In.Command != "" {
		nik := false
		if cmd := e.command(c.In.Command); cmd != nil && cmd.Sensitive {
			nik = deleteNIK(c, c.In.Args)
		}
		ok, err := e.groupNotice(c)
		if err != nil {
			return err
		}
		switch {
		case ok && nik:
			c.Say(T("check.nik_deleted"), T("general.private_only"))
		case ok:
			c.Say(T("general.private_only"))
		}
	}
	if c.In.Callback != nil { // an answer to the presser alone, not a group message
		c.AnswerCallback(T("general.private_only"), true)
	}
	return nil
}

// groupNotice reports whether the group notice may be sent now, and if so
// counts it against the group and the user.
func (e *Engine) groupNotice(c *Conv) (bool, error) {
	every := e.cfg.Limits.GroupNotice
	if every <= 0 {
		return true, nil
	}
	keys := []string{"grp:" + strconv.FormatInt(c.In.ChatID, 10), "grpu:" + strconv.FormatInt(c.In.UserID, 10)}
	for _, k := range keys {
		ok, _, err := c.Tx.Peek(k, 1, every, c.Now)
		if err != nil {
			return false, err
		}
		if !ok {
			c.refused(LimitGroups)
			return false, nil
		}
	}
	for _, k := range keys {
		if _, _, err := c.Tx.Allow(k, 1, every, c.Now); err != nil {
			return false, err
		}
	}
	return true, nil
}

// flood applies the per-user message limit; the user hears once per
// minute that they are going too fast.
func (e *Engine) flood(c *Conv) (bool, error) {
	lim := e.cfg.Limits.MessagesPerMinute
	ok, _, err := c.Tx.Allow("msg:"+strconv.FormatInt(c.In.UserID, 10), lim, time.Minute, c.Now)
	if err != nil || ok {
		return ok, err
	}
	c.refused(LimitMessages)
	warn, _, err := c.Tx.Allow("flood:"+strconv.FormatInt(c.In.UserID, 10), 1, time.Minute, c.Now)
	if err != nil {
		return false, err
	}
	if c.In.Callback != nil {
		c.AnswerCallback(T("general.too_fast"), true)
	} else if warn {
		c.Say(T("general.too_fast"))
	}
	return false, nil
}

func (e *Engine) route(c *Conv) error {
	in := c.In
	if in.Callback != nil {
		return e.routeCallback(c)
	}
	if in.Command != "" {
		cmd := e.command(in.Command)
		if cmd == nil {
			c.Say(T("general.unknown_command", "Command", in.Command))
			return e.menu.showMenu(c)
		}
		return e.aside(c, func() error { return e.runCommand(c, cmd) })
	}
	if !c.Consented() && !c.IsStaff() {
		return e.flows[consentFlow].Start(c)
	}
	if c.Session.Flow != "" {
		f := e.flows[c.Session.Flow]
		if f == nil { // a flow removed by an upgrade
			c.End()
			return e.menu.showMenu(c)
		}
		if strings.HasPrefix(c.Session.State, resumePrefix) {
			c.Session.State = strings.TrimPrefix(c.Session.State, resumePrefix)
			return e.askResume(c)
		}
		if c.Session.Idle(c.Now, e.cfg.IdleTimeout) {
			return e.askResume(c)
		}
		return f.Handle(c)
	}
	for _, h := range e.idle {
		if done, err := h(c); done || err != nil {
			return err
		}
	}
	if in.Media != "" {
		c.Say(T("general.media_unexpected"))
	} else {
		c.Say(T("menu.hint"))
	}
	return e.menu.showMenu(c)
}

func (e *Engine) runCommand(c *Conv, cmd *Command) error {
	if cmd.Sensitive {
		scrubNIK(c, c.In.Args)
	}
	if cmd.Staff && !c.IsStaff() {
		return bansosbot.Errorf(bansosbot.EUnauthorized, "errors.staff_only")
	}
	if cmd.Consent && !c.Consented() && !c.IsStaff() {
		return e.flows[consentFlow].Start(c)
	}
	if err := cmd.Run(c); err != nil || !cmd.Effect {
		return err
	}
	// Counted once the command ran: a refused one (a limit reached) is no
	// effect of an announcement, and refusals come before any write.
	return noteActivity(c)
}

// Button data: "<flow>.<step>.<payload>". A step stamps the buttons of one
// prompt; a button whose step is not the session's current one is stale.
// Buttons with an empty step ("<flow>..<payload>") are not tied to a prompt
// (menus, notifications); their handlers authorize every press.
func parseData(data string) (flow string, step string, payload string, ok bool) {
	parts := strings.SplitN(data, ".", 3)
	if len(parts) != 3 || parts[0] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// ButtonData builds button data; it fails for data over Telegram's 64 bytes.
func ButtonData(flow string, step uint32, payload string) string {
	s := ""
	if step > 0 {
		s = strconv.FormatUint(uint64(step), 36)
	}
	d := flow + "." + s + "." + payload
	if len(d) > 64 {
		panic(fmt.Sprintf("flows: button data over 64 bytes: %q", d))
	}
	return d
}

func (e *Engine) routeCallback(c *Conv) error {
	flow, step, payload, ok := parseData(c.In.Callback.Data)
	f := e.flows[flow]
	if !ok || f == nil || step == "" && !isFree(f, payload) {
		// Unknown, or step-less data no message ever carried (a prompt's
		// button without its step): forged.
		c.AnswerCallback(T("general.button_unknown"), false)
		return nil
	}
	if step != "" {
		cur := strconv.FormatUint(uint64(c.Session.Step), 36)
		c.pressed = pressedPrompt{MessageID: c.In.Callback.MessageID, Flow: c.Session.Flow, State: c.Session.State, Step: c.Session.Step}
		if step != cur || c.Session.Flow != flow {
			c.pressed.Stale = true
			c.AnswerCallback(T("general.button_stale"), false)
			return nil
		}
	}
	c.Payload = payload
	if payload == PayloadCancel {
		return e.cancel(c)
	}
	// Staff buttons (even those of a deactivated member) go to their
	// handlers, which refuse and audit; citizens must have consented.
	if flow != consentFlow && flow != languageFlow && !c.Consented() && c.staff == nil {
		c.AnswerCallback(T("consent.required"), false)
		return e.flows[consentFlow].Start(c)
	}
	if step != "" && strings.HasPrefix(c.Session.State, resumePrefix) {
		return e.resume(c, f)
	}
	return e.aside(c, func() error { return f.Handle(c) })
}

// pressedPrompt is the prompt whose button was pressed: its message and
// the session as the press found it.
type pressedPrompt struct {
	MessageID   int
	Flow, State string
	Step        uint32
	Stale       bool // the button was no longer valid
}

// clearAnswered removes the buttons of a prompt once its question is
// answered, so that the chat does not fill with dead buttons: after the
// press of a stale button (its message's buttons are all dead), and after
// an input that moved the conversation on (another flow, state or prompt:
// the message's buttons are stale now), whether the citizen pressed one
// of the prompt's buttons or typed the answer (the prompt is then the one
// the bot recorded as delivered: loadShown). An input answered with a
// toast or a hint that left the prompt waiting keeps its buttons, and a
// message the handler edited itself is left to that edit. The removal goes
// last: the answer the citizen waits for is sent first. Only prompts lose
// their buttons: buttons not tied to a step (menus, notices, the
// unsubscribe button of an announcement, the buttons under a /cek answer)
// are never pressed as a prompt's nor recorded as a prompt.
func (c *Conv) clearAnswered() error {
	c.clearPrompt(c.pressed)
	if p := c.shown; p.MessageID != 0 && c.moved(p) {
		c.clearPrompt(p)
		if !c.forget {
			return c.Tx.DeletePrompt(c.In.ChatID) // answered: nothing left to remove
		}
	}
	return nil
}

// moved reports whether the session left the prompt's flow, state or step
// (or the user is being erased).
func (c *Conv) moved(p pressedPrompt) bool {
	s := c.Session
	return c.forget || s.Flow != p.Flow || s.State != p.State || s.Step != p.Step
}

func (c *Conv) clearPrompt(p pressedPrompt) {
	if p.MessageID == 0 || !p.Stale && !c.moved(p) {
		return
	}
	for _, r := range c.replies {
		if (r.Action == Edit || r.Action == EditButtons || r.Action == Delete) && r.MessageID == p.MessageID && r.ChatID == c.In.ChatID {
			return
		}
	}
	c.replies = append(c.replies, Reply{Action: EditButtons, ChatID: c.In.ChatID, Lang: c.Lang, MessageID: p.MessageID})
}

// loadShown reads the chat's delivered prompt when it asks the session's
// current step: the question this input may answer. A prompt of an
// earlier step is not: its buttons went with the press or the input that
// moved the session on (or stayed, the prompt not being delivered yet
// then). Only flows ask, so an input outside a flow reads nothing.
func (c *Conv) loadShown() error {
	s := c.Session
	if s.Flow == "" {
		return nil
	}
	p, err := c.Tx.Prompt(c.In.ChatID)
	if err != nil || p == nil || p.MessageID == 0 || p.Flow != s.Flow || p.Step != s.Step {
		return err
	}
	c.shown = pressedPrompt{MessageID: p.MessageID, Flow: s.Flow, State: s.State, Step: s.Step}
	return nil
}

// freeButtons is a flow with buttons not tied to a prompt (menus, lists,
// notifications: see Buttons). free reports whether a payload is one of
// them; the flow's handler authorizes every press of such a button. Only
// these payloads reach a flow without a step: the buttons of a prompt
// carry its step, so step-less copies of them are forged.
type freeButtons interface {
	free(payload string) bool
}

func isFree(f Flow, payload string) bool {
	fb, ok := f.(freeButtons)
	return ok && fb.free(payload)
}

// aside runs an input that does not answer a pending "resume or
// discard?" question (a command, a button not tied to a prompt) while the
// question waits: the flows never see the resume state. When the input
// left the idle flow where it was (same flow, state and prompt), the
// question still waits; when it moved the flow on, the question is gone,
// and so is the message it held.
func (e *Engine) aside(c *Conv, run func() error) error {
	waiting, ok := strings.CutPrefix(c.Session.State, resumePrefix)
	if !ok {
		return run()
	}
	flow, step := c.Session.Flow, c.Session.Step
	c.Session.State = waiting
	err := run()
	if c.Session.Flow == flow && c.Session.State == waiting && c.Session.Step == step {
		c.Session.State = resumePrefix + waiting
	} else {
		c.Session.Held = nil
	}
	return err
}

// Payloads every flow understands.
const (
	PayloadCancel = "x"
	PayloadBack   = "b"
)

func (e *Engine) cancel(c *Conv) error {
	had := c.Session.Flow != ""
	c.End()
	if had {
		// Also remove a reply keyboard (contact or location request) the
		// cancelled step may have shown.
		c.Reply(Reply{Action: Send, Text: []Msg{T("general.cancelled")}, Keyboard: &Keyboard{Remove: true}})
	} else {
		c.Say(T("general.nothing_to_cancel"))
	}
	return e.menu.showMenu(c)
}

// resumePrefix marks the state of a flow that waits for "resume or
// discard?" after being idle; the flow's own state follows it.
const resumePrefix = "resume:"

// askResume offers to continue or drop a flow left idle. The message that
// woke it up is kept (its content, never who sent it), to be handled if
// the user continues; a flow whose input is personal data (the status
// check) keeps nothing and scrubs the message from the chat instead.
func (e *Engine) askResume(c *Conv) error {
	if p, ok := e.flows[c.Session.Flow].(privateInput); ok {
		p.scrub(c)
		c.Session.Held = nil
	} else if c.In.Callback == nil && c.In.Command == "" {
		held, err := json.Marshal(heldInput{MessageID: c.In.MessageID, Text: c.In.Text, Photo: c.In.Photo,
			Location: c.In.Location, Contact: c.In.Contact, Media: c.In.Media, At: c.In.At})
		if err != nil {
			return err
		}
		c.Session.Held = held
	}
	c.Ask([]Msg{T("general.resume_question")}, [][]Choice{{
		{T("general.resume"), "resume"}, {T("general.discard"), "discard"},
	}})
	c.Session.State = resumePrefix + c.Session.State
	return nil
}

// privateInput is a flow whose every input is personal data (the status
// check's NIK and name): after a pause it holds nothing, and scrub deletes
// the message from the chat when it may carry a NIK.
type privateInput interface {
	scrub(c *Conv)
}

// heldInput is what Session.Held keeps of the message that woke an idle
// flow: its content, without the sender's names (the field names match
// Input's, so a message held by an older version still decodes).
type heldInput struct {
	MessageID int
	Text      string
	Photo     *bansosbot.Attachment
	Location  *bansosbot.Location
	Contact   *Contact
	Media     string
	At        time.Time
}

func (e *Engine) resume(c *Conv, f Flow) error {
	c.Session.State = strings.TrimPrefix(c.Session.State, resumePrefix)
	held := c.Session.Held
	c.Session.Held = nil
	switch c.Payload {
	case "resume":
		c.AnswerCallback(Msg{}, false)
		if len(held) == 0 {
			return f.Prompt(c)
		}
		// Handle the held message now, as if it had just arrived.
		var h heldInput
		if err := json.Unmarshal(held, &h); err != nil {
			return fmt.Errorf("flows: held input: %w", err)
		}
		in := c.In
		in.Callback = nil
		in.MessageID, in.Text, in.Photo, in.Location, in.Contact, in.Media, in.At = h.MessageID, h.Text, h.Photo, h.Location, h.Contact, h.Media, h.At
		c.In, c.Payload = in, ""
		return f.Handle(c)
	case "discard":
		c.End()
		c.Say(T("general.discarded"))
		return e.menu.showMenu(c)
	case "restart": // a parked draft dropped for a new one of the same flow
		c.AnswerCallback(Msg{}, false)
		c.End()
		c.Say(T("general.discarded"))
		return f.Start(c)
	}
	return e.askResume(c)
}
