package bansosbot

import (
	"slices"
	"strings"
	"time"
)

// Role is a staff member's role. Citizens have no role.
type Role string

const (
	RoleWorker     Role = "worker"     // pendamping / TKSK / Dinas Sosial staff
	RoleSupervisor Role = "supervisor" // coordinator of a kabupaten/kota, province or the nation
	RoleAdmin      Role = "admin"      // runs the deployment
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleWorker || r == RoleSupervisor || r == RoleAdmin
}

// Staff is a social worker, supervisor or admin linked to a Telegram account.
type Staff struct {
	UserID    int64        `json:"user_id"`
	Name      string       `json:"name"`
	Role      Role         `json:"role"`
	Regions   []RegionCode `json:"regions"` // prefixes covered; "" covers the nation
	Active    bool         `json:"active"`
	CreatedAt time.Time    `json:"created_at"`
	CreatedBy int64        `json:"created_by,omitempty"`
}

// Covers reports whether the staff member's area includes region.
// Admins cover everything.
func (s *Staff) Covers(region RegionCode) bool {
	if s == nil || !s.Active {
		return false
	}
	if s.Role == RoleAdmin {
		return true
	}
	return slices.ContainsFunc(s.Regions, func(r RegionCode) bool { return r.Covers(region) })
}

// Specificity is the level of the most specific of the staff member's
// regions that covers region: 4 for a village, 3 for a kecamatan ... 0 for
// national coverage, -1 when it does not cover region.
func (s *Staff) Specificity(region RegionCode) int {
	best := -1
	if s == nil || !s.Active {
		return best
	}
	for _, r := range s.Regions {
		if r.Covers(region) {
			lvl := 0
			if r != "" {
				lvl = r.Level()
			}
			best = max(best, lvl)
		}
	}
	if best < 0 && s.Role == RoleAdmin {
		return 0
	}
	return best
}

// CoversAt reports whether one of the staff member's own regions at
// exactly level (0 = national, 1 = province, 2 = kabupaten/kota,
// 3 = kecamatan) covers region. Escalation uses it to find the supervisors
// of one rung of the ladder; admins are not on the ladder.
func (s *Staff) CoversAt(region RegionCode, level int) bool {
	if s == nil || !s.Active {
		return false
	}
	return slices.ContainsFunc(s.Regions, func(r RegionCode) bool {
		return r.Level() == level && (level == 0) == (r == "") && r.Covers(region)
	})
}

// MayHandle reports whether the staff member may see and work on a ticket.
// Everyone needs coverage of the ticket's region. A restricted ticket
// (hidden reporter or a supervisors-only category: PUNGLI,
// OFFICER_MISCONDUCT) is for supervisors and admins only, and never for
// anyone whose coverage of it is the ticket's own kecamatan or narrower:
// that is the chain the complaint may be about.
func (s *Staff) MayHandle(t *Ticket, restricted bool) bool {
	if t == nil || !s.Covers(t.Region) {
		return false
	}
	if !restricted {
		return true
	}
	return s.Role != RoleWorker && s.Specificity(t.Region) <= 2
}

// ParseRegionList reads a comma-separated list of region codes as typed on
// the command line or in the bot ("32.01, 3202"). "nasional" or
// "national" stands for the whole nation (""). Duplicates are dropped.
// Failures are *Error EInvalid "region.bad_code".
func ParseRegionList(s string) ([]RegionCode, error) {
	var out []RegionCode
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		var c RegionCode
		switch strings.ToLower(part) {
		case "nasional", "national":
			c = ""
		default:
			var err error
			if c, err = ParseRegionCode(part); err != nil {
				return nil, err
			}
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// CheckAssignment validates a role and the regions it is to cover: every
// region known to rs (or the nation ""), at least one for workers and
// supervisors, and never the whole nation for a worker. Failures are
// *Error EInvalid "staff.invite_bad_role" or "staff.invite_bad_region".
func CheckAssignment(role Role, regions []RegionCode, rs *Regions) error {
	if !role.Valid() {
		return Errorf(EInvalid, "staff.invite_bad_role")
	}
	bad := Errorf(EInvalid, "staff.invite_bad_region")
	if role != RoleAdmin && len(regions) == 0 {
		return bad
	}
	for _, r := range regions {
		if r == "" && role == RoleWorker {
			return bad
		}
		if _, ok := rs.Get(r); r != "" && !ok {
			return bad
		}
	}
	return nil
}
