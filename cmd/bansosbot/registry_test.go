package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestRegistryCommands(t *testing.T) {
	dir := t.TempDir()
	data, csv := filepath.Join(dir, "data"), filepath.Join(dir, "reg.csv")
	out, _, err := runCLI(t, "-data", data, "registry", "gen", "-n", "500", "-seed", "3", "-out", csv)
	if err != nil || !strings.Contains(out, "Try /cek with:") {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	nik := strings.Fields(out[strings.Index(out, "NIK "):])[1]

	out, errOut, err := runCLI(t, "-data", data, "registry", "import", "-date", "2026-10-01", csv)
	if err != nil || !strings.Contains(out, "Imported 500 people from reg.csv (data as of 2026-10-01)") {
		t.Fatalf("import: %v\n%s\n%s", err, out, errOut)
	}
	out, _, err = runCLI(t, "-data", data, "registry", "stats")
	if err != nil || !strings.Contains(out, "People: 500") || !strings.Contains(out, "32 Jawa Barat") || !strings.Contains(out, "PBI-JK") {
		t.Fatalf("stats: %v\n%s", err, out)
	}

	// A file with bad rows: each is listed with its line, nothing changes.
	raw, _ := os.ReadFile(csv)
	lines := strings.Split(string(raw), "\n")
	lines[3] = "123" + lines[3][16:]
	lines[7] = lines[2]
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	_, errOut, err = runCLI(t, "-data", data, "registry", "import", bad)
	if err == nil || !strings.Contains(err.Error(), "2 bad rows") ||
		!strings.Contains(errOut, "line 4: A NIK has 16 digits; you typed 3.") || !strings.Contains(errOut, "line 8: The same NIK is already on line 3.") {
		t.Errorf("bad import: %v\n%s", err, errOut)
	}

	db, err := store.Open(filepath.Join(data, "bansosbot.db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := Config{DataDir: data}
	if err := cfg.ensureSecret(); err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *store.Tx) error {
		s, r, err := tx.RegistryLookup(bansosbot.HashNIK(cfg.key("nik"), bansosbot.NIK(nik)))
		if err != nil || s == nil || s.Stats.Rows != 0 || r == nil {
			t.Errorf("lookup with the bot's NIK key: %v, %v, %v; want the sample found", s, r, err)
		}
		return nil
	})
}
