package pgstore

import (
	"testing"
	"time"
)

// TestBackoff: the pauses double from about 1 ms, never exceed 150 ms
// (100 ms and its jitter), and all MaxAttempts-1 of them together span
// more than a second (a conflict storm on a loaded server is outlasted)
// and less than five.
func TestBackoff(t *testing.T) {
	var total time.Duration
	for a := 1; a < MaxAttempts; a++ {
		d := backoff(a)
		if a == 1 && (d < 500*time.Microsecond || d >= 1500*time.Microsecond) {
			t.Errorf("first pause %v; want 0.5-1.5 ms", d)
		}
		if d >= 150*time.Millisecond {
			t.Errorf("pause %d = %v; want under 150 ms", a, d)
		}
		total += d
	}
	if total < time.Second || total > 5*time.Second {
		t.Errorf("pauses add up to %v; want 1-5 s", total)
	}
}
