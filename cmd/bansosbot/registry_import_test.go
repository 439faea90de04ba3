package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/store"
)

// runCLIIn is runCLI with standard input.
func runCLIIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func genCSV(t *testing.T, dir string, n int, seed string) string {
	t.Helper()
	path := filepath.Join(dir, "reg-"+seed+".csv")
	if _, _, err := runCLI(t, "registry", "gen", "-n", strconv.Itoa(n), "-seed", seed, "-out", path); err != nil {
		t.Fatal(err)
	}
	return path
}

func registryRows(t *testing.T, data string) int {
	t.Helper()
	db, err := store.Open(filepath.Join(data, store.FileName), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.RegistrySnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return 0
	}
	return s.Stats.Rows
}

// TestRegistryImportGuards (issue 12 item 4): -date is required (or a
// "# date:" line), --dry-run writes nothing and counts per program, a file
// with under half the rows is refused without --force, rollback returns
// to the previous snapshot.
func TestRegistryImportGuards(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	full, small := genCSV(t, dir, 200, "1"), genCSV(t, dir, 60, "2")

	out, err := runCLIIn(t, "", "-data", data, "registry", "import", "-lang", "en", full)
	if err == nil || !strings.Contains(err.Error(), "date of the data is required") {
		t.Fatalf("import without a date: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, store.FileName)); err == nil {
		t.Error("a refused first import left a database behind")
	}
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "-date", "2026-10-01", full)
	if err != nil || !strings.Contains(out, "Berhasil diimpor: 200 orang dari reg-1.csv (data per 2026-10-01)") {
		t.Fatalf("import: %v\n%s", err, out)
	}

	// Dry run: counts, per program, nothing written.
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "--dry-run", "-lang", "en", "-date", "2026-11-01", small)
	if err != nil || !strings.Contains(out, "Dry run (nothing written): 60 people from reg-2.csv") || !strings.Contains(out, "  PKH: ") ||
		!strings.Contains(out, "would replace snapshot 1 (200 people") || !strings.Contains(out, "refused without --force") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if n := registryRows(t, data); n != 200 {
		t.Errorf("after a dry run: %d rows; want 200", n)
	}

	// Under half: refused, then forced.
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "-lang", "en", "-date", "2026-11-01", small)
	if err == nil || !strings.Contains(err.Error(), "Refused: the file has 60 rows, under half of the current data (200 rows)") {
		t.Fatalf("import of 60 over 200: %v\n%s", err, out)
	}
	if n := registryRows(t, data); n != 200 {
		t.Errorf("after the refusal: %d rows; want 200", n)
	}
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "--force", "-lang", "en", "-date", "2026-11-01", small)
	if err != nil || !strings.Contains(out, "It replaces snapshot 1") {
		t.Fatalf("forced import: %v\n%s", err, out)
	}

	// Rollback and back again.
	out, err = runCLIIn(t, "", "-data", data, "registry", "rollback", "-lang", "en")
	if err != nil || !strings.Contains(out, "Rolled back: status checks now answer from snapshot 1 (data as of 2026-10-01, 200 people)") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	if n := registryRows(t, data); n != 200 {
		t.Errorf("after rollback: %d rows; want 200", n)
	}
	if out, err = runCLIIn(t, "", "-data", data, "registry", "stats", "-lang", "en"); err != nil || !strings.Contains(out, "Previous snapshot 2 (data as of 2026-11-01, 60 people) is kept") {
		t.Errorf("stats after rollback: %v\n%s", err, out)
	}
	if out, err = runCLIIn(t, "", "-data", data, "registry", "stats"); err != nil || !strings.Contains(out, "Snapshot sebelumnya 2 (data per 2026-11-01, 60 orang) disimpan") {
		t.Errorf("stats after rollback (id): %v\n%s", err, out)
	}
	if out, err = runCLIIn(t, "", "-data", data, "registry", "rollback"); err != nil || registryRows(t, data) != 60 {
		t.Fatalf("second rollback: %v\n%s", err, out)
	}

	// The date from a "# date:" line; a conflicting -date is refused.
	raw, _ := os.ReadFile(full)
	dated := filepath.Join(dir, "dated.csv")
	os.WriteFile(dated, append([]byte("# date: 2026-09-30\n"), raw...), 0o600)
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "-lang", "en", dated)
	if err != nil || !strings.Contains(out, "Imported 200 people from dated.csv (data as of 2026-09-30)") {
		t.Fatalf("import with a # date line: %v\n%s", err, out)
	}
	if out, err = runCLIIn(t, "", "-data", data, "registry", "import", "-lang", "en", "-date", "2026-10-01", dated); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("conflicting dates: %v\n%s", err, out)
	}
	if out, err = runCLIIn(t, "", "-data", data, "registry", "import", "-lang", "en", "-date", "30-11-2026", full); err == nil || !strings.Contains(err.Error(), "write YYYY-MM-DD") {
		t.Errorf("bad date: %v\n%s", err, out)
	}
}

