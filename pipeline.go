package bansosbot

import (
	"encoding/json"
	"errors"
	"time"
)

// The records of the update pipeline: the updates accepted from Telegram,
// the calls queued for it, the leases by which replicas divide the work,
// and the errors of the store that keeps them. The store keeps them and
// the bot works with them through interfaces of its own (bot.DB), as the
// flows work with the domain's records through flows.Store: defined here,
// neither package depends on the other.

// InboxItem is an accepted Telegram update waiting to be processed.
type InboxItem struct {
	UpdateID   int64           `json:"update_id"`
	ChatID     int64           `json:"chat_id"` // dispatch key; 0 when the update has no chat
	Update     json.RawMessage `json:"update"`  // the update as Telegram sent it
	ReceivedAt time.Time       `json:"received_at"`
}

// OutboxItem is one Telegram call waiting to be made. Payload is opaque to
// the store (the bot package defines it; JSON).
type OutboxItem struct {
	ID        uint64          `json:"-"`
	ChatID    int64           `json:"chat_id"`
	Payload   json.RawMessage `json:"payload,omitempty"` // inside the JSON only in values of the store's old format
	Attempts  int             `json:"attempts,omitempty"`
	NotBefore time.Time       `json:"not_before,omitzero"`
	LastError string          `json:"last_error,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	// Announcement is the announcement the call carries (0: a reply):
	// its delivery or loss is counted on the announcement.
	Announcement uint64 `json:"ann,omitempty"`
}

// OutboxFeed hands one sender the outbox items it has not had yet: each
// once, whatever order concurrent transactions commit them in, in id order
// within what one call returns (the store's DB.OutboxFeed says how). A new
// feed hands out every item not yet delivered or parked.
type OutboxFeed interface {
	Next(limit int) ([]OutboxItem, error)
}

// Lease is a named lease and its holder (the store's lease.go says how
// leases work).
type Lease struct {
	Name  string `json:"-"`
	Owner string `json:"owner"` // "" once released
	// Token grows each time the lease changes hands (the fencing token).
	Token uint64 `json:"token"`
	// Expires is when the lease ends unless renewed, by the backend's
	// clock.
	Expires time.Time `json:"expires"`
}

// Held reports whether owner holds the lease at now (the backend's time).
func (l Lease) Held(owner string, now time.Time) bool {
	return l.Owner == owner && owner != "" && now.Before(l.Expires)
}

// ErrLeaseLost is returned by the store's lease check when the lease
// changed hands, and by work that needs a lease this process does not
// hold.
var ErrLeaseLost = errors.New("store: lease lost (another process holds it now)")

// WriteError is a read-write transaction that the store's backend failed,
// not the function it ran: the commit could not be written (a full disk,
// a file that became read-only, an I/O error) or the database was
// unreachable. The work itself is not at fault and may succeed later, so
// callers keep it and try again (the dispatcher never parks an update for
// it).
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "store: write failed: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// IsWriteError reports whether err is (or wraps) a WriteError.
func IsWriteError(err error) bool {
	var we *WriteError
	return errors.As(err, &we)
}

// TicketCount is how many tickets have a status in a province.
type TicketCount struct {
	Status   Status
	Province RegionCode // "" for tickets without a region
	N        int
}
