package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// runRestore puts a backup in place of the data directory's database:
//
//	bansosbot restore [--force] FILE
//
// It refuses while a bansosbot runs on the data directory (the store's
// lock is held, and kept by restore until the new file is in place), a
// file that is damaged or not a bansosbot database, one written by a newer
// bansosbot (downgrades are not supported), and, without --force, one
// whose ticket numbers were made under another secret. The database it
// replaces is kept as bansosbot.db.before-restore-<time>; the new file is
// copied next to it and renamed into place, so a crash leaves one or the
// other, never half of one.
func runRestore(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	force := fs.Bool("force", false, "restore even if the backup's ticket numbers were made under another secret")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: bansosbot restore [--force] FILE")
	}
	file := fs.Arg(0)
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
	if err := checkBackupSecret(cfg, info); err != nil && !*force {
		return fmt.Errorf("restore: %w (--force restores it anyway)", err)
	} else if err != nil {
		fmt.Fprintf(stdout, "warning: %v\n", err)
	}
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
	previous := ""
	if _, err := os.Stat(dbPath); err == nil {
		previous = dbPath + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dbPath, previous); err != nil {
			return fmt.Errorf("restore: keep the current database: %w", err)
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		if previous != "" {
			_ = os.Rename(previous, dbPath)
		}
		return fmt.Errorf("restore: %w", err)
	}
	if d, err := os.Open(cfg.DataDir); err == nil { // make the renames durable
		_ = d.Sync()
		d.Close()
	}
	fmt.Fprintf(stdout, "restored %s into %s (schema %d, %d tickets)\n", file, dbPath, info.Version, info.Tickets)
	if previous != "" {
		fmt.Fprintf(stdout, "the previous database is kept as %s\n", previous)
	}
	if info.Version < store.SchemaVersion() {
		fmt.Fprintf(stdout, "it will be migrated from schema %d to %d at the next start\n", info.Version, store.SchemaVersion())
	}
	if cfg.Secret == "" {
		if _, err := os.Stat(cfg.secretFile()); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stdout, "warning: no secret in BANSOSBOT_SECRET or %s: restore the secret of the instance that made the backup "+
				"(NIK hashes and ticket numbers depend on it) before starting the bot\n", cfg.secretFile())
		}
	}
	return nil
}

// checkBackupSecret compares the backup's first ticket number with the
// number the configured secret gives its id: a mismatch means the backup
// was made under another secret (new tickets could then get numbers that
// exist already, and no stored NIK hash would match).
func checkBackupSecret(cfg Config, info store.FileInfo) error {
	if info.FirstTicket == 0 {
		return nil
	}
	if cfg.Secret == "" {
		raw, err := os.ReadFile(cfg.secretFile())
		if err != nil {
			return nil // no secret yet: said after the restore
		}
		cfg.Secret = strings.TrimSpace(string(raw))
	}
	if want := bansosbot.NewTicketNo(info.FirstTicket, cfg.key("ticket-number")); want != info.FirstTicketNo {
		return fmt.Errorf("the backup's ticket numbers were made under another secret than the configured one (ticket %d is %s, the secret gives %s)",
			info.FirstTicket, info.FirstTicketNo, want)
	}
	return nil
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
