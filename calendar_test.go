package bansosbot

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var (
	wib  = RegionCode("32").TimeZone()
	wita = RegionCode("73").TimeZone()
	wit  = RegionCode("91").TimeZone()
)

// at parses "2006-01-02 15:04" in loc.
func at(t testing.TB, s string, loc *time.Location) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDefaultCalendar(t *testing.T) {
	c := DefaultCalendar()
	if c != DefaultCalendar() {
		t.Fatal("DefaultCalendar() is not shared")
	}
	if got := c.DayLength(); got != 8*time.Hour {
		t.Errorf("DayLength() = %v; want 8h", got)
	}
	counts := map[string]int{}
	for _, h := range c.Holidays() {
		if strings.HasPrefix(h.Date, "2026-") && len(h.Provinces) == 0 {
			counts[h.Kind]++
		}
		d, _ := time.Parse(time.DateOnly, h.Date)
		if h.Kind == HolidayCollectiveLeave && (d.Weekday() == time.Saturday || d.Weekday() == time.Sunday) {
			t.Errorf("collective leave %s on a %s", h.Date, d.Weekday())
		}
	}
	// SKB 3 Menteri 2026: 17 national holidays and 8 days of cuti bersama.
	if counts[HolidayNational] != 17 || counts[HolidayCollectiveLeave] != 8 {
		t.Errorf("2026 has %d holidays and %d collective leave days; want 17 and 8", counts[HolidayNational], counts[HolidayCollectiveLeave])
	}
	tests := []struct {
		date    string
		working bool
		kind    string
	}{
		{"2026-11-26", true, ""},                      // Thursday
		{"2026-11-28", false, ""},                     // Saturday
		{"2026-08-17", false, HolidayNational},        // Monday, independence day
		{"2026-12-24", false, HolidayCollectiveLeave}, // Thursday, cuti bersama Natal
		{"2026-12-25", false, HolidayNational},        // Friday, Natal
		{"2026-03-23", false, HolidayCollectiveLeave}, // cuti bersama Idul Fitri
		{"2027-01-01", false, HolidayNational},        // Friday, new year
		{"2027-01-04", true, ""},                      // Monday
		{"2026-05-31", false, HolidayNational},        // Sunday and Waisak
		{"2026-06-02", true, ""},                      // Tuesday after Pancasila day
		{"2026-02-16", false, HolidayCollectiveLeave}, // cuti bersama Imlek
		{"2026-02-18", true, ""},                      // Wednesday after Imlek
		{"2026-03-19", false, HolidayNational},        // Nyepi
		{"2026-03-25", true, ""},                      // back to work after Lebaran
		{"2026-05-15", false, HolidayCollectiveLeave}, // after Kenaikan
		{"2026-05-28", false, HolidayCollectiveLeave}, // after Idul Adha
		{"2026-04-03", false, HolidayNational},        // Good Friday
		{"2026-01-16", false, HolidayNational},        // Isra Mikraj
		{"2027-03-26", false, HolidayNational},        // Good Friday 2027
		{"2027-08-17", false, HolidayNational},        // independence day 2027
	}
	for _, tt := range tests {
		for _, loc := range []*time.Location{wib, wita, wit} {
			d := at(t, tt.date+" 10:00", loc)
			if got := c.IsWorkingDay(d, loc); got != tt.working {
				t.Errorf("IsWorkingDay(%s %s) = %v; want %v", tt.date, loc, got, tt.working)
			}
			h, ok := c.HolidayOn(d, loc)
			if ok != (tt.kind != "") || h.Kind != tt.kind {
				t.Errorf("HolidayOn(%s) = %+v, %v; want kind %q", tt.date, h, ok, tt.kind)
			}
		}
	}
}

