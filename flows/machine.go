package flows

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/looplab/fsm"
)

// Machine is a transition table (a looplab/fsm event list). The machine is
// rebuilt from the saved state for each input, so it holds no state itself,
// and it has no callbacks: side effects stay in the flow code that fires
// events, never inside FSM callbacks.
type Machine struct {
	name   string
	events fsm.Events
}

// NewMachine builds a transition table.
func NewMachine(name string, events fsm.Events) Machine {
	return Machine{name: name, events: events}
}

// ErrIllegal is returned (wrapped) when an event is not allowed in a state.
var ErrIllegal = errors.New("illegal transition")

// Next returns the state that event leads to from state.
func (m Machine) Next(state, event string) (string, error) {
	f := fsm.NewFSM(state, m.events, nil)
	err := f.Event(context.Background(), event)
	var noTransition fsm.NoTransitionError
	if err != nil && !errors.As(err, &noTransition) {
		return state, fmt.Errorf("%s: %w: %s in state %s", m.name, ErrIllegal, event, state)
	}
	return f.Current(), nil
}

// Can reports whether event is allowed in state.
func (m Machine) Can(state, event string) bool {
	return fsm.NewFSM(state, m.events, nil).Can(event)
}

// Events lists the events allowed in state (sorted).
func (m Machine) Events(state string) []string {
	ev := fsm.NewFSM(state, m.events, nil).AvailableTransitions()
	sort.Strings(ev)
	return ev
}
