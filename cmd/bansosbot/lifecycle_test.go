package main

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/clock/clocktest"
	"github.com/robfig/cron/v3"
)

// soon is a cron schedule that fires once, a millisecond after it is
// added.
type soon struct{ fired atomic.Bool }

func (s *soon) Next(t time.Time) time.Time {
	if s.fired.Swap(true) {
		return t.AddDate(100, 0, 0)
	}
	return t.Add(time.Millisecond)
}

// TestCloseStopsRunningJobs: a job that runs until its context ends (a
// long backup or escalation run) does not hold Close: Close cancels it
// and returns.
func TestCloseStopsRunningJobs(t *testing.T) {
	e := newE2E(t)
	m := e.start(e.config())
	started, ended := make(chan struct{}), make(chan error, 1)
	m.cron.Schedule(&soon{}, cron.FuncJob(m.job("blocking", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	})))
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the job never started")
	}
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(20 * time.Second): // the job's own limit is 10 minutes
		t.Fatal("Close still waits for a running job; want the job cancelled")
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("the job's context ended with %v; want it cancelled by Close", err)
	}
}

// TestFailedOpenClosesWhatItStarted: Open fails at each listener it
// starts after the store (the webhook inside the bot, the monitoring
// listener, the dashboard) because the address is taken. Each time the
// pipeline it had started is stopped (no timer left on its clock, nobody
// polling Telegram) and the store is closed: an Open on the same data
// directory then succeeds.
func TestFailedOpenClosesWhatItStarted(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().String()
	for _, tc := range []struct {
		name  string
		setup func(*Config)
		want  string
	}{
		{"webhook", func(c *Config) { c.WebhookURL, c.WebhookListen = "https://bot.example/hook", busy }, "webhook listen"},
		{"monitoring", func(c *Config) { c.HTTP = busy }, busy},
		{"dashboard", func(c *Config) { c.Web = busy }, "BANSOSBOT_WEB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t)
			clk := clocktest.New(time.Now())
			cfg := e.config()
			tc.setup(&cfg)
			m := NewMain(cfg, testWriter{t})
			m.Clock = clk
			err := m.Open(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				m.Close()
				t.Fatalf("Open with %s on a taken address: err = %v; want one naming %q", tc.name, err, tc.want)
			}
			if timers := clk.Timers(); len(timers) != 0 {
				t.Errorf("after the failed Open the pipeline still waits on %d timers; want it stopped", len(timers))
			}
			ctx := ctxTimeout(t, 10*time.Second)
			if err := e.fake.WaitFor(ctx, func(st *telegramtest.State) bool { return st.Polling() == 0 }); err != nil {
				t.Errorf("someone still polls Telegram after the failed Open: %v", err)
			}
			if err := m.Close(); err != nil {
				t.Errorf("Close after a failed Open: %v", err)
			}
			again := NewMain(e.config(), io.Discard)
			if err := again.Open(context.Background()); err != nil {
				t.Fatalf("Open after a failed Open on the same data directory: %v", err)
			}
			if err := again.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}