// TestRegionalHolidays: a holiday with provinces counts only in their
// calendars (Calendar.For); Galungan is a day off in Bali, not in Jakarta.
func TestRegionalHolidays(t *testing.T) {
	c := DefaultCalendar()
	galungan := at(t, "2026-06-17 10:00", wita)
	if c.For("51.71.01").IsWorkingDay(galungan, wita) || c.For("51").IsWorkingDay(galungan, wita) {
		t.Error("Galungan (17 June 2026) is a working day in Bali")
	}
	if h, ok := c.For("51.71").HolidayOn(galungan, wita); !ok || h.Name != "Hari Raya Galungan" {
		t.Errorf("HolidayOn(Galungan) in Bali = %+v, %v", h, ok)
	}
	for _, region := range []RegionCode{"31.71.01", "32", "", "99"} {
		if !c.For(region).IsWorkingDay(galungan, wib) {
			t.Errorf("Galungan is a day off in %q; want only in Bali", region)
		}
	}
	if c.For("31.71.01") != c {
		t.Error("a province without holidays of its own must get the national calendar itself")
	}
	// National holidays stay in the regional calendar.
	if c.For("51").IsWorkingDay(at(t, "2026-08-17 10:00", wita), wita) {
		t.Error("17 August is a working day in Bali's calendar")
	}
	if got := c.For("51").AddWorkingDays(at(t, "2026-06-16 10:00", wita), 1, wita); got.Format("2006-01-02 15:04") != "2026-06-18 16:00" {
		t.Errorf("1 working day from 1 Muharam in Bali = %v; want Thursday 16:00 (Galungan skipped)", got)
	}
	if _, err := NewCalendar(CalendarConfig{Holidays: []Holiday{{Date: "2026-06-17", Name: "x", Provinces: []RegionCode{"51.71"}}}}); ErrorKey(err) != "calendar.invalid" {
		t.Errorf("a regency code as province: %v; want calendar.invalid", err)
	}
}

// TestCalendarGaps: the years an operator must complete, from the year of
// now to the one starting within the look-ahead.
func TestCalendarGaps(t *testing.T) {
	c := DefaultCalendar()
	if g := c.Gaps(at(t, "2026-06-01 10:00", wib), 60*24*time.Hour, wib); len(g) != 0 {
		t.Errorf("June 2026: gaps %v; want none (2026 is complete, 2027 is more than 60 days away)", g)
	}
	g := c.Gaps(at(t, "2026-11-26 10:00", wib), 60*24*time.Hour, wib)
	if len(g) != 1 || g[0].Year != 2027 || g[0].Missing || !g[0].NoLeave || len(g[0].Estimated) < 5 {
		t.Fatalf("November 2026: gaps %+v; want 2027 without cuti bersama and with estimated dates", g)
	}
	if s := g[0].String(); !strings.Contains(s, "no cuti bersama") || !strings.Contains(s, "2027-03-10 Idul Fitri 1448 H") {
		t.Errorf("gap text %q", s)
	}
	g = c.Gaps(at(t, "2027-12-15 10:00", wib), 60*24*time.Hour, wib)
	if len(g) != 2 || g[0].Year != 2027 || g[1].Year != 2028 || !g[1].Missing {
		t.Errorf("December 2027: gaps %+v; want 2027 (incomplete) and 2028 (missing)", g)
	}
	if s := g[1].String(); !strings.Contains(s, "2028: no holidays at all") {
		t.Errorf("missing year text %q", s)
	}
}

