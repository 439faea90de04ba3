package bansosbot

import (
	"cmp"
	"slices"
	"time"
)

// Report counters ("tallies"). Every ticket contributes to counters of
// its group (region down to the kecamatan, category, restricted or not)
// on the local days when something happened to it: filed, first answered,
// resolved, rated, and the days it was overdue. The store keeps the sums
// up to date in the ticket's own transaction, so reports, the dashboard
// and /metrics read a few counters instead of decoding every ticket.
// flows computes a ticket's contribution (TicketTally); the store adds
// and subtracts contributions.

// TallyLevel is the deepest region level the counters keep (kecamatan):
// a ticket filed for a desa is counted in its kecamatan.
const TallyLevel = 3

// TallyRegion is the region a ticket is counted in: r cut to TallyLevel.
func TallyRegion(r RegionCode) RegionCode {
	if r.Level() > TallyLevel {
		return r.prefix(TallyLevel)
	}
	return r
}

// Tally holds the counters of one group on one day.
type Tally struct {
	Received                   int64
	Responses, ResponsesOnTime int64
	Resolved, ResolvedOnTime   int64
	Rated, RatingSum           int64
	// ResponseMinutes and ResolutionMinutes are the working minutes from
	// filing to the first response and to the resolution of the Responses
	// and the Resolved.
	ResponseMinutes, ResolutionMinutes Digest
}

// Add adds sign × o to t (sign is 1 or -1).
func (t *Tally) Add(o *Tally, sign int64) {
	t.Received += sign * o.Received
	t.Responses += sign * o.Responses
	t.ResponsesOnTime += sign * o.ResponsesOnTime
	t.Resolved += sign * o.Resolved
	t.ResolvedOnTime += sign * o.ResolvedOnTime
	t.Rated += sign * o.Rated
	t.RatingSum += sign * o.RatingSum
	t.ResponseMinutes = t.ResponseMinutes.Merge(o.ResponseMinutes, sign)
	t.ResolutionMinutes = t.ResolutionMinutes.Merge(o.ResolutionMinutes, sign)
}

// IsZero reports whether every counter is zero.
func (t *Tally) IsZero() bool {
	return t.Received == 0 && t.Responses == 0 && t.ResponsesOnTime == 0 && t.Resolved == 0 &&
		t.ResolvedOnTime == 0 && t.Rated == 0 && t.RatingSum == 0 &&
		len(t.ResponseMinutes) == 0 && len(t.ResolutionMinutes) == 0
}

// Digest is an exact histogram of durations in whole minutes, sorted by
// value, without empty bins: medians read from it are exact to the minute.
type Digest []Bin

// Bin is one value of a Digest and how often it occurs.
type Bin struct {
	Minutes uint32
	N       int64
}

// DigestMinutes is d in whole minutes (rounded; negative counts as 0).
func DigestMinutes(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	m := d.Round(time.Minute) / time.Minute
	if m > 1<<32-1 {
		m = 1<<32 - 1
	}
	return uint32(m)
}

// Add counts n more of the value (n may be negative); empty bins go.
func (d Digest) Add(minutes uint32, n int64) Digest {
	i, found := slices.BinarySearchFunc(d, minutes, func(b Bin, m uint32) int { return cmp.Compare(b.Minutes, m) })
	if found {
		d[i].N += n
		if d[i].N == 0 {
			d = slices.Delete(d, i, i+1)
		}
		return d
	}
	if n == 0 {
		return d
	}
	return slices.Insert(d, i, Bin{minutes, n})
}

// Merge adds sign × o to d.
func (d Digest) Merge(o Digest, sign int64) Digest {
	if len(o) == 0 {
		return d
	}
	if len(d) == 0 && sign > 0 {
		return slices.Clone(o)
	}
	out := make(Digest, 0, len(d)+len(o))
	i, j := 0, 0
	for i < len(d) || j < len(o) {
		switch {
		case j == len(o) || (i < len(d) && d[i].Minutes < o[j].Minutes):
			out = append(out, d[i])
			i++
		case i == len(d) || o[j].Minutes < d[i].Minutes:
			out = append(out, Bin{o[j].Minutes, sign * o[j].N})
			j++
		default:
			if n := d[i].N + sign*o[j].N; n != 0 {
				out = append(out, Bin{d[i].Minutes, n})
			}
			i, j = i+1, j+1
		}
	}
	return out
}

// Normalized sorts the bins of a digest built by appending bins (in any
// order, values repeated) and adds up those of equal value; empty bins go.
// Appending and normalizing once is linear-logarithmic where merging each
// part in turn is quadratic.
func (d Digest) Normalized() Digest {
	if len(d) == 0 {
		return nil
	}
	byMinutes := func(a, b Bin) int { return cmp.Compare(a.Minutes, b.Minutes) }
	if !slices.IsSortedFunc(d, byMinutes) { // a merged digest is sorted already
		slices.SortFunc(d, byMinutes)
	}
	out := d[:0]
	for _, b := range d {
		if n := len(out); n > 0 && out[n-1].Minutes == b.Minutes {
			out[n-1].N += b.N
			continue
		}
		out = append(out, b)
	}
	j := 0
	for _, b := range out {
		if b.N != 0 {
			out[j] = b
			j++
		}
	}
	if j == 0 {
		return nil
	}
	return out[:j]
}

// Count is the number of values.
func (d Digest) Count() int64 {
	var n int64
	for _, b := range d {
		n += b.N
	}
	return n
}

// MedianHours is the median in hours; ok is false for an empty digest.
func (d Digest) MedianHours() (float64, bool) {
	n := d.Count()
	if n <= 0 {
		return 0, false
	}
	nth := func(k int64) uint32 { // k-th value, 0-based
		for _, b := range d {
			if k < b.N {
				return b.Minutes
			}
			k -= b.N
		}
		return d[len(d)-1].Minutes
	}
	if n%2 == 1 {
		return float64(nth(n/2)) / 60, true
	}
	return (float64(nth(n/2-1)) + float64(nth(n/2))) / 120, true
}

// TallyGroup is what a ticket's counters are grouped by.
type TallyGroup struct {
	Region   RegionCode // TallyRegion of the ticket's region
	Category string
	// Restricted tickets (hidden reporter, supervisors-only category) are
	// counted apart, so that a worker's figures leave them out.
	Restricted bool
}

// DayNumber numbers a calendar date: days since 1970-01-01.
func DayNumber(year int, month time.Month, day int) int32 {
	return int32(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// DayTally is a ticket's counters on one local day.
type DayTally struct {
	Day int32 // DayNumber
	Tally
}

// DayDelta changes the number of overdue tickets from the start of Day on.
type DayDelta struct {
	Day   int32
	Delta int64
}

// TicketTally is one ticket's contribution to the counters.
type TicketTally struct {
	Group  TallyGroup
	Status Status
	Days   []DayTally // ascending days
	// Overdue: the ticket was open and past a deadline at the local
	// midnights starting the days from a +1 entry's day until a -1
	// entry's day, as read from its stored times (past periods' "overdue
	// at the end").
	Overdue []DayDelta
	// OverdueFrom is the instant from which the open ticket is overdue as
	// the queues show it now (zero: open and never, or not open).
	OverdueFrom time.Time
}
