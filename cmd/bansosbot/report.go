package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
)

const reportUsage = `Usage: bansosbot report [--period 2026-11] [--region CODE|NAME] [--format md|csv|json] [--lang id|en] [--out FILE]

The monitoring and evaluation figures of a month per region (one level
below --region) and category: received, resolved, median first response
and resolution in working hours, on-time shares, ratings, overdue.
--region takes a code or a name, like staff add: "kab bogor" is 32.01; a
name that fits several regions is refused with their codes (bansosbot
region find NAME lists them).
--out FILE writes the report to FILE (mode 0600) where this command runs,
replacing an existing FILE; without it the report goes to standard output.`

type reportOpts struct{ period, region, format, lang *string }

func reportFlags() (*flag.FlagSet, reportOpts) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, reportOpts{
		period: fs.String("period", "", "the month, e.g. 2026-11 (default: last month)"),
		region: fs.String("region", "", "region code (32, 32.01, 32.01.01) or name (\"kab bogor\"); the whole nation when empty"),
		format: fs.String("format", "md", "md, csv or json"),
		lang:   fs.String("lang", "id", "language of the table and the category names: id or en"),
	}
}

// runReport prints the monitoring and evaluation figures of a month per
// region (one level below --region) and category:
//
//	bansosbot report --period 2026-11 [--region 32] [--format md|csv|json]
//
// The figures come from flows.Engine.Report, as the supervisors' chart.
// It is a store command: it runs inside a running bot when there is one.
func runReport(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error {
	fs, o := reportFlags()
	period, regionFlag, format := o.period, o.region, o.format
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("report: %w\n%s", err, reportUsage)
	}
	m := NewMain(cfg, io.Discard)
	ecfg, err := m.engineConfig()
	if err != nil {
		return err
	}
	engine := flows.NewEngine(ecfg)
	now := time.Now()
	var p flows.Period
	if *period == "" {
		last := now.In(cfg.Location()).AddDate(0, -1, 0)
		p = flows.MonthPeriod(last.Year(), last.Month())
		*period = last.Format("2006-01")
	} else if p, err = flows.ParseMonth(*period); err != nil {
		return fmt.Errorf("report: --period: %w", err)
	}
	if err := notFuture(p.From, now, cfg.Location()); err != nil {
		return fmt.Errorf("report: --period %s %w", *period, err)
	}
	region, err := regionFilter(*regionFlag, ecfg.Regions)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	lang := bansosbot.NormalizeLang(*o.lang)
	var rep *flows.Report
	var anns []*bansosbot.Announcement
	err = db.View(func(tx *store.Tx) error {
		rep, err = engine.Report(tx, flows.ReportQuery{Region: region, Periods: []flows.Period{p}, Now: now, ByRegion: true, ByCategory: true})
		if err != nil {
			return err
		}
		anns, err = flows.AnnouncementsIn(tx, region, p.From.In(cfg.Location()))
		anns = slices.DeleteFunc(anns, func(a *bansosbot.Announcement) bool { return !a.CreatedAt.Before(p.To.In(cfg.Location())) })
		return err
	})
	if err != nil {
		return err
	}
	rows := reportRows(ecfg, rep, lang)
	switch *format {
	case "md":
		if err := writeReportMD(stdout, lang, *period, region, ecfg.Regions, rows); err != nil {
			return err
		}
		return writeAnnouncementsMD(stdout, lang, anns)
	case "csv": // one table of one shape: the announcements are in md and json
		return writeReportCSV(stdout, *period, rows)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Period        string                    `json:"period"`
			Region        string                    `json:"region"`
			Rows          []reportRow               `json:"rows"`
			Announcements []*bansosbot.Announcement `json:"announcements"`
		}{*period, string(region), rows, anns})
	}
	return errors.New("report: --format is md, csv or json")
}

