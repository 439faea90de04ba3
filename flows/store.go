package flows

import (
	"time"

	"github.com/bansosbot/bansosbot"
)

// Store is what the flows read and write, always inside one transaction
// (the one that also marks the update processed and queues the replies).
// store.Tx implements it.
type Store interface {
	Profile(userID int64) (*bansosbot.Profile, error)
	PutProfile(p *bansosbot.Profile) error
	DeleteProfile(userID int64) error // also deletes the session
	Session(userID int64) (*bansosbot.Session, error)
	PutSession(s *bansosbot.Session) error
	// Allow records a hit on a named sliding-window limit (see store.Tx.Allow).
	Allow(name string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error)
	// Prompt returns the chat's last delivered prompt (nil: none), which
	// the bot records with its message id; DeletePrompt forgets it.
	Prompt(chatID int64) (*bansosbot.Prompt, error)
	DeletePrompt(chatID int64) error
	// DeleteDeadLetters deletes what the bot parked of a user's updates
	// and messages (erasure).
	DeleteDeadLetters(userID int64) (int, error)

	TicketStore
	StaffStore
	RegistryStore // check.go
	AnnounceStore // announce.go
}

// TicketStore keeps tickets, their history and indexes.
type TicketStore interface {
	NextTicketSeq() (uint64, error)
	Ticket(id uint64) (*bansosbot.Ticket, error)
	TicketByNo(no bansosbot.TicketNo) (*bansosbot.Ticket, error)
	PutTicket(t *bansosbot.Ticket) error
	AppendEvent(t *bansosbot.Ticket, e bansosbot.Event) (bansosbot.Event, error)
	PutEvent(e bansosbot.Event) error
	Events(id uint64) ([]bansosbot.Event, error)
	CitizenTickets(citizenID int64) ([]*bansosbot.Ticket, error)
	RegionTickets(region bansosbot.RegionCode, statuses []bansosbot.Status, fn func(*bansosbot.Ticket) bool) error
	DueTickets(now time.Time, fn func(*bansosbot.Ticket) bool) error
}

// StaffStore keeps staff members.
type StaffStore interface {
	// Staff returns the staff record of the user, nil if they are not staff.
	Staff(userID int64) (*bansosbot.Staff, error)
	// AllStaff calls fn for every staff record until fn returns false.
	AllStaff(fn func(*bansosbot.Staff) bool) error
	// Staff workspace (flows/staff.go): records, invitations, audit log.
	PutStaff(s *bansosbot.Staff) error
	NextInviteSeq() (uint64, error)
	PutInvite(inv *bansosbot.Invite) error
	Invite(codeHash string) (*bansosbot.Invite, error) // nil when unknown
	AppendAudit(e *bansosbot.AuditEntry) error
	AuditByTicket(ticketID uint64) ([]bansosbot.AuditEntry, error)
	AuditByStaff(userID int64) ([]bansosbot.AuditEntry, error) // by actor: staff, or anyone who pressed staff buttons
	// ClearAuditActor removes the actor's id from an entry (erasure,
	// retention).
	ClearAuditActor(seq uint64) error
}

// PurgeStore is what purging a ticket needs: its history and its audit
// entries.
type PurgeStore interface {
	TicketStore
	AuditByTicket(ticketID uint64) ([]bansosbot.AuditEntry, error)
	ClearAuditActor(seq uint64) error
}
