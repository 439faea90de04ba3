package flows

import (
	"cmp"
	"log/slog"
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

// router finds who handles a ticket and tells them; the admins hear of
// tickets nobody covers.
type router struct {
	admins []int64 // configured admins (Config.Admins)
	log    *slog.Logger
	cat    *catalog
	conv   func(tx Store, now time.Time) *Conv // a conversation of nobody, for the notifications
}

// restricted reports whether the ticket is for supervisors only, out of
// reach of its own kecamatan's chain (see bansosbot.Staff.MayHandle).
func (k *catalog) restricted(t *bansosbot.Ticket) bool {
	cat, _ := k.categories.Get(t.Category)
	return t.HideReporter || cat.SupervisorsOnly
}

// Route decides who is told about a new ticket: the active workers whose
// coverage of its region is the most specific (ties share the queue); when
// there is none, or the ticket is restricted (PUNGLI, OFFICER_MISCONDUCT),
// the supervisors nearest up the hierarchy who may handle it. The result
// is in user-id order; it is empty when nobody covers the region.
func (r *router) Route(tx Store, t *bansosbot.Ticket) ([]*bansosbot.Staff, error) {
	restricted := r.cat.restricted(t)
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
// creating the ticket, in the same transaction. routed is false when
// nobody at all was told (no staff for the region, no admin): the
// citizen must then be told that the service is not staffed yet.
func (r *router) RouteNewTicket(c *Conv, t *bansosbot.Ticket) (routed bool, err error) {
	o, routed, err := r.routeTicket(c.Tx, t, c.Now)
	c.replies = append(c.replies, o.Replies...)
	c.counts.Add(o.Counts)
	return routed, err
}

// RouteTicket is RouteNewTicket outside a conversation: it returns the
// notifications to queue. Nobody covering the region (at its level or any
// level above: kabupaten, province, nation) falls back to every admin,
// from the configuration and the staff records, so that no ticket goes
// unseen while anybody could see it.
func (r *router) RouteTicket(tx Store, t *bansosbot.Ticket, now time.Time) (Outcome, error) {
	o, _, err := r.routeTicket(tx, t, now)
	return o, err
}

// ReasonUnrouted is the reason of the route audit entry of a ticket that
// reached nobody (metrics count it).
const ReasonUnrouted = "unrouted"

func (r *router) routeTicket(tx Store, t *bansosbot.Ticket, now time.Time) (Outcome, bool, error) {
	targets, err := r.Route(tx, t)
	if err != nil {
		return Outcome{}, false, err
	}
	ids := make([]int64, 0, len(targets))
	for _, s := range targets {
		ids = append(ids, s.UserID)
	}
	sc := r.conv(tx, now)
	reason := "staff=" + strconv.Itoa(len(ids))
	if len(ids) == 0 {
		if ids, err = r.Admins(tx); err != nil {
			return Outcome{}, false, err
		}
		reason = "no_staff"
		if len(ids) == 0 {
			reason = ReasonUnrouted
			sc.counts.Unrouted++
			r.log.Warn("a new ticket reaches no one: no staff cover its region and there is no admin",
				"ticket", t.ID, "region", string(t.Region))
		} else {
			r.log.Warn("no staff cover a new ticket's region; told the admins", "ticket", t.ID, "region", string(t.Region), "admins", len(ids))
		}
	}
	if err := sc.audit(bansosbot.AuditEntry{Action: bansosbot.AuditRoute, TicketID: t.ID, Allowed: true, Reason: reason}); err != nil {
		return Outcome{}, false, err
	}
	for _, id := range ids {
		if err := sc.Notify(id, Reply{Action: Send, Text: []Msg{T("staff.new_ticket",
			"No", string(t.No), "Category", r.cat.categoryName(t), "Region", r.cat.regionName(t.Region),
			"Due", DueState(t, now).Msg())},
			Buttons: Buttons(workFlow, [][]Choice{{
				{T("staff.btn_c"), verbClaim + ":" + idStr(t.ID)},
				{T("staff.btn_o"), verbOpen + ":" + idStr(t.ID)},
			}})}); err != nil {
			return Outcome{}, false, err
		}
	}
	return sc.outcome(), len(ids) > 0, nil
}

// Admins returns every admin: the configured ones and the active admin
// staff records, in user-id order.
func (r *router) Admins(tx Store) ([]int64, error) {
	ids := slices.Clone(r.admins)
	err := tx.AllStaff(func(s *bansosbot.Staff) bool {
		if s.Active && s.Role == bansosbot.RoleAdmin && !slices.Contains(ids, s.UserID) {
			ids = append(ids, s.UserID)
		}
		return true
	})
	slices.Sort(ids)
	return ids, err
}

// Unrouted counts the open tickets that reach no one now: no active staff
// member may handle them (by region and, for restricted categories, by
// role) and there is no admin. open lists the open statuses.
func (r *router) Unrouted(tx Store) (int, error) {
	admins, err := r.Admins(tx)
	if err != nil || len(admins) > 0 {
		return 0, err
	}
	var staff []*bansosbot.Staff
	if err := tx.AllStaff(func(s *bansosbot.Staff) bool {
		if s.Active {
			staff = append(staff, s)
		}
		return true
	}); err != nil {
		return 0, err
	}
	var open []bansosbot.Status
	for _, st := range bansosbot.Statuses {
		if st.Open() {
			open = append(open, st)
		}
	}
	n := 0
	err = tx.RegionTickets("", open, func(t *bansosbot.Ticket) bool {
		restricted := r.cat.restricted(t)
		if !slices.ContainsFunc(staff, func(s *bansosbot.Staff) bool { return s.MayHandle(t, restricted) }) {
			n++
		}
		return true
	})
	return n, err
}