// reportRow is one line of the report, ready to print. Medians, shares
// and averages are null when there is nothing to measure.
type reportRow struct {
	Region          string   `json:"region"` // "" in the total
	RegionName      string   `json:"region_name"`
	Category        string   `json:"category"` // "" in the total
	CategoryName    string   `json:"category_name"`
	Received        int      `json:"received"`
	Resolved        int      `json:"resolved"`
	MedianResponseH *float64 `json:"median_first_response_hours"`
	MedianResolveH  *float64 `json:"median_resolution_hours"`
	Responses       int      `json:"first_responses"`
	ResponseOnTime  *float64 `json:"first_response_on_time_pct"`
	ResolutionOnTim *float64 `json:"resolution_on_time_pct"`
	Rated           int      `json:"ratings"`
	Rating          *float64 `json:"average_rating"`
	OverdueAtEnd    int      `json:"overdue_at_end"`
	Total           bool     `json:"total,omitempty"`
}

func reportRows(ecfg flows.Config, rep *flows.Report, lang string) []reportRow {
	regions := ecfg.Regions
	if regions == nil {
		regions = bansosbot.DefaultRegions()
	}
	conv := func(r flows.ReportRow, total bool) reportRow {
		f := r.Figures[0]
		opt := func(v float64, ok bool) *float64 {
			if !ok {
				return nil
			}
			return &v
		}
		out := reportRow{Region: string(r.Region), RegionName: regions.DisplayName(r.Region), Category: r.Category,
			Received: f.Received, Resolved: f.Resolved, Responses: f.Responses, Rated: f.Rated, OverdueAtEnd: f.Overdue, Total: total}
		out.MedianResponseH = opt(f.MedianResponseHours())
		out.MedianResolveH = opt(f.MedianResolutionHours())
		out.ResponseOnTime = opt(f.ResponseCompliance())
		out.ResolutionOnTim = opt(f.ResolutionCompliance())
		out.Rating = opt(f.RatingAverage())
		if r.Region == "" {
			out.RegionName = reportText(lang, "report.nation", nil)
		}
		if c, ok := ecfg.Categories.Get(r.Category); ok {
			out.CategoryName = c.Name(lang)
		} else if r.Category != "" {
			out.CategoryName = r.Category
		}
		return out
	}
	var out []reportRow
	for _, r := range rep.Rows {
		out = append(out, conv(r, false))
	}
	return append(out, conv(rep.Total, true))
}

// num formats an optional number with decimals ("" when none).
func num(v *float64, decimals int) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}

var reportColumns = []string{"period", "region", "region_name", "category", "category_name", "received", "resolved",
	"median_first_response_hours", "median_resolution_hours", "first_responses", "first_response_on_time_pct",
	"resolution_on_time_pct", "ratings", "average_rating", "overdue_at_end"}

func writeReportCSV(w io.Writer, period string, rows []reportRow) error {
	cw := csv.NewWriter(w)
	cw.Write(reportColumns)
	for _, r := range rows {
		region, category := r.Region, r.Category
		if r.Total {
			region, category = "TOTAL", "ALL"
			if r.Region != "" {
				region = "TOTAL " + r.Region
			}
		}
		cw.Write([]string{period, region, r.RegionName, category, r.CategoryName, strconv.Itoa(r.Received), strconv.Itoa(r.Resolved),
			num(r.MedianResponseH, 1), num(r.MedianResolveH, 1), strconv.Itoa(r.Responses), num(r.ResponseOnTime, 1),
			num(r.ResolutionOnTim, 1), strconv.Itoa(r.Rated), num(r.Rating, 2), strconv.Itoa(r.OverdueAtEnd)})
	}
	cw.Flush()
	return cw.Error()
}

// reportText is a text of the report's catalog (locales/catalog/report.*).
func reportText(lang, key string, args map[string]any) string {
	return locales.MustDefault().Text(lang, key, args)
}