// TestAddElapsedExcluding: the calendar clock of the 60-day resolution,
// with pauses, across month and year ends.
func TestAddElapsedExcluding(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name   string
		start  string
		d      time.Duration
		pauses [][2]string // local; "" end = open
		want   string      // "" = zero (stopped)
	}{
		{"60 days over the year end", "2026-12-15 09:00", 60 * day, nil, "2027-02-13 09:00"},
		{"60 days into a leap day", "2027-12-31 10:00", 60 * day, nil, "2028-02-29 10:00"},
		{"a pause before the deadline pushes it", "2026-11-26 10:00", 60 * day, [][2]string{{"2026-12-01 10:00", "2026-12-03 22:00"}}, "2027-01-27 22:00"},
		{"a pause after the deadline does not", "2026-11-26 10:00", 60 * day, [][2]string{{"2027-02-01 00:00", "2027-02-05 00:00"}}, "2027-01-25 10:00"},
		{"a pause that began before the start", "2026-11-26 10:00", day, [][2]string{{"2026-11-20 00:00", "2026-11-27 10:00"}}, "2026-11-28 10:00"},
		{"an open pause stops the clock", "2026-11-26 10:00", 60 * day, [][2]string{{"2026-12-01 10:00", ""}}, ""},
		{"an open pause after the deadline", "2026-11-26 10:00", day, [][2]string{{"2026-12-01 10:00", ""}}, "2026-11-27 10:00"},
	}
	for _, tt := range tests {
		var ps []Interval
		for _, p := range tt.pauses {
			iv := Interval{Start: at(t, p[0], wib)}
			if p[1] != "" {
				iv.End = at(t, p[1], wib)
			}
			ps = append(ps, iv)
		}
		start := at(t, tt.start, wib)
		got := AddElapsedExcluding(start, tt.d, ps, wib)
		if s := got.Format("2006-01-02 15:04"); (tt.want == "" && !got.IsZero()) || (tt.want != "" && s != tt.want) {
			t.Errorf("%s: AddElapsedExcluding = %s (zero %v); want %q", tt.name, s, got.IsZero(), tt.want)
			continue
		}
		if tt.want != "" {
			if back := ElapsedExcluding(start, got, ps); back != tt.d {
				t.Errorf("%s: ElapsedExcluding back = %v; want %v", tt.name, back, tt.d)
			}
		}
	}
}

func TestAddWorkingDuration(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name  string
		start string
		loc   *time.Location
		d     time.Duration
		want  string // in loc
	}{
		{"within the day", "2026-11-23 09:00", wib, 2 * time.Hour, "2026-11-23 11:00"},
		{"to the end of the day", "2026-11-23 08:00", wib, 8 * time.Hour, "2026-11-23 16:00"},
		{"into the next day", "2026-11-23 15:00", wib, 2 * time.Hour, "2026-11-24 09:00"},
		{"over the weekend", "2026-11-27 15:00", wib, 2 * time.Hour, "2026-11-30 09:00"},
		{"start on Saturday", "2026-11-28 10:00", wib, time.Hour, "2026-11-30 09:00"},
		{"start in the evening", "2026-11-26 20:00", wib, time.Hour, "2026-11-27 09:00"},
		{"start before opening", "2026-11-23 06:00", wib, time.Hour, "2026-11-23 09:00"},
		{"start at closing", "2026-11-23 16:00", wib, time.Minute, "2026-11-24 08:01"},
		{"over a holiday (17 Aug)", "2026-08-14 15:00", wib, 2 * time.Hour, "2026-08-18 09:00"},
		{"over collective leave and Christmas", "2026-12-23 15:00", wib, 2 * time.Hour, "2026-12-28 09:00"},
		{"over Lebaran week", "2026-03-17 15:00", wib, 2 * time.Hour, "2026-03-25 09:00"},
		{"seconds count", "2026-11-23 15:59", wib, 90 * time.Second, "2026-11-24 08:00:30"},
		{"zero", "2026-11-28 10:00", wib, 0, "2026-11-28 10:00"},
		{"negative", "2026-11-28 10:00", wib, -time.Hour, "2026-11-28 10:00"},
	}
	for _, tt := range tests {
		got := c.AddWorkingDuration(at(t, tt.start, tt.loc), tt.d, tt.loc)
		want := tt.want
		if len(want) == len("2006-01-02 15:04") {
			want += ":00"
		}
		if s := got.Format("2006-01-02 15:04:05"); s != want || got.Location() != tt.loc {
			t.Errorf("%s: AddWorkingDuration(%s, %v) = %v; want %s %s", tt.name, tt.start, tt.d, got, tt.want, tt.loc)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name  string
		start string
		loc   *time.Location
		n     int
		want  string
	}{
		{"Friday 15:00 + 3", "2026-11-27 15:00", wib, 3, "2026-12-02 15:00"},
		{"Friday 15:00 WITA + 3, before Kenaikan", "2026-05-08 15:00", wita, 3, "2026-05-13 15:00"},
		{"Friday 15:00 WITA + 5, across Kenaikan and cuti bersama", "2026-05-08 15:00", wita, 5, "2026-05-19 15:00"},
		{"across month end", "2026-10-30 15:00", wib, 3, "2026-11-04 15:00"},
		{"across year end (Dec 31 to Jan)", "2026-12-31 15:00", wib, 1, "2027-01-04 15:00"},
		{"across year end and Isra Mikraj 2027 (Jan 5), WIT", "2026-12-30 10:00", wit, 3, "2027-01-06 10:00"},
		{"from Saturday", "2026-11-28 11:00", wit, 1, "2026-11-30 16:00"},
		{"SP4N verify 3 days over Lebaran", "2026-03-16 09:00", wib, 3, "2026-03-26 09:00"},
		{"zero days", "2026-11-27 15:00", wib, 0, "2026-11-27 15:00"},
	}
	for _, tt := range tests {
		got := c.AddWorkingDays(at(t, tt.start, tt.loc), tt.n, tt.loc)
		if s := got.Format("2006-01-02 15:04"); s != tt.want {
			t.Errorf("%s: AddWorkingDays(%s %s, %d) = %s; want %s", tt.name, tt.start, tt.loc, tt.n, s, tt.want)
		}
	}
}

