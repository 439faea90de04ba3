package telegramtest

import (
	"context"
	"net"
	"net/http"
)

type connKey struct{}

// withConn is the http.Server ConnContext hook: it makes the connection of a
// request available to clientGone.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// clientGone reports whether the client of r has already gone away: its
// request context ended, or (where the platform allows checking) it has
// closed the connection. The second check does not depend on the HTTP
// server's asynchronous detection, so a client that closed its connection
// before the fake got to its request is always recognised; this is what
// makes Freeze/Thaw crash simulations deterministic.
func clientGone(r *http.Request) bool {
	if r.Context().Err() != nil {
		return true
	}
	c, ok := r.Context().Value(connKey{}).(net.Conn)
	return ok && peerClosed(c)
}
