package bot

import (
	"sync"
	"time"

	"github.com/bansosbot/bansosbot/clock"
)

// health remembers when the Bot API last answered and last failed, for
// readiness checks.
type health struct {
	clock    clock.Clock
	mu       sync.Mutex
	lastOK   time.Time
	failing  bool
	failFrom time.Time
	// waiting is since when the least recently served chat of the outbox
	// has waited (zero: nothing waits); see sender.stalledSince.
	waiting time.Time
}

func (h *health) outboxWaiting(since time.Time) {
	h.mu.Lock()
	h.waiting = since
	h.mu.Unlock()
}

// OutboxStalledFor reports for how long a chat with messages in the
// outbox has had none of them go out; waits is false when the sender
// holds nothing (0 then). A chat held back only by Telegram's send limits
// (a busy group) keeps making progress; a stuck sender or a chat whose
// every call fails does not. (A chat that made progress this instant
// waits 0: waits tells it from an empty sender.)
func (s *Server) OutboxStalledFor() (d time.Duration, waits bool) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.waiting.IsZero() {
		return 0, false
	}
	return clock.Since(s.health.clock, s.health.waiting), true
}

func (h *health) apiOK() {
	h.mu.Lock()
	h.lastOK, h.failing = h.clock.Now(), false
	h.mu.Unlock()
}

func (h *health) apiFailed() {
	h.mu.Lock()
	if !h.failing {
		h.failing, h.failFrom = true, h.clock.Now()
	}
	h.mu.Unlock()
}

// APIDownFor reports for how long calls to the Bot API have been failing
// without any success in between (0 when the last call succeeded).
func (s *Server) APIDownFor() time.Duration {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if !s.health.failing {
		return 0
	}
	return clock.Since(s.health.clock, s.health.failFrom)
}
