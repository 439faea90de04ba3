package flows

import (
	"math"
	"slices"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Report counters. The store keeps, in each ticket's own transaction, the
// sums of the tickets' contributions (Engine.Tally) per local day, region
// down to the kecamatan, category and restricted or not; reports, the
// chart, the dashboard and /metrics read those sums instead of decoding
// every ticket. Report picks them whenever they can answer the query.
//
// A ticket's contribution is recomputed from scratch whenever it is
// stored, and the old one subtracted, so the counters follow a reopened,
// transferred or moved ticket (all its figures move to its new region
// and category, as a full scan would count it). Purged tickets (retention,
// erasure) keep their category, region, times and rating, so they count
// exactly like the others; an erased citizen's open tickets count as
// withdrawn from then on. What a contribution depends on besides the
// ticket (the business calendar for working minutes, the categories for
// "restricted") is read when the ticket is stored: after changing those
// settings, `bansosbot doctor --recount` shows the difference and
// `--rebuild` recounts.

// TallyStore is what reading the counters needs (store.Tx).
type TallyStore interface {
	// TalliesReady reports whether the counters are complete and current.
	TalliesReady() bool
	// TallySums calls fn with counters whose sum per group is the
	// group's counters on the days from (inclusive) to to (exclusive),
	// with the working-minute digests only when medians.
	TallySums(from, to int32, region bansosbot.RegionCode, medians bool, fn func(g bansosbot.TallyGroup, t *bansosbot.Tally)) error
	// OverdueAt calls fn(i, g, n) with numbers whose sum per i and group
	// is the number overdue at the local midnight starting day cuts[i].
	OverdueAt(cuts []int32, region bansosbot.RegionCode, fn func(i int, g bansosbot.TallyGroup, n int64)) error
	// OverdueNow calls fn(g, n) with numbers whose sum per group is the
	// number of open tickets overdue at now.
	OverdueNow(now time.Time, region bansosbot.RegionCode, fn func(g bansosbot.TallyGroup, n int64)) error
	// The same summed over the groups under an area (the nation, a
	// province, a kabupaten/kota or a kecamatan) of one restriction.
	AreaSums(from, to int32, area bansosbot.RegionCode, restricted, medians bool) (bansosbot.Tally, error)
	AreaOverdueAt(cuts []int32, area bansosbot.RegionCode, restricted bool) ([]int64, error)
	AreaOverdueNow(now time.Time, area bansosbot.RegionCode, restricted bool) (int64, error)
	StatusTallies(region bansosbot.RegionCode, fn func(g bansosbot.TallyGroup, st bansosbot.Status, n int64)) error
}

// tallyStore is tx's counters, or nil when it keeps none.
func tallyStore(tx Store) TallyStore {
	ts, _ := tx.(TallyStore)
	return ts
}

// TallyStoreOf is the store's counters when it keeps them and they are
// ready, or nil.
func TallyStoreOf(tx Store) TallyStore {
	if ts := tallyStore(tx); ts != nil && ts.TalliesReady() {
		return ts
	}
	return nil
}

// tallyAnswers reports whether the counters, which stop at the kecamatan,
// can answer q.
func tallyAnswers(q ReportQuery) bool {
	lvl := q.Region.Level()
	if (q.Region != "" && lvl == 0) || lvl > bansosbot.TallyLevel || (q.ByRegion && lvl >= bansosbot.TallyLevel) {
		return false
	}
	if q.Staff != nil {
		for _, r := range q.Staff.Regions {
			if r.Level() > bansosbot.TallyLevel || (r != "" && r.Level() == 0) {
				return false
			}
		}
	}
	return true
}

// dayOf is x's local date in loc as a day number.
func dayOf(x time.Time, loc *time.Location) int32 {
	y, m, d := x.In(loc).Date()
	return bansosbot.DayNumber(y, m, d)
}

// ceilDay is the first day whose local midnight is at or after x.
func ceilDay(x time.Time, loc *time.Location) int32 {
	d := dayOf(x, loc)
	y, m, dd := x.In(loc).Date()
	if x.Equal(time.Date(y, m, dd, 0, 0, 0, 0, loc)) {
		return d
	}
	return d + 1
}

func (d Date) number() int32 { return bansosbot.DayNumber(d.Year, d.Month, d.Day) }

// Tally is the ticket's contribution to the counters: the same figures
// as ticketFigures, by local day.
func (rp *reports) Tally(tx TicketStore, t *bansosbot.Ticket) (*bansosbot.TicketTally, error) {
	loc := t.Region.TimeZone()
	tt := &bansosbot.TicketTally{Status: t.Status, Group: bansosbot.TallyGroup{
		Region: bansosbot.TallyRegion(t.Region), Category: t.Category, Restricted: rp.cat.restricted(t)}}
	days := map[int32]*bansosbot.Tally{}
	at := func(x time.Time) *bansosbot.Tally {
		d := dayOf(x, loc)
		if days[d] == nil {
			days[d] = &bansosbot.Tally{}
		}
		return days[d]
	}
	var pauses []bansosbot.Interval
	loaded := false
	minutes := func(until time.Time) (uint32, error) {
		if !loaded {
			events, err := tx.Events(t.ID)
			if err != nil {
				return 0, err
			}
			pauses, loaded = clockPauses(events), true
		}
		return bansosbot.DigestMinutes(rp.calendar.WorkingDurationExcluding(t.CreatedAt, until, pauses, loc)), nil
	}
	onTime := func(done, due time.Time) bool { return due.IsZero() || !done.After(due) }
	if !t.CreatedAt.IsZero() {
		at(t.CreatedAt).Received++
	}
	if !t.FirstResponseAt.IsZero() {
		d := at(t.FirstResponseAt)
		d.Responses++
		if onTime(t.FirstResponseAt, t.DueResponse) {
			d.ResponsesOnTime++
		}
		m, err := minutes(t.FirstResponseAt)
		if err != nil {
			return nil, err
		}
		d.ResponseMinutes = d.ResponseMinutes.Add(m, 1)
	}
	if (t.Status == bansosbot.StatusResolved || t.Status == bansosbot.StatusClosed) && !t.ResolvedAt.IsZero() {
		d := at(t.ResolvedAt)
		d.Resolved++
		if onTime(t.ResolvedAt, t.DueResolve) {
			d.ResolvedOnTime++
		}
		m, err := minutes(t.ResolvedAt)
		if err != nil {
			return nil, err
		}
		d.ResolutionMinutes = d.ResolutionMinutes.Add(m, 1)
	}
	if t.Rating > 0 && !t.ClosedAt.IsZero() {
		d := at(t.ClosedAt)
		d.Rated++
		d.RatingSum += int64(t.Rating)
	}
	for day, tl := range days {
		tt.Days = append(tt.Days, bansosbot.DayTally{Day: day, Tally: *tl})
	}
	slices.SortFunc(tt.Days, func(a, b bansosbot.DayTally) int { return int(a.Day) - int(b.Day) })
	tt.Overdue = overdueDays(t, loc)
	tt.OverdueFrom = overdueFrom(t)
	return tt, nil
}

// overdueDays are the days at whose local midnight overdueAt holds for
// the ticket (as read from its stored times), as +1/-1 changes: open
// (filed before, not resolved or closed by then) and past the response
// deadline without a response by then, or past the resolution deadline.
func overdueDays(t *bansosbot.Ticket, loc *time.Location) []bansosbot.DayDelta {
	const inf = math.MaxInt32
	lo := int32(math.MinInt32)
	if !t.CreatedAt.IsZero() {
		lo = dayOf(t.CreatedAt, loc) + 1 // filed before that midnight
	}
	hi := int32(inf)
	end := t.ResolvedAt
	if end.IsZero() {
		end = t.ClosedAt
	}
	if !end.IsZero() {
		hi = ceilDay(end, loc) // ended after that midnight
	}
	type span struct{ from, to int32 }
	var spans []span
	add := func(from, to int32) {
		from, to = max(from, lo), min(to, hi)
		if from < to {
			spans = append(spans, span{from, to})
		}
	}
	if !t.DueResponse.IsZero() {
		to := int32(inf)
		if !t.FirstResponseAt.IsZero() {
			to = ceilDay(t.FirstResponseAt, loc)
		}
		add(ceilDay(t.DueResponse, loc), to)
	}
	if !t.DueResolve.IsZero() {
		add(ceilDay(t.DueResolve, loc), inf)
	}
	if len(spans) == 2 && spans[1].from < spans[0].from {
		spans[0], spans[1] = spans[1], spans[0]
	}
	if len(spans) == 2 && spans[1].from <= spans[0].to {
		spans = []span{{spans[0].from, max(spans[0].to, spans[1].to)}}
	}
	var out []bansosbot.DayDelta
	for _, s := range spans {
		out = append(out, bansosbot.DayDelta{Day: s.from, Delta: 1})
		if s.to != inf {
			out = append(out, bansosbot.DayDelta{Day: s.to, Delta: -1})
		}
	}
	return out
}

// overdueFrom is the instant from which Overdue(t, now) holds for the
// ticket as it is stored (zero: not open, or not before it changes).
func overdueFrom(t *bansosbot.Ticket) time.Time {
	if !t.Status.Open() {
		return time.Time{}
	}
	var o time.Time
	consider := func(due time.Time) {
		if !due.IsZero() && (o.IsZero() || due.Before(o)) {
			o = due
		}
	}
	if t.FirstResponseAt.IsZero() {
		consider(t.DueResponse)
	}
	consider(t.DueResolve)
	// Waiting for the citizen: overdue only for a deadline passed before
	// the wait began (DueState).
	if t.Status == bansosbot.StatusWaitingCitizen && !t.PausedSince.IsZero() && o.After(t.PausedSince) {
		return time.Time{}
	}
	return o
}

// rowKey is what a report row is for.
type rowKey struct {
	region   bansosbot.RegionCode
	category string
}

// reportFromTallies is Report from the counters.
func (rp *reports) reportFromTallies(ts TallyStore, q ReportQuery) (*Report, error) {
	n := len(q.Periods)
	rep := &Report{Query: q, Total: ReportRow{Region: q.Region, Figures: make([]Figures, n)}}
	rows := map[rowKey]*ReportRow{}
	byGroup := map[bansosbot.TallyGroup]*ReportRow{}
	var lastG bansosbot.TallyGroup
	var lastRow *ReportRow
	rowOf := func(g bansosbot.TallyGroup) *ReportRow {
		if lastRow != nil && g == lastG {
			return lastRow
		}
		if r, ok := byGroup[g]; ok {
			lastG, lastRow = g, r
			return r
		}
		var row *ReportRow
		if q.Staff == nil || q.Staff.MayHandle(&bansosbot.Ticket{Region: g.Region}, g.Restricted) {
			var k rowKey
			if q.ByRegion {
				k.region = childOf(q.Region, g.Region)
			}
			if q.ByCategory {
				k.category = g.Category
			}
			if row = rows[k]; row == nil {
				row = &ReportRow{Region: k.region, Category: k.category, Figures: make([]Figures, n)}
				rows[k] = row
			}
		}
		byGroup[g] = row
		return row
	}
	if err := ts.StatusTallies(q.Region, func(g bansosbot.TallyGroup, _ bansosbot.Status, c int64) {
		if c > 0 {
			rowOf(g)
		}
	}); err != nil {
		return nil, err
	}
	from, to := make([]int32, n), make([]int32, n)
	for i, p := range q.Periods {
		from[i], to[i] = p.From.number(), p.To.number()
	}
	add := func(row *ReportRow, i int, f func(*Figures)) {
		f(&row.Figures[i])
		f(&rep.Total.Figures[i])
	}
	// Rows without categories whose tickets s may handle all or none of
	// (per restriction) read the area counters; the others the groups'.
	areaRows, err := rp.areaRows(ts, q, rows, &rep.Total, from, to)
	if err != nil {
		return nil, err
	}
	allArea := len(areaRows) == len(rows)
	if len(areaRows) > 0 {
		groupRow := rowOf
		rowOf = func(g bansosbot.TallyGroup) *ReportRow {
			if row := groupRow(g); row != nil && !areaRows[row] {
				return row
			}
			return nil
		}
	}
	for i := range n {
		if allArea {
			break
		}
		medians := q.medians(i)
		err := ts.TallySums(from[i], to[i], q.Region, medians, func(g bansosbot.TallyGroup, t *bansosbot.Tally) {
			if row := rowOf(g); row != nil {
				row.Figures[i].addTally(t, medians)
				rep.Total.Figures[i].addTally(t, false) // its digests: the rows' merged (below)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	// Overdue at a period's end: for a period over (in the group's time
	// zone) from the day changes, otherwise now from the open tickets.
	past := map[string][]bool{}
	pastOf := func(r bansosbot.RegionCode) []bool {
		tz := r.TimeZoneName()
		if p, ok := past[tz]; ok {
			return p
		}
		loc := r.TimeZone()
		p := make([]bool, n)
		for i, per := range q.Periods {
			p[i] = per.To.In(loc).Before(q.Now)
		}
		past[tz] = p
		return p
	}
	// Which periods are over in some time zone, and which are not in some.
	var cuts []int32
	var cutOf []int
	anyOpen := false
	for i, per := range q.Periods {
		if per.To.In(bansosbot.RegionCode("94").TimeZone()).Before(q.Now) { // the earliest zone (WIT) ends first
			cuts, cutOf = append(cuts, to[i]), append(cutOf, i)
		}
		if !per.To.In(bansosbot.RegionCode("11").TimeZone()).Before(q.Now) { // the latest (WIB) last
			anyOpen = true
		}
	}
	if allArea {
		cuts, anyOpen = nil, false
	}
	err = ts.OverdueAt(cuts, q.Region, func(c int, g bansosbot.TallyGroup, d int64) {
		i := cutOf[c]
		if row := rowOf(g); row != nil && pastOf(g.Region)[i] {
			add(row, i, func(f *Figures) { f.Overdue += int(d) })
		}
	})
	if err != nil {
		return nil, err
	}
	if anyOpen {
		err = ts.OverdueNow(q.Now, q.Region, func(g bansosbot.TallyGroup, c int64) {
			row := rowOf(g)
			if row == nil {
				return
			}
			p := pastOf(g.Region)
			for i := range n {
				if !p[i] {
					add(row, i, func(f *Figures) { f.Overdue += int(c) })
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		for i := range r.Figures {
			f := &r.Figures[i]
			f.normalize()
			t := &rep.Total.Figures[i]
			t.ResponseHours = t.ResponseHours.Merge(f.ResponseHours, 1)
			t.ResolutionHours = t.ResolutionHours.Merge(f.ResolutionHours, 1)
		}
		rep.Rows = append(rep.Rows, *r)
	}
	sortRows(rep.Rows)
	return rep, nil
}

func (f *Figures) addTally(t *bansosbot.Tally, medians bool) {
	f.Received += int(t.Received)
	f.Resolved += int(t.Resolved)
	f.ResolvedOnTime += int(t.ResolvedOnTime)
	f.Responses += int(t.Responses)
	f.ResponsesOnTime += int(t.ResponsesOnTime)
	f.RatingSum += int(t.RatingSum)
	f.Rated += int(t.Rated)
	if !medians {
		return
	}
	// Appended as they come and normalized once at the end (normalize).
	f.ResponseHours = append(f.ResponseHours, t.ResponseMinutes...)
	f.ResolutionHours = append(f.ResolutionHours, t.ResolutionMinutes...)
}

// normalize sorts and adds up the digests that addTally appended to.
func (f *Figures) normalize() {
	f.ResponseHours = f.ResponseHours.Normalized()
	f.ResolutionHours = f.ResolutionHours.Normalized()
}

// sameAccess reports whether s may handle all or none of the tickets
// under area of the restriction (same), and which (may).
func sameAccess(s *bansosbot.Staff, area bansosbot.RegionCode, restricted bool) (may, same bool) {
	if s == nil {
		return true, true
	}
	if !s.Covers(area) {
		return false, false
	}
	if !restricted {
		return true, true
	}
	if s.Role == bansosbot.RoleWorker {
		return false, true
	}
	// MayHandle: coverage of the ticket's kecamatan or narrower hides it.
	for _, r := range s.Regions {
		if r != area && area.Covers(r) && r.Level() > 2 {
			return false, false
		}
	}
	return s.Specificity(area) <= 2, true
}

// areaRows fills the rows of a report without categories whose region
// (the query's, or one of its children) s may handle all or none of the
// tickets of, per restriction, from the area counters (and their part of
// the total), and returns them.
func (rp *reports) areaRows(ts TallyStore, q ReportQuery, rows map[rowKey]*ReportRow, total *ReportRow, from, to []int32) (map[*ReportRow]bool, error) {
	out := map[*ReportRow]bool{}
	if q.ByCategory {
		return out, nil
	}
	n := len(q.Periods)
	// Whether each period is over, per time zone.
	zones := []bansosbot.RegionCode{"11", "51", "94"} // WIB, WITA, WIT
	past := make([][]bool, len(zones))
	for z, r := range zones {
		past[z] = make([]bool, n)
		for i, p := range q.Periods {
			past[z][i] = p.To.In(r.TimeZone()).Before(q.Now)
		}
	}
	for k, row := range rows {
		area := q.Region
		if q.ByRegion {
			area = k.region
			if area.Level() != q.Region.Level()+1 || !q.Region.Covers(area) {
				continue
			}
		}
		// The area's time zone: one, or all zones agree.
		var pastA []bool
		if area.Level() >= 1 {
			pastA = past[slices.IndexFunc(zones, func(z bansosbot.RegionCode) bool { return z.TimeZoneName() == area.TimeZoneName() })]
		} else if slices.Equal(past[0], past[1]) && slices.Equal(past[1], past[2]) {
			pastA = past[0]
		} else {
			continue
		}
		var rs []bool
		same := true
		for _, restricted := range []bool{false, true} {
			may, ok := sameAccess(q.Staff, area, restricted)
			same = same && ok
			if may {
				rs = append(rs, restricted)
			}
		}
		if !same {
			continue
		}
		out[row] = true
		var cuts []int32
		var cutOf []int
		for i := range n {
			if pastA[i] {
				cuts, cutOf = append(cuts, to[i]), append(cutOf, i)
			}
		}
		overdue := func(i int, v int64) {
			row.Figures[i].Overdue += int(v)
			total.Figures[i].Overdue += int(v)
		}
		for _, restricted := range rs {
			for i := range n {
				t, err := ts.AreaSums(from[i], to[i], area, restricted, q.medians(i))
				if err != nil {
					return nil, err
				}
				f := &row.Figures[i]
				f.addTally(&t, false)
				if q.medians(i) { // sorted already: merged, not appended and sorted again
					f.ResponseHours = f.ResponseHours.Merge(t.ResponseMinutes, 1)
					f.ResolutionHours = f.ResolutionHours.Merge(t.ResolutionMinutes, 1)
				}
				total.Figures[i].addTally(&t, false) // its digests: the rows' merged
			}
			at, err := ts.AreaOverdueAt(cuts, area, restricted)
			if err != nil {
				return nil, err
			}
			for c, v := range at {
				overdue(cutOf[c], v)
			}
			if len(cuts) < n {
				now, err := ts.AreaOverdueNow(q.Now, area, restricted)
				if err != nil {
					return nil, err
				}
				for i := range n {
					if !pastA[i] {
						overdue(i, now)
					}
				}
			}
		}
	}
	return out, nil
}

// Restricted reports whether the ticket is for supervisors and admins
// only (hidden reporter, a supervisors-only category).
func (e *Engine) Restricted(t *bansosbot.Ticket) bool { return e.cat.restricted(t) }

// OpenCounts counts the open tickets under region that s may handle (nil:
// all): per region one level below region when byRegion (under "" when
// not). It reads the counters when they are ready, else the status index
// and the tickets.
func (rp *reports) OpenCounts(tx Store, region bansosbot.RegionCode, s *bansosbot.Staff, byRegion bool) (map[bansosbot.RegionCode]int, error) {
	out := map[bansosbot.RegionCode]int{}
	key := func(r bansosbot.RegionCode) bansosbot.RegionCode {
		if byRegion {
			return childOf(region, r)
		}
		return ""
	}
	if ts := TallyStoreOf(tx); ts != nil && tallyAnswers(ReportQuery{Region: region, ByRegion: byRegion, Staff: s}) {
		err := ts.StatusTallies(region, func(g bansosbot.TallyGroup, st bansosbot.Status, n int64) {
			if st.Open() && (s == nil || s.MayHandle(&bansosbot.Ticket{Region: g.Region}, g.Restricted)) {
				out[key(g.Region)] += int(n)
			}
		})
		return out, err
	}
	var open []bansosbot.Status
	for _, st := range bansosbot.Statuses {
		if st.Open() {
			open = append(open, st)
		}
	}
	err := tx.RegionTickets(region, open, func(t *bansosbot.Ticket) bool {
		if s == nil || s.MayHandle(t, rp.cat.restricted(t)) {
			out[key(t.Region)]++
		}
		return true
	})
	return out, err
}

// ResponseHours is the working hours from filing to the first response
// as the report counts them (without the time waiting for the citizen);
// ok is false before a response.
func (rp *reports) ResponseHours(tx TicketStore, t *bansosbot.Ticket) (float64, bool, error) {
	if t.FirstResponseAt.IsZero() {
		return 0, false, nil
	}
	events, err := tx.Events(t.ID)
	if err != nil {
		return 0, false, err
	}
	d := rp.calendar.WorkingDurationExcluding(t.CreatedAt, t.FirstResponseAt, clockPauses(events), t.Region.TimeZone())
	return float64(bansosbot.DigestMinutes(d)) / 60, true, nil
}
