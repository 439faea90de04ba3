package bansosbot

import "time"

// Status is a ticket's place in its lifecycle (see flows.Lifecycle for the
// allowed transitions).
type Status string

const (
	StatusNew            Status = "new"             // filed, not yet taken by anyone
	StatusAssigned       Status = "assigned"        // a worker claimed it or was given it
	StatusInProgress     Status = "in_progress"     // the assignee is working on it
	StatusWaitingCitizen Status = "waiting_citizen" // staff asked the citizen for information; the clock pauses
	StatusResolved       Status = "resolved"        // staff answered; the citizen may rate or reopen
	StatusClosed         Status = "closed"          // final after resolution
	StatusReferred       Status = "referred"        // not our authority; the citizen was told where to go
	StatusRejected       Status = "rejected"        // duplicate or spam, with a reason
	StatusWithdrawn      Status = "withdrawn"       // the citizen withdrew it
	StatusReopened       Status = "reopened"        // the citizen said it was not solved
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{
	StatusNew, StatusAssigned, StatusInProgress, StatusWaitingCitizen, StatusResolved,
	StatusClosed, StatusReferred, StatusRejected, StatusWithdrawn, StatusReopened,
}

// Open reports whether the ticket still needs work from staff or the citizen.
func (s Status) Open() bool {
	switch s {
	case StatusClosed, StatusReferred, StatusRejected, StatusWithdrawn, StatusResolved:
		return false
	}
	return true
}

// Final reports whether nothing can happen to the ticket any more.
func (s Status) Final() bool {
	switch s {
	case StatusClosed, StatusReferred, StatusRejected, StatusWithdrawn:
		return true
	}
	return false
}

// Open311 maps the status to GeoReport v2's open/closed.
func (s Status) Open311() string {
	if s.Final() || s == StatusResolved {
		return "closed"
	}
	return "open"
}

// Attachment is a photo sent to a ticket, kept as Telegram file ids only.
type Attachment struct {
	FileID       string    `json:"file_id"`
	FileUniqueID string    `json:"file_unique_id"`
	AddedAt      time.Time `json:"added_at"`
	ByStaff      bool      `json:"by_staff,omitempty"`
	// Caption is the text the citizen sent with the photo (shown to staff
	// with it).
	Caption string `json:"caption,omitempty"`
	// Seconds is a voice note's length.
	Seconds int `json:"seconds,omitempty"`
}

// Location is a point shared by the citizen.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Ticket is one complaint (pengaduan).
type Ticket struct {
	ID          uint64            `json:"id"` // internal sequence, key in the store
	No          TicketNo          `json:"no"` // what humans type
	Category    string            `json:"category"`
	Region      RegionCode        `json:"region"`            // kecamatan (PP.KK.CC)
	Village     RegionCode        `json:"village,omitempty"` // desa/kelurahan, when given
	Description string            `json:"description"`
	Extra       map[string]string `json:"extra,omitempty"` // category-specific fields (e.g. sanggah reason, ExtraProgram)
	Attachments []Attachment      `json:"attachments,omitempty"`
	Location    *Location         `json:"location,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	// Voice is a voice note the citizen sent as the description (for
	// citizens who find writing hard); staff play it from the card.
	Voice       *Attachment `json:"voice,omitempty"`
	CitizenID   int64       `json:"citizen_id"` // Telegram user id; 0 once anonymised
	CitizenLang string      `json:"citizen_lang,omitempty"`
	// HideReporter is copied from the category at filing: the reporter's
	// identity is never shown to whoever handles the ticket.
	HideReporter bool `json:"hide_reporter,omitempty"`

	Status    Status    `json:"status"`
	Assignee  int64     `json:"assignee,omitempty"` // staff user id
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	FirstResponseAt time.Time `json:"first_response_at,omitzero"`
	ResolvedAt      time.Time `json:"resolved_at,omitzero"`
	ClosedAt        time.Time `json:"closed_at,omitzero"`

	// Service levels (see SLA policy): deadlines and the escalation state.
	DueResponse time.Time `json:"due_response,omitzero"`
	DueResolve  time.Time `json:"due_resolve,omitzero"`
	// NextCheck is when the escalation job must look at the ticket again;
	// zero when nothing is pending. It is the key of the due-time index.
	NextCheck   time.Time     `json:"next_check,omitzero"`
	Escalation  int           `json:"escalation,omitempty"`  // position of the next ladder step (see flows/sla.go)
	PausedSince time.Time     `json:"paused_since,omitzero"` // waiting for the citizen since
	PausedFor   time.Duration `json:"paused_for,omitempty"`  // working time paused so far

	// Usul is the petugas' record of an usul (a proposal for aid): the
	// checklist and the official proposal's outcome; nil until used.
	Usul *UsulRecord `json:"usul,omitempty"`

	Rating        int    `json:"rating,omitempty"` // 1-5
	RatingComment string `json:"rating_comment,omitempty"`
	Purged        bool   `json:"purged,omitempty"` // personal data removed by retention
	Events        int    `json:"events"`           // number of history events

	// Version counts the ticket's writes: the store increments it with
	// every PutTicket, and refuses a write whose Version is not the
	// stored one (store.ConflictError): a change based on an older read
	// of the ticket (a page or button rendered earlier, another replica's
	// write in between) must not silently overwrite the newer one.
	// Tickets stored before it had no version read as 0.
	Version uint64 `json:"version,omitempty"`
}

// Event kinds in a ticket's history.
const (
	EventCreated    = "created"
	EventStatus     = "status"     // a lifecycle transition
	EventMessage    = "message"    // a message between staff and citizen
	EventNote       = "note"       // internal note, never public
	EventAttachment = "attachment" // a photo added
	EventAssigned   = "assigned"
	EventEscalated  = "escalated"
	EventAcked      = "acknowledged"
	EventRated      = "rated"
	EventPurged     = "purged"
	EventChecklist  = "usul_checklist" // an item of the usul checklist ticked or unticked (internal)
	EventOutcome    = "usul_outcome"   // the official usul's outcome recorded (public)
)

// UsulRecord is what the petugas records on an usul ticket: the checklist
// (documents and house photo seen) and the outcome of the official
// proposal, which the bot does not file itself (the desa/kelurahan
// musyawarah or the Cek Bansos app does).
type UsulRecord struct {
	Checked   []string  `json:"checked,omitempty"` // items of UsulChecklist done
	Outcome   string    `json:"outcome,omitempty"` // one of UsulOutcomes
	OutcomeAt time.Time `json:"outcome_at,omitzero"`
	OutcomeBy int64     `json:"outcome_by,omitempty"` // staff user id
}

// UsulChecklist are the items a petugas checks before helping to file an
// usul, in display order.
var UsulChecklist = []string{"ktp", "kk", "house", "visit"}

// UsulOutcomes are the outcomes of an official usul: filed through the
// desa/kelurahan musyawarah or the Cek Bansos app, then accepted into the
// data (DTSEN) or declined at verification.
var UsulOutcomes = []string{"filed_desa", "filed_app", "accepted", "declined"}

// Event is one entry of a ticket's append-only history.
type Event struct {
	TicketID uint64            `json:"ticket_id"`
	Seq      int               `json:"seq"`
	At       time.Time         `json:"at"`
	Actor    int64             `json:"actor,omitempty"` // Telegram user id; 0 = the system
	Role     string            `json:"role,omitempty"`  // "citizen", a staff Role, or "system"
	Kind     string            `json:"kind"`
	From     Status            `json:"from,omitempty"`
	To       Status            `json:"to,omitempty"`
	Public   bool              `json:"public"` // shown to the citizen
	Text     string            `json:"text,omitempty"`
	Args     map[string]string `json:"args,omitempty"`
}

// ExtraProgram is the Ticket.Extra key of the aid program a complaint is
// about (a program code, e.g. "PKH"), filled in when the complaint starts
// from a status check's "not received yet" button.
const ExtraProgram = "program"

// ExtraCallMe marks (value "yes") a ticket whose citizen asked a petugas
// to call them back on the phone number they shared for it.
const ExtraCallMe = "call_me"
