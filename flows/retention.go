package flows

import (
	"time"

	"github.com/bansosbot/bansosbot"
)

// Retention (UU PDP: keep personal data only as long as the purpose needs
// it). A daily job, wired in cmd/, walks the tickets and purges those
// closed longer ago than the retention period, expires conversation
// drafts left idle, and forgets old rate-limit counters and dead letters.
// What stays of a purged ticket is anonymous: category, region, status,
// times, deadlines, escalation state and rating, which is all the reports
// and charts read, so the statistics do not change.

// Retention defaults (configurable: BANSOSBOT_RETENTION).
const (
	DefaultRetention = 365 * 24 * time.Hour
	// DraftRetention is how long an untouched conversation (a complaint
	// draft with its text and photos) is kept.
	DraftRetention = 30 * 24 * time.Hour
	// DeadLetterRetention is how long parked updates and messages (which
	// hold whatever the user wrote) are kept for an operator to look at.
	DeadLetterRetention = 90 * 24 * time.Hour
)

// RetentionDue reports whether the ticket's personal data must go at now:
// it is final (closed, referred, rejected or withdrawn) since before
// now - period and has not been purged yet. Resolved tickets wait for
// their closing (auto-close), since the citizen may still reopen them.
func RetentionDue(t *bansosbot.Ticket, now time.Time, period time.Duration) bool {
	return t.Status.Final() && !t.Purged && !t.ClosedAt.IsZero() && t.ClosedAt.Before(now.Add(-period))
}

// attachmentArgs are event arguments that name Telegram files.
var attachmentArgs = []string{"file_id", "file_unique_id"}

// PurgeTicket removes the personal data of a ticket in the caller's
// transaction and stores it: the ticket's free text, extra fields,
// photos, location, phone and rating comment (redactTicket), its link to
// the citizen's account, and from its history every free text (the
// citizen's, and staff replies and notes, which quote and describe the
// citizen), every file id and the citizen's Telegram id as the actor of
// their events and audit entries (created, message, photo, rating,
// refused presses), so that the anonymous ticket cannot be linked back.
// Staff stay named. It appends one EventPurged and returns how many
// history events it changed.
func PurgeTicket(tx PurgeStore, t *bansosbot.Ticket, reason string, now time.Time) (int, error) {
	events, err := tx.Events(t.ID)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, ev := range events {
		dirty := false
		if ev.Text != "" && ev.Text != ErasedMarker {
			ev.Text, dirty = ErasedMarker, true
		}
		if ev.Role == RoleCitizen && ev.Actor != 0 {
			ev.Actor, dirty = 0, true
		}
		for _, k := range attachmentArgs {
			if _, ok := ev.Args[k]; ok {
				delete(ev.Args, k)
				dirty = true
			}
		}
		if !dirty {
			continue
		}
		if err := tx.PutEvent(ev); err != nil {
			return 0, err
		}
		changed++
	}
	audit, err := tx.AuditByTicket(t.ID)
	if err != nil {
		return 0, err
	}
	if err := forgetCitizenAudit(tx, audit); err != nil {
		return 0, err
	}
	redactTicket(t)
	t.CitizenID, t.UpdatedAt = 0, now
	if _, err := tx.AppendEvent(t, bansosbot.Event{At: now, Role: RoleSystem, Kind: bansosbot.EventPurged,
		Args: map[string]string{"reason": reason}}); err != nil {
		return 0, err
	}
	return changed, tx.PutTicket(t)
}

// ExpireDraft empties a session left idle: its flow, state, draft and
// held message. The step counter stays, so buttons of the old prompt are
// answered as stale.
func ExpireDraft(s *bansosbot.Session) {
	s.Flow, s.State, s.Draft, s.Held, s.Parked = "", "", nil, nil, nil
}

// forgetCitizenAudit clears the actor of the entries made by citizens
// (staff entries keep their actor: staff answer for what they did).
func forgetCitizenAudit(tx interface{ ClearAuditActor(uint64) error }, entries []bansosbot.AuditEntry) error {
	for _, e := range entries {
		if e.Actor != 0 && (e.Role == RoleCitizen || e.Role == "") {
			if err := tx.ClearAuditActor(e.Seq); err != nil {
				return err
			}
		}
	}
	return nil
}
