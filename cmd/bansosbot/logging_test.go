package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
)

// lockedBuffer is a log destination tests can read while the bot writes.
type lockedBuffer struct {
	b strings.Builder
	w syncWriter
}

func newLockedBuffer() *lockedBuffer { l := &lockedBuffer{}; l.w.w = &l.b; return l }

func (l *lockedBuffer) Write(p []byte) (int, error) { return l.w.Write(p) }

func (l *lockedBuffer) String() string {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.b.String()
}

// TestDebugLogTracesUpdatesWithoutContent: BANSOSBOT_LOG=debug logs each
// update's kind, flow, state change and timing and each outbox send, and
// never the text, NIK, name or account names a citizen sent (issue 12
// item 14).
func TestDebugLogTracesUpdatesWithoutContent(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	cfg.Log = "debug,text"
	logs := newLockedBuffer()
	m := e.start(cfg, func(m *Main) { m.Log = m.Config.Logger(logs) })
	defer m.Close()
	u := telegramtest.User{ID: 777, FirstName: "Kartini", Username: "kartini_secret", LanguageCode: "id"}
	e.onboard(u)
	const nik, name, text = "3201011203850001", "Wawan Lestari", "Rumah saya di Jalan Mawar nomor tujuh"
	e.fake.SendCommand(u, "/lapor") // a flow whose state the texts move
	waitStable(t, m.DB)
	e.fake.SendText(u, nik)
	waitStable(t, m.DB)
	e.fake.SendText(u, name)
	waitStable(t, m.DB)
	e.fake.SendText(u, text)
	waitStable(t, m.DB)
	m.Close()
	out := logs.String()
	for _, want := range []string{`msg="update handled"`, "kind=command", "kind=callback", "kind=text", "flow=", "state=", "took=", `msg="outbox sent"`, "method="} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, `state="- -> notice"`) || !regexp.MustCompile(`kind=text flow=\w+ state="\w+`).MatchString(out) {
		t.Errorf("debug log shows no state change of a flow:\n%s", out)
	}
	for _, secret := range []string{nik, "3201 0112", "Wawan", "Lestari", "Mawar", "Kartini", "kartini_secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("debug log holds %q:\n%s", secret, out)
		}
	}
}

// TestControlClientGoneIsNotBrokenPipe: when the command line stops
// reading (it failed on its side, or was interrupted), the bot's log says
// the command went away, not an ERROR with "broken pipe" (issue 12 item
// 14).
func TestControlClientGoneIsNotBrokenPipe(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	cfg.Log = "info,text"
	db, err := store.Open(cfg.DBPath(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	// A database larger than the socket's buffers: the stream is cut midway.
	err = db.Update(func(tx *store.Tx) error {
		for i := range 1500 {
			seq, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, cfg.key("ticket-number")), Category: "OTHER",
				Region: "32.01.01", Description: strings.Repeat(fmt.Sprintf("keluhan %d ", i), 200), Status: bansosbot.StatusClosed}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return tx.SetSecretFingerprint(cfg.fingerprint())
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	logs := newLockedBuffer()
	m := e.start(cfg, func(m *Main) { m.Log = m.Config.Logger(logs) })
	defer m.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://bansosbot/backup", nil)
	resp, err := controlClient(cfg).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the command line fails on its side and goes away
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "went away") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "went away") {
		t.Errorf("the bot's log does not say the command went away:\n%s", out)
	}
	for _, bad := range []string{"broken pipe", "connection reset", "level=ERROR"} {
		if strings.Contains(out, bad) {
			t.Errorf("the bot's log has %q for a command line that went away:\n%s", bad, out)
		}
	}
}
