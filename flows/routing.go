package flows

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/bansosbot/bansosbot"
)

// SupervisorsFor returns the active supervisors whose own coverage is
// exactly at level (2 = kabupaten/kota, 1 = province, 0 = national) and
// covers region, in user-id order. Escalation climbs the ladder with it.
func SupervisorsFor(tx Store, region bansosbot.RegionCode, level int) ([]*bansosbot.Staff, error) {
	var out []*bansosbot.Staff
	err := tx.AllStaff(func(s *bansosbot.Staff) bool {
		if s.Role == bansosbot.RoleSupervisor && s.CoversAt(region, level) {
			out = append(out, s)
		}
		return true
	})
	return out, err
}

// restricted reports whether the ticket is for supervisors only, out of
// reach of its own kecamatan's chain (see bansosbot.Staff.MayHandle).
func (e *Engine) restricted(t *bansosbot.Ticket) bool {
	cat, _ := e.cfg.Categories.Get(t.Category)
	return t.HideReporter || cat.SupervisorsOnly
}

// Route decides who is told about a new ticket: the active workers whose
// coverage of its region is the most specific (ties share the queue); when
// there is none, or the ticket is restricted (PUNGLI, OFFICER_MISCONDUCT),
// the supervisors nearest up the hierarchy who may handle it. The result
// is in user-id order; it is empty when nobody covers the region.
func (e *Engine) Route(tx Store, t *bansosbot.Ticket) ([]*bansosbot.Staff, error) {
	restricted := e.restricted(t)
	var workers, supervisors []*bansosbot.Staff
	err := tx.AllStaff(func(s *bansosbot.Staff) bool {
		if !s.MayHandle(t, restricted) {
			return true
		}
		switch s.Role {
		case bansosbot.RoleWorker:
			workers = append(workers, s)
		case bansosbot.RoleSupervisor:
			supervisors = append(supervisors, s)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if best := mostSpecific(workers, t.Region); len(best) > 0 {
		return best, nil
	}
	return mostSpecific(supervisors, t.Region), nil
}

// mostSpecific keeps the staff whose coverage of region is the most
// specific: a kecamatan worker wins over a kabupaten one, a kabupaten
// supervisor over a province one.
func mostSpecific(staff []*bansosbot.Staff, region bansosbot.RegionCode) []*bansosbot.Staff {
	best := -1
	for _, s := range staff {
		best = max(best, s.Specificity(region))
	}
	var out []*bansosbot.Staff
	for _, s := range staff {
		if s.Specificity(region) == best {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *bansosbot.Staff) int { return cmp.Compare(a.UserID, b.UserID) })
	return out
}

// RouteNewTicket decides who handles a newly filed ticket and notifies
// them (replies queued on c). The complaint flow calls it right after
// creating the ticket, in the same transaction.
func (e *Engine) RouteNewTicket(c *Conv, t *bansosbot.Ticket) error {
	replies, err := e.RouteTicket(c.Tx, t, c.Now)
	c.replies = append(c.replies, replies...)
	return err
}

// RouteTicket is RouteNewTicket outside a conversation: it returns the
// notifications to queue. Nobody covering the region falls back to the
// admins of the configuration, so that no ticket goes unseen.
func (e *Engine) RouteTicket(tx Store, t *bansosbot.Ticket, now time.Time) ([]Reply, error) {
	targets, err := e.Route(tx, t)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(targets))
	for _, s := range targets {
		ids = append(ids, s.UserID)
	}
	reason := "staff=" + strconv.Itoa(len(ids))
	if len(ids) == 0 {
		ids = e.cfg.Admins
		reason = "no_staff"
		e.cfg.Log.Warn("no staff cover a new ticket's region", "ticket", t.ID, "region", string(t.Region))
	}
	sc := e.systemConv(tx, now)
	if err := sc.audit(bansosbot.AuditEntry{Action: bansosbot.AuditRoute, TicketID: t.ID, Allowed: true, Reason: reason}); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := sc.Notify(id, Reply{Action: Send, Text: []Msg{T("staff.new_ticket",
			"No", string(t.No), "Category", e.categoryName(t), "Region", e.regionName(t.Region),
			"Due", DueState(t, now).Msg())},
			Buttons: Buttons(workFlow, [][]Choice{{
				{T("staff.btn_c"), verbClaim + ":" + idStr(t.ID)},
				{T("staff.btn_o"), verbOpen + ":" + idStr(t.ID)},
			}})}); err != nil {
			return nil, err
		}
	}
	return sc.replies, nil
}
