package bansosbot

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultSLAJSON is the embedded config/sla.json: the service-level
// policies derived from the national complaint norms.
//
//go:embed config/sla.json
var DefaultSLAJSON string

var defaultSLAPolicies = sync.OnceValue(func() *SLAPolicies {
	ps, err := LoadSLAPolicies(strings.NewReader(DefaultSLAJSON))
	if err != nil {
		panic("bansosbot: embedded sla.json is invalid: " + err.Error())
	}
	return ps
})

// DefaultSLAPolicies returns the policies of DefaultSLAJSON, parsed on
// first use and shared.
func DefaultSLAPolicies() *SLAPolicies { return defaultSLAPolicies() }

// AuditAck is the audit action of a supervisor acknowledging an
// escalation.
const AuditAck = "ack"

// DefaultPolicy is the name of the policy of categories without one; every
// policy file must define it.
const DefaultPolicy = "default"

// Service-level phases: each has a deadline and its own ladder.
const (
	PhaseResponse   = 0 // until staff first respond (Ticket.FirstResponseAt)
	PhaseResolution = 1 // until the ticket is resolved
)

// StepsPerPhase fixes the numbering of ladder positions: position
// phase*StepsPerPhase + k, where k = 0 is the warning and k = 1.. are the
// ladder entries. Ticket.Escalation holds the position of the next step to
// fire; the fixed width keeps a ticket in its phase when an operator
// changes the length of a ladder.
const StepsPerPhase = 8

// Kinds of ladder steps.
const (
	StepWarning  = "warning"  // the deadline approaches: the assignee hears
	StepBreach   = "breach"   // the deadline passed: the assignee and the first ladder level hear
	StepEscalate = "escalate" // still overdue after a further delay: the next level up hears
)

// Region levels of the supervisors a ladder entry notifies.
const (
	LevelNational = 0
	LevelProvince = 1
	LevelRegency  = 2 // kabupaten/kota
)

var levelNames = map[string]int{"national": LevelNational, "province": LevelProvince, "regency": LevelRegency}

// LevelName is "national", "province" or "regency".
func LevelName(level int) string {
	for n, l := range levelNames {
		if l == level {
			return n
		}
	}
	return strconv.Itoa(level)
}

// WorkTime is an amount of working time: whole working days (each as long
// as the calendar's working day) plus hours and minutes. Its text form is
// "3d", "4h", "1d4h", "90m" or "0".
type WorkTime struct {
	Days int
	Time time.Duration
}

// ParseWorkTime reads the text form of a WorkTime.
func ParseWorkTime(s string) (WorkTime, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return WorkTime{}, nil
	}
	var w WorkTime
	rest, seen := s, false
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 {
			return WorkTime{}, fmt.Errorf("%q: bad number of days", s)
		}
		w.Days, rest, seen = n, rest[i+1:], true
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return WorkTime{}, fmt.Errorf("%q is not like 3d, 4h, 1d4h or 90m", s)
		}
		w.Time, seen = d, true
	}
	if !seen {
		return WorkTime{}, fmt.Errorf("%q is not like 3d, 4h, 1d4h or 90m", s)
	}
	return w, nil
}

func (w WorkTime) String() string {
	switch {
	case w == WorkTime{}:
		return "0"
	case w.Time == 0:
		return strconv.Itoa(w.Days) + "d"
	case w.Days == 0:
		return w.Time.String()
	}
	return strconv.Itoa(w.Days) + "d" + w.Time.String()
}

// Of is the working time in c's terms.
func (w WorkTime) Of(c *Calendar) time.Duration {
	return time.Duration(w.Days)*c.DayLength() + w.Time
}

// MarshalJSON writes the text form.
func (w WorkTime) MarshalJSON() ([]byte, error) { return json.Marshal(w.String()) }

// UnmarshalJSON reads the text form.
func (w *WorkTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("working time must be a string like \"3d\": %w", err)
	}
	v, err := ParseWorkTime(s)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// LadderEntry is one rung above the deadline: After this much more working
// time (the first entry: after the deadline itself), the supervisors at
// Notify's level covering the ticket's region hear of it.
type LadderEntry struct {
	Notify string   `json:"notify"` // "regency" (kabupaten/kota), "province" or "national"
	After  WorkTime `json:"after"`
}

// Level is the region level of Notify (see LevelRegency).
func (l LadderEntry) Level() int { return levelNames[l.Notify] }

// Units of a deadline's budget.
const (
	// UnitWorking counts working time of the business calendar: "3d" is
	// three working days; weekends, holidays, cuti bersama and the hours
	// outside the working day do not count.
	UnitWorking = "working"
	// UnitCalendar counts every day and hour: "60d" is 60 calendar days
	// (Indonesia's zones have no daylight saving, so a day is 24 hours).
	UnitCalendar = "calendar"
)

