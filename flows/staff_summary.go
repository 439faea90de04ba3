package flows

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
)

// RegionStats are a region's numbers for its supervisors (/ringkasan).
type RegionStats struct {
	Region       bansosbot.RegionCode
	Tickets      int // all tickets counted
	Open         int
	Overdue      int
	ResolvedWeek int // resolved since Monday 00:00 in the region's time zone
	// FirstResponses are the times to first response of the tickets filed
	// within SummaryWindow that have one.
	FirstResponses []time.Duration
	RatingSum      int // ratings given within SummaryWindow
	Rated          int
}

// SummaryWindow is how far back first-response times and ratings count.
const SummaryWindow = 30 * 24 * time.Hour

// MedianFirstResponse is the median of FirstResponses; ok is false when
// there are none.
func (r RegionStats) MedianFirstResponse() (time.Duration, bool) {
	n := len(r.FirstResponses)
	if n == 0 {
		return 0, false
	}
	d := slices.Clone(r.FirstResponses)
	slices.Sort(d)
	if n%2 == 1 {
		return d[n/2], true
	}
	return (d[n/2-1] + d[n/2]) / 2, true
}

// RatingAverage is the mean rating; ok is false when nobody rated.
func (r RegionStats) RatingAverage() (float64, bool) {
	if r.Rated == 0 {
		return 0, false
	}
	return float64(r.RatingSum) / float64(r.Rated), true
}

func (r *RegionStats) add(t *bansosbot.Ticket, now, weekStart time.Time) {
	r.Tickets++
	if t.Status.Open() {
		r.Open++
	}
	if Overdue(t, now) {
		r.Overdue++
	}
	if !t.ResolvedAt.IsZero() && !t.ResolvedAt.Before(weekStart) {
		r.ResolvedWeek++
	}
	since := now.Add(-SummaryWindow)
	if !t.FirstResponseAt.IsZero() && !t.CreatedAt.Before(since) {
		r.FirstResponses = append(r.FirstResponses, t.FirstResponseAt.Sub(t.CreatedAt))
	}
	if t.Rating > 0 && !t.ClosedAt.Before(since) {
		r.RatingSum += t.Rating
		r.Rated++
	}
}

// weekStart is Monday 00:00 of now's week in loc.
func weekStart(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	y, m, d := l.Date()
	return time.Date(y, m, d-(int(l.Weekday())+6)%7, 0, 0, 0, 0, loc)
}

// childOf is the region one level below parent that contains r (r itself
// when parent is a kecamatan or lower).
func childOf(parent, r bansosbot.RegionCode) bansosbot.RegionCode {
	switch parent.Level() {
	case 0:
		return r.Province()
	case 1:
		return r.Regency()
	case 2:
		return r.District()
	}
	return parent
}

// Summary counts the tickets under region that s may handle: the total
// and one row per region one level below (kabupaten/kota under a
// province, kecamatan under a kabupaten), sorted by code. It reads the
// status+region index of that region only.
func (w *workspace) Summary(tx Store, s *bansosbot.Staff, region bansosbot.RegionCode, now time.Time) (RegionStats, []RegionStats, error) {
	total := RegionStats{Region: region}
	week := weekStart(now, region.TimeZone())
	rows := map[bansosbot.RegionCode]*RegionStats{}
	err := tx.RegionTickets(region, bansosbot.Statuses, func(t *bansosbot.Ticket) bool {
		if !s.MayHandle(t, w.cat.restricted(t)) {
			return true
		}
		total.add(t, now, week)
		child := childOf(region, t.Region)
		if rows[child] == nil {
			rows[child] = &RegionStats{Region: child}
		}
		rows[child].add(t, now, week)
		return true
	})
	if err != nil {
		return RegionStats{}, nil, err
	}
	out := make([]RegionStats, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b RegionStats) int { return strings.Compare(string(a.Region), string(b.Region)) })
	return total, out, nil
}

// summary shows a supervisor (or admin) the numbers of each region they
// cover, broken down one level below (/ringkasan).
func (w *workspace) summary(c *Conv) error {
	s := c.Staff()
	if s == nil || s.Role == bansosbot.RoleWorker {
		return c.refuse(bansosbot.AuditSummary, 0, "role", T("staff.summary_supervisors"))
	}
	regions := s.Regions
	if s.Role == bansosbot.RoleAdmin {
		regions = []bansosbot.RegionCode{""}
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditSummary, Allowed: true}); err != nil {
		return err
	}
	for _, region := range regions {
		total, rows, err := w.Summary(c.Tx, s, region, c.Now)
		if err != nil {
			return err
		}
		loc := region.TimeZone()
		text := []Msg{T("staff.summary_head", "Region", w.cat.regionName(region), "Week", Time{T: weekStart(c.Now, loc), Loc: loc, DateOnly: true})}
		text = append(text, w.statsLine(c, T("staff.summary_total"), total))
		if region.Level() < 3 {
			for _, r := range rows {
				text = append(text, w.statsLine(c, w.cat.shortRegion(r.Region), r))
			}
		}
		if total.Tickets == 0 {
			text = append(text, T("staff.summary_empty"))
		}
		ann, err := w.announcer.announcementLines(c.Tx, region, c.Now.Add(-SummaryWindow))
		if err != nil {
			return err
		}
		c.Say(append(text, ann...)...)
	}
	return nil
}

// statsLine renders one row of the summary; name is a string or a Msg.
func (w *workspace) statsLine(c *Conv, name any, r RegionStats) Msg {
	median := Msg(T("staff.summary_na"))
	if d, ok := r.MedianFirstResponse(); ok {
		median = T("staff.summary_hours", "Hours", decimal(c.Lang, d.Hours()))
	}
	rating := Msg(T("staff.summary_na"))
	if avg, ok := r.RatingAverage(); ok {
		rating = T("staff.summary_rating", "Avg", decimal(c.Lang, avg), "Count", r.Rated)
	}
	return T("staff.summary_row", "Name", name, "Open", r.Open, "Overdue", r.Overdue, "Resolved", r.ResolvedWeek,
		"Median", median, "Rating", rating)
}

// decimal formats x with one decimal, with a decimal comma in Indonesian.
func decimal(lang string, x float64) string {
	s := strconv.FormatFloat(x, 'f', 1, 64)
	if lang == "id" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
