package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// firstNIK reads the NIK of a registry CSV's first row.
func firstNIK(t *testing.T, csv string) bansosbot.NIK {
	t.Helper()
	f, err := os.Open(csv)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "nik") {
			continue
		}
		nik, err := bansosbot.ParseNIK(strings.Split(line, ",")[0])
		if err != nil {
			t.Fatal(err)
		}
		return nik
	}
	t.Fatal("no row")
	return ""
}

// lookup tells whether the registry answers for nik under key.
func lookup(t *testing.T, db *store.DB, key []byte, nik bansosbot.NIK) bool {
	t.Helper()
	var rec *bansosbot.Record
	if err := db.View(func(tx *store.Tx) (err error) {
		_, rec, err = tx.RegistryLookup(bansosbot.HashNIK(key, nik))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return rec != nil
}

// TestRotateSecret: rotate-secret re-keys the registry (from its CSV),
// revokes pending invitations, records the new secret's fingerprint, keeps
// the ticket numbers given out, and leaves a database the old secret can
// no longer open and the new one can; it refuses while a bot runs and
// changes nothing when the registry file is bad (issue 10 item 16).
func TestRotateSecret(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	oldFile := writeSecret(t, t.TempDir(), "old-secret-0123456789abcdef")
	old := Config{Secret: "old-secret-0123456789abcdef"}
	env := map[string]string{"BANSOSBOT_DATA": data, "BANSOSBOT_SECRET_FILE": oldFile}
	mustCLI := func(env map[string]string, args ...string) string {
		t.Helper()
		out, err := cli(t, envOf(env), args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	csv := filepath.Join(dir, "reg.csv")
	mustCLI(nil, "registry", "gen", "-n", "50", "-out", csv)
	mustCLI(env, "staff", "add", "--id", "601", "--name", "Sari", "--role", "admin")
	mustCLI(env, "registry", "import", "-date", "2026-10-01", csv)
	mustCLI(env, "staff", "invite", "--role", "worker", "--region", "32.01")
	nik := firstNIK(t, csv)
	db := openData(t, data)
	var oldNo bansosbot.TicketNo
	db.Update(func(tx *store.Tx) error {
		seq, _ := tx.NextTicketSeq()
		oldNo = bansosbot.NewTicketNo(seq, old.key("ticket-number"))
		return tx.PutTicket(&bansosbot.Ticket{ID: seq, No: oldNo, Category: "OTHER", Region: "32.01.01", Status: bansosbot.StatusNew})
	})
	if !lookup(t, db, old.key("nik"), nik) {
		t.Fatal("the registry does not answer under the old key before the rotation")
	}
	db.Close()

	newFile := filepath.Join(t.TempDir(), "new-secret")
	// A bad registry file: nothing changes, not even the secret file.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("nik,name,desil\n123,X,1\n"), 0o600)
	if out, err := cli(t, envOf(env), "rotate-secret", "--new", newFile, "--registry", bad, "--date", "2026-10-01"); err == nil {
		t.Fatalf("rotation with a bad registry file succeeded:\n%s", out)
	} else if !strings.Contains(out, "baris 2: NIK harus 16 digit; di sini 3 digit.") ||
		err.Error() != "Tidak ada yang berubah: berkas registri tidak bisa diimpor: 1 baris salah (lihat di atas)" {
		t.Errorf("rotation with a bad registry file: %v\n%s; want the bad row and the refusal in Indonesian", err, out)
	}
	if _, err := os.Stat(newFile); err == nil {
		t.Error("the new secret was written although the rotation stopped")
	}
	mustCLI(env, "staff", "list") // still the old secret's database

	// In the CLI's language, as registry import: Indonesian by default
	// (QA of issue 12 item 5), English with --lang en (below).
	out := mustCLI(env, "rotate-secret", "--new", newFile, "--registry", csv, "--date", "2026-10-01")
	for _, want := range []string{"Secret sudah diganti: fingerprint ", "1 undangan yang belum dipakai dicabut",
		"Registri diimpor ulang dengan secret baru: 50 orang (data per 2026-10-01).", "membaca: 50 baris, 100% dari berkas",
		"Nomor tiket yang sudah diberikan tetap berlaku", "Selanjutnya: jadikan "} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate-secret output lacks %q:\n%s", want, out)
		}
	}
	for _, en := range []string{"rotated", "revoked", "reading", "Next", "people"} {
		if strings.Contains(out, en) {
			t.Errorf("rotate-secret (id) has the English %q:\n%s", en, out)
		}
	}
	newSecret, err := readSecretFile(newFile)
	if err != nil {
		t.Fatal(err)
	}
	next := Config{Secret: newSecret}
	if fi, _ := os.Stat(newFile); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new secret file mode %v; want 0600", fi)
	}

	// The old secret is refused; the new one opens the data.
	if out, err := cli(t, envOf(env), "staff", "list"); err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Errorf("staff list with the old secret: %v\n%s; want a refusal", err, out)
	}
	newEnv := map[string]string{"BANSOSBOT_DATA": data, "BANSOSBOT_SECRET_FILE": newFile}
	if out := mustCLI(newEnv, "staff", "invites"); !strings.Contains(out, "no pending invitations") {
		t.Errorf("staff invites after the rotation:\n%s", out)
	}
	db = openData(t, data)
	if fp, _ := db.SecretFingerprint(); fp != next.fingerprint() {
		t.Errorf("fingerprint %s; want the new secret's %s", fp, next.fingerprint())
	}
	if !lookup(t, db, next.key("nik"), nik) || lookup(t, db, old.key("nik"), nik) {
		t.Error("the registry is not re-keyed: want an answer under the new key only")
	}
	db.View(func(tx *store.Tx) error {
		if tk, err := tx.TicketByNo(oldNo); err != nil || tk.ID != 1 {
			t.Errorf("the ticket numbered %s before the rotation: %v, %v", oldNo, tk, err)
		}
		return nil
	})
	db.Close()

	// Without --registry the old-key registry is removed; a running bot refuses.
	third := filepath.Join(t.TempDir(), "third")
	out = mustCLI(newEnv, "rotate-secret", "--lang", "en", "--new", third)
	for _, want := range []string{"Secret rotated: fingerprint ", "0 pending invitations revoked", "Registry removed", "Next: make "} {
		if !strings.Contains(out, want) {
			t.Errorf("rotation without --registry (--lang en) lacks %q:\n%s", want, out)
		}
	}
	db = openData(t, data)
	if lookup(t, db, next.key("nik"), nik) {
		t.Error("the registry under the former key still answers")
	}
	db.Close()

	e := &e2e{t: t, dir: data}
	e.fake = newE2E(t).fake
	cfg := e.config()
	cfg.Secret = ""
	cfg.SecretFile = third
	m := e.start(cfg)
	defer m.Close()
	if out, err := cli(t, envOf(map[string]string{"BANSOSBOT_DATA": data, "BANSOSBOT_SECRET_FILE": third}),
		"rotate-secret", "--new", filepath.Join(t.TempDir(), "fourth")); err == nil || !strings.Contains(err.Error(), "Hentikan dulu") {
		t.Errorf("rotate-secret while the bot runs: %v\n%s; want a refusal", err, out)
	}
}

