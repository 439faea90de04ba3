package bansosbot

import (
	"slices"
	"time"
)

// SubscriptionNoticeVersion is the version of the text a citizen agrees to
// when subscribing to announcements (locale key announce.consent); bump it
// when that text changes materially.
const SubscriptionNoticeVersion = 1

// MaxSubscriptionRegions bounds the regions one citizen follows.
const MaxSubscriptionRegions = 5

// Subscription is a citizen's consent to receive the announcements of some
// regions. Programs are kept only when the citizen agreed to let the bot
// remember that a status check answered YA for them (for announcements of
// one program); otherwise the bot keeps no such fact.
type Subscription struct {
	UserID        int64        `json:"user_id"`
	Lang          string       `json:"lang"`
	Regions       []RegionCode `json:"regions"`
	Programs      []string     `json:"programs,omitempty"`
	ConsentAt     time.Time    `json:"consent_at"`
	NoticeVersion int          `json:"notice_version"`
}

// Follows reports whether the subscription receives an announcement for
// target: a region followed lies inside the target (a kabupaten-wide
// announcement reaches a kecamatan's subscribers) or contains it (a
// kabupaten's subscribers hear of each of its kecamatan). A program
// announcement reaches only those who let the bot keep that program.
func (s *Subscription) Follows(target RegionCode, program string) bool {
	if program != "" && !slices.Contains(s.Programs, program) {
		return false
	}
	return slices.ContainsFunc(s.Regions, func(r RegionCode) bool { return target.Covers(r) || r.Covers(target) })
}

// AnnouncementStatus is where an announcement is in its life.
type AnnouncementStatus string

// Announcement statuses.
const (
	AnnPending   AnnouncementStatus = "pending"   // waits for a second staff member's approval
	AnnScheduled AnnouncementStatus = "scheduled" // approved (or small enough), waits for SendAt
	AnnSending   AnnouncementStatus = "sending"   // being queued to its recipients
	AnnPaused    AnnouncementStatus = "paused"
	AnnDone      AnnouncementStatus = "done"      // every recipient queued
	AnnCancelled AnnouncementStatus = "cancelled" // by its author or an approver
	AnnRejected  AnnouncementStatus = "rejected"  // refused at approval
)

// Active reports whether the announcement may still send.
func (s AnnouncementStatus) Active() bool {
	return s == AnnPending || s == AnnScheduled || s == AnnSending || s == AnnPaused
}

// Announcement is a message from the office to the subscribers of a region.
// Counters are updated as recipients are queued and as Telegram answers.
type Announcement struct {
	ID         uint64             `json:"id"`
	Author     int64              `json:"author"`
	Region     RegionCode         `json:"region"`            // "" = national
	Program    string             `json:"program,omitempty"` // only the subscribers who kept this program
	Text       map[string]string  `json:"text"`              // per language; "id" always
	PhotoID    string             `json:"photo_id,omitempty"`
	Status     AnnouncementStatus `json:"status"`
	CreatedAt  time.Time          `json:"created_at"`
	SendAt     time.Time          `json:"send_at"`
	ApprovedBy int64              `json:"approved_by,omitempty"`
	// Recipients is the count shown at the preview (and to the approver).
	Recipients int `json:"recipients"`
	// Cursor is the last subscriber (user id) queued: queuing resumes after
	// it, so that a crash never queues anyone twice.
	Cursor       int64     `json:"cursor,omitempty"`
	Queued       int       `json:"queued"`
	Sent         int       `json:"sent"`
	Failed       int       `json:"failed"`
	Blocked      int       `json:"blocked"`      // the citizen blocked the bot (403)
	Unsubscribed int       `json:"unsubscribed"` // left from this announcement's button
	Acted        int       `json:"acted"`        // used /cek or /lapor within 7 days of receiving it
	FinishedAt   time.Time `json:"finished_at,omitzero"`
}

// TextFor is the text in lang, or in Indonesian when none was written.
func (a *Announcement) TextFor(lang string) string {
	if t := a.Text[lang]; t != "" {
		return t
	}
	return a.Text["id"]
}

// AnnouncementEffectWindow is how long after receiving an announcement a
// citizen's /cek or /lapor counts as its (rough) effect.
const AnnouncementEffectWindow = 7 * 24 * time.Hour
