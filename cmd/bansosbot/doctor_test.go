package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
)

// seedStaffing stores open tickets in 32.01.01 (two) and 33.01.01 (one),
// a closed one in 34.01, and a worker covering 32.01 only.
func seedStaffing(t *testing.T, cfg Config) {
	t.Helper()
	db, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *store.Tx) error {
		for _, tk := range []bansosbot.Ticket{
			{Region: "32.01.01", Status: bansosbot.StatusNew},
			{Region: "32.01.01", Status: bansosbot.StatusInProgress},
			{Region: "33.01.01", Status: bansosbot.StatusNew},
			{Region: "34.01.01", Status: bansosbot.StatusClosed},
		} {
			seq, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			tk.ID, tk.No, tk.Category, tk.CreatedAt = seq, bansosbot.NewTicketNo(seq, cfg.key("ticket-number")), "OTHER", time.Now()
			if err := tx.PutTicket(&tk); err != nil {
				return err
			}
		}
		return tx.PutStaff(&bansosbot.Staff{UserID: 601, Name: "Sari", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01"}, Active: true})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDoctorWarnsAboutStaffing: no admin anywhere, and a region with open
// tickets that no worker or supervisor covers (issue 12 item 9).
func TestDoctorWarnsAboutStaffing(t *testing.T) {
	fake := telegramtest.NewServer(testToken)
	defer fake.Close()
	data := filepath.Join(t.TempDir(), "data")
	cfg := Config{DataDir: data, Secret: "doctor-secret-0123456789abcdef"}
	seedStaffing(t, cfg)
	vars := map[string]string{"BANSOSBOT_TOKEN": testToken, "BANSOSBOT_API_URL": fake.URL(), "BANSOSBOT_DATA": data,
		"BANSOSBOT_SECRET": cfg.Secret, "BANSOSBOT_HTTP": "127.0.0.1:0"}
	out, _ := cli(t, envOf(vars), "doctor")
	for _, want := range []string{"WARN  no admin", "BANSOSBOT_ADMINS", "33.01.01", "1 open ticket",
		"1 open ticket reaches no one"} { // 33.01.01: no staff at any level, no admin (issue 12 item 10)
		if !strings.Contains(out, want) {
			t.Errorf("doctor lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"32.01.01 (", "34.01"} {
		if strings.Contains(out, not) {
			t.Errorf("doctor warns about %q, which is staffed or has no open ticket:\n%s", not, out)
		}
	}
	vars["BANSOSBOT_ADMINS"] = "11111111"
	if out, _ := cli(t, envOf(vars), "doctor"); strings.Contains(out, "no admin") || strings.Contains(out, "reaches no one") {
		t.Errorf("doctor warns about admins with BANSOSBOT_ADMINS set:\n%s", out)
	}
}

// TestDoctorAsksTheRunningBot: run as an operator without the service's
// environment (no BANSOSBOT_HTTP, no BANSOSBOT_ADMINS, no secret), doctor
// takes monitoring, backups, admins and the secret from the running bot
// and does not warn about them (issue 12 item 9).
func TestDoctorAsksTheRunningBot(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	cfg.HTTP = freePort(t)
	cfg.Admins = []int64{11111111}
	cfg.BackupCron, cfg.Retention = "30 2 * * *", "365d"
	cfg.Controller, cfg.ControllerAddress, cfg.ControllerContact = "Dinas Sosial Kabupaten Bogor", "Cibinong", "0251-000000"
	m := e.start(cfg)
	defer m.Close()
	vars := map[string]string{"BANSOSBOT_TOKEN": testToken, "BANSOSBOT_API_URL": e.fake.URL(), "BANSOSBOT_DATA": e.dir, "BANSOSBOT_BACKUP_CRON": "off"}
	out, err := cli(t, envOf(vars), "doctor")
	if err != nil {
		t.Errorf("doctor: %v", err)
	}
	for _, not := range []string{"no monitoring listener", "no admin", "scheduled backups are off", "no secret", "privacy notice gives"} {
		if strings.Contains(out, not) {
			t.Errorf("doctor warns %q although the running bot has it:\n%s", not, out)
		}
	}
	if want := fmt.Sprintf("monitoring on %s", cfg.HTTP); !strings.Contains(out, want) {
		t.Errorf("doctor lacks %q:\n%s", want, out)
	}
}

// TestReadyzShowsUnroutedTickets: /readyz details the open tickets that
// reach no one, without failing readiness (issue 12 item 10).
func TestReadyzShowsUnroutedTickets(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	cfg.HTTP = freePort(t)
	seedStaffing(t, cfg)
	m := e.start(cfg)
	defer m.Close()
	code, body := httpGet(t, "http://"+cfg.HTTP+"/readyz")
	var st instanceStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/readyz %d %q: %v", code, body, err)
	}
	if st.Unrouted != 1 || !strings.Contains(st.Checks["routing"], "1 open ticket reaches no one") {
		t.Errorf("/readyz = %s; want checks.routing naming 1 unrouted ticket", body)
	}
	if code != 200 || !st.Ready {
		t.Errorf("/readyz = %d %s; want ready (unrouted tickets are reported, not a readiness failure)", code, body)
	}
}

// TestDoctorPlurals: doctor counts its findings in words that agree with
// the numbers ("1 problem, 6 warnings", not "1 problem(s)"), from the
// catalog in both languages (QA of issue 12 item 9).
func TestDoctorPlurals(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, err := cli(t, envOf(map[string]string{"BANSOSBOT_DATA": data}), "doctor") // no token: one problem
	if err == nil || err.Error() != "doctor found 1 problem" {
		t.Errorf("doctor without a token: %v; want \"doctor found 1 problem\"", err)
	}
	m := regexp.MustCompile(`\n1 problem, (\d+) (warnings?)\n$`).FindStringSubmatch(out)
	if m == nil || (m[1] == "1") != (m[2] == "warning") {
		t.Errorf("doctor's last line does not count in words that agree (want \"1 problem, N warnings\"):\n%s", out)
	}
	if strings.Contains(out, "(s)") {
		t.Errorf("doctor prints \"(s)\":\n%s", out)
	}
	cat := locales.MustDefault()
	for _, c := range []struct {
		lang, key string
		n         int
		want      string
	}{
		{"en", "ops.doctor.problems", 1, "1 problem"},
		{"en", "ops.doctor.problems", 2, "2 problems"},
		{"en", "ops.doctor.warnings", 1, "1 warning"},
		{"en", "ops.doctor.warnings", 0, "0 warnings"},
		{"id", "ops.doctor.problems", 1, "1 masalah"},
		{"id", "ops.doctor.warnings", 3, "3 peringatan"},
	} {
		if got := cat.Text(c.lang, c.key, map[string]any{"Count": c.n}); got != c.want {
			t.Errorf("%s %s (%d) = %q; want %q", c.lang, c.key, c.n, got, c.want)
		}
	}
	if got := cat.Text("id", "ops.doctor.found", map[string]any{"Problems": "2 masalah"}); got != "doctor menemukan 2 masalah" {
		t.Errorf("id ops.doctor.found = %q", got)
	}
}

// TestDoctorWarnsAboutTheController: while the privacy notice names the
// data controller by the bare default, or without its address or contact,
// doctor warns and names the variables to set (UU PDP).
func TestDoctorWarnsAboutTheController(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{"BANSOSBOT_DATA": data}
	out, _ := cli(t, envOf(vars), "doctor")
	for _, want := range []string{`WARN  the privacy notice gives only "Dinas Sosial" as the controller (BANSOSBOT_CONTROLLER is unset), no address (BANSOSBOT_CONTROLLER_ADDRESS), no contact (BANSOSBOT_CONTROLLER_CONTACT)`,
		"fix: UU PDP", `set BANSOSBOT_CONTROLLER (your office`} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor with the default controller lacks %q:\n%s", want, out)
		}
	}
	vars["BANSOSBOT_CONTROLLER"], vars["BANSOSBOT_CONTROLLER_CONTACT"] = "Dinas Sosial Kabupaten Bogor", "0251-000000"
	out, _ = cli(t, envOf(vars), "doctor")
	if !strings.Contains(out, "WARN  the privacy notice gives no address (BANSOSBOT_CONTROLLER_ADDRESS)\n") ||
		strings.Contains(out, "Dinas Sosial\" as the controller") || strings.Contains(out, "no contact") {
		t.Errorf("doctor with a controller and contact but no address: want a warning about the address only:\n%s", out)
	}
	vars["BANSOSBOT_CONTROLLER_ADDRESS"] = "Jl. Contoh 1, Cibinong"
	out, _ = cli(t, envOf(vars), "doctor")
	if strings.Contains(out, "privacy notice gives") ||
		!strings.Contains(out, "ok    the privacy notice names the data controller: Dinas Sosial Kabupaten Bogor, Jl. Contoh 1, Cibinong, 0251-000000") {
		t.Errorf("doctor with the controller named in full:\n%s", out)
	}
}
