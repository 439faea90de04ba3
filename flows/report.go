package flows

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/bansosbot/bansosbot"
)

// Figures for monitoring and evaluation: the command line's report
// ("bansosbot report --period 2026-11") and the supervisors' chart
// (/grafik) both come from Engine.Report.

// Period is a span of calendar days [From, To). Its bounds are taken in
// each ticket's own time zone (WIB, WITA, WIT), so "November" means
// November where the ticket was filed.
type Period struct {
	From, To Date
}

// Date is a calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is t's date in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// In is the date's midnight in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays is the date n days later (normalized: 31 Nov is 1 Dec).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Bounds are the period's instants in loc.
func (p Period) Bounds(loc *time.Location) (from, to time.Time) {
	return p.From.In(loc), p.To.In(loc)
}

func (p Period) String() string { return p.From.String() + ".." + p.To.String() }

// MonthPeriod is a calendar month.
func MonthPeriod(year int, month time.Month) Period {
	from := Date{year, month, 1}
	return Period{From: from, To: DateOf(time.Date(year, month+1, 1, 12, 0, 0, 0, time.UTC), time.UTC)}
}

// ParseMonth reads "2026-11" as that month.
func ParseMonth(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Period{}, fmt.Errorf("%q is not a month like 2026-11", s)
	}
	return MonthPeriod(t.Year(), t.Month()), nil
}

// WeekPeriods are the n weeks (Monday to Sunday) ending with the week
// that contains now in loc, oldest first.
func WeekPeriods(now time.Time, loc *time.Location, n int) []Period {
	monday := DateOf(weekStart(now, loc), loc)
	out := make([]Period, n)
	for i := range out {
		from := monday.AddDays(-7 * (n - 1 - i))
		out[i] = Period{From: from, To: from.AddDays(7)}
	}
	return out
}

// Figures are the numbers of one group of tickets in one period.
type Figures struct {
	Received int // filed in the period
	// Resolved were resolved in the period (and are resolved or closed
	// now); ResolvedOnTime of them by their resolution deadline.
	Resolved, ResolvedOnTime int
	// Responses are first responses by staff in the period;
	// ResponsesOnTime of them by the response deadline.
	Responses, ResponsesOnTime int
	// Overdue are the tickets open and past a deadline they owe at the
	// end of the period (at now for a period not over yet: then exactly
	// as the queues show it; for past periods from the stored deadlines).
	Overdue int
	// ResponseHours and ResolutionHours are the working hours (business
	// calendar, the ticket's time zone, the service-level clock: without
	// the time waiting for the citizen) from filing to the first response
	// and to the resolution, of the Responses and the Resolved.
	// They are kept to the minute.
	ResponseHours, ResolutionHours bansosbot.Digest
	RatingSum, Rated               int // ratings of tickets closed in the period
}

// MedianResponseHours is the median of ResponseHours; ok is false when
// there is none.
func (f Figures) MedianResponseHours() (float64, bool) { return f.ResponseHours.MedianHours() }

// MedianResolutionHours is the median of ResolutionHours.
func (f Figures) MedianResolutionHours() (float64, bool) { return f.ResolutionHours.MedianHours() }

// ResponseCompliance is the share of first responses on time, in percent.
func (f Figures) ResponseCompliance() (float64, bool) { return pct(f.ResponsesOnTime, f.Responses) }

// ResolutionCompliance is the share of resolutions on time, in percent.
func (f Figures) ResolutionCompliance() (float64, bool) { return pct(f.ResolvedOnTime, f.Resolved) }

// RatingAverage is the mean rating (1-5).
func (f Figures) RatingAverage() (float64, bool) {
	if f.Rated == 0 {
		return 0, false
	}
	return float64(f.RatingSum) / float64(f.Rated), true
}

func pct(met, total int) (float64, bool) {
	if total == 0 {
		return 0, false
	}
	return 100 * float64(met) / float64(total), true
}

func (f *Figures) add(o *Figures) {
	f.Received += o.Received
	f.Resolved += o.Resolved
	f.ResolvedOnTime += o.ResolvedOnTime
	f.Responses += o.Responses
	f.ResponsesOnTime += o.ResponsesOnTime
	f.Overdue += o.Overdue
	f.ResponseHours = f.ResponseHours.Merge(o.ResponseHours, 1)
	f.ResolutionHours = f.ResolutionHours.Merge(o.ResolutionHours, 1)
	f.RatingSum += o.RatingSum
	f.Rated += o.Rated
}

// ReportQuery selects what Report counts.
type ReportQuery struct {
	Region  bansosbot.RegionCode // "" for the whole nation
	Periods []Period
	Now     time.Time
	// ByRegion makes a row per region one level below Region (provinces
	// under the nation, kabupaten/kota under a province, kecamatan under
	// a kabupaten); ByCategory a row per category (both: per pair).
	ByRegion, ByCategory bool
	// Staff, when set, counts only the tickets they may handle (as their
	// queue and summary do).
	Staff *bansosbot.Staff
	// NoMedians leaves the working-hour digests (ResponseHours,
	// ResolutionHours) empty, for figures that show no medians (trends);
	// MediansFor, when set, keeps them only in the periods before that
	// index.
	NoMedians  bool
	MediansFor int
}

// medians reports whether period i keeps its working-hour digests.
func (q *ReportQuery) medians(i int) bool {
	return !q.NoMedians && (q.MediansFor == 0 || i < q.MediansFor)
}

// ReportRow is one group's figures, one per period.
type ReportRow struct {
	Region   bansosbot.RegionCode // "" unless ByRegion
	Category string               // "" unless ByCategory
	Figures  []Figures
}

// Report is the result of a ReportQuery: the rows in region and category
// order, and the total of all of them.
type Report struct {
	Query ReportQuery
	Rows  []ReportRow
	Total ReportRow
}

