package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// TestAnnounceCommands: list, show and cancel announcements from the
// command line; wrong numbers and a second cancel are refused clearly.
func TestAnnounceCommands(t *testing.T) {
	t.Parallel() // mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests
	data := filepath.Join(t.TempDir(), "data")
	env := envOf(map[string]string{"BANSOSBOT_SECRET": "announce-test-secret-0123456789", "BANSOSBOT_TZ": "Asia/Makassar", "BANSOSBOT_DATA": data})
	if _, err := cli(t, env, "staff", "add", "--id", "7", "--name", "Dewi", "--role", "supervisor", "--region", "32.01"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, env, "announce", "list")
	if err != nil || !strings.Contains(out, "(no announcements)") {
		t.Errorf("empty list: %v %q", err, out)
	}
	db, err := store.Open(filepath.Join(data, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		return tx.PutAnnouncement(&bansosbot.Announcement{ID: 1, Author: 7, Region: "32.01", Text: map[string]string{"id": "Pencairan PKH tahap 4 mulai Senin."},
			Status: bansosbot.AnnSending, CreatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), SendAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			Recipients: 10, Queued: 4, Sent: 3, Failed: 1})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, err = cli(t, env, "announce", "list")
	if err != nil || !strings.Contains(out, "sending") || !strings.Contains(out, "2026-12-01 08:00 WITA") {
		t.Errorf("list: %v %q; want the sending announcement, its time in WITA", err, out)
	}
	out, err = cli(t, env, "announce", "show", "1")
	if err != nil || !strings.Contains(out, "Pencairan PKH tahap 4") || !strings.Contains(out, "sent: 3") {
		t.Errorf("show: %v %q; want its text and figures", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"announce", "show", "2"}, "no announcement 2"},
		{[]string{"announce", "show", "x"}, "not an announcement number"},
		{[]string{"announce", "cancel"}, "needs one announcement number"},
		{[]string{"announce", "send"}, "unknown subcommand"},
	} {
		if out, err := cli(t, env, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v %q; want an error with %q", c.args, err, out, c.want)
		}
	}
	out, err = cli(t, env, "report", "--period", "2026-12")
	if err != nil || !strings.Contains(out, "## Pengumuman") || !strings.Contains(out, "| 1 | 32.01 | sending | 10 | 3 | 1 |") {
		t.Errorf("report: %v %q; want the announcement's figures", err, out)
	}
	out, err = cli(t, env, "report", "--period", "2026-11", "--format", "json")
	if err != nil || !strings.Contains(out, `"announcements": []`) {
		t.Errorf("report of November: %v %q; want no announcement (it was made in December)", err, out)
	}
	out, err = cli(t, env, "announce", "cancel", "1")
	if err != nil || !strings.Contains(out, "cancelled after 4 of 10") {
		t.Errorf("cancel: %v %q", err, out)
	}
	if out, err := cli(t, env, "announce", "cancel", "1"); err == nil || !strings.Contains(err.Error(), "cancelled already") {
		t.Errorf("second cancel: %v %q; want refused", err, out)
	}
	if out, err := cli(t, env, "announce", "-h"); err != nil || !strings.Contains(out, "announce list") {
		t.Errorf("announce -h: %v %q", err, out)
	}
}
