package flows

import (
	"fmt"
	"time"

	"github.com/bansosbot/bansosbot"
)

// The supervisors' chart (/grafik, /chart): the last ChartWeeks weeks of
// received and resolved tickets and of overdue ones at each week's end,
// for each region they cover, drawn by the bot as a PNG.

// ChartWeeks is how many weeks a chart shows.
const ChartWeeks = 12

// maxCharts caps the charts one command sends (one per covered region).
const maxCharts = 3

// auditChart is the audit action of showing a chart.
const auditChart = "chart"

func (e *Engine) registerOps() {
	ch := &charts{reports: e.reports, cat: e.cat}
	e.addCommand(Command{ID: "chart", Names: map[string]string{"id": "grafik", "en": "chart"}, Desc: "cmd.chart",
		Staff: true, Supervisors: true, Run: ch.chart})
}

// charts draws the supervisors' weekly charts (/grafik).
type charts struct {
	reports *reports
	cat     *catalog
}

func (cs *charts) chart(c *Conv) error {
	s := c.Staff()
	if s == nil || s.Role == bansosbot.RoleWorker {
		return c.refuse(auditChart, 0, "role", T("ops.chart.supervisors"))
	}
	regions := outermost(s.Regions)
	if s.Role == bansosbot.RoleAdmin {
		regions = []bansosbot.RegionCode{""}
	}
	if err := c.audit(bansosbot.AuditEntry{Action: auditChart, Allowed: true}); err != nil {
		return err
	}
	if len(regions) > maxCharts {
		regions = regions[:maxCharts]
	}
	for _, region := range regions {
		r, err := cs.chartReply(c.Tx, s, region, c.Now)
		if err != nil {
			return err
		}
		c.Reply(r)
	}
	return nil
}

// chartReply is the chart of one region with its caption (which is also
// the text shown when no picture can be drawn).
func (cs *charts) chartReply(tx Store, s *bansosbot.Staff, region bansosbot.RegionCode, now time.Time) (Reply, error) {
	loc := region.TimeZone()
	periods := WeekPeriods(now, loc, ChartWeeks)
	rep, err := cs.reports.Report(tx, ReportQuery{Region: region, Periods: periods, Now: now, Staff: s, NoMedians: true})
	if err != nil {
		return Reply{}, err
	}
	ch := &Chart{Title: T("ops.chart.title", "Region", cs.cat.regionName(region))}
	received := ChartSeries{Name: T("ops.chart.received")}
	resolved := ChartSeries{Name: T("ops.chart.resolved")}
	overdue := ChartSeries{Name: T("ops.chart.overdue")}
	var sumReceived, sumResolved int
	for i, p := range periods {
		f := rep.Total.Figures[i]
		ch.Labels = append(ch.Labels, fmt.Sprintf("%02d/%02d", p.From.Day, p.From.Month))
		received.Values = append(received.Values, float64(f.Received))
		resolved.Values = append(resolved.Values, float64(f.Resolved))
		overdue.Values = append(overdue.Values, float64(f.Overdue))
		sumReceived += f.Received
		sumResolved += f.Resolved
	}
	ch.Series = []ChartSeries{received, resolved, overdue}
	last := periods[len(periods)-1]
	caption := T("ops.chart.caption", "Region", cs.cat.regionName(region),
		"From", Time{T: periods[0].From.In(loc), Loc: loc, DateOnly: true},
		"To", Time{T: last.To.AddDays(-1).In(loc), Loc: loc, DateOnly: true},
		"Weeks", ChartWeeks, "Received", sumReceived, "Resolved", sumResolved,
		"Overdue", rep.Total.Figures[len(periods)-1].Overdue)
	return Reply{Action: SendChart, Text: []Msg{caption}, Chart: ch}, nil
}
