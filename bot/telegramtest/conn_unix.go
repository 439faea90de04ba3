//go:build linux || darwin || freebsd

package telegramtest

import (
	"errors"
	"net"
	"syscall"
)

// peerClosed peeks at the socket without blocking and without consuming
// anything: 0 bytes means the peer sent FIN, an error other than "would
// block" means it reset the connection. Once the body of a request has been
// read, a live HTTP/1.1 client sends nothing until it has the answer.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	// Control does not take the read lock, so it does not wait for the HTTP
	// server's background read of the same connection.
	cerr := rc.Control(func(fd uintptr) {
		var b [1]byte
		for {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			closed = (err == nil && n == 0) ||
				(err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK))
			return
		}
	})
	if cerr != nil {
		return true // the connection is already closed
	}
	return closed
}
