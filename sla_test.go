package bansosbot

import (
	"strings"
	"testing"
	"time"
)

func TestParseWorkTime(t *testing.T) {
	tests := []struct {
		in   string
		want WorkTime
		text string
	}{
		{"0", WorkTime{}, "0"},
		{"3d", WorkTime{Days: 3}, "3d"},
		{"4h", WorkTime{Time: 4 * time.Hour}, "4h0m0s"},
		{"1d4h", WorkTime{Days: 1, Time: 4 * time.Hour}, "1d4h0m0s"},
		{"90m", WorkTime{Time: 90 * time.Minute}, "1h30m0s"},
		{" 60d ", WorkTime{Days: 60}, "60d"},
	}
	for _, tt := range tests {
		got, err := ParseWorkTime(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseWorkTime(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.text {
			t.Errorf("%+v.String() = %q; want %q", got, s, tt.text)
		}
		if back, err := ParseWorkTime(got.String()); err != nil || back != got {
			t.Errorf("ParseWorkTime(%q) = %+v, %v; want round trip to %+v", got.String(), back, err, got)
		}
	}
	for _, bad := range []string{"", "d", "3", "-1d", "3x", "1d-2h", "three days"} {
		if w, err := ParseWorkTime(bad); err == nil {
			t.Errorf("ParseWorkTime(%q) = %+v; want an error", bad, w)
		}
	}
	c, _ := NewCalendar(CalendarConfig{Start: "07:30", End: "15:30"})
	if got := (WorkTime{Days: 2, Time: time.Hour}).Of(c); got != 17*time.Hour {
		t.Errorf("2d1h on an 8-hour day = %v; want 17h", got)
	}
}

func TestDefaultSLAPolicies(t *testing.T) {
	ps := DefaultSLAPolicies()
	if err := ps.Check(DefaultCategories()); err != nil {
		t.Fatalf("embedded categories and policies disagree: %v", err)
	}
	if got := ps.Names(); strings.Join(got, ",") != "default,pbi,sanggah,sensitive" {
		t.Errorf("Names() = %v", got)
	}
	cs := DefaultCategories()
	def, sens := ps.Get(DefaultPolicy), ps.Get("sensitive")
	for _, code := range []string{"PUNGLI", "OFFICER_MISCONDUCT"} {
		if p := ps.ForCategory(cs, code); p != sens {
			t.Errorf("%s has policy %q; want sensitive", code, p.Name)
		}
	}
	for _, code := range []string{"PAYMENT_NOT_RECEIVED", "OTHER", "NO_SUCH_CATEGORY"} {
		if p := ps.ForCategory(cs, code); p != def {
			t.Errorf("%s has policy %q; want default", code, p.Name)
		}
	}
	// The national norms: first response within 3 working days, 60
	// calendar days to settle; the sensitive policy is shorter on both.
	if def.Response != (WorkTime{Days: 3}) || def.Resolution != (WorkTime{Days: 60}) || def.Warning != 0.75 ||
		def.Unit(PhaseResponse) != UnitWorking || def.Unit(PhaseResolution) != UnitCalendar {
		t.Errorf("default policy = %+v", def)
	}
	for code, policy := range map[string]string{"INELIGIBLE_RECIPIENT": "sanggah"} {
		if p := ps.ForCategory(cs, code); p.Name != policy || p.Budget(PhaseResolution, nil) != 14*24*time.Hour {
			t.Errorf("%s: policy %q, resolution %v; want %s, 14 calendar days", code, p.Name, p.Budget(PhaseResolution, nil), policy)
		}
	}
	// PBI-JK reactivation is health cover: a first response within one
	// working day (not three), settled within 14 calendar days.
	if p := ps.ForCategory(cs, "PBI_REACTIVATION"); p.Name != "pbi" || p.Response != (WorkTime{Days: 1}) ||
		p.Unit(PhaseResponse) != UnitWorking || p.Budget(PhaseResolution, nil) != 14*24*time.Hour || p.Unit(PhaseResolution) != UnitCalendar {
		t.Errorf("PBI_REACTIVATION: policy %+v; want pbi, 1 working day to respond, 14 calendar days to settle", p)
	}
	if sens.Response.Of(nil) >= def.Response.Of(nil) || sens.Resolution.Of(nil) >= def.Resolution.Of(nil) {
		t.Errorf("sensitive policy %+v is not shorter than the default", sens)
	}
	if ps.Get("") != def || ps.Get("nope") != def {
		t.Error("Get of an empty or unknown name is not the default policy")
	}
}

func TestSLAPolicySteps(t *testing.T) {
	wday, cday := 8*time.Hour, 24*time.Hour // a working day, a calendar day
	steps := DefaultSLAPolicies().Get(DefaultPolicy).Steps(nil)
	type want struct {
		pos, phase    int
		kind          string
		level         int
		assignee      bool
		unit          string
		offset, after time.Duration
	}
	wants := []want{
		{0, PhaseResponse, StepWarning, -1, true, UnitWorking, 18 * time.Hour, 0}, // 75% of 3 working days
		{1, PhaseResponse, StepBreach, LevelRegency, true, UnitWorking, 3 * wday, 0},
		{2, PhaseResponse, StepEscalate, LevelProvince, false, UnitWorking, 3 * wday, 2 * wday},
		{3, PhaseResponse, StepEscalate, LevelNational, false, UnitWorking, 3 * wday, 7 * wday},
		{8, PhaseResolution, StepWarning, -1, true, UnitCalendar, 45 * cday, 0}, // 75% of 60 calendar days
		{9, PhaseResolution, StepBreach, LevelRegency, true, UnitCalendar, 60 * cday, 0},
		{10, PhaseResolution, StepEscalate, LevelProvince, false, UnitCalendar, 60 * cday, 2 * wday},
		{11, PhaseResolution, StepEscalate, LevelNational, false, UnitCalendar, 60 * cday, 7 * wday},
	}
	if len(steps) != len(wants) {
		t.Fatalf("%d steps; want %d: %+v", len(steps), len(wants), steps)
	}
	for i, w := range wants {
		s := steps[i]
		if s.Pos != w.pos || s.Phase != w.phase || s.Kind != w.kind || s.Level != w.level || s.Assignee != w.assignee ||
			s.Unit != w.unit || s.Offset != w.offset || s.After != w.after {
			t.Errorf("step %d = %+v; want %+v", i, s, w)
		}
	}
	// Without a warning the positions keep their numbers.
	p := *DefaultSLAPolicies().Get("sensitive")
	p.Warning = 0
	steps = p.Steps(nil)
	if len(steps) != 4 || steps[0].Pos != 1 || steps[0].Level != LevelProvince || steps[2].Pos != 9 {
		t.Errorf("sensitive steps without warning = %+v", steps)
	}
}

func TestLoadSLAPoliciesErrors(t *testing.T) {
	ok := `"response": "3d", "resolution": "60d", "warning": 0.75, "ladder": [{"notify": "regency", "after": "0"}]`
	bad := []struct{ name, json string }{
		{"not json", `{`},
		{"unknown field", `{"policies": {"default": {` + ok + `, "extra": 1}}}`},
		{"trailing data", `{"policies": {"default": {` + ok + `}}} {}`},
		{"no default", `{"policies": {"other": {` + ok + `}}}`},
		{"null policy", `{"policies": {"default": null}}`},
		{"zero response", `{"policies": {"default": {"response": "0", "resolution": "60d", "ladder": [{"notify": "national", "after": "0"}]}}}`},
		{"zero resolution", `{"policies": {"default": {"response": "3d", "resolution": "0", "ladder": [{"notify": "national", "after": "0"}]}}}`},
		{"bad duration", `{"policies": {"default": {"response": "3 days", "resolution": "60d", "ladder": [{"notify": "national", "after": "0"}]}}}`},
		{"warning of 1", `{"policies": {"default": {"response": "3d", "resolution": "60d", "warning": 1, "ladder": [{"notify": "national", "after": "0"}]}}}`},
		{"negative warning", `{"policies": {"default": {"response": "3d", "resolution": "60d", "warning": -0.5, "ladder": [{"notify": "national", "after": "0"}]}}}`},
		{"empty ladder", `{"policies": {"default": {"response": "3d", "resolution": "60d", "ladder": []}}}`},
		{"unknown level", `{"policies": {"default": {"response": "3d", "resolution": "60d", "ladder": [{"notify": "village", "after": "0"}]}}}`},
		{"unknown unit", `{"policies": {"default": {"response": "3d", "resolution": "60d", "resolution_unit": "days", "ladder": [{"notify": "national", "after": "0"}]}}}`},
		{"ladder goes down", `{"policies": {"default": {"response": "3d", "resolution": "60d", "ladder": [{"notify": "province", "after": "0"}, {"notify": "regency", "after": "1d"}]}}}`},
		{"ladder too long", `{"policies": {"default": {"response": "3d", "resolution": "60d", "ladder": [` +
			strings.Repeat(`{"notify": "national", "after": "1d"},`, 7) + `{"notify": "national", "after": "1d"}]}}}`},
	}
	for _, tt := range bad {
		ps, err := LoadSLAPolicies(strings.NewReader(tt.json))
		if err == nil || ErrorKey(err) != "sla.invalid" || ErrorCode(err) != EInvalid {
			t.Errorf("%s: LoadSLAPolicies = %v, %v; want sla.invalid", tt.name, ps, err)
			continue
		}
		if e := err.(*Error); e.Args["Detail"] == "" {
			t.Errorf("%s: no Detail in %v", tt.name, err)
		}
	}
	ps, err := LoadSLAPolicies(strings.NewReader(`{"policies": {"default": {` + ok + `}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// A policy without units reads the law: the first response in working
	// days, the resolution in calendar days (issue 11 item 2).
	if p := ps.Get(DefaultPolicy); p.Unit(PhaseResponse) != UnitWorking || p.Unit(PhaseResolution) != UnitCalendar ||
		p.Budget(PhaseResolution, nil) != 60*24*time.Hour {
		t.Errorf("a policy without units: response %s, resolution %s (%v); want working, calendar (60 days)",
			p.Unit(PhaseResponse), p.Unit(PhaseResolution), p.Budget(PhaseResolution, nil))
	}
	err = ps.Check(Categories{{Code: "PUNGLI", Policy: "sensitive"}})
	if ErrorKey(err) != "sla.invalid" || !strings.Contains(err.(*Error).Args["Detail"].(string), "PUNGLI") {
		t.Errorf("Check with an undefined policy = %v; want sla.invalid naming PUNGLI", err)
	}
}
