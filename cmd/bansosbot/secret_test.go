package main

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
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
