package bansosbot

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultCalendarJSON is the embedded config/calendar.json: Indonesia's
// national holidays and cuti bersama for 2026 (SKB 3 Menteri) and the
// national holidays of 2027 (partly estimated, see its "source"), with
// Mon-Fri 08:00-16:00 working hours. Operators must update it every year
// from the new SKB (or load their own file with LoadCalendar).
//
//go:embed config/calendar.json
var DefaultCalendarJSON string

var defaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := LoadCalendar(strings.NewReader(DefaultCalendarJSON))
	if err != nil {
		panic("bansosbot: embedded calendar is invalid: " + err.Error())
	}
	return c
})

// DefaultCalendar is the calendar of DefaultCalendarJSON, parsed on first
// use and shared.
func DefaultCalendar() *Calendar { return defaultCalendar() }

// Kinds of non-working days.
const (
	HolidayNational        = "holiday"          // hari libur nasional
	HolidayCollectiveLeave = "collective_leave" // cuti bersama
)

// Holiday is a dated non-working day.
type Holiday struct {
	Date string `json:"date"`           // YYYY-MM-DD
	Name string `json:"name"`           // e.g. "Idul Fitri 1447 H"
	Kind string `json:"kind,omitempty"` // HolidayNational (default) or HolidayCollectiveLeave
	Note string `json:"note,omitempty"` // NoteEstimated when the date is not yet official
	// Provinces limits a regional holiday (e.g. Galungan in Bali, by the
	// governor's decree) to these province codes ("51"); empty means the
	// whole nation.
	Provinces []RegionCode `json:"provinces,omitempty"`
}

// NoteEstimated marks a holiday whose date is an estimate (a lunar date
// before the government fixed it): `doctor` and the start-up log warn
// while its year is near.
const NoteEstimated = "estimated"

// Estimated reports whether the holiday's date is not yet official.
func (h Holiday) Estimated() bool { return strings.Contains(strings.ToLower(h.Note), NoteEstimated) }

// CalendarConfig is the JSON form of a Calendar:
//
//	{
//	  "source":   "where the dates come from (free text, optional)",
//	  "workdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
//	  "start":    "08:00",
//	  "end":      "16:00",
//	  "holidays": [
//	    {"date": "2026-12-24", "name": "Cuti bersama Natal", "kind": "collective_leave"},
//	    {"date": "2026-12-25", "name": "Natal", "kind": "holiday"},
//	    {"date": "2026-06-17", "name": "Galungan", "provinces": ["51"]}
//	  ]
//	}
//
// workdays (default Mon-Fri) are English or Indonesian day names, short
// or long, any case ("Mon", "monday", "Senin"); an empty list is an error.
// start and end (default 08:00 and 16:00) are the daily working hours,
// "HH:MM" with start < end and end at most "24:00". holidays are dated
// non-working days in any order; kind is "holiday" (the default) or
// "collective_leave"; two entries may share a date (coinciding holidays).
// A holiday with provinces (2-digit codes) is a regional one: it counts
// only for tickets of those provinces (see Calendar.For). A note
// containing "estimated" marks a date that is not yet official.
// Unknown fields are rejected, to catch typos.
type CalendarConfig struct {
	Source   string    `json:"source,omitempty"`
	Workdays []string  `json:"workdays,omitempty"`
	Start    string    `json:"start,omitempty"`
	End      string    `json:"end,omitempty"`
	Holidays []Holiday `json:"holidays"`
}

// Calendar does working-time arithmetic for service-level deadlines:
// working days (configured weekdays that are not holidays) have one
// working period each, [start, end) in the local time of the location
// passed to each method (the ticket's region time zone, see
// RegionCode.TimeZone; nil means UTC).
//
// The zero Calendar, and a nil *Calendar, work Mon-Fri 08:00-16:00
// without holidays. A Calendar is read-only and safe for concurrent use.
type Calendar struct {
	set        bool
	workdays   [7]bool     // by time.Weekday
	start, end int         // minutes after midnight
	holidays   []Holiday   // every holiday, regional ones too (Holidays, Gaps)
	byDate     map[int]int // yyyymmdd → index into holidays, of the days off here
	// regional is the calendar of each province with holidays of its own
	// (national plus its own); nil in those calendars themselves.
	regional map[RegionCode]*Calendar
}