func writeReportMD(w io.Writer, lang, period string, region bansosbot.RegionCode, regions *bansosbot.Regions, rows []reportRow) error {
	tr := func(key string) string { return reportText(lang, "report."+key, nil) }
	name := tr("nation")
	if region != "" {
		if regions == nil {
			regions = bansosbot.DefaultRegions()
		}
		name = regions.DisplayName(region) + " (" + string(region) + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", reportText(lang, "report.title", map[string]any{"Period": period, "Region": name}), tr("note"))
	cols := []string{"region", "category", "received", "resolved", "median_response", "median_resolution", "response_on_time", "resolution_on_time", "rating", "overdue"}
	for _, c := range cols {
		b.WriteString("| " + tr(c) + " ")
	}
	b.WriteString("|\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	dash := func(s string) string {
		if s == "" {
			return "–"
		}
		if lang == "id" { // Indonesian writes 6,5 (CSV and JSON keep the dot)
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	pctOf := func(v *float64, n int) string {
		if v == nil {
			return "–"
		}
		return reportText(lang, "report.pct_of", map[string]any{"Pct": num(v, 0), "N": n})
	}
	for _, r := range rows {
		regionCell, category := fmt.Sprintf("%s %s", r.Region, r.RegionName), r.CategoryName
		if r.Total {
			regionCell, category = "**"+tr("total")+"**", tr("all")
		}
		rating := "–"
		if r.Rating != nil {
			rating = fmt.Sprintf("%s (%d)", dash(num(r.Rating, 1)), r.Rated)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %d |\n", mdEscape(regionCell), mdEscape(category),
			r.Received, r.Resolved, dash(num(r.MedianResponseH, 1)), dash(num(r.MedianResolveH, 1)),
			pctOf(r.ResponseOnTime, r.Responses), pctOf(r.ResolutionOnTim, r.Resolved), rating, r.OverdueAtEnd)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAnnouncementsMD lists the period's announcements: delivery, who
// left from them, and the rough effect (recipients who used /cek or /lapor
// within 7 days).
func writeAnnouncementsMD(w io.Writer, lang string, anns []*bansosbot.Announcement) error {
	if len(anns) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", reportText(lang, "report.ann.title", nil), reportText(lang, "report.ann.note", nil))
	b.WriteString(reportText(lang, "report.ann.header", nil) + "\n|---:|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, a := range anns {
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %d | %d | %d | %d | %d |\n", a.ID, a.Region, a.Status, a.Recipients, a.Sent, a.Failed, a.Blocked, a.Unsubscribed, a.Acted)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// notFuture refuses a period that starts after today (in loc): its
// figures would all be zero, which reads like a month without complaints.
func notFuture(from flows.Date, now time.Time, loc *time.Location) error {
	today := now.In(loc)
	if from.Year > today.Year() || from.Year == today.Year() && from.Month > today.Month() ||
		from.Year == today.Year() && from.Month == today.Month() && from.Day > today.Day() {
		return errors.New("is in the future")
	}
	return nil
}

// regionFilter reads the --region of report and tickets export: a code or
// a name, as staff add reads it ("kab bogor"; an ambiguous name is refused
// with the candidates' codes), and refuses a code that is not in the
// region list (an empty result would read like a region without
// complaints).
func regionFilter(s string, regions *bansosbot.Regions) (bansosbot.RegionCode, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	if regions == nil {
		regions = bansosbot.DefaultRegions()
	}
	if strings.Contains(s, ",") {
		return "", fmt.Errorf("--region %q: one region only (a code like 32.01 or a name like \"kab bogor\")", s)
	}
	code, err := resolveRegionIn(regions, s) // staff.go: codes and names, as staff add reads them
	if err != nil {
		return "", err
	}
	if _, ok := regions.Get(code); !ok && code != "" {
		return "", fmt.Errorf("--region %s: unknown region (bansosbot region find NAME shows the codes)", code)
	}
	return code, nil
}
