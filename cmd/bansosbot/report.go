package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// runReport prints the monitoring and evaluation figures of a month per
// region (one level below --region) and category:
//
//	bansosbot report --period 2026-11 [--region 32] [--format md|csv|json]
//
// The figures come from flows.Engine.Report, as the supervisors' chart.
// It is a store command: it runs inside a running bot when there is one.
func runReport(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	period := fs.String("period", "", "the month, e.g. 2026-11 (default: last month)")
	regionFlag := fs.String("region", "", "region code (32, 32.01, 32.01.01); the whole nation when empty")
	format := fs.String("format", "md", "md, csv or json")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("report: %w (usage: bansosbot report --period 2026-11 [--region CODE] [--format md|csv|json])", err)
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
	var region bansosbot.RegionCode
	if *regionFlag != "" {
		if region, err = bansosbot.ParseRegionCode(*regionFlag); err != nil {
			return fmt.Errorf("report: --region %q is not a region code like 32.01", *regionFlag)
		}
	}
	var rep *flows.Report
	err = db.View(func(tx *store.Tx) error {
		rep, err = engine.Report(tx, flows.ReportQuery{Region: region, Periods: []flows.Period{p}, Now: now, ByRegion: true, ByCategory: true})
		return err
	})
	if err != nil {
		return err
	}
	rows := reportRows(ecfg, rep)
	switch *format {
	case "md":
		return writeReportMD(stdout, *period, region, ecfg.Regions, rows)
	case "csv":
		return writeReportCSV(stdout, *period, rows)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Period string      `json:"period"`
			Region string      `json:"region"`
			Rows   []reportRow `json:"rows"`
		}{*period, string(region), rows})
	}
	return errors.New("report: --format is md, csv or json")
}

// reportRow is one line of the report, ready to print. Medians, shares
// and averages are null when there is nothing to measure.
type reportRow struct {
	Region          string   `json:"region"` // "" in the total
	RegionName      string   `json:"region_name"`
	Category        string   `json:"category"` // "" in the total
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

func reportRows(ecfg flows.Config, rep *flows.Report) []reportRow {
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
			out.RegionName = "Indonesia"
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

var reportColumns = []string{"period", "region", "region_name", "category", "received", "resolved",
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
		cw.Write([]string{period, region, r.RegionName, category, strconv.Itoa(r.Received), strconv.Itoa(r.Resolved),
			num(r.MedianResponseH, 1), num(r.MedianResolveH, 1), strconv.Itoa(r.Responses), num(r.ResponseOnTime, 1),
			num(r.ResolutionOnTim, 1), strconv.Itoa(r.Rated), num(r.Rating, 2), strconv.Itoa(r.OverdueAtEnd)})
	}
	cw.Flush()
	return cw.Error()
}

func writeReportMD(w io.Writer, period string, region bansosbot.RegionCode, regions *bansosbot.Regions, rows []reportRow) error {
	name := "Indonesia"
	if region != "" {
		if regions == nil {
			regions = bansosbot.DefaultRegions()
		}
		name = regions.DisplayName(region) + " (" + string(region) + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Complaints %s — %s\n\n", period, name)
	b.WriteString("Working hours: business calendar, in each ticket's time zone, without the time waiting for the citizen. " +
		"On time: by the service-level deadline. Overdue: open and past a deadline at the end of the month.\n\n")
	b.WriteString("| Region | Category | Received | Resolved | Median first response (h) | Median resolution (h) | First response on time | Resolution on time | Rating | Overdue |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	dash := func(s string) string {
		if s == "" {
			return "–"
		}
		return s
	}
	pctOf := func(v *float64, n int) string {
		if v == nil {
			return "–"
		}
		return fmt.Sprintf("%s%% of %d", num(v, 0), n)
	}
	for _, r := range rows {
		regionCell, category := fmt.Sprintf("%s %s", r.Region, r.RegionName), r.Category
		if r.Total {
			regionCell, category = "**Total**", "all"
		}
		rating := "–"
		if r.Rating != nil {
			rating = fmt.Sprintf("%s (%d)", num(r.Rating, 1), r.Rated)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %d |\n", mdEscape(regionCell), category,
			r.Received, r.Resolved, dash(num(r.MedianResponseH, 1)), dash(num(r.MedianResolveH, 1)),
			pctOf(r.ResponseOnTime, r.Responses), pctOf(r.ResolutionOnTim, r.Resolved), rating, r.OverdueAtEnd)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