// reports computes the figures of reports, charts and the dashboard,
// from the counters (tally.go) or the tickets.
type reports struct {
	now      func() time.Time
	calendar *bansosbot.Calendar
	cat      *catalog
}

// Report computes the figures of the query: from the store's counters
// (tally.go) when it keeps them and they can answer the query, otherwise
// from the tickets (ReportScan). Both give the same figures. Purged
// tickets count like the others: retention keeps what the figures read.
func (rp *reports) Report(tx Store, q ReportQuery) (*Report, error) {
	if q.Now.IsZero() {
		q.Now = rp.now()
	}
	if ts := tallyStore(tx); ts != nil && ts.TalliesReady() && tallyAnswers(q) {
		return rp.reportFromTallies(ts, q)
	}
	return rp.ReportScan(tx, q)
}

// ReportScan computes the figures of the query from the status+region
// index of its region (every ticket under it, whatever its status),
// decoding every ticket: the reference the counters are checked against.
func (rp *reports) ReportScan(tx Store, q ReportQuery) (*Report, error) {
	if q.Now.IsZero() {
		q.Now = rp.now()
	}
	rep := &Report{Query: q, Total: ReportRow{Region: q.Region, Figures: make([]Figures, len(q.Periods))}}
	type key struct {
		region   bansosbot.RegionCode
		category string
	}
	rows := map[key]*ReportRow{}
	var ferr error
	err := tx.RegionTickets(q.Region, bansosbot.Statuses, func(t *bansosbot.Ticket) bool {
		if q.Staff != nil && !q.Staff.MayHandle(t, rp.cat.restricted(t)) {
			return true
		}
		figs, err := rp.ticketFigures(tx, t, q)
		if err != nil {
			ferr = err
			return false
		}
		for i := range figs {
			if !q.medians(i) {
				figs[i].ResponseHours, figs[i].ResolutionHours = nil, nil
			}
		}
		var k key
		if q.ByRegion {
			k.region = childOf(q.Region, t.Region)
		}
		if q.ByCategory {
			k.category = t.Category
		}
		row := rows[k]
		if row == nil {
			row = &ReportRow{Region: k.region, Category: k.category, Figures: make([]Figures, len(q.Periods))}
			rows[k] = row
		}
		for i := range figs {
			row.Figures[i].add(&figs[i])
			rep.Total.Figures[i].add(&figs[i])
		}
		return true
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("flows: report: %w", err)
	}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, *r)
	}
	sortRows(rep.Rows)
	return rep, nil
}

func sortRows(rows []ReportRow) {
	slices.SortFunc(rows, func(a, b ReportRow) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Category, b.Category))
	})
}

// ticketFigures is one ticket's contribution to each period.
func (rp *reports) ticketFigures(tx TicketStore, t *bansosbot.Ticket, q ReportQuery) ([]Figures, error) {
	loc := t.Region.TimeZone()
	out := make([]Figures, len(q.Periods))
	var pauses []bansosbot.Interval
	loaded := false
	hours := func(until time.Time) (uint32, error) {
		if !loaded { // the history only when a duration is needed
			events, err := tx.Events(t.ID)
			if err != nil {
				return 0, err
			}
			pauses, loaded = clockPauses(events), true
		}
		return bansosbot.DigestMinutes(rp.calendar.WorkingDurationExcluding(t.CreatedAt, until, pauses, loc)), nil
	}
	onTime := func(done, due time.Time) bool { return due.IsZero() || !done.After(due) }
	resolved := t.Status == bansosbot.StatusResolved || t.Status == bansosbot.StatusClosed
	for i, p := range q.Periods {
		from, to := p.Bounds(loc)
		in := func(x time.Time) bool { return !x.IsZero() && !x.Before(from) && x.Before(to) }
		f := &out[i]
		if in(t.CreatedAt) {
			f.Received++
		}
		if in(t.FirstResponseAt) {
			f.Responses++
			if onTime(t.FirstResponseAt, t.DueResponse) {
				f.ResponsesOnTime++
			}
			h, err := hours(t.FirstResponseAt)
			if err != nil {
				return nil, err
			}
			f.ResponseHours = f.ResponseHours.Add(h, 1)
		}
		if resolved && in(t.ResolvedAt) {
			f.Resolved++
			if onTime(t.ResolvedAt, t.DueResolve) {
				f.ResolvedOnTime++
			}
			h, err := hours(t.ResolvedAt)
			if err != nil {
				return nil, err
			}
			f.ResolutionHours = f.ResolutionHours.Add(h, 1)
		}
		if t.Rating > 0 && in(t.ClosedAt) {
			f.RatingSum += t.Rating
			f.Rated++
		}
		at := to
		if q.Now.Before(at) {
			at = q.Now
		}
		if overdueAt(t, at, q.Now) {
			f.Overdue++
		}
	}
	return out, nil
}

// overdueAt reports whether the ticket was open and past a deadline it
// owed at x. At now (or later) that is Overdue; before, it is read from
// the stored deadlines and times (a ticket reopened since counts as open
// from its filing, a wait for the citizen as running).
func overdueAt(t *bansosbot.Ticket, x, now time.Time) bool {
	if !x.Before(now) {
		return Overdue(t, now)
	}
	if !t.CreatedAt.Before(x) {
		return false
	}
	end := t.ResolvedAt
	if end.IsZero() {
		end = t.ClosedAt
	}
	if !end.IsZero() && !end.After(x) {
		return false
	}
	passed := func(due time.Time) bool { return !due.IsZero() && !due.After(x) }
	response := passed(t.DueResponse) && (t.FirstResponseAt.IsZero() || t.FirstResponseAt.After(x))
	return response || passed(t.DueResolve)
}
