package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStartupWarnsOfIncompleteCalendar: from 60 days before a year whose
// calendar is incomplete (2027: estimated Islamic holidays, no cuti
// bersama), the start-up log says so; in June 2026 it does not.
func TestStartupWarnsOfIncompleteCalendar(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	for _, tt := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC), false},
	} {
		e := newE2E(t)
		cfg := e.config()
		var logs bytes.Buffer
		m := NewMain(cfg, &syncWriter{w: &logs})
		m.Now = func() time.Time { return tt.now }
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		m.Close()
		got := logs.String()
		warned := strings.Contains(got, "business calendar incomplete") && strings.Contains(got, "year=2027") &&
			strings.Contains(got, "no cuti bersama")
		if warned != tt.want {
			t.Errorf("start on %s: warned %v; want %v. Log:\n%s", tt.now.Format(time.DateOnly), warned, tt.want, got)
		}
	}
}

// TestDoctorWarnsOfIncompleteCalendar: a calendar file without this
// year's dates gets a doctor warning naming the year (not a failure).
func TestDoctorWarnsOfIncompleteCalendar(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	os.Mkdir(data, 0o700)
	os.WriteFile(filepath.Join(data, "secret"), []byte("doctor-secret-0123456789abcdef\n"), 0o600)
	cal := filepath.Join(t.TempDir(), "calendar.json")
	os.WriteFile(cal, []byte(`{"holidays": [{"date": "2020-01-01", "name": "Tahun Baru 2020"}]}`), 0o600)
	vars := map[string]string{"BANSOSBOT_TOKEN": testToken, "BANSOSBOT_DATA": data, "BANSOSBOT_CALENDAR": cal, "BANSOSBOT_API_URL": "http://127.0.0.1:1"}
	out, _ := cli(t, func(k string) string { return vars[k] }, "doctor")
	year := time.Now().Year()
	if want := fmt.Sprintf("WARN  business calendar incomplete for %d: no holidays at all", year); !strings.Contains(out, want) {
		t.Errorf("doctor output lacks %q:\n%s", want, out)
	}
}
