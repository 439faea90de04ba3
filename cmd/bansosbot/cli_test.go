package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// TestSubcommandHelp: every subcommand answers -h, --help and help with
// its usage, flags and defaults, exits 0, and does not run (no data
// directory is needed or created) (issue 12 item 8).
func TestSubcommandHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string // in the help text
	}{
		{[]string{"registry", "stats", "--help"}, []string{"registry stats", "-lang", `(default "id")`}},
		{[]string{"registry", "import", "-h"}, []string{"-date", "-max-errors", "-programs"}},
		{[]string{"registry", "gen", "--help"}, []string{"-seed", "(default 1)"}},
		{[]string{"registry", "help"}, []string{"registry import", "registry stats"}},
		{[]string{"staff", "add", "-h"}, []string{"-update", "-region", "-role"}},
		{[]string{"staff", "invite", "--help"}, []string{"-ttl", "(default 72h0m0s)"}},
		{[]string{"staff", "help"}, []string{"staff revoke"}},
		{[]string{"staff", "list", "-h"}, []string{"staff list"}},
		{[]string{"report", "--help"}, []string{"-period", "-format", `(default "md")`, "-lang", `(default "id")`, "--out FILE writes"}},
		{[]string{"tickets", "export", "-h"}, []string{"-format", "-since", "--out FILE writes", "control.sock"}},
		{[]string{"tickets", "help"}, []string{"tickets export"}},
		{[]string{"audit", "-h"}, []string{"-ticket", "-staff"}},
		{[]string{"backup", "--help"}, []string{"-force"}},
		{[]string{"restore", "-h"}, []string{"-secret-file"}},
		{[]string{"demo", "--help"}, []string{"-dir", "-as", `(default "citizen")`}},
		{[]string{"doctor", "-h"}, []string{"bansosbot doctor"}},
		{[]string{"region", "--help"}, []string{"region find"}},
		{[]string{"help", "report"}, []string{"-period"}},
		{[]string{"run", "-h"}, []string{"BANSOSBOT_TOKEN", `(default "./data")`, `(default "Asia/Jakarta")`}},
		{[]string{"run", "--help"}, []string{"-webhook-url", `(default "127.0.0.1:8443")`}},
		{[]string{"help", "run"}, []string{"-token", `(default "30 2 * * *")`}},
		{[]string{"help"}, []string{"-data", `(default "./data")`, `(default "365d")`}},
		{[]string{"-h"}, []string{"-api-url", `(default "https://api.telegram.org")`}},
		{[]string{"health", "-h"}, []string{"-ready"}},
		{[]string{"rotate-secret", "--help"}, []string{"-new", "-registry", "-date", "-lang"}},
		{[]string{"migrate-store", "-h"}, []string{"-from", "-to", "empty"}},
		{[]string{"announce", "help"}, []string{"announce list"}},
		{[]string{"announce", "cancel", "-h"}, []string{"announce list"}},
		{[]string{"staff", "revoke", "--help"}, []string{"staff revoke"}},
		{[]string{"registry", "rollback", "-h"}, []string{"registry rollback"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			out, err := cli(t, envOf(nil), append([]string{"-data", data}, tt.args...)...)
			if err != nil {
				t.Fatalf("err = %v; want help and exit 0\n%s", err, out)
			}
			for _, w := range append(tt.want, "Usage") {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			for _, ran := range []string{"No registry imported", "Belum ada registri", "no bansosbot data", "created a new"} {
				if strings.Contains(out, ran) {
					t.Errorf("the command ran (%q):\n%s", ran, out)
				}
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("help created the data directory (%v)", err)
			}
		})
	}
}

// TestNoTokenMessage: without a token the message is said once and names
// the demo command of a built binary (issue 12 item 8).
func TestNoTokenMessage(t *testing.T) {
	for _, c := range []struct{ exe, argv0, want, not string }{
		{"/usr/local/bin/bansosbot", "bansosbot", "bansosbot demo", "go run"},
		{"/home/op/bansosbot", "./bansosbot", "./bansosbot demo", "go run"},
		{"/tmp/go-build123/b001/exe/bansosbot", "/tmp/go-build123/b001/exe/bansosbot", "go run ./cmd/bansosbot demo", ""},
	} {
		self = func() (string, string) { return c.exe, c.argv0 }
		out, err := cli(t, envOf(nil), "-data", t.TempDir())
		self = selfDefault
		all := out
		if err != nil {
			all += "bansosbot: " + err.Error()
		}
		if err == nil || strings.Count(all, "token") != 2 || !strings.Contains(all, "BANSOSBOT_TOKEN") {
			t.Errorf("%s: %q; want one message naming BANSOSBOT_TOKEN", c.exe, all)
		}
		if !strings.Contains(all, c.want) || c.not != "" && strings.Contains(all, c.not) {
			t.Errorf("%s: %q; want %q, not %q", c.exe, all, c.want, c.not)
		}
	}
}

