package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot"
)

// TestListenersDropSlowClients: the webhook, monitoring and dashboard
// listeners close a connection whose client never finishes its headers,
// never sends the body it announced, or keeps a connection idle — none of
// them needs a credential to connect (issue 10 item 12). The timeouts are
// injected short; the guard below only bounds the test, it measures
// nothing: the assertion is that the server closed the connection.
func TestListenersDropSlowClients(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	cfg.HTTP, cfg.Web = freePort(t), freePort(t)
	hook := freePort(t)
	cfg.WebhookListen, cfg.WebhookSecret = hook, "s3cret-token_ok"
	cfg.WebhookURL = "http://" + hook + "/telegram/hook"
	m := e.start(cfg, func(m *Main) {
		m.Listen = bot.ListenerTimeouts{Header: 200 * time.Millisecond, Read: 300 * time.Millisecond,
			Write: 300 * time.Millisecond, Idle: 200 * time.Millisecond}
	})
	defer m.Close()

	listeners := map[string]struct{ addr, path string }{
		"webhook":    {hook, "/telegram/hook"},
		"monitoring": {cfg.HTTP, "/healthz"},
		"dashboard":  {m.WebAddr(), "/"},
	}
	const guard = 20 * time.Second // the defaults (10 s and more) would pass the header case only
	clients := map[string]func(t *testing.T, c net.Conn, path string){
		"headers never finished": func(t *testing.T, c net.Conn, path string) {
			io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: bansosbot\r\nX-Telegram-Bot-Api-Secret-Token: s3cret-token_ok\r\n")
		},
		"body never sent": func(t *testing.T, c net.Conn, path string) {
			io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: bansosbot\r\nX-Telegram-Bot-Api-Secret-Token: s3cret-token_ok\r\n"+
				"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"update_id\":")
		},
		"idle after a request": func(t *testing.T, c net.Conn, path string) {
			io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: bansosbot\r\n\r\n")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("first request: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Close {
				t.Errorf("the server closed the connection after the request itself; the idle case tests nothing")
			}
		},
	}
	var wg sync.WaitGroup
	for lname, l := range listeners {
		for cname, client := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", l.addr)
				if err != nil {
					t.Errorf("%s: dial: %v", lname, err)
					return
				}
				defer c.Close()
				client(t, c, l.path)
				c.SetReadDeadline(time.Now().Add(guard))
				_, err = io.Copy(io.Discard, c) // until the server closes
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Errorf("%s, %s: the connection is still open after %s", lname, cname, guard)
				}
			}()
		}
	}
	wg.Wait()
}