// Interval is a span of time [Start, End). A zero End means open-ended
// (still running).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

var plainCalendar = Calendar{
	set:      true,
	workdays: [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true},
	start:    8 * 60,
	end:      16 * 60,
}

func (c *Calendar) get() *Calendar {
	if c == nil || !c.set {
		return &plainCalendar
	}
	return c
}

func calendarError(format string, args ...any) error {
	return Errorf(EInvalid, "calendar.invalid", "Detail", fmt.Sprintf(format, args...))
}

// LoadCalendar reads a calendar in the JSON format of CalendarConfig.
// Errors are *Error EInvalid "calendar.invalid" with Args["Detail"]
// saying what is wrong, for the operator.
func LoadCalendar(r io.Reader) (*Calendar, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, calendarError("read: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg CalendarConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, calendarError("json: %v", err)
	}
	if dec.More() {
		return nil, calendarError("json: data after the calendar object")
	}
	return NewCalendar(cfg)
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday, "min": time.Sunday, "minggu": time.Sunday,
	"mon": time.Monday, "monday": time.Monday, "sen": time.Monday, "senin": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday, "sel": time.Tuesday, "selasa": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday, "rab": time.Wednesday, "rabu": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday, "kam": time.Thursday, "kamis": time.Thursday,
	"fri": time.Friday, "friday": time.Friday, "jum": time.Friday, "jumat": time.Friday, "jum'at": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday, "sab": time.Saturday, "sabtu": time.Saturday,
}

// NewCalendar validates cfg and builds a Calendar (see CalendarConfig for
// the defaults and rules). Errors are as for LoadCalendar.
func NewCalendar(cfg CalendarConfig) (*Calendar, error) {
	c := &Calendar{set: true, start: plainCalendar.start, end: plainCalendar.end}
	if cfg.Workdays == nil {
		c.workdays = plainCalendar.workdays
	} else {
		if len(cfg.Workdays) == 0 {
			return nil, calendarError("workdays: empty list")
		}
		for _, name := range cfg.Workdays {
			wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(name))]
			if !ok {
				return nil, calendarError("workdays: unknown day %q", name)
			}
			if c.workdays[wd] {
				return nil, calendarError("workdays: %q given twice", name)
			}
			c.workdays[wd] = true
		}
	}
	var err error
	if cfg.Start != "" {
		if c.start, err = parseClock(cfg.Start); err != nil {
			return nil, calendarError("start: %v", err)
		}
	}
	if cfg.End != "" {
		if c.end, err = parseClock(cfg.End); err != nil {
			return nil, calendarError("end: %v", err)
		}
	}
	if c.start >= c.end {
		return nil, calendarError("start %s is not before end %s", clock(c.start), clock(c.end))
	}
	c.holidays = slices.Clone(cfg.Holidays)
	for i := range c.holidays {
		h := &c.holidays[i]
		d, err := time.Parse(time.DateOnly, h.Date)
		if err != nil {
			return nil, calendarError("holidays[%d]: date %q is not a YYYY-MM-DD date", i, h.Date)
		}
		h.Date = d.Format(time.DateOnly)
		h.Name = strings.TrimSpace(h.Name)
		if h.Name == "" {
			return nil, calendarError("holidays[%d] (%s): name missing", i, h.Date)
		}
		switch h.Kind {
		case "":
			h.Kind = HolidayNational
		case HolidayNational, HolidayCollectiveLeave:
		default:
			return nil, calendarError("holidays[%d] (%s): kind %q is neither %q nor %q", i, h.Date, h.Kind, HolidayNational, HolidayCollectiveLeave)
		}
		h.Provinces = slices.Clone(h.Provinces)
		for _, p := range h.Provinces {
			if p.Level() != 1 || !p.Valid() {
				return nil, calendarError("holidays[%d] (%s): province %q is not a 2-digit province code", i, h.Date, p)
			}
		}
	}
	// Sort by date, national holidays before collective leave on a shared date.
	slices.SortStableFunc(c.holidays, func(a, b Holiday) int {
		if r := strings.Compare(a.Date, b.Date); r != 0 {
			return r
		}
		return strings.Compare(a.Kind, b.Kind) // "collective_leave" < "holiday"
	})
	c.index("")
	for _, h := range c.holidays {
		for _, p := range h.Provinces {
			if c.regional[p] != nil {
				continue
			}
			if c.regional == nil {
				c.regional = map[RegionCode]*Calendar{}
			}
			r := *c
			r.regional = nil
			r.index(p)
			c.regional[p] = &r
		}
	}
	return c, nil
}

