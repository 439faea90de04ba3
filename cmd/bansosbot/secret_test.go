package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
)

// openData opens the database of a data directory the CLI made.
func openData(t *testing.T, data string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(data, "bansosbot.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestInviteHashNeedsTheSecret: the hash stored for an invitation code is
// keyed with the secret, so a copy of the data cannot test codes against
// it (issue 10 item 9): neither the former unkeyed SHA-256 nor the HMAC
// under another secret gives it; only the configured secret does.
func TestInviteHashNeedsTheSecret(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	const secret = "invite-test-secret-0123456789"
	env := envWithSecret(secret)
	if _, err := cli(t, env, "-data", data, "staff", "add", "--id", "601", "--name", "Sari", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, env, "-data", data, "staff", "invite", "--role", "worker", "--region", "32.01")
	if err != nil {
		t.Fatal(err)
	}
	code, ok := bansosbot.NormalizeInviteCode(strings.Fields(out)[0])
	if !ok {
		t.Fatalf("invite printed %q; want the code first", out)
	}
	db := openData(t, data)
	var stored []string
	db.View(func(tx *store.Tx) error {
		return tx.Invites(func(inv *bansosbot.Invite) bool { stored = append(stored, inv.CodeHash); return true })
	})
	if len(stored) != 1 {
		t.Fatalf("stored invitations %q; want 1", stored)
	}
	unkeyed := sha256.Sum256([]byte("bansosbot invite\x00" + code))
	other := Config{Secret: "another-secret-0123456789abcdef"}
	mine := Config{Secret: secret}
	for name, h := range map[string]string{
		"unkeyed SHA-256":        hex.EncodeToString(unkeyed[:]),
		"HMAC under another key": bansosbot.HashInviteCode(other.key("invite"), code),
		"HMAC with an empty key": bansosbot.HashInviteCode(nil, code),
	} {
		if strings.Contains(stored[0], strings.TrimPrefix(h, bansosbot.InviteHashPrefix)) {
			t.Errorf("the stored hash %s can be checked with the %s; want it to need the secret", stored[0], name)
		}
	}
	if want := bansosbot.HashInviteCode(mine.key("invite"), code); stored[0] != want {
		t.Errorf("stored hash %s; want the HMAC under the secret's invite key %s", stored[0], want)
	}
	// staff revoke by code finds it (the CLI hashes with the same key).
	db.Close()
	if out, err := cli(t, env, "-data", data, "staff", "revoke", code); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("staff revoke CODE: %v %q", err, out)
	}
}

// writeSecret writes a secret file outside any data directory.
func writeSecret(t *testing.T, dir, secret string) string {
	t.Helper()
	p := filepath.Join(dir, "bansosbot-secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecretOutsideData: the secret may live outside DATA, in the file of
// BANSOSBOT_SECRET_FILE or as the systemd credential bansosbot-secret; then
// nothing is generated into DATA, the database carries that secret's
// fingerprint, a missing file is an error (not a new secret), and doctor
// warns when the secret is inside DATA (issue 10 item 16).
func TestSecretOutsideData(t *testing.T) {
	const secret = "outside-secret-0123456789abcdef"
	want := (&Config{Secret: secret}).fingerprint()
	fake := telegramtest.NewServer(testToken)
	defer fake.Close()
	for _, tc := range []struct {
		name string
		env  func(dir string) map[string]string
	}{
		{"BANSOSBOT_SECRET_FILE", func(dir string) map[string]string {
			return map[string]string{"BANSOSBOT_SECRET_FILE": writeSecret(t, dir, secret)}
		}},
		{"systemd credential", func(dir string) map[string]string {
			writeSecret(t, dir, secret)
			return map[string]string{"CREDENTIALS_DIRECTORY": dir}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			vars := tc.env(t.TempDir())
			vars["BANSOSBOT_DATA"] = data
			if out, err := cli(t, envOf(vars), "staff", "add", "--id", "601", "--name", "Sari", "--role", "admin"); err != nil {
				t.Fatalf("staff add: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(data, "secret")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("DATA/secret exists (%v); want the secret only outside", err)
			}
			db := openData(t, data)
			if got, _ := db.SecretFingerprint(); got != want {
				t.Errorf("fingerprint %q; want %q (the outside secret's)", got, want)
			}
			db.Close()
			vars["BANSOSBOT_TOKEN"], vars["BANSOSBOT_API_URL"] = testToken, fake.URL()
			out, _ := cli(t, envOf(vars), "doctor")
			if strings.Contains(out, "secret is in the data directory") || !strings.Contains(out, "secret kept outside the data directory") {
				t.Errorf("doctor with the secret outside:\n%s", out)
			}
			// Without the secret, a data command refuses rather than hashing under no key.
			if out, err := cli(t, envOf(map[string]string{"BANSOSBOT_DATA": data}), "staff", "invite", "--role", "worker", "--region", "32.01"); err == nil ||
				!strings.Contains(err.Error(), "BANSOSBOT_SECRET_FILE") {
				t.Errorf("staff invite without the secret: %v %q; want a refusal naming BANSOSBOT_SECRET_FILE", err, out)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		missing := filepath.Join(t.TempDir(), "nope")
		_, err := cli(t, envOf(map[string]string{"BANSOSBOT_DATA": data, "BANSOSBOT_SECRET_FILE": missing}),
			"staff", "add", "--id", "601", "--name", "Sari", "--role", "admin")
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("err = %v; want a refusal naming %s", err, missing)
		}
		if _, err := os.Stat(filepath.Join(data, "secret")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a secret was generated into DATA (%v)", err)
		}
	})
	t.Run("doctor warns inside DATA", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		vars := map[string]string{"BANSOSBOT_DATA": data}
		if _, err := cli(t, envOf(vars), "staff", "add", "--id", "601", "--name", "Sari", "--role", "admin"); err != nil {
			t.Fatal(err)
		}
		vars["BANSOSBOT_TOKEN"], vars["BANSOSBOT_API_URL"] = testToken, fake.URL()
		out, _ := cli(t, envOf(vars), "doctor")
		if !strings.Contains(out, "WARN  the secret is in the data directory") || !strings.Contains(out, "BANSOSBOT_SECRET_FILE") {
			t.Errorf("doctor with DATA/secret lacks the warning:\n%s", out)
		}
	})
}

// TestRestoreKeepsSecretOutside: restoring with the secret configured
// outside DATA (BANSOSBOT_SECRET_FILE) puts no copy of it into the data
// directory, even when --secret-file gives the same secret (issue 10 item
// 16).
func TestRestoreKeepsSecretOutside(t *testing.T) {
	const secret = "restore-outside-secret-0123456789"
	ext := writeSecret(t, t.TempDir(), secret)
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"BANSOSBOT_DATA": data, "BANSOSBOT_SECRET_FILE": ext}
	if out, err := cli(t, envOf(env), "staff", "add", "--id", "601", "--name", "Sari", "--role", "admin"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if out, err := cli(t, envOf(env), "backup", backup); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	saved := writeSecret(t, t.TempDir(), secret) // the copy kept with the backup
	fresh := filepath.Join(t.TempDir(), "fresh")
	env["BANSOSBOT_DATA"] = fresh
	if out, err := cli(t, envOf(env), "restore", "--secret-file", saved, backup); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(fresh, "secret")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("restore copied the secret into DATA (%v); the configured one is outside", err)
	}
	if out, err := cli(t, envOf(env), "staff", "list"); err != nil || !strings.Contains(out, "Sari") {
		t.Errorf("staff list on the restored data: %v\n%s", err, out)
	}
}

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