// The same instant is a different local time in WIB, WITA and WIT, so
// deadlines differ.
func TestCalendarTimeZones(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		instant string // UTC
		loc     *time.Location
		d       time.Duration
		want    string // UTC
	}{
		// Friday 15:30 WIB = 16:30 WITA (closed) = 17:30 WIT (closed).
		{"2026-11-27 08:30", wib, time.Hour, "2026-11-30 01:30"},  // Mon 08:30 WIB
		{"2026-11-27 08:30", wita, time.Hour, "2026-11-30 01:00"}, // Mon 09:00 WITA
		{"2026-11-27 08:30", wit, time.Hour, "2026-11-30 00:00"},  // Mon 09:00 WIT
		// Thursday 07:30 WIB (closed) = 08:30 WITA = 09:30 WIT.
		{"2026-11-26 00:30", wib, time.Hour, "2026-11-26 02:00"},  // 09:00 WIB
		{"2026-11-26 00:30", wita, time.Hour, "2026-11-26 01:30"}, // 09:30 WITA
		{"2026-11-26 00:30", wit, time.Hour, "2026-11-26 01:30"},  // 10:30 WIT
		// Thursday 23:30 UTC on Dec 23 is already the collective leave day
		// (Dec 24) in all three zones.
		{"2026-12-23 23:30", wit, time.Hour, "2026-12-28 00:00"}, // Mon 09:00 WIT
		{"2026-12-23 16:30", wib, time.Hour, "2026-12-28 02:00"}, // Dec 23 23:30 WIB -> Mon 09:00 WIB
	}
	for _, tt := range tests {
		got := c.AddWorkingDuration(at(t, tt.instant, time.UTC), tt.d, tt.loc)
		if s := got.UTC().Format("2006-01-02 15:04"); s != tt.want {
			t.Errorf("AddWorkingDuration(%s UTC, %v, %s) = %s UTC (%v); want %s UTC", tt.instant, tt.d, tt.loc, s, got, tt.want)
		}
	}
	// A nil location is UTC.
	got := c.AddWorkingDuration(at(t, "2026-11-27 15:00", time.UTC), 2*time.Hour, nil)
	if want := at(t, "2026-11-30 09:00", time.UTC); !got.Equal(want) {
		t.Errorf("nil location: %v; want %v", got, want)
	}
}

