package flows

import (
	"time"

	"github.com/bansosbot/bansosbot"
)

// Schedule sets a new ticket's service-level deadlines and its next check
// for the escalation job. Placeholder (calendar days of the national norms)
// until the service-level policy lands.
func (e *Engine) Schedule(t *bansosbot.Ticket, now time.Time) {
	t.DueResponse = now.AddDate(0, 0, 3)
	t.DueResolve = now.AddDate(0, 0, 60)
	t.NextCheck = t.DueResponse
}