// TestRegistryUnderAnotherKey: a registry imported under another secret
// than the database's (a rotation interrupted between the database and
// the registry) is reported by doctor and at start, since every status
// check would find nobody (issue 10 item 16).
func TestRegistryUnderAnotherKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	a := writeSecret(t, t.TempDir(), "secret-a-0123456789abcdef")
	b := writeSecret(t, t.TempDir(), "secret-b-0123456789abcdef")
	env := map[string]string{"BANSOSBOT_DATA": data, "BANSOSBOT_SECRET_FILE": a}
	csv := filepath.Join(dir, "reg.csv")
	for _, args := range [][]string{
		{"registry", "gen", "-n", "20", "-out", csv},
		{"staff", "add", "--id", "601", "--name", "Sari", "--role", "admin"},
		{"registry", "import", "-date", "2026-10-01", csv},
	} {
		if out, err := cli(t, envOf(env), args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	db := openData(t, data)
	if err := db.Update(func(tx *store.Tx) error {
		return tx.SetSecretFingerprint((&Config{Secret: "secret-b-0123456789abcdef"}).fingerprint())
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	e := newE2E(t)
	env["BANSOSBOT_SECRET_FILE"], env["BANSOSBOT_TOKEN"], env["BANSOSBOT_API_URL"] = b, testToken, e.fake.URL()
	out, _ := cli(t, envOf(env), "doctor")
	if !strings.Contains(out, "registry was imported under another secret") {
		t.Errorf("doctor does not report the registry under another key:\n%s", out)
	}
	e.dir = data
	cfg := e.config()
	cfg.Secret, cfg.SecretFile, cfg.Log = "", b, "warn,text"
	logs := newLockedBuffer()
	m := e.start(cfg, func(m *Main) { m.Log = m.Config.Logger(logs) })
	m.Close()
	if !strings.Contains(logs.String(), "registry was imported under another secret") {
		t.Errorf("start does not warn about the registry under another key:\n%s", logs.String())
	}
}