func TestWorkingDuration(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		from, to string
		loc      *time.Location
		want     time.Duration
	}{
		{"2026-11-23 09:00", "2026-11-23 11:30", wib, 150 * time.Minute},
		{"2026-11-23 06:00", "2026-11-23 20:00", wib, 8 * time.Hour},
		{"2026-11-27 15:00", "2026-11-30 09:00", wib, 2 * time.Hour},
		{"2026-11-28 00:00", "2026-11-29 23:59", wib, 0},
		{"2026-12-23 00:00", "2027-01-01 00:00", wita, 5 * 8 * time.Hour}, // 23, 28-31
		{"2026-11-23 11:00", "2026-11-23 09:00", wib, 0},
		{"2026-11-23 09:00", "2026-11-23 09:00", wib, 0},
		// 2026: 261 weekdays, minus 13 national holidays on weekdays (4 of the 17
		// fall on a weekend) and 8 days of cuti bersama.
		{"2026-01-01 00:00", "2027-01-01 00:00", wib, 240 * 8 * time.Hour},
	}
	for _, tt := range tests {
		got := c.WorkingDuration(at(t, tt.from, tt.loc), at(t, tt.to, tt.loc), tt.loc)
		if got != tt.want {
			t.Errorf("WorkingDuration(%s, %s, %s) = %v; want %v", tt.from, tt.to, tt.loc, got, tt.want)
		}
	}
	// Cross-check the yearly figure by counting days.
	days := 0
	for d := at(t, "2026-01-01 10:00", wib); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if c.IsWorkingDay(d, wib) {
			days++
		}
	}
	if days != 240 {
		t.Errorf("2026 has %d working days; want 240", days)
	}
}

func TestWorkingDurationPauses(t *testing.T) {
	c := DefaultCalendar()
	p := func(from, to string) Interval {
		iv := Interval{Start: at(t, from, wib)}
		if to != "" {
			iv.End = at(t, to, wib)
		}
		return iv
	}
	start := at(t, "2026-11-23 09:00", wib) // Monday
	budget := 3 * c.DayLength()
	tests := []struct {
		name   string
		pauses []Interval
		want   string // deadline, "" for none (open pause)
	}{
		{"no pause", nil, "2026-11-26 09:00"},
		{"one working day paused", []Interval{p("2026-11-24 10:00", "2026-11-25 10:00")}, "2026-11-27 09:00"},
		{"overlapping pauses", []Interval{p("2026-11-24 11:00", "2026-11-25 10:00"), p("2026-11-24 10:00", "2026-11-24 12:00")}, "2026-11-27 09:00"},
		{"two pauses", []Interval{p("2026-11-24 10:00", "2026-11-24 12:00"), p("2026-11-25 14:00", "2026-11-25 16:00")}, "2026-11-26 13:00"},
		{"pause over the night", []Interval{p("2026-11-23 17:00", "2026-11-24 07:00")}, "2026-11-26 09:00"},
		{"pause before start", []Interval{p("2026-11-20 10:00", "2026-11-23 10:00")}, "2026-11-26 10:00"},
		{"empty pause", []Interval{p("2026-11-24 10:00", "2026-11-24 10:00")}, "2026-11-26 09:00"},
		{"pause after deadline", []Interval{p("2026-11-26 10:00", "2026-11-27 10:00")}, "2026-11-26 09:00"},
		{"open pause", []Interval{p("2026-11-24 10:00", "")}, ""},
		{"open pause after deadline", []Interval{p("2026-11-26 10:00", "")}, "2026-11-26 09:00"},
		{"pause ending at deadline", []Interval{p("2026-11-25 16:00", "2026-11-26 09:00")}, "2026-11-26 10:00"},
	}
	for _, tt := range tests {
		got := c.AddWorkingDurationExcluding(start, budget, tt.pauses, wib)
		var s string
		if !got.IsZero() {
			s = got.Format("2006-01-02 15:04")
		}
		if s != tt.want {
			t.Errorf("%s: deadline %q; want %q", tt.name, s, tt.want)
			continue
		}
		if got.IsZero() {
			continue
		}
		if used := c.WorkingDurationExcluding(start, got, tt.pauses, wib); used != budget {
			t.Errorf("%s: WorkingDurationExcluding(start, deadline) = %v; want %v", tt.name, used, budget)
		}
	}
	// An open pause stops the elapsed clock at its start.
	open := []Interval{p("2026-11-24 10:00", "")}
	if got := c.WorkingDurationExcluding(start, at(t, "2026-12-31 00:00", wib), open, wib); got != 9*time.Hour {
		t.Errorf("elapsed with open pause = %v; want 9h", got)
	}
	// Deadline = Add(start, budget + paused working time).
	pauses := []Interval{p("2026-11-24 10:00", "2026-11-25 10:00")}
	paused := c.WorkingDuration(pauses[0].Start, pauses[0].End, wib)
	if a, b := c.AddWorkingDuration(start, budget+paused, wib), c.AddWorkingDurationExcluding(start, budget, pauses, wib); !a.Equal(b) {
		t.Errorf("Add(budget+paused) = %v; AddExcluding = %v", a, b)
	}
}