// TestRegistryImportInput (issue 12 item 5): Windows-1252 is refused with
// its line and a hint, or read with --encoding; ";" is accepted; a file
// with only nik,name,desil is valid; row errors are the operator's, in the
// CLI's language, with plurals right.
func TestRegistryImportInput(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	cp1252 := "nik,name,desil\n3201011203850001,WAWAN LESTARI,2\n3201015203850002,JOS\xc9 MAR\xcdA,3\n"
	out, err := runCLIIn(t, cp1252, "-data", data, "registry", "import", "-date", "2026-10-01", "-")
	if err == nil || !strings.Contains(err.Error(), "baris 3: berkas bukan teks UTF-8 (byte 0xC9)") || !strings.Contains(err.Error(), "--encoding windows-1252") {
		t.Fatalf("Windows-1252 file: %v\n%s", err, out)
	}
	out, err = runCLIIn(t, cp1252, "-data", data, "registry", "import", "-lang", "en", "-encoding", "windows-1252", "-date", "2026-10-01", "-")
	if err != nil || !strings.Contains(out, "Imported 2 people from stdin") {
		t.Fatalf("with --encoding windows-1252: %v\n%s", err, out)
	}

	semi := "nik;name;desil;PKH\n3201011203850001;WAWAN LESTARI;2;Y\n3201015203850002;SITI NURAINI;;N\n3201015203850003;BUDI;1;Y\n"
	out, err = runCLIIn(t, semi, "-data", data, "registry", "import", "-date", "2026-10-01", "-")
	if err != nil || !strings.Contains(out, "Berhasil diimpor: 3 orang") {
		t.Fatalf("semicolons: %v\n%s", err, out)
	}

	one := "nik,name,desil\n3201011203850001,WAWAN LESTARI,2\n"
	out, err = runCLIIn(t, one, "-data", data, "registry", "import", "--force", "-lang", "en", "-date", "2026-10-01", "-")
	if err != nil || !strings.Contains(out, "Imported 1 person from stdin") {
		t.Fatalf("one row: %v\n%s", err, out)
	}
	// The progress line (printed once the file is read) is in the CLI's
	// language with its plural, from standard input and from a file.
	if !strings.Contains(out, "reading: 1 row\n") {
		t.Errorf("one row from stdin: want the progress line \"reading: 1 row\":\n%s", out)
	}
	oneFile := filepath.Join(t.TempDir(), "one.csv")
	os.WriteFile(oneFile, []byte(one), 0o600)
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "--dry-run", "-lang", "en", "-date", "2026-10-01", oneFile)
	if err != nil || !strings.Contains(out, "reading: 1 row, 100% of the file\n") {
		t.Errorf("one row from a file: %v; want the progress line \"reading: 1 row, 100%% of the file\":\n%s", err, out)
	}
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "--dry-run", "-date", "2026-10-01", oneFile)
	if err != nil || !strings.Contains(out, "membaca: 1 baris, 100% dari berkas\n") || strings.Contains(out, "reading") {
		t.Errorf("one row from a file (id): %v; want the progress line in Indonesian:\n%s", err, out)
	}
	// Flags after the file count too: "--dry-run" typed last still only
	// checks (it was taken for a second file).
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "-date", "2026-10-01", oneFile, "--dry-run", "-lang", "en")
	if err != nil || !strings.Contains(out, "Dry run (nothing written): 1 person") {
		t.Errorf("flags after the file: %v; want a dry run in English:\n%s", err, out)
	}
	// A Windows-1252 file read with --encoding: its progress is at most
	// 100% of the file (the decoded text is longer than the file).
	latin := filepath.Join(t.TempDir(), "latin.csv")
	os.WriteFile(latin, []byte(cp1252), 0o600)
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "--dry-run", "-encoding", "windows-1252", "-date", "2026-10-01", latin)
	if err != nil || !strings.Contains(out, "membaca: 2 baris, 100% dari berkas\n") {
		t.Errorf("Windows-1252 file: %v; want \"membaca: 2 baris, 100%% dari berkas\":\n%s", err, out)
	}
	// Without program columns the dry run says so instead of an empty list.
	out, err = runCLIIn(t, "", "-data", data, "registry", "import", "--dry-run", "-date", "2026-10-01", oneFile)
	if err != nil || !strings.Contains(out, "tidak ada kolom program") {
		t.Errorf("dry run of nik,name,desil: %v; want it to say there are no program columns:\n%s", err, out)
	}
	// An Indonesian header ("nama") is named in quotes with the columns
	// that are known, not read as "Kolom nama" (the name column).
	out, err = runCLIIn(t, "nik,nama,desil\n3201011203850001,WAWAN,2\n", "-data", data, "registry", "import", "--dry-run", "-date", "2026-10-01", "-")
	if err == nil || !strings.Contains(err.Error(), `Kolom "nama" tidak dikenal`) || !strings.Contains(err.Error(), "nik, name, desil") {
		t.Errorf("header nama: %v; want the column quoted and the known columns:\n%s", err, out)
	}
	bad := "nik,name,desil\n3201011203850001,WAWAN,2\n320101120385,BUDI,2\n"
	out, err = runCLIIn(t, bad, "-data", data, "registry", "import", "-date", "2026-10-01", "-")
	if err == nil || !strings.Contains(out, "baris 3: NIK harus 16 digit; di sini 12 digit.") || !strings.Contains(err.Error(), "1 baris salah") {
		t.Fatalf("bad row (id): %v\n%s", err, out)
	}
	out, err = runCLIIn(t, bad, "-data", data, "registry", "import", "-lang", "en", "-date", "2026-10-01", "-")
	if err == nil || !strings.Contains(out, "line 3: a NIK has 16 digits; this one has 12.") || !strings.Contains(err.Error(), "1 bad row (listed above)") {
		t.Fatalf("bad row (en): %v\n%s", err, out)
	}
	if strings.Contains(out, "you typed") || strings.Contains(out, "your ID card") {
		t.Errorf("citizen wording in the operator's output:\n%s", out)
	}
}

