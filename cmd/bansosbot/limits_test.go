package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/flows"
)

// TestLimitOptions: BANSOSBOT_FILINGS_PER_DAY sets the daily filing cap
// (default 10, 0 disables) and leaves the other limits at their defaults;
// anything but a number of complaints is refused at start.
func TestLimitOptions(t *testing.T) {
	for _, c := range []struct {
		env  string
		want int    // the engine's FilingsPerDay
		err  string // "" for valid
	}{
		{"", 10, ""},
		{"3", 3, ""},
		{"0", 0, ""},
		{"-1", 0, "BANSOSBOT_FILINGS_PER_DAY"},
		{"ten", 0, "BANSOSBOT_FILINGS_PER_DAY"},
	} {
		cfg, _, err := LoadConfig("bansosbot", nil, func(k string) string {
			if k == "BANSOSBOT_FILINGS_PER_DAY" {
				return c.env
			}
			return ""
		}, io.Discard)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v; want an error about %s", c.env, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.env, err)
			continue
		}
		want := flows.DefaultLimits()
		want.FilingsPerDay = c.want
		if got := cfg.limits(); got != want {
			t.Errorf("%q: limits %+v; want %+v", c.env, got, want)
		}
	}
}

// TestAnnounceApprovalOption: BANSOSBOT_ANNOUNCE_APPROVAL reaches the
// engine's four-eyes threshold (default 1,000); anything but a positive
// number of recipients is refused at start.
func TestAnnounceApprovalOption(t *testing.T) {
	for _, c := range []struct {
		env  string
		want int // the engine's AnnounceApprovalOver
		err  bool
	}{
		{"", flows.AnnounceApprovalOver, false},
		{"250", 250, false},
		{"0", 0, true},
		{"-5", 0, true},
		{"seribu", 0, true},
	} {
		cfg, _, err := LoadConfig("bansosbot", nil, func(k string) string {
			if k == "BANSOSBOT_ANNOUNCE_APPROVAL" {
				return c.env
			}
			return ""
		}, io.Discard)
		if c.err {
			if err == nil || !strings.Contains(err.Error(), "BANSOSBOT_ANNOUNCE_APPROVAL") {
				t.Errorf("%q: %v; want an error about BANSOSBOT_ANNOUNCE_APPROVAL", c.env, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.env, err)
		}
		m := &Main{Config: cfg, Log: slog.New(slog.DiscardHandler)}
		fc, err := m.engineConfig()
		if err != nil {
			t.Fatal(err)
		}
		if got := flows.NewEngine(fc).Config().AnnounceApprovalOver; got != c.want {
			t.Errorf("%q: threshold %d; want %d", c.env, got, c.want)
		}
	}
}