// index builds byDate from the holidays that apply in province ("" for
// the national calendar: no regional holidays).
func (c *Calendar) index(province RegionCode) {
	c.byDate = make(map[int]int, len(c.holidays))
	for i := len(c.holidays) - 1; i >= 0; i-- {
		h := c.holidays[i]
		if len(h.Provinces) > 0 && !slices.Contains(h.Provinces, province) {
			continue
		}
		d, _ := time.Parse(time.DateOnly, h.Date)
		key := dayKey(d.Date())
		if j, ok := c.byDate[key]; !ok || h.Kind == HolidayNational || c.holidays[j].Kind != HolidayNational {
			c.byDate[key] = i
		}
	}
}

// For is the calendar of a region: the national one plus the regional
// holidays of its province. Regions of provinces without holidays of their
// own, and the nation "", get c itself.
func (c *Calendar) For(region RegionCode) *Calendar {
	if c == nil {
		return nil
	}
	if r := c.regional[region.Province()]; r != nil {
		return r
	}
	return c
}

func parseClock(s string) (int, error) {
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func dayKey(y int, m time.Month, d int) int { return y*10000 + int(m)*100 + d }

// Holidays lists the calendar's holidays sorted by date, regional ones
// included.
func (c *Calendar) Holidays() []Holiday { return slices.Clone(c.get().holidays) }

// DayLength is the working time of one working day (8h by default).
func (c *Calendar) DayLength() time.Duration {
	c = c.get()
	return time.Duration(c.end-c.start) * time.Minute
}

// HolidayOn returns the holiday on t's date in loc, if any (a national
// holiday rather than collective leave when both fall on that date).
func (c *Calendar) HolidayOn(t time.Time, loc *time.Location) (Holiday, bool) {
	c = c.get()
	i, ok := c.byDate[dayKey(t.In(orUTC(loc)).Date())]
	if !ok {
		return Holiday{}, false
	}
	return c.holidays[i], true
}

// Workday reports whether d is one of the configured working weekdays.
func (c *Calendar) Workday(d time.Weekday) bool { return c.get().workdays[d] }

// IsWorkingDay reports whether t's date in loc is a working day: a
// configured weekday that is no holiday or collective leave.
func (c *Calendar) IsWorkingDay(t time.Time, loc *time.Location) bool {
	y, m, d := t.In(orUTC(loc)).Date()
	return c.get().working(y, m, d)
}

func (c *Calendar) working(y int, m time.Month, d int) bool {
	if !c.workdays[time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()] {
		return false
	}
	_, holiday := c.byDate[dayKey(y, m, d)]
	return !holiday
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// period returns the first working period [ps, pe) that ends after t.
func (c *Calendar) period(t time.Time, loc *time.Location) (ps, pe time.Time) {
	y, m, d := t.In(loc).Date()
	for i := 0; ; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc)
		dy, dm, dd := day.Date()
		if !c.working(dy, dm, dd) {
			continue
		}
		ps = time.Date(dy, dm, dd, c.start/60, c.start%60, 0, 0, loc)
		pe = time.Date(dy, dm, dd, c.end/60, c.end%60, 0, 0, loc)
		if pe.After(t) {
			return ps, pe
		}
	}
}

// NextWorkingStart is t itself when t falls in working hours of a working
// day in loc, and otherwise the start of the next working period.
func (c *Calendar) NextWorkingStart(t time.Time, loc *time.Location) time.Time {
	loc = orUTC(loc)
	ps, _ := c.get().period(t, loc)
	if t.After(ps) {
		return t.In(loc)
	}
	return ps
}

