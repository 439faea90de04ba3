package flows

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
)

// The M&E dashboard (web/) is entered through the bot: a staff member
// sends /dasbor and gets a one-time link, valid for DashboardLinkTTL,
// whose token is stored only as a hash. Citizens and strangers are
// refused (and audited); without a configured dashboard URL the command
// says the dashboard is off.

// DashboardLinkTTL is how long a login link stays valid.
const DashboardLinkTTL = 10 * time.Minute

// DashboardLoginPath is the dashboard's path that takes a link's token.
const DashboardLoginPath = "/masuk"

// DashboardStore keeps login links (store.Tx).
type DashboardStore interface {
	PutWebLogin(hash []byte, userID int64, expires, now time.Time) error
}

// TokenHash is how tokens and session ids are stored.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewToken is a random URL-safe token of 256 bits.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const auditDashboard = "dashboard_link"

func (e *Engine) registerDashboard() {
	d := &dashboard{url: e.cfg.DashboardURL}
	e.addCommand(Command{ID: "dashboard", Names: map[string]string{"id": "dasbor", "en": "dashboard"}, Desc: "cmd.dashboard",
		Staff: true, Run: d.dashboardLink})
}

// dashboard hands staff a login link to the web dashboard (/dasbor).
type dashboard struct {
	url string // Config.DashboardURL; empty: the dashboard is off
}

func (d *dashboard) dashboardLink(c *Conv) error {
	s := c.Staff()
	if s == nil || !s.Active {
		return c.refuse(auditDashboard, 0, "not_staff", T("dashboard.staff_only"))
	}
	if c.In.ChatType != "" && c.In.ChatType != "private" {
		return c.refuse(auditDashboard, 0, "group", T("dashboard.private_only"))
	}
	ds, ok := dashboardStore(c.Tx)
	if d.url == "" || !ok {
		c.Say(T("dashboard.off"))
		return nil
	}
	token := NewToken()
	if err := ds.PutWebLogin(TokenHash(token), c.In.UserID, c.Now.Add(DashboardLinkTTL), c.Now); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: auditDashboard, Allowed: true}); err != nil {
		return err
	}
	url := strings.TrimRight(d.url, "/") + DashboardLoginPath + "?t=" + token
	c.Say(T("dashboard.link", "URL", url, "Minutes", int(DashboardLinkTTL/time.Minute)))
	return nil
}

func dashboardStore(tx Store) (DashboardStore, bool) {
	ds, ok := tx.(DashboardStore)
	return ds, ok
}
