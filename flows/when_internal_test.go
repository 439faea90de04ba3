package flows

import (
	"reflect"
	"testing"
	"time"
)

// TestWithin is the table of relative times told to citizens: rounded up
// to the minute (never earlier than true), hours and minutes apart.
func TestWithin(t *testing.T) {
	mins := func(n int) Msg { return T("when.minutes", "Count", n) }
	hours := func(n int) Msg { return T("when.hours", "Count", n) }
	for _, tt := range []struct {
		d    time.Duration
		span Msg
	}{
		{0, mins(1)},
		{10 * time.Second, mins(1)},
		{45 * time.Minute, mins(45)},
		{44*time.Minute + time.Second, mins(45)},
		{59*time.Minute + 30*time.Second, hours(1)},
		{time.Hour, hours(1)},
		{65 * time.Minute, T("when.pair", "A", hours(1), "B", mins(5))},
		{23*time.Hour + 59*time.Minute + time.Second, hours(24)},
	} {
		if got, want := within(tt.d), T("when.in", "Span", tt.span); !reflect.DeepEqual(got, want) {
			t.Errorf("within(%v) = %v; want %v", tt.d, got, want)
		}
	}
}