// TestE2ERegistryImportStreamsToRunningBot (issue 12 item 6): with the bot
// running, the command line reads the file and streams it through the
// control socket: standard input works, and so does a file the bot could
// not open (the path is never sent).
func TestE2ERegistryImportStreamsToRunningBot(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	m := e.start(cfg)
	defer m.Close()
	env := envWithSecret(cfg.Secret)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "reg.csv")
	if _, err := cli(t, env, "registry", "gen", "-n", "120", "-out", csvPath); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(csvPath)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-data", e.dir, "registry", "import", "-lang", "en", "-date", "2026-10-01", "-"}, env, bytes.NewReader(raw), &out, &out); err != nil {
		t.Fatalf("import from stdin while the bot runs: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Imported 120 people from stdin") {
		t.Errorf("output = %q", out.String())
	}
	if s, _ := m.DB.RegistrySnapshot(); s == nil || s.Stats.Rows != 120 {
		t.Fatalf("the running bot's registry: %+v", s)
	}

	// A relative path, from a working directory the bot does not share.
	t.Chdir(dir)
	out.Reset()
	err := run(context.Background(), []string{"-data", e.dir, "registry", "import", "-lang", "en", "--dry-run", "-date", "2026-10-01", "reg.csv"}, env, strings.NewReader(""), &out, &out)
	if err != nil || !strings.Contains(out.String(), "Dry run (nothing written): 120 people from reg.csv") {
		t.Fatalf("dry run of a relative path: %v\n%s", err, out.String())
	}
	// A bad row is reported by the bot while the file still streams in.
	out.Reset()
	lines := strings.Split(string(raw), "\n")
	lines[1] = "320101" + lines[1][16:]
	bad := strings.Join(lines, "\n")
	err = run(context.Background(), []string{"-data", e.dir, "registry", "import", "-date", "2026-10-01", "-"}, env, strings.NewReader(bad), &out, &out)
	if err == nil || !strings.Contains(out.String(), "baris 2: NIK harus 16 digit; di sini 6 digit.") {
		t.Errorf("bad row through the socket: %v\n%s", err, out.String())
	}
	// A non-UTF-8 byte stops the stream on the command line's side.
	out.Reset()
	err = run(context.Background(), []string{"-data", e.dir, "registry", "import", "-date", "2026-10-01", "-"}, env,
		strings.NewReader(string(raw)+"3201011203850009,JOS\xc9,1\n"), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "baris 122: berkas bukan teks UTF-8") {
		t.Errorf("non-UTF-8 through the socket: %v\n%s", err, out.String())
	}
	if s, _ := m.DB.RegistrySnapshot(); s == nil || s.Stats.Rows != 120 {
		t.Errorf("after the failed imports: %+v", s)
	}
}