// WorkingDuration inverts AddWorkingDuration, with and without pauses,
// for random starts (inside and outside working hours) in all zones.
func TestWorkingDurationRoundTrip(t *testing.T) {
	c := DefaultCalendar()
	r := rand.New(rand.NewPCG(7, 11))
	base := at(t, "2025-12-01 00:00", time.UTC)
	locs := []*time.Location{wib, wita, wit}
	for i := range 3000 {
		loc := locs[i%3]
		start := base.Add(time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))
		d := time.Duration(r.Int64N(int64(30 * 8 * time.Hour)))
		var pauses []Interval
		for range r.IntN(4) {
			ps := start.Add(time.Duration(r.Int64N(int64(45*24*time.Hour))) - 5*24*time.Hour)
			pauses = append(pauses, Interval{Start: ps, End: ps.Add(time.Duration(r.Int64N(int64(5 * 24 * time.Hour))))})
		}
		if r.IntN(10) == 0 {
			pauses = append(pauses, Interval{Start: start.Add(time.Duration(r.Int64N(int64(45 * 24 * time.Hour))))})
		}
		end := c.AddWorkingDuration(start, d, loc)
		if got := c.WorkingDuration(start, end, loc); got != d {
			t.Fatalf("WorkingDuration(%v, Add(%v)) = %v; want %v", start, d, got, d)
		}
		if end.Before(start) {
			t.Fatalf("Add(%v, %v) = %v is before start", start, d, end)
		}
		endP := c.AddWorkingDurationExcluding(start, d, pauses, loc)
		if endP.IsZero() { // an open pause stopped the clock first
			if got := c.WorkingDurationExcluding(start, start.AddDate(5, 0, 0), pauses, loc); d == 0 || got >= d {
				t.Fatalf("AddExcluding(%v, %v, %v) = zero, but %v elapse", start, d, pauses, got)
			}
			continue
		}
		if got := c.WorkingDurationExcluding(start, endP, pauses, loc); got != d {
			t.Fatalf("WorkingDurationExcluding(%v, AddExcluding(%v), %v) = %v; want %v", start, d, pauses, got, d)
		}
		if endP.Before(end) {
			t.Fatalf("pauses moved the deadline earlier: %v < %v", endP, end)
		}
		// The other way round: Add(s, W(s, t)) is at or before t, with no
		// working time left in between.
		to := start.Add(time.Duration(r.Int64N(int64(60 * 24 * time.Hour))))
		w := c.WorkingDuration(start, to, loc)
		back := c.AddWorkingDuration(start, w, loc)
		if back.After(to) || c.WorkingDuration(back, to, loc) != 0 {
			t.Fatalf("Add(%v, W=%v) = %v; want at or before %v with no working time between", start, w, back, to)
		}
	}
}

