package flows

import (
	"log/slog"
	"time"

	"github.com/bansosbot/bansosbot"
)

// The data-subject rights of UU PDP: see what the bot keeps (/datasaya) and
// erase it (/hapusdata).

func (f privacy) showMyData(c *Conv) error {
	if c.Profile == nil {
		c.Say(T("privacy.nothing_stored"))
		return nil
	}
	tickets, err := c.Tx.CitizenTickets(c.In.UserID)
	if err != nil {
		return err
	}
	var zone *time.Location // where the citizen lives (their newest ticket); the deployment's zone without one
	if len(tickets) > 0 {
		zone = tickets[0].Region.TimeZone()
	}
	msgs := []Msg{T("privacy.mydata",
		"Lang", T("lang.name_"+c.Profile.Lang),
		"ConsentAt", Time{T: c.Profile.ConsentAt, Loc: zone},
		"Version", c.Profile.ConsentVersion,
		"Count", len(tickets),
		"Draft", c.Session.Flow != "",
	)}
	for _, t := range tickets {
		msgs = append(msgs, f.myTicketData(c, t))
	}
	if s := c.Staff(); s != nil {
		msgs = append(msgs, T("privacy.mydata_staff", "Role", T("role."+string(s.Role))))
	}
	if m, err := subscriptionData(c, f.cat); err != nil {
		return err
	} else if m != nil {
		msgs = append(msgs, *m)
	}
	msgs = append(msgs, T("privacy.mydata_footer"))
	c.Say(msgs...)
	return nil
}

// privacyNotice is the privacy notice of the configuration (UU PDP).
type privacyNotice struct {
	controller Controller    // Config.Controller
	retention  time.Duration // Config.Retention
}

// notice is the privacy notice with the controller and the retention of
// the configuration.
func (p *privacyNotice) notice() Msg {
	ctl := p.controller
	var name any = ctl.Name
	if ctl.Name == "" {
		name = T("consent.controller_default")
	}
	return T("consent.notice", "Version", bansosbot.ConsentVersion, "Controller", name,
		"Address", ctl.Address, "Contact", ctl.Contact, "Retention", retentionWords(p.retention))
}

// retentionWords says a retention period in plain words: "1 tahun setelah
// tiket ditutup" (whole years, else whole months of 30 days, else days).
func retentionWords(d time.Duration) Msg {
	if d < 0 {
		return T("consent.retention_off")
	}
	days := int((d + 12*time.Hour) / (24 * time.Hour))
	switch {
	case days >= 365 && days%365 == 0:
		return T("consent.retention_years", "Count", days/365)
	case days >= 30 && days%30 == 0:
		return T("consent.retention_months", "Count", days/30)
	}
	return T("consent.retention_days", "Count", max(days, 1))
}

// mydataShown is how many characters of a ticket's free text /datasaya
// shows (the whole text is in /tiket).
const mydataShown = 300

// myTicketData is what /datasaya shows of one ticket: what the citizen
// gave (category, where, the description, phone, location, how many
// photos), not only its number.
func (f privacy) myTicketData(c *Conv, t *bansosbot.Ticket) Msg {
	photos := 0
	for _, a := range t.Attachments {
		if !a.ByStaff {
			photos++
		}
	}
	return T("privacy.mydata_ticket", "No", string(t.No), "Status", T("status."+string(t.Status)),
		"Created", Time{T: t.CreatedAt, Loc: t.Region.TimeZone(), DateOnly: true},
		"Category", f.cat.categoryName(t), "Region", f.cat.regionName(t.Region),
		"Description", clip(t.Description, mydataShown), "Phone", t.Phone,
		"Location", t.Location != nil, "Photos", photos)
}

// privacy is the erasure conversation: confirm, then erase.
type privacy struct {
	cat *catalog
	log *slog.Logger
}

func (privacy) Name() string { return privacyFlow }

func (f privacy) Start(c *Conv) error {
	if c.Profile == nil {
		c.Say(T("privacy.nothing_stored"))
		return nil
	}
	c.Begin(privacyFlow, "confirm")
	return f.Prompt(c)
}

func (privacy) Prompt(c *Conv) error {
	c.Ask([]Msg{T("privacy.delete_confirm")}, [][]Choice{
		{{T("privacy.delete_yes"), "yes"}, {T("general.cancel"), PayloadCancel}},
	})
	return nil
}

func (f privacy) Handle(c *Conv) error {
	if c.Payload != "yes" {
		return f.Prompt(c)
	}
	n, err := EraseCitizen(c.Tx, c.In.UserID, c.Now)
	if err != nil {
		return err
	}
	c.End()
	c.Forget()
	c.AnswerCallback(Msg{}, false)
	c.Say(T("privacy.deleted", "Count", n))
	// No user id, name or text: only what happened and how much.
	f.log.Info("citizen data erased on request", "tickets_anonymised", n)
	return nil
}

// ErasedMarker replaces free text removed for privacy (erasure or
// retention); renderers show it as a localized "removed" note.
const ErasedMarker = "\x00erased"

// EraseCitizen withdraws the citizen's open tickets and purges all their
// tickets (PurgeTicket): the link to their account, phone, location,
// photos, every free text of the history, which describes them, and their
// id as an actor. The tickets stay, anonymous, for the statistics. Their
// id also leaves the audit entries they caused as a citizen, and the dead
// letters of their updates (raw text, NIK, names) are deleted. It returns
// the number of tickets touched.
func EraseCitizen(tx Store, userID int64, now time.Time) (int, error) {
	if err := eraseSubscription(tx, userID); err != nil {
		return 0, err
	}
	tickets, err := tx.CitizenTickets(userID)
	if err != nil {
		return 0, err
	}
	for _, t := range tickets {
		if !t.Status.Final() {
			if err := Transition(tx, t, EvWithdraw, Actor{Role: RoleSystem}, Change{Args: map[string]string{"reason": "erasure"}}, now); err != nil {
				return 0, err
			}
		}
		if _, err := PurgeTicket(tx, t, "erasure", now); err != nil {
			return 0, err
		}
	}
	audit, err := tx.AuditByStaff(userID)
	if err != nil {
		return 0, err
	}
	if err := forgetCitizenAudit(tx, audit); err != nil {
		return 0, err
	}
	if _, err := tx.DeleteDeadLetters(userID); err != nil {
		return 0, err
	}
	return len(tickets), nil
}

// redactTicket removes the personal data a ticket carries, keeping what
// the statistics need (category, region, times, status, rating).
func redactTicket(t *bansosbot.Ticket) {
	t.Description = ErasedMarker
	for k := range t.Extra {
		t.Extra[k] = ErasedMarker
	}
	t.Attachments, t.Location, t.Phone, t.RatingComment, t.Voice = nil, nil, "", "", nil
	t.Purged = true
}

// Event roles besides staff roles.
const (
	RoleCitizen = "citizen"
	RoleSystem  = "system"
)