// AddWorkingDuration is the instant at which d of working time has
// elapsed after start, counted in loc: weekends, holidays and the hours
// outside the daily working period do not count. A start outside working
// hours begins at the next working period. When the budget ends exactly
// at the end of a working day, the result is that end (16:00), not the
// next morning. d <= 0 gives start. The result is in loc.
func (c *Calendar) AddWorkingDuration(start time.Time, d time.Duration, loc *time.Location) time.Time {
	return c.AddWorkingDurationExcluding(start, d, nil, loc)
}

// AddWorkingDays adds n whole working days, i.e. n × DayLength of working
// time: 3 working days after Friday 15:00 end at 15:00 on the third
// working day after (Wednesday, or later when holidays intervene).
func (c *Calendar) AddWorkingDays(start time.Time, n int, loc *time.Location) time.Time {
	return c.AddWorkingDuration(start, time.Duration(n)*c.DayLength(), loc)
}

// WorkingDuration is the working time between from and to in loc (0 when
// to is not after from). It inverts AddWorkingDuration:
// WorkingDuration(s, AddWorkingDuration(s, d)) == d.
func (c *Calendar) WorkingDuration(from, to time.Time, loc *time.Location) time.Duration {
	return c.WorkingDurationExcluding(from, to, nil, loc)
}

// WorkingDurationExcluding is WorkingDuration without the working time
// that falls within any of the pauses (e.g. while a ticket waits for the
// citizen). Pauses may overlap and come in any order; an open pause (zero
// End) lasts until to.
func (c *Calendar) WorkingDurationExcluding(from, to time.Time, pauses []Interval, loc *time.Location) time.Duration {
	if !to.After(from) {
		return 0
	}
	var total time.Duration
	c.get().walk(from, pauses, orUTC(loc), func(s, e time.Time) bool {
		if !s.Before(to) {
			return false
		}
		if e.After(to) {
			e = to
		}
		total += e.Sub(s)
		return e.Before(to)
	})
	return total
}

// AddWorkingDurationExcluding is the deadline of a clock that runs only in
// working time and stops during the pauses: the instant at which d of
// working time outside all pauses has elapsed after start. It inverts
// WorkingDurationExcluding. While a pause is open (zero End) the clock is
// stopped: if d is not used up before an open pause starts, the result is
// the zero Time (no deadline yet).
//
// For a ticket with budget B filed at start, the deadline is
// AddWorkingDurationExcluding(start, B, pauses, loc); equivalently
// AddWorkingDuration(start, B + P, loc) where P is the working time
// paused before that deadline.
func (c *Calendar) AddWorkingDurationExcluding(start time.Time, d time.Duration, pauses []Interval, loc *time.Location) time.Time {
	loc = orUTC(loc)
	if d <= 0 {
		return start.In(loc)
	}
	remaining := d
	var res time.Time
	c.get().walk(start, pauses, loc, func(s, e time.Time) bool {
		if avail := e.Sub(s); remaining > avail {
			remaining -= avail
			return true
		}
		res = s.Add(remaining).In(loc)
		return false
	})
	return res
}

// walk calls fn with the successive working segments [s, e) at or after
// from, in order, minus the pauses, until fn returns false or an open
// pause stops the clock for good.
func (c *Calendar) walk(from time.Time, pauses []Interval, loc *time.Location, fn func(s, e time.Time) bool) {
	ps := mergePauses(pauses, from)
	t := from
	k := 0
	for {
		start, end := c.period(t, loc)
		cur := t
		if start.After(cur) {
			cur = start
		}
		for k < len(ps) && !ps[k].End.IsZero() && !ps[k].End.After(cur) {
			k++
		}
		if k < len(ps) && !ps[k].Start.After(cur) { // cur is paused
			if ps[k].End.IsZero() {
				return
			}
			t = ps[k].End
			continue
		}
		segEnd := end
		if k < len(ps) && ps[k].Start.Before(segEnd) {
			segEnd = ps[k].Start
		}
		if !fn(cur, segEnd) {
			return
		}
		t = segEnd
	}
}