func TestNextWorkingStart(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		t, want string
	}{
		{"2026-11-23 09:30", "2026-11-23 09:30"},
		{"2026-11-23 08:00", "2026-11-23 08:00"},
		{"2026-11-23 07:59", "2026-11-23 08:00"},
		{"2026-11-23 16:00", "2026-11-24 08:00"},
		{"2026-11-27 18:00", "2026-11-30 08:00"},
		{"2026-12-23 17:00", "2026-12-28 08:00"},
		{"2026-12-31 16:30", "2027-01-04 08:00"},
	}
	for _, tt := range tests {
		got := c.NextWorkingStart(at(t, tt.t, wita), wita)
		if s := got.Format("2006-01-02 15:04"); s != tt.want || got.Location() != wita {
			t.Errorf("NextWorkingStart(%s WITA) = %v; want %s WITA", tt.t, got, tt.want)
		}
	}
}

func TestLoadCalendar(t *testing.T) {
	c, err := LoadCalendar(strings.NewReader(`{
		"workdays": ["senin", "Selasa", "RABU", "Thursday", "jumat", "Sat"],
		"start": "07:30", "end": "24:00",
		"holidays": [
			{"date": "2026-12-25", "name": "Natal"},
			{"date": "2026-12-24", "name": "Cuti bersama Natal", "kind": "collective_leave"},
			{"date": "2026-12-24", "name": "Hari raya lain", "kind": "holiday"}
		]
	}`))
	if err != nil {
		t.Fatalf("LoadCalendar: %v", err)
	}
	if got := c.DayLength(); got != 16*time.Hour+30*time.Minute {
		t.Errorf("DayLength() = %v; want 16h30m", got)
	}
	hs := c.Holidays()
	if len(hs) != 3 || hs[0].Date != "2026-12-24" || hs[2].Date != "2026-12-25" || hs[2].Kind != HolidayNational {
		t.Errorf("Holidays() = %+v; want sorted, default kind holiday", hs)
	}
	if h, ok := c.HolidayOn(at(t, "2026-12-24 12:00", time.UTC), time.UTC); !ok || h.Kind != HolidayNational {
		t.Errorf("HolidayOn(shared date) = %+v, %v; want the national holiday", h, ok)
	}
	// Saturday is a working day here; Sunday is not.
	if got := c.AddWorkingDuration(at(t, "2026-11-28 23:00", time.UTC), time.Hour, time.UTC); got.Format("2006-01-02 15:04") != "2026-11-29 00:00" {
		t.Errorf("Saturday 23:00 + 1h = %v; want 24:00 (Sunday 00:00)", got)
	}
	if got := c.AddWorkingDuration(at(t, "2026-11-28 23:30", time.UTC), time.Hour, time.UTC); got.Format("2006-01-02 15:04") != "2026-11-30 08:00" {
		t.Errorf("Saturday 23:30 + 1h = %v; want Monday 08:00", got)
	}

	bad := []struct {
		name, json string
	}{
		{"not json", `{`},
		{"unknown field", `{"holiday": []}`},
		{"trailing data", `{"holidays": []} {}`},
		{"empty workdays", `{"workdays": [], "holidays": []}`},
		{"unknown day", `{"workdays": ["Funday"], "holidays": []}`},
		{"duplicate day", `{"workdays": ["Mon", "monday"], "holidays": []}`},
		{"bad start", `{"start": "8", "holidays": []}`},
		{"bad end", `{"end": "25:00", "holidays": []}`},
		{"start after end", `{"start": "16:00", "end": "08:00", "holidays": []}`},
		{"start equals end", `{"start": "08:00", "end": "08:00", "holidays": []}`},
		{"impossible date", `{"holidays": [{"date": "2026-02-30", "name": "x"}]}`},
		{"bad date format", `{"holidays": [{"date": "25-12-2026", "name": "x"}]}`},
		{"missing name", `{"holidays": [{"date": "2026-12-25"}]}`},
		{"bad kind", `{"holidays": [{"date": "2026-12-25", "name": "x", "kind": "party"}]}`},
	}
	for _, tt := range bad {
		c, err := LoadCalendar(strings.NewReader(tt.json))
		if err == nil || ErrorKey(err) != "calendar.invalid" || ErrorCode(err) != EInvalid {
			t.Errorf("%s: LoadCalendar = %v, %v; want calendar.invalid", tt.name, c, err)
			continue
		}
		if e := err.(*Error); e.Args["Detail"] == "" {
			t.Errorf("%s: no Detail in %v", tt.name, err)
		}
	}
}

