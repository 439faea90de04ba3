package store

import (
	"github.com/bansosbot/bansosbot/store/backend"
)

// The database records a fingerprint of the secret its keyed hashes
// (registry, invitations) and ticket numbers were made with, so that a
// program started with another secret (a restore without its secret, a
// typo in BANSOSBOT_SECRET) is stopped before it hashes or numbers
// anything under the wrong key. Backups are copies of the file and carry
// it too. The fingerprint is computed by the caller (cmd: a keyed hash of
// the secret, never the secret itself).
var keySecretFingerprint = []byte("secret_fingerprint")

// SecretFingerprint returns the recorded fingerprint; "" when none is
// recorded (a new database, or one from before fingerprints).
func (db *DB) SecretFingerprint() (string, error) {
	var fp string
	err := db.kv.View(func(tx backend.Tx) error { fp = secretFingerprint(tx); return nil })
	return fp, err
}

// SetSecretFingerprint records the fingerprint of the secret in use (at
// the first start, and by a secret rotation).
func (tx *Tx) SetSecretFingerprint(fp string) error {
	return tx.bucket(bucketMeta).Put(keySecretFingerprint, []byte(fp))
}

func secretFingerprint(tx backend.Tx) string {
	if b := tx.Bucket(bucketMeta); b != nil {
		return string(b.Get(keySecretFingerprint))
	}
	return ""
}