// mergePauses sorts the pauses, drops empty ones and ones over before
// from, and merges overlapping ones. A zero End (open) absorbs every later
// pause.
func mergePauses(pauses []Interval, from time.Time) []Interval {
	var ps []Interval
	for _, p := range pauses {
		if p.End.IsZero() || (p.End.After(p.Start) && p.End.After(from)) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.End.IsZero() {
				break
			}
			if !p.Start.After(last.End) {
				if p.End.IsZero() || p.End.After(last.End) {
					last.End = p.End
				}
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// AddElapsedExcluding is the deadline of a clock that runs in calendar
// time (every day and hour counts) and stops during the pauses: the
// instant at which d outside all pauses has elapsed after start, in loc.
// While a pause is open (zero End) the clock is stopped: if d is not used
// up before it starts, the result is the zero Time. It is the calendar
// counterpart of AddWorkingDurationExcluding.
func AddElapsedExcluding(start time.Time, d time.Duration, pauses []Interval, loc *time.Location) time.Time {
	loc = orUTC(loc)
	t, remaining := start, max(d, 0)
	for _, p := range mergePauses(pauses, start) {
		if p.Start.After(t) {
			avail := p.Start.Sub(t)
			if remaining <= avail {
				break
			}
			remaining -= avail
		}
		if p.End.IsZero() {
			return time.Time{}
		}
		t = p.End
	}
	return t.Add(remaining).In(loc)
}

// ElapsedExcluding is the calendar time between from and to outside the
// pauses (0 when to is not after from); it inverts AddElapsedExcluding.
func ElapsedExcluding(from, to time.Time, pauses []Interval) time.Duration {
	if !to.After(from) {
		return 0
	}
	total := to.Sub(from)
	for _, p := range mergePauses(pauses, from) {
		s, e := p.Start, p.End
		if s.Before(from) {
			s = from
		}
		if e.IsZero() || e.After(to) {
			e = to
		}
		if e.After(s) {
			total -= e.Sub(s)
		}
	}
	return total
}

// CalendarGap is a year of the calendar an operator must complete: it has
// no dates at all, no cuti bersama, or dates that are still estimates.
type CalendarGap struct {
	Year      int
	Missing   bool      // no holiday of that year at all
	NoLeave   bool      // no cuti bersama of that year
	Estimated []Holiday // dates that are not yet official
}

func (g CalendarGap) String() string {
	estimated := fmt.Sprintf("%d holidays with estimated dates (%s)", len(g.Estimated), holidayList(g.Estimated))
	if len(g.Estimated) == 1 {
		estimated = fmt.Sprintf("1 holiday with an estimated date (%s)", holidayList(g.Estimated))
	}
	switch {
	case g.Missing:
		return fmt.Sprintf("%d: no holidays at all (add the SKB 3 Menteri of %d)", g.Year, g.Year)
	case g.NoLeave && len(g.Estimated) > 0:
		return fmt.Sprintf("%d: no cuti bersama, and %s", g.Year, estimated)
	case g.NoLeave:
		return fmt.Sprintf("%d: no cuti bersama", g.Year)
	}
	return fmt.Sprintf("%d: %s", g.Year, estimated)
}

func holidayList(hs []Holiday) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = h.Date + " " + h.Name
	}
	return strings.Join(parts, "; ")
}

// Gaps lists the incomplete years (see CalendarGap) among the year of now
// and the years that start within ahead of now (in loc), so an operator
// hears of 2027's estimated dates and missing cuti bersama from early
// November 2026 with ahead = 60 days.
func (c *Calendar) Gaps(now time.Time, ahead time.Duration, loc *time.Location) []CalendarGap {
	c = c.get()
	from := now.In(orUTC(loc)).Year()
	to := now.Add(ahead).In(orUTC(loc)).Year()
	var out []CalendarGap
	for y := from; y <= to; y++ {
		g := CalendarGap{Year: y, Missing: true, NoLeave: true}
		prefix := strconv.Itoa(y) + "-"
		for _, h := range c.holidays {
			if !strings.HasPrefix(h.Date, prefix) {
				continue
			}
			g.Missing = false
			if h.Kind == HolidayCollectiveLeave {
				g.NoLeave = false
			}
			if h.Estimated() {
				g.Estimated = append(g.Estimated, h)
			}
		}
		if g.Missing || g.NoLeave || len(g.Estimated) > 0 {
			out = append(out, g)
		}
	}
	return out
}
