package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/store"
)

// TestRestoreBringsTheSecret: a backup of a bot whose secret was generated
// into DATA/secret, restored into an empty directory: restore demands the
// secret, refuses a wrong one, installs the right one, and the bot then
// starts on it without generating a new secret. A start with another
// secret is refused with the fix (issue 12 item 2).
func TestRestoreBringsTheSecret(t *testing.T) {
	e := newE2E(t)
	cfg := e.config()
	cfg.Secret = "" // generated into DATA/secret at the first start
	m := e.start(cfg)
	m.Close()
	backupFile := filepath.Join(t.TempDir(), "copy.db")
	noEnv := envOf(nil)
	if out, err := cli(t, noEnv, "-data", e.dir, "backup", backupFile); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	info, err := store.Inspect(backupFile, 0, false)
	if err != nil || info.SecretFingerprint == "" {
		t.Fatalf("backup fingerprint %q, %v; want one recorded", info.SecretFingerprint, err)
	}

	fresh := filepath.Join(t.TempDir(), "data")
	out, err := cli(t, noEnv, "-data", fresh, "restore", backupFile)
	if err == nil || !strings.Contains(err.Error(), "--secret-file") || !strings.Contains(err.Error(), info.SecretFingerprint) {
		t.Fatalf("restore without a secret: %v %s; want a demand for --secret-file naming the fingerprint", err, out)
	}
	if _, err := os.Stat(filepath.Join(fresh, store.FileName)); err == nil {
		t.Fatal("a refused restore left a database")
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("not-the-secret-0123456789\n"), 0o600)
	if out, err := cli(t, noEnv, "-data", fresh, "restore", "--secret-file", wrong, backupFile); err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Fatalf("restore with a wrong secret file: %v %s; want a refusal", err, out)
	}
	out, err = cli(t, noEnv, "-data", fresh, "restore", "--secret-file", filepath.Join(e.dir, "secret"), backupFile)
	if err != nil {
		t.Fatalf("restore with the secret: %v %s", err, out)
	}
	orig, _ := os.ReadFile(filepath.Join(e.dir, "secret"))
	got, err := os.ReadFile(filepath.Join(fresh, "secret"))
	if err != nil || string(got) != string(orig) {
		t.Fatalf("restored secret %q, %v; want the backup's", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(fresh, "secret")); fi.Mode().Perm() != 0o600 {
		t.Errorf("restored secret mode %04o; want 0600", fi.Mode().Perm())
	}

	restored := cfg
	restored.DataDir = fresh
	m = NewMain(restored, io.Discard)
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("start on the restored data: %v", err)
	}
	generated := m.Config.secretGenerated
	m.Close()
	if generated {
		t.Error("the bot generated a new secret on restored data")
	}

	other := restored
	other.Secret = "another-secret-0123456789"
	m = NewMain(other, io.Discard)
	err = m.Open(context.Background())
	if err == nil {
		m.Close()
		t.Fatal("the bot started with another secret than the database's")
	}
	for _, want := range []string{"another secret", info.SecretFingerprint, "BANSOSBOT_SECRET", "restore --secret-file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start refusal %q lacks %q", err, want)
		}
	}
	// A data command run directly with the wrong secret is refused too.
	if out, err := cli(t, func(k string) string {
		if k == "BANSOSBOT_SECRET" {
			return other.Secret
		}
		return ""
	}, "-data", fresh, "staff", "list"); err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Errorf("staff list with another secret: %v %s; want a refusal", err, out)
	}
}