// SLAPolicy is one service-level policy: a budget per phase, each in its
// unit, counted on the ticket's clock (which stops while it waits for the
// citizen or is resolved), a warning point, and the escalation ladder.
type SLAPolicy struct {
	Name string `json:"-"`
	// Response is the budget until the first response of staff.
	Response WorkTime `json:"response"`
	// ResponseUnit is UnitWorking or UnitCalendar; empty means working
	// (the 3 working days of the national norms).
	ResponseUnit string `json:"response_unit,omitempty"`
	// Resolution is the budget until the ticket is resolved.
	Resolution WorkTime `json:"resolution"`
	// ResolutionUnit is UnitWorking or UnitCalendar; empty means calendar
	// (the 60 days of UU 25/2009 and Perpres 76/2013 are calendar days).
	ResolutionUnit string `json:"resolution_unit,omitempty"`
	// Warning is the fraction of each budget at which the assignee is
	// warned (0.75); 0 disables the warning.
	Warning float64 `json:"warning"`
	// Ladder is climbed after each deadline, the same for both phases, in
	// working time after the deadline. The first entry is the breach: the
	// assignee hears too.
	Ladder []LadderEntry `json:"ladder"`
}

// SLAStep is one position of a policy's ladder in one phase. It falls due
// at Offset on the phase's clock (in the phase's Unit) plus After of
// working time.
type SLAStep struct {
	Pos   int    // phase*StepsPerPhase + k; compare with Ticket.Escalation
	Phase int    // PhaseResponse or PhaseResolution
	Kind  string // StepWarning, StepBreach or StepEscalate
	// Level is the region level of the supervisors notified; -1 for the
	// warning, which goes to the assignee.
	Level    int
	Assignee bool // the assignee hears (warning and breach)
	// Unit is the phase's unit; Budget the phase's budget and Offset the
	// step's point on the phase's clock since filing, both in that unit
	// (the warning: a fraction of the budget; ladder steps: the budget).
	Unit           string
	Budget, Offset time.Duration
	// After is the working time after Offset at which the step falls due
	// (the ladder's delays, added up).
	After time.Duration
}

// Unit is the unit of the phase's budget.
func (p *SLAPolicy) Unit(phase int) string {
	if phase == PhaseResponse {
		return unitOr(p.ResponseUnit, UnitWorking)
	}
	return unitOr(p.ResolutionUnit, UnitCalendar)
}

func unitOr(u, def string) string {
	if u == "" {
		return def
	}
	return u
}

// Budget is the phase's budget in its unit: working time in c's terms,
// or calendar time.
func (p *SLAPolicy) Budget(phase int, c *Calendar) time.Duration {
	w := p.Resolution
	if phase == PhaseResponse {
		w = p.Response
	}
	if p.Unit(phase) == UnitCalendar {
		return time.Duration(w.Days)*24*time.Hour + w.Time
	}
	return w.Of(c)
}

// Days is the phase's budget in whole days of its unit, rounded up, for
// telling citizens ("3 hari kerja", "60 hari").
func (p *SLAPolicy) Days(phase int) int {
	w := p.Resolution
	if phase == PhaseResponse {
		w = p.Response
	}
	if w.Time > 0 {
		return w.Days + 1
	}
	return w.Days
}

// Steps lists the ladder positions of both phases in firing order.
func (p *SLAPolicy) Steps(c *Calendar) []SLAStep {
	var out []SLAStep
	for _, phase := range []int{PhaseResponse, PhaseResolution} {
		budget, unit := p.Budget(phase, c), p.Unit(phase)
		base := phase * StepsPerPhase
		if p.Warning > 0 {
			off := time.Duration(math.Round(float64(budget)*p.Warning/float64(time.Second))) * time.Second
			out = append(out, SLAStep{Pos: base, Phase: phase, Kind: StepWarning, Level: -1, Assignee: true,
				Unit: unit, Budget: budget, Offset: off})
		}
		var after time.Duration
		for i, l := range p.Ladder {
			after += l.After.Of(c)
			s := SLAStep{Pos: base + 1 + i, Phase: phase, Kind: StepEscalate, Level: l.Level(),
				Unit: unit, Budget: budget, Offset: budget, After: after}
			if i == 0 {
				s.Kind, s.Assignee = StepBreach, true
			}
			out = append(out, s)
		}
	}
	return out
}