// TestReportAndExportRefuseBadInput: unknown regions and future periods
// are refused, not answered with an empty table (issue 12 item 8).
func TestReportAndExportRefuseBadInput(t *testing.T) {
	dir := exportFixture(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--period", "2026-11", "--region", "99.99"}, "unknown region"},
		{[]string{"report", "--period", "2026-11", "--region", "32.99"}, "unknown region"},
		{[]string{"report", "--period", "2099-01"}, "future"},
		{[]string{"tickets", "export", "--format", "csv", "--region", "99"}, "unknown region"},
		{[]string{"tickets", "export", "--format", "csv", "--since", "2099-01-01"}, "future"},
	} {
		out, err := cli(t, noEnv, append([]string{"-data", dir}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v %q; want an error with %q", c.args, err, out, c.want)
		}
	}
}

// TestReportAndExportTakeRegionNames: --region of report and tickets
// export takes a code or a name, as staff add does, with the same error
// on an unknown or ambiguous name (QA of issue 12 item 8).
func TestReportAndExportTakeRegionNames(t *testing.T) {
	// Mostly waits (fsyncs, timers, the fake): overlaps with the other parallel tests.
	t.Parallel()
	dir := exportFixture(t) // tickets in 32.01.01, 32.71.01 and 33.01.01
	out, err := cli(t, noEnv, "-data", dir, "report", "--period", "2026-11", "--region", "kab bogor")
	if err != nil || !strings.Contains(out, "Kabupaten Bogor") || strings.Contains(out, "Kota Bogor") {
		t.Errorf("report --region \"kab bogor\": %v\n%s; want the report of 32.01 Kabupaten Bogor", err, out)
	}
	out, err = cli(t, noEnv, "-data", dir, "tickets", "export", "--format", "csv", "--region", "Kabupaten Bogor")
	if err != nil || !strings.Contains(out, "32.01.01") || strings.Contains(out, "32.71.01") || strings.Contains(out, "33.01.01") {
		t.Errorf("tickets export --region \"Kabupaten Bogor\": %v\n%s; want the ticket of 32.01.01 only", err, out)
	}
	if _, err := cli(t, noEnv, "-data", dir, "tickets", "export", "--format", "csv", "--region", "nasional"); err != nil {
		t.Errorf("tickets export --region nasional: %v; want every ticket, as staff add reads nasional", err)
	}
	for _, cmd := range [][]string{{"report", "--period", "2026-11"}, {"tickets", "export", "--format", "csv"}} {
		for _, c := range []struct{ region, want string }{
			{"bogor", "fits several regions; give the code:\n  32.01     Kabupaten Bogor"},
			{"atlantis", `--region "atlantis": neither a region code (32, 32.01, 32.01.05) nor a known name (bansosbot region find NAME)`},
			{"32.01,32.71", "one region only"},
			{"32.99", "unknown region"},
		} {
			args := append(append([]string{"-data", dir}, cmd...), "--region", c.region)
			out, err := cli(t, noEnv, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: %v %q; want an error with %q", args[2:], err, out, c.want)
			}
		}
	}
	// The same words as staff add gives for the same name.
	_, errReport := cli(t, noEnv, "-data", dir, "report", "--period", "2026-11", "--region", "bogor")
	_, errStaff := cli(t, noEnv, "-data", dir, "staff", "add", "--id", "5", "--name", "Sari", "--role", "worker", "--region", "bogor")
	if errReport == nil || errStaff == nil || strings.TrimPrefix(errReport.Error(), "report: ") != strings.TrimPrefix(errStaff.Error(), "staff add: ") {
		t.Errorf("report and staff add differ on an ambiguous name:\n%v\n%v", errReport, errStaff)
	}
}

// TestCLITimesInTimeZone: the invitation's expiry and the audit log are
// printed in BANSOSBOT_TZ (issue 12 item 8).
func TestCLITimesInTimeZone(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := envOf(map[string]string{"BANSOSBOT_SECRET": "tz-test-secret-0123456789", "BANSOSBOT_TZ": "Asia/Jayapura", "BANSOSBOT_DATA": data})
	if _, err := cli(t, env, "staff", "add", "--id", "5", "--name", "Sari", "--role", "worker", "--region", "32.01"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, env, "staff", "invite", "--role", "worker", "--region", "32.01")
	if err != nil || !strings.Contains(out, " WIT") || strings.Contains(out, "Z.") {
		t.Errorf("invite: %v %q; want the expiry in WIT", err, out)
	}
	db, err := store.Open(filepath.Join(data, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *store.Tx) error {
		return tx.AppendAudit(&bansosbot.AuditEntry{At: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), Actor: 5, Role: "worker", Action: bansosbot.AuditQueue, Allowed: true})
	})
	db.Close()
	out, err = cli(t, env, "audit", "--staff", "5")
	if err != nil || !strings.Contains(out, "2026-11-26 12:00:00 WIT") {
		t.Errorf("audit: %v %q; want times in WIT", err, out)
	}
}

// TestReportSpeaksIndonesian: the report is in Indonesian by default with
// category names, in English with --lang en (issue 12 item 8).
func TestReportSpeaksIndonesian(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	seedFixture(t, cfg)
	env := secretEnv(cfg)
	out, err := cli(t, env, "-data", e.dir, "report", "--period", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Pengaduan", "Bantuan belum/tidak diterima", "Diterima", "Selesai", "| **Total** | semua | 6 | 4 | 6,5 | 19,0 | 75% dari 4 |"} {
		if !strings.Contains(out, w) {
			t.Errorf("Indonesian report lacks %q:\n%s", w, out)
		}
	}
	for _, code := range []string{"PAYMENT_NOT_RECEIVED", "Complaints", "report."} {
		if strings.Contains(out, code) {
			t.Errorf("Indonesian report has %q:\n%s", code, out)
		}
	}
	out, err = cli(t, env, "-data", e.dir, "report", "--period", "2026-11", "--lang", "en")
	if err != nil || !strings.Contains(out, "Complaints") || !strings.Contains(out, "Aid not received") || strings.Contains(out, "PAYMENT_NOT_RECEIVED") {
		t.Errorf("English report: %v\n%s", err, out)
	}
	out, err = cli(t, env, "-data", e.dir, "report", "--period", "2026-11", "--format", "csv")
	if err != nil || !strings.Contains(out, "category_name") || !strings.Contains(out, "Bantuan belum/tidak diterima") {
		t.Errorf("csv report: %v\n%s; want a category_name column", err, out)
	}
}
