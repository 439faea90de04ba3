// Package clocktest has a fake clock.Clock that moves only when a test
// moves it, so timers of minutes or hours (retry backoff, rate windows,
// message ages) pass in no time and in a known order.
package clocktest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot/clock"
)

// Fake is a clock.Clock whose time moves by Advance and Set only. Timers
// fire, in the order of their deadlines, when the time reaches them. It is
// safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	pending []*timer
	changed chan struct{} // closed and replaced when a timer is made or stopped
}

var _ clock.Clock = (*Fake)(nil)

// New returns a fake clock reading start.
func New(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

type timer struct {
	f    *Fake
	at   time.Time
	c    chan time.Time
	done bool // fired or stopped
}

func (t *timer) C() <-chan time.Time { return t.c }

func (t *timer) Stop() bool {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	f.pending = slices.DeleteFunc(f.pending, func(p *timer) bool { return p == t })
	f.notifyLocked()
	return true
}

// Now is the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer makes a timer that fires once the fake time reaches Now()+d.
func (f *Fake) NewTimer(d time.Duration) clock.Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &timer{f: f, at: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.done = true
		t.c <- f.now
		return t
	}
	f.pending = append(f.pending, t)
	f.notifyLocked()
	return t
}

// Advance moves the time forward by d and fires the timers it reaches.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setLocked(f.now.Add(d))
}

// Set moves the time to t (never back) and fires the timers it reaches.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setLocked(t)
}

func (f *Fake) setLocked(t time.Time) {
	if t.Before(f.now) {
		return
	}
	f.now = t
	slices.SortStableFunc(f.pending, func(a, b *timer) int { return a.at.Compare(b.at) })
	n := 0
	for _, p := range f.pending {
		if p.at.After(t) {
			break
		}
		p.done = true
		p.c <- p.at
		n++
	}
	if n > 0 {
		f.pending = slices.Delete(f.pending, 0, n)
		f.notifyLocked()
	}
}

// Timers are the deadlines of the timers waiting to fire, earliest first.
func (f *Fake) Timers() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Time, 0, len(f.pending))
	for _, p := range f.pending {
		out = append(out, p.at)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// WaitTimer waits until a timer waiting to fire has a deadline for which
// ok is true, and returns that deadline (or ctx's error).
func (f *Fake) WaitTimer(ctx context.Context, ok func(at time.Time) bool) (time.Time, error) {
	for {
		f.mu.Lock()
		changed := f.changed
		for _, p := range f.pending {
			if ok(p.at) {
				f.mu.Unlock()
				return p.at, nil
			}
		}
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-changed:
		}
	}
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}