// TestDocumentedImportCommands: the documented commands for systemd and
// Docker pass the file on standard input, which the command streams to the
// bot (the unit's ProtectHome/PrivateTmp and the container's volume cannot
// get in the way), and the unit still has those protections.
func TestDocumentedImportCommands(t *testing.T) {
	ops, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"sudo -u bansosbot BANSOSBOT_DATA=/var/lib/bansosbot bansosbot registry import -date 2026-11-30 - < dtsen-2026-11.csv",
		"docker exec -i bansosbot bansosbot registry import -date 2026-11-30 - < dtsen-2026-11.csv",
	} {
		if !strings.Contains(string(ops), want) {
			t.Errorf("OPERATIONS.md does not document %q", want)
		}
	}
	unit, err := os.ReadFile("../../deploy/bansosbot.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ProtectHome=yes", "PrivateTmp=yes", "Environment=BANSOSBOT_DATA=/var/lib/bansosbot"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %s: the documented command assumes it", want)
		}
	}
}

// TestParseInterspersed: flags may follow the positional arguments; "-"
// is a positional argument (standard input) and "--" ends the flags.
func TestParseInterspersed(t *testing.T) {
	for _, tt := range []struct {
		args []string
		pos  string
		dry  bool
		date string
	}{
		{[]string{"-date", "D", "f.csv"}, "f.csv", false, "D"},
		{[]string{"f.csv", "--dry-run", "-date", "D"}, "f.csv", true, "D"},
		{[]string{"-", "--dry-run"}, "-", true, ""},
		{[]string{"a.csv", "b.csv"}, "a.csv b.csv", false, ""},
		{[]string{"--dry-run", "--", "-date", "x"}, "-date x", true, ""},
	} {
		fs, o := importFlags(io.Discard)
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil || strings.Join(pos, " ") != tt.pos || *o.dryRun != tt.dry || *o.date != tt.date {
			t.Errorf("%q: positional %q, dry-run %v, date %q, %v; want %q, %v, %q", tt.args, pos, *o.dryRun, *o.date, err, tt.pos, tt.dry, tt.date)
		}
	}
}
