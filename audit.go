package bansosbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
)

// InviteCodeLen is the number of characters of an invitation code. Codes
// use TicketAlphabet (no 0/O, 1/I/L), so 31^8 ≈ 8.5·10^11 codes: with
// expiry, one-time use and a rate limit on attempts they cannot be guessed.
const InviteCodeLen = 8

// Invite is a one-time invitation for a person to become staff: they send
// "/daftar CODE" to the bot, which links their Telegram account. Only a
// keyed hash of the code is stored (HashInviteCode), so a copy of the
// data file without the secret does not hold usable codes.
type Invite struct {
	CodeHash  string       `json:"code_hash"`
	Role      Role         `json:"role"`
	Regions   []RegionCode `json:"regions"`
	CreatedBy int64        `json:"created_by,omitempty"` // 0: the command line
	CreatedAt time.Time    `json:"created_at"`
	ExpiresAt time.Time    `json:"expires_at"`
	UsedBy    int64        `json:"used_by,omitempty"`
	UsedAt    time.Time    `json:"used_at,omitzero"`
}

// Check reports whether the invitation can still be used at now: an
// *Error EConflict "staff.invite_used" or "staff.invite_expired" when not.
func (inv *Invite) Check(now time.Time) error {
	switch {
	case inv.UsedBy != 0 || !inv.UsedAt.IsZero():
		return Errorf(EConflict, "staff.invite_used")
	case !now.Before(inv.ExpiresAt):
		return Errorf(EConflict, "staff.invite_expired")
	}
	return nil
}

// NewInviteCode makes an invitation code from 8 bytes of r (crypto/rand on
// the command line; a keyed hash in the flows, which must be
// deterministic). The modulo bias over 64 bits is below 10^-7.
func NewInviteCode(r io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("invite code: %w", err)
	}
	x := binary.BigEndian.Uint64(b[:])
	code := make([]byte, InviteCodeLen)
	for i := range code {
		code[i] = TicketAlphabet[x%uint64(len(TicketAlphabet))]
		x /= uint64(len(TicketAlphabet))
	}
	return string(code), nil
}

// FormatInviteCode splits a code in two halves for reading aloud:
// "ABCD-EFGH".
func FormatInviteCode(code string) string {
	if len(code) != InviteCodeLen {
		return code
	}
	return code[:InviteCodeLen/2] + "-" + code[InviteCodeLen/2:]
}

// NormalizeInviteCode reads a code as typed: case, spaces and dashes do
// not matter. ok is false when it cannot be a code.
func NormalizeInviteCode(s string) (code string, ok bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case strings.ContainsRune(TicketAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != InviteCodeLen {
		return "", false
	}
	return b.String(), true
}

// HashInviteCode is the key an invitation is stored under: an HMAC of
// the code under key (derived from the secret). Without the key a copy of
// the data cannot test the 31^8 possible codes against it; an unkeyed
// hash can be reversed in days on a few cores.
func HashInviteCode(key []byte, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bansosbot invite\x00" + code))
	return InviteHashPrefix + hex.EncodeToString(m.Sum(nil))
}

// InviteHashPrefix starts every keyed invitation hash. Invitations stored
// before codes were hashed with a key (a bare hex SHA-256) lack it: they
// can no longer be redeemed and must be issued again.
const InviteHashPrefix = "k1-"

// Keyed reports whether the invitation's code hash is keyed (see
// HashInviteCode); false for invitations from before keyed hashes.
func (inv *Invite) Keyed() bool { return strings.HasPrefix(inv.CodeHash, InviteHashPrefix) }

// Audit actions: what a staff member (or someone pressing staff buttons)
// did or tried.
const (
	AuditView      = "view"     // a ticket card was shown
	AuditQueue     = "queue"    // a queue was listed
	AuditSummary   = "summary"  // a region summary was shown
	AuditClaim     = "claim"    // took an unassigned ticket
	AuditReply     = "reply"    // a message to the citizen
	AuditAsk       = "ask"      // asked the citizen for information
	AuditNote      = "note"     // internal note
	AuditTransfer  = "transfer" // to another worker or region
	AuditReassign  = "reassign" // a supervisor moved someone else's ticket
	AuditResolve   = "resolve"
	AuditRefer     = "refer"
	AuditReject    = "reject"
	AuditRoute     = "route"          // the system routed a new ticket
	AuditClose     = "close"          // the system closed a resolved ticket
	AuditInvite    = "invite"         // created an invitation code
	AuditRevoke    = "invite_revoke"  // cancelled a pending invitation
	AuditRegister  = "register"       // redeemed (or tried) an invitation code
	AuditChecklist = "usul_checklist" // ticked or unticked an item of an usul's checklist
	AuditOutcome   = "usul_outcome"   // recorded the outcome of an official usul
	AuditStaffAdd  = "staff_add"
	AuditStaffOff  = "staff_deactivate"
	AuditStaffLst  = "staff_list"
)

// AuditEntry is one line of the audit log: who did what, when, on which
// ticket or staff member, and whether it was allowed. It never holds
// message text or personal data beyond the actor's Telegram id.
type AuditEntry struct {
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Actor    int64     `json:"actor"`          // Telegram user id; 0 = the system or the command line
	Role     string    `json:"role,omitempty"` // the actor's role at the time ("citizen" if none)
	Action   string    `json:"action"`
	TicketID uint64    `json:"ticket_id,omitempty"`
	Target   int64     `json:"target,omitempty"` // the staff member acted upon (transfer, invite use, deactivation)
	Allowed  bool      `json:"allowed"`
	// Reason is a short code: why it was refused ("region", "role",
	// "hidden", "not_staff", "expired", ...) or a detail ("workers=2").
	Reason string `json:"reason,omitempty"`
}
