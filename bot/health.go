package bot

import (
	"sync"
	"time"
)

// health remembers when the Bot API last answered and last failed, for
// readiness checks.
type health struct {
	mu       sync.Mutex
	lastOK   time.Time
	failing  bool
	failFrom time.Time
}

func (h *health) apiOK() {
	h.mu.Lock()
	h.lastOK, h.failing = time.Now(), false
	h.mu.Unlock()
}

func (h *health) apiFailed() {
	h.mu.Lock()
	if !h.failing {
		h.failing, h.failFrom = true, time.Now()
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
	return time.Since(s.health.failFrom)
}
