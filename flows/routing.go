package flows

import "github.com/bansosbot/bansosbot"

// RouteNewTicket decides who handles a newly filed ticket and notifies
// them (replies queued on c). Placeholder until staff routing lands.
func (e *Engine) RouteNewTicket(c *Conv, t *bansosbot.Ticket) error { return nil }