// SLAConfig is the JSON form of SLAPolicies (config/sla.json):
//
//	{
//	  "source": "where the numbers come from (optional)",
//	  "policies": {
//	    "default": {
//	      "response": "3d", "response_unit": "working",
//	      "resolution": "60d", "resolution_unit": "calendar",
//	      "warning": 0.75,
//	      "ladder": [
//	        {"notify": "regency", "after": "0"},
//	        {"notify": "province", "after": "2d"},
//	        {"notify": "national", "after": "5d"}
//	      ]
//	    },
//	    "sensitive": {...}
//	  }
//	}
//
// Budgets are "3d", "4h" or "1d4h" in their unit: "working" (3d = 3
// working days of the calendar) or "calendar" (60d = 60 days, every day
// counts); the response defaults to working, the resolution to calendar,
// the legal reading. Ladder delays are always working time after the
// deadline. A category names its policy in config/categories.json
// ("policy"); "default" is required. Ladders have 1 to 7 entries whose
// levels never go down; unknown fields are rejected.
type SLAConfig struct {
	Source   string                `json:"source,omitempty"`
	Policies map[string]*SLAPolicy `json:"policies"`
}

// SLAPolicies are the service-level policies by name. Read-only.
type SLAPolicies struct {
	Source   string
	policies map[string]*SLAPolicy
}

func slaError(format string, args ...any) error {
	return Errorf(EInvalid, "sla.invalid", "Detail", fmt.Sprintf(format, args...))
}

// LoadSLAPolicies reads policies in the format of SLAConfig. Errors are
// *Error EInvalid "sla.invalid" with Args["Detail"] for the operator.
func LoadSLAPolicies(r io.Reader) (*SLAPolicies, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, slaError("read: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg SLAConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, slaError("json: %v", err)
	}
	if dec.More() {
		return nil, slaError("json: data after the policies object")
	}
	return NewSLAPolicies(cfg)
}

// NewSLAPolicies validates cfg (see SLAConfig).
func NewSLAPolicies(cfg SLAConfig) (*SLAPolicies, error) {
	ps := &SLAPolicies{Source: cfg.Source, policies: map[string]*SLAPolicy{}}
	for name, p := range cfg.Policies {
		if p == nil {
			return nil, slaError("policy %q: null", name)
		}
		q := *p
		q.Name, q.Ladder = name, slices.Clone(p.Ladder)
		switch {
		case q.Response.Of(nil) <= 0:
			return nil, slaError("policy %q: response must be more than 0", name)
		case q.Resolution.Of(nil) <= 0:
			return nil, slaError("policy %q: resolution must be more than 0", name)
		case !validUnit(q.ResponseUnit) || !validUnit(q.ResolutionUnit):
			return nil, slaError("policy %q: a unit is %q or %q", name, UnitWorking, UnitCalendar)
		case q.Warning < 0 || q.Warning >= 1:
			return nil, slaError("policy %q: warning %v is not a fraction in [0, 1)", name, q.Warning)
		case len(q.Ladder) == 0 || len(q.Ladder) >= StepsPerPhase:
			return nil, slaError("policy %q: the ladder needs 1 to %d entries", name, StepsPerPhase-1)
		}
		for i, l := range q.Ladder {
			lvl, ok := levelNames[l.Notify]
			if !ok {
				return nil, slaError("policy %q: ladder[%d]: notify %q is none of regency, province, national", name, i, l.Notify)
			}
			if i > 0 && lvl > q.Ladder[i-1].Level() {
				return nil, slaError("policy %q: ladder[%d]: %s comes after %s; a ladder only climbs", name, i, l.Notify, q.Ladder[i-1].Notify)
			}
		}
		ps.policies[name] = &q
	}
	if ps.policies[DefaultPolicy] == nil {
		return nil, slaError("policy %q missing", DefaultPolicy)
	}
	return ps, nil
}

func validUnit(u string) bool { return u == "" || u == UnitWorking || u == UnitCalendar }

// Get returns the named policy; "" and unknown names give the default
// (Check reports unknown names at startup).
func (ps *SLAPolicies) Get(name string) *SLAPolicy {
	if p := ps.policies[name]; p != nil {
		return p
	}
	return ps.policies[DefaultPolicy]
}

// ForCategory returns the policy of the category with the code.
func (ps *SLAPolicies) ForCategory(cs Categories, code string) *SLAPolicy {
	c, _ := cs.Get(code)
	return ps.Get(c.Policy)
}

// Names lists the policy names, sorted.
func (ps *SLAPolicies) Names() []string {
	out := make([]string, 0, len(ps.policies))
	for n := range ps.policies {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Check reports a category whose policy is not defined.
func (ps *SLAPolicies) Check(cs Categories) error {
	for _, c := range cs {
		if c.Policy != "" && ps.policies[c.Policy] == nil {
			return slaError("category %s: policy %q is not defined (have %s)", c.Code, c.Policy, strings.Join(ps.Names(), ", "))
		}
	}
	return nil
}
