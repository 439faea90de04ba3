package flows

// Outcome is what one input (Engine.Handle) or one run of a scheduled job
// (Escalate, Digest, AutoClose, Announce) produced: the replies to queue
// and the counts of what it did.
//
// The counts travel with the replies, counted where the flow decides
// (a limit refuses, a lookup is answered, a step fires, a ticket reaches
// nobody), rather than inferred by whoever watches the store's calls: the
// caller writes them in the transaction that commits the work, so a
// transaction that runs again counts once and one that fails counts
// nothing (package bot turns them into its metrics).
type Outcome struct {
	Replies []Reply
	Counts  Counts
}

// Counts are the events of one Outcome that operators count. The map
// keys are the label values of the bot's metrics (a dashboard and its
// alerts depend on them: do not rename them). A nil map counts nothing.
type Counts struct {
	Lookups     map[LookupResult]uint64 // registry lookups by result
	Refusals    map[RateLimit]uint64    // requests a rate limit refused, by limit
	Escalations map[string]uint64       // escalation steps fired, by bansosbot.Step* kind
	Unrouted    uint64                  // new tickets that reached nobody: no staff for their region, no admin
}

// LookupResult is how a registry lookup was answered.
type LookupResult string

const (
	LookupAnswered    LookupResult = "answered"    // from an imported registry (found or not: the reply does not say which either)
	LookupUnavailable LookupResult = "unavailable" // no registry imported
)

// LookupResults are every LookupResult.
var LookupResults = []LookupResult{LookupAnswered, LookupUnavailable}

// RateLimit names a limit that refuses a user's requests (counters that
// only mark something done once, such as the flood warning or the
// digest, are no limits).
type RateLimit string

const (
	LimitMessages    RateLimit = "messages"     // Limits.MessagesPerMinute
	LimitLookupsUser RateLimit = "lookups_user" // Limits.LookupsPerHour
	LimitLookupsNIK  RateLimit = "lookups_nik"  // Limits.LookupsPerNIKDay
	LimitInvites     RateLimit = "invites"      // invitation code attempts
	LimitFilings     RateLimit = "filings"      // Limits.FilingsPerDay
	LimitGroups      RateLimit = "groups"       // Limits.GroupNotice, per group or per user
)

// RateLimits are every RateLimit.
var RateLimits = []RateLimit{LimitMessages, LimitLookupsUser, LimitLookupsNIK, LimitInvites, LimitFilings, LimitGroups}

// IsZero reports whether nothing was counted.
func (n Counts) IsZero() bool {
	return len(n.Lookups) == 0 && len(n.Refusals) == 0 && len(n.Escalations) == 0 && n.Unrouted == 0
}

// Add adds o's counts to n.
func (n *Counts) Add(o Counts) {
	for k, v := range o.Lookups {
		n.Lookups = inc(n.Lookups, k, v)
	}
	for k, v := range o.Refusals {
		n.Refusals = inc(n.Refusals, k, v)
	}
	for k, v := range o.Escalations {
		n.Escalations = inc(n.Escalations, k, v)
	}
	n.Unrouted += o.Unrouted
}

// inc adds v to m[k], making m when it is nil.
func inc[K comparable](m map[K]uint64, k K, v uint64) map[K]uint64 {
	if m == nil {
		m = map[K]uint64{}
	}
	m[k] += v
	return m
}

// lookedUp counts a registry lookup: answered when a registry was there
// to answer it.
func (c *Conv) lookedUp(answered bool) {
	r := LookupUnavailable
	if answered {
		r = LookupAnswered
	}
	c.counts.Lookups = inc(c.counts.Lookups, r, 1)
}

// refused counts a request refused by limit l. It is a refusal for the
// engine's Watcher too (refusals come before any write), also where the
// flow answers it with a message instead of an error.
func (c *Conv) refused(l RateLimit) {
	c.counts.Refusals = inc(c.counts.Refusals, l, 1)
	c.watchRefusal("limit " + string(l))
}

// outcome is the conversation's replies and counts.
func (c *Conv) outcome() Outcome { return Outcome{Replies: c.replies, Counts: c.counts} }
