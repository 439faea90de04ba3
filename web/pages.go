package web

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// page is what every template gets.
type page struct {
	s      *Server
	Lang   string
	Title  string
	V      *viewer
	Nav    string // the menu entry shown as current
	Area   bansosbot.RegionCode
	Query  url.Values // the page's query, for links that keep it
	Path   string
	Data   any
	Period *periodSel
}

// T is the text of a dashboard key in the page's language.
func (p *page) T(key string) string {
	if p.s == nil {
		return key
	}
	return p.s.text(p.Lang, key)
}

// Link is the page's URL with some query values changed ("" removes).
func (p *page) Link(path string, kv ...string) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = slices.Clone(v)
	}
	q.Del("page")
	q.Del("format")
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if path == "" {
		path = p.Path
	}
	if e := q.Encode(); e != "" {
		return path + "?" + e
	}
	return path
}

// AreaName names the page's area.
func (p *page) AreaName() string { return p.s.regionName(p.Area) }

var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"mul": func(a, b int) int { return a * b },
}

// AreaOf names a region.
func (p *page) AreaOf(r bansosbot.RegionCode) string { return p.s.regionName(r) }

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page) {
	p.s = s
	if p.Path == "" {
		p.Path = r.URL.Path
	}
	if p.Query == nil {
		p.Query = r.URL.Query()
	}
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, p); err != nil {
		s.cfg.Log.Error("dashboard template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Server) regionName(r bansosbot.RegionCode) string {
	if r == "" {
		return "Indonesia"
	}
	regions := s.cfg.Engine.Config().Regions
	if regions == nil {
		regions = bansosbot.DefaultRegions()
	}
	return regions.DisplayName(r)
}

func (s *Server) regionIndex() *bansosbot.Regions {
	if rs := s.cfg.Engine.Config().Regions; rs != nil {
		return rs
	}
	return bansosbot.DefaultRegions()
}

func (s *Server) categoryName(code, lang string) string {
	if c, ok := s.cfg.Engine.Config().Categories.Get(code); ok {
		return c.Name(lang)
	}
	return code
}

// area reads ?r=: a region the viewer covers (their first area when
// absent). ok is false after a 404 was answered.
func (s *Server) area(w http.ResponseWriter, r *http.Request, v *viewer) (bansosbot.RegionCode, bool) {
	raw, given := r.URL.Query()["r"]
	if !given {
		return v.Areas[0], true
	}
	code := bansosbot.RegionCode(raw[0])
	if code != "" && code.Level() == 0 {
		s.notFound(w, r, v, 0, "bad_region")
		return "", false
	}
	for _, a := range v.Areas {
		if a.Covers(code) {
			return code, true
		}
	}
	s.notFound(w, r, v, 0, "region")
	return "", false
}

// periodSel is the chosen period and the one before it, as long.
type periodSel struct {
	Kind      string // week, month, custom
	Cur, Prev flows.Period
	From, To  string // the form's dates (To inclusive)
}

// period reads ?period=week|month|custom&from=&to= (default: this month).
func period(q url.Values, now time.Time, loc *time.Location) (*periodSel, error) {
	ps := &periodSel{Kind: q.Get("period")}
	switch ps.Kind {
	case "week":
		ws := flows.WeekPeriods(now, loc, 2)
		ps.Prev, ps.Cur = ws[0], ws[1]
	case "custom":
		from, err1 := time.Parse("2006-01-02", q.Get("from"))
		to, err2 := time.Parse("2006-01-02", q.Get("to"))
		if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 3*366*24*time.Hour {
			return nil, errBadRequest
		}
		f, t := flows.DateOf(from, time.UTC), flows.DateOf(to, time.UTC).AddDays(1)
		days := int(to.Sub(from).Hours()/24) + 1
		ps.Cur = flows.Period{From: f, To: t}
		ps.Prev = flows.Period{From: f.AddDays(-days), To: f}
	default:
		ps.Kind = "month"
		d := flows.DateOf(now, loc)
		ps.Cur = flows.MonthPeriod(d.Year, d.Month)
		ps.Prev = flows.MonthPeriod(d.Year, d.Month-1)
		if d.Month == time.January {
			ps.Prev = flows.MonthPeriod(d.Year-1, time.December)
		}
	}
	ps.From, ps.To = ps.Cur.From.String(), ps.Cur.To.AddDays(-1).String()
	return ps, nil
}

// figs are one period's figures, formatted.
type figs struct {
	Received, Resolved, Responses, Overdue int
	Open                                   string // "–" for past periods
	ResponseOnTime, ResolutionOnTime       string
	MedianResponse, MedianResolution       string
	Rating                                 string
	OverdueShare                           float64 // overdue / open, for the map
	rc, sc, mr, ms, rt                     float64 // raw values for sorting
}

const none = "–"

func fmtOpt(v float64, ok bool, decimals int, suffix string) (string, float64) {
	if !ok {
		return none, math.Inf(-1)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64) + suffix, v
}

func makeFigs(f flows.Figures, open int, hasOpen bool) figs {
	out := figs{Received: f.Received, Resolved: f.Resolved, Responses: f.Responses, Overdue: f.Overdue, Open: none}
	if hasOpen {
		out.Open = strconv.Itoa(open)
		if open > 0 {
			out.OverdueShare = float64(f.Overdue) / float64(open)
		}
	}
	out.ResponseOnTime, out.rc = fmtOpt2(f.ResponseCompliance())
	out.ResolutionOnTime, out.sc = fmtOpt2(f.ResolutionCompliance())
	v, ok := f.MedianResponseHours()
	out.MedianResponse, out.mr = fmtOpt(v, ok, 1, " j")
	v, ok = f.MedianResolutionHours()
	out.MedianResolution, out.ms = fmtOpt(v, ok, 1, " j")
	v, ok = f.RatingAverage()
	out.Rating, out.rt = fmtOpt(v, ok, 2, "")
	return out
}

func fmtOpt2(v float64, ok bool) (string, float64) { return fmtOpt(v, ok, 0, "%") }

// overview: the area's figures for the period against the previous one,
// top categories, a 12-week trend.
func (s *Server) overview(w http.ResponseWriter, r *http.Request, v *viewer) {
	area, ok := s.area(w, r, v)
	if !ok {
		return
	}
	now := s.cfg.Now()
	loc := area.TimeZone()
	ps, err := period(r.URL.Query(), now, loc)
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	// The area's totals of the period, the one before (with medians) and
	// the 12 weeks of the trend (without), read from the area counters;
	// the period by category for the top categories.
	weeks := flows.WeekPeriods(now, loc, 12)
	var rep, byCat *flows.Report
	var open map[bansosbot.RegionCode]int
	err = s.cfg.DB.View(func(tx *store.Tx) error {
		var err error
		if rep, err = s.cfg.Engine.Report(tx, flows.ReportQuery{Region: area, Periods: append([]flows.Period{ps.Cur, ps.Prev}, weeks...),
			Now: now, Staff: v.Staff, MediansFor: 2}); err != nil {
			return err
		}
		if byCat, err = s.cfg.Engine.Report(tx, flows.ReportQuery{Region: area, Periods: []flows.Period{ps.Cur},
			Now: now, ByCategory: true, Staff: v.Staff, NoMedians: true}); err != nil {
			return err
		}
		open, err = s.cfg.Engine.OpenCounts(tx, area, v.Staff, false)
		return err
	})
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	cur := makeFigs(rep.Total.Figures[0], open[""], true)
	prev := makeFigs(rep.Total.Figures[1], 0, false)
	type catRow struct {
		Code, Name         string
		Received, Resolved int
	}
	var cats []catRow
	for _, row := range byCat.Rows {
		if f := row.Figures[0]; f.Received > 0 || f.Resolved > 0 {
			cats = append(cats, catRow{row.Category, s.categoryName(row.Category, v.Lang), f.Received, f.Resolved})
		}
	}
	slices.SortFunc(cats, func(a, b catRow) int { return cmp.Or(b.Received-a.Received, strings.Compare(a.Code, b.Code)) })
	if len(cats) > 5 {
		cats = cats[:5]
	}
	if r.URL.Query().Get("format") == "csv" {
		rows := [][]string{
			{"received", strconv.Itoa(cur.Received), strconv.Itoa(prev.Received)},
			{"resolved", strconv.Itoa(cur.Resolved), strconv.Itoa(prev.Resolved)},
			{"open_now", cur.Open, ""},
			{"overdue_at_end", strconv.Itoa(cur.Overdue), strconv.Itoa(prev.Overdue)},
			{"first_response_on_time", cur.ResponseOnTime, prev.ResponseOnTime},
			{"resolution_on_time", cur.ResolutionOnTime, prev.ResolutionOnTime},
			{"median_first_response_hours", cur.MedianResponse, prev.MedianResponse},
			{"median_resolution_hours", cur.MedianResolution, prev.MedianResolution},
			{"average_rating", cur.Rating, prev.Rating},
		}
		for _, c := range cats {
			rows = append(rows, []string{"category:" + c.Name, strconv.Itoa(c.Received), ""})
		}
		writeCSV(w, "ringkasan.csv", []string{"figure", ps.Cur.String(), ps.Prev.String()}, rows)
		return
	}
	var weekFigs []flows.Figures
	var labels []string
	for i, p := range weeks {
		weekFigs = append(weekFigs, rep.Total.Figures[2+i])
		labels = append(labels, fmt.Sprintf("%02d/%02d", p.From.Day, p.From.Month))
	}
	s.render(w, r, http.StatusOK, "overview", &page{Lang: v.Lang, V: v, Nav: "overview", Area: area, Period: ps,
		Title: s.text(v.Lang, "overview"),
		Data: map[string]any{"Cur": cur, "Prev": prev, "Cats": cats,
			"Trend": trendChart(weekFigs, labels, s.text(v.Lang, "received"), s.text(v.Lang, "resolved"), s.text(v.Lang, "overdue"))}})
}

// regionRow is one sub-region's line.
type regionRow struct {
	Code     bansosbot.RegionCode
	Name     string
	Drill    bool // has sub-regions in the counters
	F        figs
	Class    string // map colour class
	Col, Row int    // map tile
}

// regions: the sub-regions of the area as a sortable table and a tile map.
func (s *Server) regions(w http.ResponseWriter, r *http.Request, v *viewer) {
	area, ok := s.area(w, r, v)
	if !ok {
		return
	}
	now := s.cfg.Now()
	ps, err := period(r.URL.Query(), now, area.TimeZone())
	if err != nil {
		s.fail(w, r, v.Lang, err)
		return
	}
	var rows []regionRow
	if area.Level() < bansosbot.TallyLevel {
		var rep *flows.Report
		var open map[bansosbot.RegionCode]int
		err = s.cfg.DB.View(func(tx *store.Tx) error {
			var err error
			if rep, err = s.cfg.Engine.Report(tx, flows.ReportQuery{Region: area, Periods: []flows.Period{ps.Cur}, Now: now, ByRegion: true, Staff: v.Staff}); err != nil {
				return err
			}
			open, err = s.cfg.Engine.OpenCounts(tx, area, v.Staff, true)
			return err
		})
		if err != nil {
			s.fail(w, r, v.Lang, err)
			return
		}
		byCode := map[bansosbot.RegionCode]flows.Figures{}
		for _, row := range rep.Rows {
			byCode[row.Region] = row.Figures[0]
		}
		seen := map[bansosbot.RegionCode]bool{}
		add := func(code bansosbot.RegionCode, name string) {
			if seen[code] || code == "" || !v.Staff.Covers(code) && !slices.ContainsFunc(v.Areas, func(a bansosbot.RegionCode) bool { return a.Covers(code) }) {
				return
			}
			seen[code] = true
			f := makeFigs(byCode[code], open[code], true)
			rows = append(rows, regionRow{Code: code, Name: name, Drill: code.Level() < bansosbot.TallyLevel, F: f, Class: shareClass(f, open[code])})
		}
		for _, c := range s.regionIndex().Children(area) {
			add(c.Code, c.Name)
		}
		for code := range byCode { // tickets of codes not in the region list
			add(code, s.regionName(code))
		}
	}
	slices.SortFunc(rows, func(a, b regionRow) int { return cmp.Compare(a.Code, b.Code) })
	cols, rowsN := placeTiles(rows) // svg.go
	sortRegionRows(rows, r.URL.Query().Get("sort"))
	if r.URL.Query().Get("format") == "csv" {
		var out [][]string
		for _, row := range rows {
			f := row.F
			out = append(out, []string{string(row.Code), row.Name, strconv.Itoa(f.Received), strconv.Itoa(f.Resolved), f.Open,
				strconv.Itoa(f.Overdue), f.ResponseOnTime, f.ResolutionOnTime, f.MedianResponse, f.MedianResolution, f.Rating})
		}
		writeCSV(w, "wilayah.csv", []string{"region", "region_name", "received", "resolved", "open", "overdue",
			"first_response_on_time", "resolution_on_time", "median_first_response_hours", "median_resolution_hours", "average_rating"}, out)
		return
	}
	s.render(w, r, http.StatusOK, "regions", &page{Lang: v.Lang, V: v, Nav: "regions", Area: area, Period: ps,
		Title: s.text(v.Lang, "regions"),
		Data: map[string]any{"Rows": rows, "MapW": cols*64 + 8, "MapH": rowsN*48 + 8, "Sort": r.URL.Query().Get("sort"),
			"Path": s.regionIndex().Path(area)}})
}

// shareClass colours a tile by the share of open tickets overdue.
func shareClass(f figs, open int) string {
	switch {
	case open == 0:
		return "q-none"
	case f.OverdueShare < 0.10:
		return "q0"
	case f.OverdueShare < 0.25:
		return "q1"
	case f.OverdueShare < 0.50:
		return "q2"
	}
	return "q3"
}

func sortRegionRows(rows []regionRow, by string) {
	num := func(r regionRow) float64 {
		switch by {
		case "received":
			return float64(r.F.Received)
		case "resolved":
			return float64(r.F.Resolved)
		case "overdue":
			return float64(r.F.Overdue)
		case "rcompl":
			return r.F.rc
		case "scompl":
			return r.F.sc
		case "mresp":
			return r.F.mr
		case "mres":
			return r.F.ms
		}
		return 0
	}
	switch by {
	case "", "code":
		return
	case "name":
		slices.SortStableFunc(rows, func(a, b regionRow) int { return strings.Compare(a.Name, b.Name) })
	default:
		slices.SortStableFunc(rows, func(a, b regionRow) int { return cmp.Compare(num(b), num(a)) })
	}
}
