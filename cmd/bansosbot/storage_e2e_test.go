package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store/backend"
)

// Fault modes of faultyStore.
const (
	faultOff   = iota
	faultBatch // the dispatcher's group-committed transactions fail
	faultAll   // every write fails (a full disk)
)

var errDiskFull = errors.New("write bansosbot.db: no space left on device (injected)")

// faultyStore is a backend whose commits fail on demand: the function
// runs and then the transaction is rolled back with errDiskFull, as a
// commit that cannot be written.
type faultyStore struct {
	backend.Backend
	mode   atomic.Int32
	failed atomic.Int64
}

func (f *faultyStore) inject(fn func(backend.Tx) error, from int32) func(backend.Tx) error {
	return func(tx backend.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if f.mode.Load() >= from {
			f.failed.Add(1)
			return errDiskFull
		}
		return nil
	}
}

func (f *faultyStore) Batch(fn func(backend.Tx) error) error {
	return f.Backend.Batch(f.inject(fn, faultBatch))
}

func (f *faultyStore) Update(fn func(backend.Tx) error) error {
	return f.Backend.Update(f.inject(fn, faultAll))
}

// TestE2EFullDiskKeepsUpdates: while the store cannot write, an update
// stays in the inbox and is tried again on its shard, never parked (no
// apology, no dead letter), and is answered exactly once, in its chat's
// order, when the disk frees; while polling cannot store anything the
// offset stays (Telegram gives the update again) and /readyz fails with
// the storage check, ready again after (issue 10 item 8).
func TestE2EFullDiskKeepsUpdates(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	e := newE2E(t)
	cfg := e.config()
	cfg.HTTP = freePort(t)
	var fs *faultyStore
	m := e.start(cfg, func(m *Main) {
		m.ReadyStoreFailing = time.Second
		m.WrapStore = func(b backend.Backend) backend.Backend { fs = &faultyStore{Backend: b}; return fs }
	})
	defer m.Close()
	base := "http://" + cfg.HTTP
	waitStatus(t, base+"/readyz", http.StatusOK, 5*time.Second)

	a := telegramtest.User{ID: 7301, FirstName: "A", LanguageCode: "id"}
	b := telegramtest.User{ID: 7302, FirstName: "B", LanguageCode: "id"}

	// 1. The updates reach the inbox; handling them cannot be committed
	// for a good while (today's three quick tries take 150 ms).
	fs.mode.Store(faultBatch)
	e.fake.SendCommand(a, "/satu")
	e.fake.SendCommand(a, "/dua")
	e.fake.SendCommand(b, "/tiga")
	sent := time.Now()
	for deadline := time.Now().Add(20 * time.Second); fs.failed.Load() < 10 || time.Since(sent) < 2*time.Second; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d injected failures in 20 s; want the updates tried again", fs.failed.Load())
		}
	}
	if n := len(e.fake.BotMessages(a.ID)) + len(e.fake.BotMessages(b.ID)); n != 0 {
		t.Fatalf("%d bot messages while nothing could be committed:\n%s", n, telegramtest.FormatTranscript(e.fake.Transcript(a.ID)))
	}
	fs.mode.Store(faultOff)
	msgs := messages(e.waitBot(a.ID, 2))
	if len(msgs) < 2 || !strings.Contains(msgs[0].Text, "/satu") || !strings.Contains(msgs[1].Text, "/dua") {
		t.Errorf("chat A after the disk freed:\n%s\nwant the answers to /satu then /dua", telegramtest.FormatTranscript(msgs))
	}
	if got := e.waitBot(b.ID, 1); !strings.Contains(got[0].Text, "/tiga") {
		t.Errorf("chat B after the disk freed: %s; want the answer to /tiga", got[0])
	}

	// 2. Nothing can be written: polling cannot store the update.
	fs.mode.Store(faultAll)
	failFrom := time.Now()
	e.fake.SendCommand(a, "/empat")
	body := waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, 20*time.Second)
	if d := time.Since(failFrom); d < time.Second {
		t.Errorf("unready after %v; want only after the 1 s threshold", d)
	}
	var st instanceStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Ready || !strings.Contains(st.Checks["storage"], "store writes failing") ||
		st.StorageFailingSeconds < 1 || st.Checks["telegram"] != "ok" {
		t.Errorf("/readyz while no write succeeds = %s; want the storage check failing", body)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while the disk is full; want 200", code)
	}
	if got := scrapeMetrics(t, cfg.HTTP)["bansosbot_store_write_errors_total"]; len(got) != 1 || got[0].value < 10 {
		t.Errorf("bansosbot_store_write_errors_total = %v; want the failures counted", got)
	}
	fs.mode.Store(faultOff)
	waitStatus(t, base+"/readyz", http.StatusOK, 20*time.Second)
	msgs = messages(e.waitBot(a.ID, 3))
	if !strings.Contains(msgs[2].Text, "/empat") {
		t.Errorf("chat A's third answer = %s; want the answer to /empat, given again by Telegram", msgs[2])
	}

	// Exactly once, nothing parked.
	waitStable(t, m.DB)
	if n, m := len(messages(e.fake.BotMessages(a.ID))), len(messages(e.fake.BotMessages(b.ID))); n != 3 || m != 1 {
		t.Errorf("%d and %d bot messages to A and B; want 3 and 1 (each update answered once)\n%s", n, m, telegramtest.FormatTranscript(e.fake.Transcript(a.ID)))
	}
	for _, en := range append(e.fake.BotMessages(a.ID), e.fake.BotMessages(b.ID)...) {
		if strings.Contains(en.Text, "ada gangguan") {
			t.Errorf("apology sent: %s", en)
		}
	}
	dead, err := m.DB.DeadLetters()
	if err != nil || len(dead) != 0 {
		t.Errorf("dead letters = %+v, %v; want none", dead, err)
	}
}
