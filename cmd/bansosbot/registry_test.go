package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
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

	out, errOut, err := runCLI(t, "-data", data, "registry", "import", "-lang", "en", "-date", "2026-10-01", csv)
	if err != nil || !strings.Contains(out, "Imported 500 people from reg.csv (data as of 2026-10-01)") {
		t.Fatalf("import: %v\n%s\n%s", err, out, errOut)
	}
	// stats speaks the CLI's language as import does: Indonesian by
	// default, English with -lang en (QA of issue 12 item 5).
	out, _, err = runCLI(t, "-data", data, "registry", "stats")
	if err != nil || !strings.Contains(out, "Jumlah orang: 500") || !strings.Contains(out, "32 Jawa Barat") || !strings.Contains(out, "PBI-JK") {
		t.Fatalf("stats: %v\n%s", err, out)
	}
	for _, want := range []string{"Snapshot 1: data per 2026-10-01, diimpor ", " dari reg.csv\n", "Desil    Orang  Persen\n",
		"Program      Penerima  Persen  Sasaran (hanya info)\n", "Provinsi (menurut NIK)", "desil 1-4", "%\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats (id) lacks %q:\n%s", want, out)
		}
	}
	if m := regexp.MustCompile(`(?m)^tanpa +\d+ +\d+,\d%$`).FindString(out); m == "" {
		t.Errorf("stats (id): want the row of people without a decile as \"tanpa N P,P%%\" (decimal comma):\n%s", out)
	}
	for _, en := range []string{"People", "Share", "Receiving", "Province", "imported", "none", "data as of"} {
		if strings.Contains(out, en) {
			t.Errorf("stats (id) has the English %q:\n%s", en, out)
		}
	}
	out, _, err = runCLI(t, "-data", data, "registry", "stats", "-lang", "en")
	for _, want := range []string{"People: 500\n", "Snapshot 1: data as of 2026-10-01, imported ", "Desil   People   Share\n",
		"Program     Receiving   Share  Target (informational)\n", "Province (of the NIK)"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("stats -lang en: %v; lacks %q:\n%s", err, want, out)
		}
	}
	if out, _, err := runCLI(t, "-data", filepath.Join(dir, "empty"), "staff", "add", "--id", "1", "--name", "A", "--role", "admin"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, _, err = runCLI(t, "-data", filepath.Join(dir, "empty"), "registry", "stats")
	if err != nil || out != "Belum ada registri yang diimpor: bansosbot registry import -date YYYY-MM-DD BERKAS.csv\n" {
		t.Errorf("stats without a registry: %v %q", err, out)
	}

	// A file with bad rows: each is listed with its line, nothing changes.
	raw, _ := os.ReadFile(csv)
	lines := strings.Split(string(raw), "\n")
	lines[3] = "123" + lines[3][16:]
	lines[7] = lines[2]
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	out, _, err = runCLI(t, "-data", data, "registry", "import", "-lang", "en", "-date", "2026-10-01", bad)
	if err == nil || !strings.Contains(err.Error(), "2 bad rows") ||
		!strings.Contains(out, "line 4: a NIK has 16 digits; this one has 3.") || !strings.Contains(out, "line 8: The same NIK is already on line 3.") {
		t.Errorf("bad import: %v\n%s", err, out)
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

// TestE2ERegistryImportWhileRunning: with the bot running, "registry
// import" runs inside it; a citizen then checks their status: the NIK
// message disappears from the chat and the answer shows the masked name.
func TestE2ERegistryImportWhileRunning(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	m := e.start(cfg)
	defer m.Close()
	env := envWithSecret(cfg.Secret)
	csvPath := filepath.Join(t.TempDir(), "reg.csv")
	var out strings.Builder
	if err := run(context.Background(), []string{"-data", e.dir, "registry", "gen", "-n", "300", "-out", csvPath}, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	sample := strings.Fields(out.String()[strings.Index(out.String(), "NIK "):])
	nik, name := sample[1], sample[3]+" "+sample[4] // the first sample has a two-word name
	out.Reset()
	if err := run(context.Background(), []string{"-data", e.dir, "registry", "import", "-lang", "en", "-date", "2026-10-01", csvPath}, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("import while the bot runs: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Imported 300 people") {
		t.Errorf("import output = %q", out.String())
	}

	u := telegramtest.User{ID: 601, FirstName: "Wawan", LanguageCode: "id"}
	e.onboard(u)
	e.fake.SendCommand(u, "/cek")
	e.waitBot(u.ID, 3)
	nikMsg := e.fake.SendText(u, nik)
	msgs := messages(e.waitBot(u.ID, 4))
	if !strings.Contains(msgs[len(msgs)-1].Text, "nama lengkap") {
		t.Fatalf("after the NIK: %s; want the name question", msgs[len(msgs)-1])
	}
	for _, en := range e.fake.Transcript(u.ID) {
		if en.From == telegramtest.FromUser && strings.Contains(en.Text, nik) && !en.Deleted {
			t.Errorf("the NIK message (update %d) is still in the chat", nikMsg)
		}
	}
	e.fake.SendText(u, strings.ToLower(name))
	msgs = messages(e.waitBot(u.ID, 5))
	res := msgs[len(msgs)-1].Text
	if !strings.Contains(res, "Hasil cek status bansos") || !strings.Contains(res, bansosbot.MaskName(name)) ||
		!strings.Contains(res, "Data per 1 Oktober 2026") || !strings.Contains(res, "bukan keputusan hukum") {
		t.Errorf("result = %q", res)
	}
}
