package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bansosbot/bansosbot/store"
)

const restoreUsage = `Usage: bansosbot restore [--secret-file FILE] BACKUP

Puts BACKUP in place of the data directory's database (the bot must be
stopped). The backup must come with the secret it was made with: the
configured one (BANSOSBOT_SECRET, or DATA/secret) when it matches, or
--secret-file FILE, the secret file saved with the backup, which is then
installed as DATA/secret. A restore into an empty directory starts it.`

func restoreFlags() (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	return fs, fs.String("secret-file", "", "the secret the backup was made with (the DATA/secret saved with it); installed as DATA/secret")
}

// runRestore puts a backup in place of the data directory's database:
//
//	bansosbot restore [--secret-file FILE] BACKUP
//
// It refuses while a bansosbot runs on the data directory (the store's
// lock is held, and kept by restore until the new file is in place), a
// file that is damaged or not a bansosbot database, one written by a newer
// bansosbot (downgrades are not supported), and one without its secret:
// the backup's recorded fingerprint must match the configured secret or
// the one given with --secret-file (installed as DATA/secret), so that the
// bot never starts on restored data with a new secret. The database it
// replaces is kept as bansosbot.db.before-restore-<time> (a replaced
// secret as secret.before-restore-<time>); the new file is copied next to
// it and renamed into place, so a crash leaves one or the other, never
// half of one.
func runRestore(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs, secretFile := restoreFlags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: bansosbot restore [--secret-file FILE] BACKUP")
	}
	file := fs.Arg(0)
	if cfg.postgres() {
		return fmt.Errorf("restore: %w", store.ErrNotBolt)
	}
	info, err := store.Inspect(file, time.Second, true)
	if err != nil {
		return fmt.Errorf("restore: %s is not a usable backup: %w", file, err)
	}
	switch {
	case info.Version == 0:
		return fmt.Errorf("restore: %s is not a bansosbot database (no schema version)", file)
	case info.Version > store.SchemaVersion():
		return fmt.Errorf("restore: %s has schema version %d, written by a newer bansosbot; this one knows up to %d and "+
			"downgrading is not supported: restore it with the newer version, or pick a backup taken before the upgrade",
			file, info.Version, store.SchemaVersion())
	}
	install, err := restoreSecret(&cfg, info, *secretFile)
	if err != nil {
		return fmt.Errorf("restore: %s: %w", file, err)
	}
	_, dirErr := os.Stat(cfg.DataDir)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	dbPath := cfg.DBPath()
	release, err := store.LockFile(dbPath, 500*time.Millisecond)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("restore: refused: a bansosbot is running on %s (it holds %s); stop it first "+
			"(systemctl stop bansosbot, or docker stop), then run restore again", cfg.DataDir, dbPath)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer release()

	tmp, err := copyToTemp(ctx, file, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp) // after the rename, nothing is there any more
	stamp := ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
	previousSecret := ""
	if install != "" {
		if old, err := readSecretFile(cfg.secretFile()); err == nil && old != install {
			previousSecret = cfg.secretFile() + stamp
			if err := os.Rename(cfg.secretFile(), previousSecret); err != nil {
				return fmt.Errorf("restore: keep the current secret: %w", err)
			}
		}
		if err := writeSecretFile(cfg.secretFile(), install); err != nil {
			return fmt.Errorf("restore: install the secret: %w", err)
		}
	}
	previous := ""
	if _, err := os.Stat(dbPath); err == nil {
		previous = dbPath + stamp
		if err := os.Rename(dbPath, previous); err != nil {
			return fmt.Errorf("restore: keep the current database: %w", err)
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		if previous != "" {
			_ = os.Rename(previous, dbPath)
		}
		if previousSecret != "" {
			_ = os.Rename(previousSecret, cfg.secretFile())
		}
		return fmt.Errorf("restore: %w", err)
	}
	if d, err := os.Open(cfg.DataDir); err == nil { // make the renames durable
		_ = d.Sync()
		d.Close()
	}
	if errors.Is(dirErr, os.ErrNotExist) {
		fmt.Fprintf(stdout, "created a new bansosbot data directory at %s\n", absPath(cfg.DataDir))
	}
	fmt.Fprintf(stdout, "restored %s into %s (schema %d, %d tickets)\n", file, dbPath, info.Version, info.Tickets)
	if install != "" {
		fmt.Fprintf(stdout, "installed the backup's secret (fingerprint %s) as %s\n", cfg.fingerprint(), cfg.secretFile())
	}
	if previous != "" {
		fmt.Fprintf(stdout, "the previous database is kept as %s\n", previous)
	}
	if previousSecret != "" {
		fmt.Fprintf(stdout, "the previous secret is kept as %s\n", previousSecret)
	}
	if info.Version < store.SchemaVersion() {
		fmt.Fprintf(stdout, "it will be migrated from schema %d to %d at the next start\n", info.Version, store.SchemaVersion())
	}
	if info.SecretFingerprint == "" && info.FirstTicket == 0 {
		fmt.Fprintf(stdout, "note: the backup is from before secret fingerprints and has no ticket, so the secret could not be checked; "+
			"the next start records the fingerprint of %s\n", cfg.secretSource())
	}
	return nil
}

// restoreSecret decides which secret goes with the backup: the one from
// --secret-file (returned, to be installed as DATA/secret) or the
// configured one. It refuses a secret the backup was not made with, and
// demands one when none is configured.
func restoreSecret(cfg *Config, info store.FileInfo, secretFile string) (install string, err error) {
	fp := info.SecretFingerprint
	if fp == "" {
		fp = "not recorded: the backup is from before fingerprints"
	}
	configured, err := cfg.loadSecret()
	if err != nil {
		return "", err
	}
	if secretFile == "" {
		if !configured {
			return "", fmt.Errorf("no secret for it (its secret's fingerprint: %s): give the secret file saved with the backup, "+
				"bansosbot restore --secret-file FILE BACKUP (it is installed as %s), or set BANSOSBOT_SECRET", fp, cfg.secretFile())
		}
		if err := cfg.secretMatches(info); err != nil {
			return "", fmt.Errorf("%w: give the backup's secret file with --secret-file FILE", err)
		}
		return "", nil
	}
	given, err := readSecretFile(secretFile)
	if err != nil {
		return "", fmt.Errorf("--secret-file: %w", err)
	}
	if configured && cfg.secretFrom != cfg.secretFile() {
		if cfg.Secret != given {
			return "", fmt.Errorf("--secret-file is not the secret configured in %s, which the bot would use: put the backup's secret there "+
				"(or remove it), then restore again", cfg.secretSource())
		}
		// The configured secret (kept outside DATA) is the backup's: no
		// copy of it goes into the data directory.
		if err := cfg.secretMatches(info); err != nil {
			return "", err
		}
		return "", nil
	}
	cand := *cfg
	cand.Secret, cand.secretFrom = given, secretFile
	if err := cand.secretMatches(info); err != nil {
		return "", err
	}
	*cfg = cand
	cfg.secretFrom = cfg.secretFile()
	return given, nil
}

// copyToTemp copies src into a new file in dir (mode 0600, synced) and
// returns its path.
func copyToTemp(ctx context.Context, src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, ".restore-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, readerCtx{ctx, in})
	if err == nil {
		err = out.Chmod(0o600)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return filepath.Clean(out.Name()), nil
}

// readerCtx stops a copy when the context ends (Ctrl-C).
type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
