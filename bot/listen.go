package bot

import (
	"net/http"
	"time"
)

// ListenerTimeouts bound how long a client may hold a connection of a
// listener open without finishing what it is doing: the webhook's, the
// monitoring listener's and the dashboard's are reachable without any
// credential, so a few hundred slow clients must not pile up connections
// (and goroutines) for ever. Zero fields take the defaults.
type ListenerTimeouts struct {
	// Header: the request line and headers (default 10 s).
	Header time.Duration
	// Read: the whole request, body included (default 30 s; an update, a
	// login form or a scrape request is small).
	Read time.Duration
	// Write: from the end of the request headers to the end of the
	// response (default 2 minutes: a dashboard CSV of a large region).
	Write time.Duration
	// Idle: a kept-alive connection waiting for its next request
	// (default 2 minutes).
	Idle time.Duration
}

// Default listener timeouts.
const (
	DefaultHeaderTimeout = 10 * time.Second
	DefaultReadTimeout   = 30 * time.Second
	DefaultWriteTimeout  = 2 * time.Minute
	DefaultIdleTimeout   = 2 * time.Minute
)

func (t ListenerTimeouts) withDefaults() ListenerTimeouts {
	if t.Header <= 0 {
		t.Header = DefaultHeaderTimeout
	}
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	if t.Header > t.Read {
		t.Header = t.Read
	}
	if t.Write <= 0 {
		t.Write = DefaultWriteTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
	return t
}

// NewHTTPServer returns a server for h whose connections are closed when a
// client is slower than t allows: every listener of the program is built
// with it.
func NewHTTPServer(h http.Handler, t ListenerTimeouts) *http.Server {
	t = t.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.Header,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}
