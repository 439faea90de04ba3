package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataCommandsRefuseMissingData: a data command with a wrong or unset
// BANSOSBOT_DATA refuses with the path and a non-zero exit, and creates
// neither a database nor a secret (issue 12 item 1).
func TestDataCommandsRefuseMissingData(t *testing.T) {
	commands := [][]string{
		{"tickets", "export", "--format", "csv"},
		{"report", "--period", "2026-01"},
		{"staff", "list"},
		{"staff", "invite", "--role", "worker", "--region", "32.01"},
		{"staff", "remove", "--id", "5"},
		{"registry", "stats"},
		{"audit", "--staff", "1"},
		{"announce", "list"},
		{"backup", "copy.db"},
		{"registry", "rollback"},
		{"doctor", "--recount"},
		{"migrate-store", "--to", "postgres://bansosbot@127.0.0.1:1/bansosbot?sslmode=disable"},
	}
	for _, args := range commands {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			for _, where := range []string{"missing", "empty"} {
				dir := t.TempDir()
				data := filepath.Join(dir, "data")
				if where == "empty" {
					os.Mkdir(data, 0o700)
				}
				args := append([]string{"-data", data}, args...)
				if args[2] == "backup" {
					args[3] = filepath.Join(dir, "copy.db")
				}
				out, err := cli(t, envOf(nil), args...)
				want := "no bansosbot data at " + data + " (set BANSOSBOT_DATA)"
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s dir: err = %v (output %q); want %q", where, err, out, want)
				}
				for _, f := range []string{"bansosbot.db", "secret"} {
					if _, err := os.Stat(filepath.Join(data, f)); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s dir: %s was created (%v)", where, f, err)
					}
				}
			}
		})
	}
}

// TestUnsetDataDirIsNamed: with BANSOSBOT_DATA unset the default ./data is
// named by its absolute path.
func TestUnsetDataDirIsNamed(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, err := cli(t, envOf(nil), "staff", "list")
	want := "no bansosbot data at " + filepath.Join(dir, "data") + " (set BANSOSBOT_DATA)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v; want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("./data was created (%v)", err)
	}
}

// TestCreatingCommandsSaySo: staff add and registry import may start a new
// data directory, and say so.
func TestCreatingCommandsSaySo(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, err := cli(t, envOf(nil), "-data", data, "staff", "add", "--id", "601", "--name", "Sari", "--role", "worker", "--region", "32.01")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "created a new bansosbot data directory at "+data) {
		t.Errorf("staff add into a missing directory: %q; want it to say it created one", out)
	}
	if _, err := os.Stat(filepath.Join(data, "secret")); err != nil {
		t.Errorf("no secret generated: %v", err)
	}
	out, err = cli(t, envOf(nil), "-data", data, "staff", "list")
	if err != nil || strings.Contains(out, "created") || !strings.Contains(out, "Sari") {
		t.Errorf("staff list on the new directory: %v %q", err, out)
	}

	csv := filepath.Join(dir, "reg.csv")
	if _, err := cli(t, envOf(nil), "registry", "gen", "-n", "20", "-out", csv); err != nil {
		t.Fatal(err)
	}
	data2 := filepath.Join(dir, "data2")
	out, err = cli(t, envOf(nil), "-data", data2, "registry", "import", "-date", "2026-10-01", csv)
	if err != nil || !strings.Contains(out, "created a new bansosbot data directory at "+data2) {
		t.Errorf("registry import into a missing directory: %v %q; want it to say it created one", err, out)
	}
}

// TestBackupAndOutFiles: backup refuses to overwrite a file without
// --force, and a missing folder is named, without temporary file names,
// whether the bot runs or not (issue 12 item 3).
func TestBackupAndOutFiles(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	env := secretEnv(cfg)
	m := e.start(cfg)
	m.Close()
	for _, running := range []bool{false, true} {
		if running {
			m = e.start(cfg)
		}
		dir := t.TempDir()
		existing := filepath.Join(dir, "copy.db")
		os.WriteFile(existing, []byte("keep me"), 0o600)
		out, err := cli(t, env, "-data", e.dir, "backup", existing)
		if err == nil || !strings.Contains(err.Error(), existing+" exists") || !strings.Contains(err.Error(), "--force") {
			t.Errorf("running=%v: backup over a file: %v %s; want a refusal naming --force", running, err, out)
		}
		if raw, _ := os.ReadFile(existing); string(raw) != "keep me" {
			t.Errorf("running=%v: the existing file was overwritten", running)
		}
		if out, err := cli(t, env, "-data", e.dir, "backup", "--force", existing); err != nil || !strings.Contains(out, "backup written to "+existing) {
			t.Errorf("running=%v: backup --force: %v %s", running, err, out)
		}
		if out, err := cli(t, env, "-data", e.dir, "backup", existing, "--force"); err != nil || !strings.Contains(out, "backup written to "+existing) {
			t.Errorf("running=%v: backup FILE --force: %v %s", running, err, out)
		}
		missing := filepath.Join(dir, "nope")
		for _, args := range [][]string{{"backup", filepath.Join(missing, "copy.db")}, {"staff", "list", "--out", filepath.Join(missing, "staff.txt")}} {
			out, err := cli(t, env, append([]string{"-data", e.dir}, args...)...)
			if err == nil || !strings.Contains(err.Error(), "folder "+missing+" does not exist") || strings.Contains(err.Error(), ".backup-") || strings.Contains(err.Error(), ".out-") {
				t.Errorf("running=%v: %v into a missing folder: %v %s; want the folder named", running, args[0], err, out)
			}
		}
		if running {
			m.Close()
		}
	}
}