func TestZeroCalendar(t *testing.T) {
	for _, c := range []*Calendar{nil, {}} {
		got := c.AddWorkingDays(at(t, "2026-08-14 15:00", wib), 1, wib)
		if s := got.Format("2006-01-02 15:04"); s != "2026-08-17 15:00" { // no holidays
			t.Errorf("zero calendar: AddWorkingDays = %s; want 2026-08-17 15:00", s)
		}
		if c.DayLength() != 8*time.Hour || len(c.Holidays()) != 0 {
			t.Errorf("zero calendar: DayLength %v, %d holidays", c.DayLength(), len(c.Holidays()))
		}
	}
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := DefaultCalendar()
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, wib)
	for b.Loop() {
		c.AddWorkingDays(start, 60, wib)
	}
}

// Service-level clocks with pauses (a ticket waiting for the citizen) in
// each time zone, across holidays, collective leave, a month end and the
// year end. Added with the service-level policy (sla.go).
func TestWorkingDurationPausesAcrossHolidays(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name         string
		loc          *time.Location
		start        string
		days         int
		pause        [2]string // local; "" end: still paused
		want, nopaus string
	}{
		{"WIT, a working day paused after Christmas", wit, "2026-12-23 10:00", 3,
			[2]string{"2026-12-28 10:00", "2026-12-29 10:00"}, "2026-12-31 10:00", "2026-12-30 10:00"},
		{"WITA, paused over the year end and Isra Mikraj", wita, "2026-12-30 10:00", 3,
			[2]string{"2026-12-31 12:00", "2027-01-04 12:00"}, "2027-01-07 10:00", "2027-01-06 10:00"},
		{"WIB, a pause over leave, Christmas and a weekend costs nothing", wib, "2026-12-23 09:00", 1,
			[2]string{"2026-12-24 00:00", "2026-12-28 00:00"}, "2026-12-28 09:00", "2026-12-28 09:00"},
		{"WITA, a whole day paused across the month end", wita, "2026-11-30 15:00", 2,
			[2]string{"2026-12-01 08:00", "2026-12-01 16:00"}, "2026-12-03 15:00", "2026-12-02 15:00"},
		{"WIT, still paused: no deadline yet", wit, "2026-12-30 10:00", 3,
			[2]string{"2026-12-31 09:00", ""}, "", "2027-01-06 10:00"},
	}
	for _, tt := range tests {
		start := at(t, tt.start, tt.loc)
		p := Interval{Start: at(t, tt.pause[0], tt.loc)}
		if tt.pause[1] != "" {
			p.End = at(t, tt.pause[1], tt.loc)
		}
		budget := time.Duration(tt.days) * c.DayLength()
		got := c.AddWorkingDurationExcluding(start, budget, []Interval{p}, tt.loc)
		var s string
		if !got.IsZero() {
			s = got.In(tt.loc).Format("2006-01-02 15:04")
		}
		if s != tt.want {
			t.Errorf("%s: deadline %q; want %q", tt.name, s, tt.want)
		}
		if s := c.AddWorkingDays(start, tt.days, tt.loc).Format("2006-01-02 15:04"); s != tt.nopaus {
			t.Errorf("%s: without the pause %s; want %s", tt.name, s, tt.nopaus)
		}
		if !got.IsZero() {
			if used := c.WorkingDurationExcluding(start, got, []Interval{p}, tt.loc); used != budget {
				t.Errorf("%s: %v used by the deadline; want %v", tt.name, used, budget)
			}
		}
	}
}
