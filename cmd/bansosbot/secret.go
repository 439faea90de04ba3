package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// The secret keys the NIK and name hashes of the registry, the invitation
// code hashes and the ticket numbers. The database records a fingerprint
// of it (store.SecretFingerprint), and the program refuses to work on a
// database with another secret than the one it was made with.

// secretFile is where a generated secret is kept.
func (c *Config) secretFile() string { return filepath.Join(c.DataDir, "secret") }

// credentialName is the name of the systemd credential holding the secret
// (LoadCredential=bansosbot-secret:/etc/bansosbot/secret).
const credentialName = "bansosbot-secret"

// externalSecret is the file the secret is configured to come from,
// outside the data directory: BANSOSBOT_SECRET_FILE, else the systemd
// credential when systemd passes one; "" when none.
func (c *Config) externalSecret() string {
	if c.SecretFile != "" {
		return c.SecretFile
	}
	if c.credentialsDir != "" {
		p := filepath.Join(c.credentialsDir, credentialName)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// loadSecret reads the configured secret: BANSOSBOT_SECRET, the file of
// BANSOSBOT_SECRET_FILE or of the systemd credential, or the one generated
// earlier into the data directory; false when there is none.
func (c *Config) loadSecret() (bool, error) {
	if c.Secret != "" {
		return true, nil
	}
	if p := c.externalSecret(); p != "" {
		s, err := readSecretFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("secret file %s does not exist: for a new installation create it once (umask 077; openssl rand -hex 32 > %s); "+
				"for existing data (a restore, a move, DATA/secret so far) put the secret the data was made with there", p, p)
		}
		if err != nil {
			return false, fmt.Errorf("read secret: %w", err)
		}
		c.Secret, c.secretFrom = s, p
		return true, nil
	}
	raw, err := os.ReadFile(c.secretFile())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read secret: %w", err)
	}
	c.Secret, c.secretFrom = strings.TrimSpace(string(raw)), c.secretFile()
	if len(c.Secret) < 16 {
		return false, fmt.Errorf("%s: the secret is too short; restore it from a backup", c.secretFile())
	}
	return true, nil
}

// ensureSecret makes sure a secret is configured: the configured one, the
// one generated earlier into the data directory, or a new one written
// there with mode 0600. Losing it makes the stored NIK hashes useless.
func (c *Config) ensureSecret() error {
	if ok, err := c.loadSecret(); ok || err != nil {
		return err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.Secret, c.secretFrom = hex.EncodeToString(b), c.secretFile()
	f, err := os.OpenFile(c.secretFile(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write secret: %w", err)
	}
	if _, err := f.WriteString(c.Secret + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write secret: %w", err)
	}
	c.secretGenerated = true
	return f.Close()
}

// key derives a purpose-specific key from the secret, so that one secret
// serves NIK hashing and ticket numbering without reusing a key.
func (c *Config) key(purpose string) []byte {
	m := hmac.New(sha256.New, []byte(c.Secret))
	m.Write([]byte("bansosbot/" + purpose))
	return m.Sum(nil)
}

// fingerprint identifies the secret without revealing it: a derived key,
// cut to 64 bits (enough to tell two secrets apart; it says no more about
// the secret than any keyed hash in the database does).
func (c *Config) fingerprint() string { return hex.EncodeToString(c.key("fingerprint")[:8]) }

// secretSource names where the secret came from, for messages.
func (c *Config) secretSource() string {
	if c.secretFrom != "" {
		return c.secretFrom
	}
	return "BANSOSBOT_SECRET"
}

// errOtherSecret is the refusal to work on a database made with another
// secret; it says how to fix it.
func (c *Config) errOtherSecret(recorded string) error {
	return fmt.Errorf("the database at %s was made with another secret (fingerprint %s) than the configured one "+
		"(fingerprint %s, from %s); NIK hashes, invitations and ticket numbers depend on it. Fix: configure the secret "+
		"the database was made with (BANSOSBOT_SECRET, or the secret file saved with the backup: "+
		"bansosbot restore --secret-file FILE BACKUP puts both in place)",
		absPath(c.DataDir), recorded, c.fingerprint(), c.secretSource())
}

// checkSecret makes sure db was made with the configured secret: its
// recorded fingerprint must match; a database without one (from before
// fingerprints, or new) is checked by its first ticket's number and then
// gets the fingerprint recorded.
func (c *Config) checkSecret(db *store.DB) error {
	recorded, err := db.SecretFingerprint()
	if err != nil {
		return err
	}
	if recorded != "" {
		if recorded != c.fingerprint() {
			return c.errOtherSecret(recorded)
		}
		return nil
	}
	return db.Update(func(tx *store.Tx) error {
		var first *bansosbot.Ticket
		if err := tx.TicketsAfter(0, func(t *bansosbot.Ticket) bool { first = t; return false }); err != nil {
			return err
		}
		if first != nil {
			if err := c.checkTicketNo(first.ID, first.No); err != nil {
				return fmt.Errorf("%s: %w; configure the secret it was made with (BANSOSBOT_SECRET, or DATA/secret from a backup)", absPath(c.DataDir), err)
			}
		}
		return tx.SetSecretFingerprint(c.fingerprint())
	})
}

// checkTicketNo compares a ticket's number with the number the secret
// gives its id: a mismatch means the data was made under another secret.
// (It is how databases from before fingerprints are checked.)
func (c *Config) checkTicketNo(id uint64, no bansosbot.TicketNo) error {
	if want := bansosbot.NewTicketNo(id, c.key("ticket-number")); want != no {
		return fmt.Errorf("ticket numbers were made under another secret than the configured one (ticket %d is %s, the secret gives %s)", id, no, want)
	}
	return nil
}

// secretMatches tells whether the file described by info (a database or
// a backup) was made with c's secret: by its recorded fingerprint, or, in
// a file from before fingerprints, by its first ticket's number. A file
// with neither cannot be checked and passes.
func (c *Config) secretMatches(info store.FileInfo) error {
	switch {
	case info.SecretFingerprint != "" && info.SecretFingerprint != c.fingerprint():
		return fmt.Errorf("it was made with another secret (fingerprint %s) than %s (fingerprint %s)",
			info.SecretFingerprint, c.secretSource(), c.fingerprint())
	case info.SecretFingerprint == "" && info.FirstTicket != 0:
		return c.checkTicketNo(info.FirstTicket, info.FirstTicketNo)
	}
	return nil
}

// readSecretFile reads a secret saved in a file (a DATA/secret).
func readSecretFile(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(raw))
	if len(s) < 16 {
		return "", fmt.Errorf("%s: a secret has at least 16 characters", path)
	}
	return s, nil
}

// writeSecretFile writes a secret to path atomically with mode 0600.
func writeSecretFile(path, secret string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(secret + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
