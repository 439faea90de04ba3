package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
)

// TestRegistryCommandsOnPostgres: on PostgreSQL the registry is in the
// database: an import through one machine's command line is what "registry
// stats" on another machine (its own data directory, the same database and
// secret) shows, and a rollback there is what the first sees; doctor finds
// the registry's key the configured one on both.
func TestRegistryCommandsOnPostgres(t *testing.T) {
	_, url := pgtest.Schema(t)
	dir := t.TempDir()
	env := envOf(map[string]string{"BANSOSBOT_DATABASE_URL": url, "BANSOSBOT_SECRET": "replicas-share-this-secret-0123"})
	a, b := []string{"-data", filepath.Join(dir, "a")}, []string{"-data", filepath.Join(dir, "b")}
	on := func(machine []string, args ...string) string {
		t.Helper()
		out, err := cli(t, env, append(append([]string{}, machine...), args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	csv := filepath.Join(dir, "reg.csv")
	on(a, "registry", "gen", "-n", "40", "-out", csv)
	on(a, "registry", "import", "-date", "2026-10-01", "-lang", "en", csv)
	if out := on(b, "registry", "stats", "-lang", "en"); !strings.Contains(out, "data as of 2026-10-01") || !strings.Contains(out, "People: 40") {
		t.Errorf("stats on b after a's import:\n%s", out)
	}
	on(a, "registry", "import", "-date", "2026-11-01", "-lang", "en", csv)
	out := on(b, "registry", "stats", "-lang", "en")
	if !strings.Contains(out, "data as of 2026-11-01") || !strings.Contains(out, "Previous snapshot 1 (data as of 2026-10-01, 40 people)") {
		t.Errorf("stats on b after a's second import:\n%s", out)
	}
	on(b, "registry", "rollback", "-lang", "en")
	if out := on(a, "registry", "stats", "-lang", "en"); !strings.Contains(out, "data as of 2026-10-01") {
		t.Errorf("stats on a after b's rollback:\n%s", out)
	}
	for _, m := range [][]string{a, b} {
		out, _ := cli(t, env, append(append([]string{}, m...), "doctor")...)
		if strings.Contains(out, "the registry was imported under another secret") {
			t.Errorf("doctor on %s says the registry's key differs:\n%s", m[1], out)
		}
	}
}
