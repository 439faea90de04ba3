package flows

import "github.com/bansosbot/bansosbot"

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

// RouteNewTicket decides who handles a newly filed ticket and notifies
// them (replies queued on c). Placeholder until staff routing lands.
func (e *Engine) RouteNewTicket(c *Conv, t *bansosbot.Ticket) error { return nil }
