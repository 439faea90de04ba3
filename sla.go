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

// SLAPolicy is one service-level policy: budgets in working time counted
// on the ticket's clock (which stops while it waits for the citizen or is
// resolved), a warning point, and the escalation ladder.
type SLAPolicy struct {
	Name string `json:"-"`
	// Response is the budget until the first response of staff.
	Response WorkTime `json:"response"`
	// Resolution is the budget until the ticket is resolved.
	Resolution WorkTime `json:"resolution"`
	// Warning is the fraction of each budget at which the assignee is
	// warned (0.75); 0 disables the warning.
	Warning float64 `json:"warning"`
	// Ladder is climbed after each deadline, the same for both phases. The
	// first entry is the breach: the assignee hears too.
	Ladder []LadderEntry `json:"ladder"`
}

// SLAStep is one position of a policy's ladder in one phase.
type SLAStep struct {
	Pos   int    // phase*StepsPerPhase + k; compare with Ticket.Escalation
	Phase int    // PhaseResponse or PhaseResolution
	Kind  string // StepWarning, StepBreach or StepEscalate
	// Level is the region level of the supervisors notified; -1 for the
	// warning, which goes to the assignee.
	Level    int
	Assignee bool // the assignee hears (warning and breach)
	// Offset is when the step falls due, as working time on the ticket's
	// clock since it was filed; Deadline is the phase's budget on that clock.
	Offset, Deadline time.Duration
}

// Budget is the phase's budget in c's terms.
func (p *SLAPolicy) Budget(phase int, c *Calendar) time.Duration {
	if phase == PhaseResponse {
		return p.Response.Of(c)
	}
	return p.Resolution.Of(c)
}

// Steps lists the ladder positions of both phases in firing order, with
// their offsets in c's working time.
func (p *SLAPolicy) Steps(c *Calendar) []SLAStep {
	var out []SLAStep
	for _, phase := range []int{PhaseResponse, PhaseResolution} {
		budget := p.Budget(phase, c)
		base := phase * StepsPerPhase
		if p.Warning > 0 {
			off := time.Duration(math.Round(float64(budget)*p.Warning/float64(time.Second))) * time.Second
			out = append(out, SLAStep{Pos: base, Phase: phase, Kind: StepWarning, Level: -1, Assignee: true, Offset: off, Deadline: budget})
		}
		off := budget
		for i, l := range p.Ladder {
			off += l.After.Of(c)
			s := SLAStep{Pos: base + 1 + i, Phase: phase, Kind: StepEscalate, Level: l.Level(), Offset: off, Deadline: budget}
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
//	      "response": "3d", "resolution": "60d", "warning": 0.75,
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
// Durations are working time ("3d" = 3 working days of the calendar, "4h",
// "1d4h"). A category names its policy in config/categories.json
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
