package bansosbot

import (
	"slices"
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
