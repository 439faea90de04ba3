package flows

import (
	"time"
)

// Times a citizen reads are in the zone of where they live (WIB, WITA or
// WIT), or relative ("dalam 45 menit"), never in the server's zone: a
// citizen in Papua told "11.00" of Jakarta comes back two hours late.
// Ticket times use the ticket's region, which is where the citizen said
// they live; outside a ticket, citizenZone finds it.

// citizenZone is the time zone of where the citizen lives, as their most
// recent ticket says; nil when they have no ticket (the caller says the
// time relatively then).
func citizenZone(c *Conv) (*time.Location, error) {
	ts, err := c.Tx.CitizenTickets(c.In.UserID)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return ts[0].Region.TimeZone(), nil // newest first
}

// within says a wait relatively: "dalam 45 menit", "dalam 2 jam 5 menit",
// rounded up to the minute (never earlier than true), at least 1 minute.
func within(d time.Duration) Msg {
	mins := int((d + time.Minute - 1) / time.Minute)
	mins = max(mins, 1)
	h, m := mins/60, mins%60
	var span Msg
	switch {
	case h == 0:
		span = T("when.minutes", "Count", m)
	case m == 0:
		span = T("when.hours", "Count", h)
	default:
		span = T("when.pair", "A", T("when.hours", "Count", h), "B", T("when.minutes", "Count", m))
	}
	return T("when.in", "Span", span)
}

// retryAt says when a limit lets the citizen try again: relatively, and
// at the clock time in the zone where they live when it is known.
func retryAt(c *Conv, wait time.Duration) (Msg, error) {
	loc, err := citizenZone(c)
	if err != nil {
		return Msg{}, err
	}
	at := c.Now.Add(wait)
	if t := at.Truncate(time.Minute); !t.Equal(at) {
		at = t.Add(time.Minute) // never earlier than it is allowed
	}
	if loc == nil {
		return T("when.retry", "In", within(wait), "Zone", false), nil
	}
	return T("when.retry", "In", within(wait), "Zone", true, "At", Time{T: at, Loc: loc}), nil
}
