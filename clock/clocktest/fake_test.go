package clocktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/clock"
	"github.com/bansosbot/bansosbot/clock/clocktest"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func fired(tm clock.Timer) (time.Time, bool) {
	select {
	case at := <-tm.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestFakeFiresTimersItReaches(t *testing.T) {
	f := clocktest.New(t0)
	a, b, c := f.NewTimer(3*time.Second), f.NewTimer(time.Second), f.NewTimer(time.Hour)
	if got := f.Timers(); len(got) != 3 || !got[0].Equal(t0.Add(time.Second)) {
		t.Fatalf("Timers() = %v; want three, the earliest at +1s", got)
	}
	f.Advance(2 * time.Second)
	if at, ok := fired(b); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Errorf("1 s timer after 2 s: fired %v at %v; want fired at its deadline", ok, at)
	}
	if _, ok := fired(a); ok {
		t.Error("3 s timer fired after 2 s")
	}
	f.Set(t0.Add(3 * time.Second))
	if _, ok := fired(a); !ok {
		t.Error("3 s timer did not fire at 3 s")
	}
	if !c.Stop() || c.Stop() {
		t.Error("Stop of a waiting timer: want true once, then false")
	}
	f.Advance(2 * time.Hour)
	if _, ok := fired(c); ok {
		t.Error("a stopped timer fired")
	}
	if a.Stop() {
		t.Error("Stop of a fired timer = true")
	}
	if len(f.Timers()) != 0 {
		t.Errorf("timers left: %v", f.Timers())
	}
	f.Set(t0) // never back
	if !f.Now().Equal(t0.Add(2*time.Hour + 3*time.Second)) {
		t.Errorf("Now() = %v after Set to an earlier time; want unchanged", f.Now())
	}
	if _, ok := fired(f.NewTimer(0)); !ok {
		t.Error("a zero timer did not fire at once")
	}
}

func TestFakeSleepAndWaitTimer(t *testing.T) {
	f := clocktest.New(t0)
	woke := make(chan bool)
	go func() { woke <- clock.Sleep(context.Background(), f, time.Minute) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at, err := f.WaitTimer(ctx, func(at time.Time) bool { return at.Equal(t0.Add(time.Minute)) })
	if err != nil {
		t.Fatalf("the sleeper's timer never appeared: %v", err)
	}
	f.Set(at)
	if !<-woke {
		t.Error("Sleep returned false; want true after its minute")
	}
	cctx, ccancel := context.WithCancel(context.Background())
	go func() { woke <- clock.Sleep(cctx, f, time.Minute) }()
	if _, err := f.WaitTimer(ctx, func(time.Time) bool { return true }); err != nil {
		t.Fatal(err)
	}
	ccancel()
	if <-woke {
		t.Error("Sleep cancelled by its context returned true")
	}
	if len(f.Timers()) != 0 {
		t.Errorf("a cancelled Sleep left its timer: %v", f.Timers())
	}
}
