package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

const rotateUsage = `Usage: bansosbot rotate-secret --new FILE [--registry FILE.csv --date YYYY-MM-DD] [--lang id|en]

Replaces the secret (the key of the registry's NIK and name hashes, of the
invitation codes and of new ticket numbers) with the one in FILE, or with
a new one written to FILE (mode 0600) when FILE does not exist. The bot must
be stopped: it reads the secret once at start.

It re-keys what can be re-keyed (a registry file that does not import
stops it before anything changed):
  - the registry: with --registry, the source CSV is imported again under
    the new secret (checked before anything changes); without it the
    registry is removed (hashes cannot be re-keyed without the NIKs, and
    under the old key they would answer "not registered" to everyone):
    import it again afterwards with bansosbot registry import;
  - pending invitations are revoked (only a keyed hash of each code is
    kept; a code cannot be re-hashed, and one made under a leaked secret
    must not stay valid): invite again with bansosbot staff invite;
  - the database's secret fingerprint becomes the new secret's.
Ticket numbers already given out stay; new ones are made under the new
secret and never repeat an existing number.

Then configure FILE as the secret (BANSOSBOT_SECRET_FILE, the systemd
credential, or DATA/secret) and start the bot: it refuses the old secret.
Keep the old secret with the backups made before the rotation: they need it.
It speaks Indonesian (--lang en: English).`

func rotateFlags() (fs *flag.FlagSet, newFile, registry, date, programs, lang *string) {
	fs = flag.NewFlagSet("rotate-secret", flag.ContinueOnError)
	return fs, fs.String("new", "", "file with the new secret; generated there (mode 0600) when it does not exist (required)"),
		fs.String("registry", "", "the registry's source CSV, imported again under the new secret"),
		fs.String("date", "", "with --registry: the date of the data (YYYY-MM-DD)"),
		fs.String("programs", "", "with --registry: programs file (JSON); default: the built-in list"),
		fs.String("lang", "id", "language of the messages: id or en")
}

// runRotateSecret re-keys the data directory under a new secret (see
// rotateUsage). It runs with the bot stopped rather than through the
// control socket: the running bot holds the secret in memory (engine keys,
// conversations holding a NIK hash between two questions), and a rotation
// under it would mix keys; with the store's lock held, the database and
// the registry change with nobody reading them.
func runRotateSecret(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs, newFile, registry, date, programsFile, langFlag := rotateFlags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	lang := cliLang(*langFlag)
	tr := func(key string, args ...any) string { return catText(lang, "ops.rotate."+key, args...) }
	if *newFile == "" || fs.NArg() != 0 {
		return errors.New("usage: bansosbot rotate-secret --new FILE [--registry FILE.csv --date YYYY-MM-DD]")
	}
	if *registry != "" && *date == "" {
		return &cliError{tr("need_date")}
	}
	if !cfg.hasData() {
		return cfg.errNoData()
	}
	if ok, err := cfg.loadSecret(); err != nil {
		return err
	} else if !ok {
		return &cliError{tr("no_secret")}
	}
	db, err := cfg.openStore(ctx, store.Options{LockTimeout: 300 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return &cliError{tr("running", "Dir", absPath(cfg.DataDir))}
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if err := cfg.checkSecret(db); err != nil {
		return err
	}

	next := cfg
	next.Secret, next.secretFrom = "", *newFile
	generated := false
	switch s, err := readSecretFile(*newFile); {
	case err == nil:
		next.Secret = s
	case errors.Is(err, os.ErrNotExist):
		if err := checkOutPath(*newFile); err != nil {
			return fmt.Errorf("--new: %w", err)
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		next.Secret, generated = hex.EncodeToString(b), true
	default:
		return fmt.Errorf("--new: %w", err)
	}
	if next.fingerprint() == cfg.fingerprint() {
		return &cliError{tr("same_secret", "File", *newFile)}
	}

	// The registry under the new key, built aside: a bad file stops the
	// rotation before anything changed.
	var staged *store.StagedRegistry
	if *registry != "" {
		asOf, err := parseDate(*date)
		if err != nil {
			return err
		}
		programs := bansosbot.DefaultPrograms()
		if *programsFile != "" {
			raw, err := os.ReadFile(*programsFile)
			if err != nil {
				return err
			}
			if programs, err = bansosbot.LoadPrograms(bytes.NewReader(raw)); err != nil {
				return err
			}
		}
		f, err := os.Open(*registry)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		rep := newImportReporter(stdout, fi.Size(), lang)
		staged, err = db.StageRegistry(ctx, f, store.ImportOptions{Key: next.key("nik"), Programs: programs, AsOf: asOf,
			Source: filepath.Base(*registry), BadRow: rep.badRow, Progress: rep.progress})
		rep.finish()
		f.Close()
		if err != nil {
			return &cliError{tr("bad_registry", "Detail", rotateImportDetail(lang, err, rep))}
		}
		defer staged.Discard() // a no-op once installed
	}

	// The new secret is on disk before the database depends on it.
	if generated {
		if err := writeSecretFile(*newFile, next.Secret); err != nil {
			return fmt.Errorf("--new: %w", err)
		}
	}
	now := db.Now()
	revoked := 0
	err = db.Update(func(tx *store.Tx) error {
		var pending []*bansosbot.Invite
		if err := tx.Invites(func(inv *bansosbot.Invite) bool {
			if inv.Check(now) == nil {
				pending = append(pending, inv)
			}
			return true
		}); err != nil {
			return err
		}
		for _, inv := range pending {
			inv.ExpiresAt = now
			if err := tx.PutInvite(inv); err != nil {
				return err
			}
		}
		revoked = len(pending)
		if err := tx.AppendAudit(&bansosbot.AuditEntry{At: now, Role: "cli", Action: bansosbot.AuditRevoke, Allowed: true,
			Reason: fmt.Sprintf("secret rotated: %d pending invitation(s) revoked", revoked)}); err != nil {
			return err
		}
		return tx.SetSecretFingerprint(next.fingerprint())
	})
	if err != nil {
		return &cliError{tr("nothing_changed", "Detail", err.Error())}
	}
	fmt.Fprintln(stdout, tr("rotated", "Old", cfg.fingerprint(), "New", next.fingerprint()))
	if generated {
		fmt.Fprintln(stdout, tr("written", "File", absPath(*newFile)))
	}
	fmt.Fprintln(stdout, tr("revoked", "Count", revoked))
	if staged != nil {
		res, err := staged.Install()
		if err != nil {
			return &cliError{tr("install_failed", "Detail", err.Error(), "Date", *date, "File", *registry)}
		}
		fmt.Fprintln(stdout, tr("reimported", "Count", res.Snapshot.Stats.Rows, "Date", res.Snapshot.AsOf.Format(time.DateOnly)))
	} else {
		if err := db.DropRegistry(); err != nil {
			return &cliError{tr("drop_failed", "Detail", err.Error())}
		}
		fmt.Fprintln(stdout, tr("removed"))
	}
	fmt.Fprintln(stdout, tr("tickets"))
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, tr("next", "File", absPath(*newFile), "Source", cfg.secretSource()))
	return nil
}

// rotateImportDetail words why the registry file does not import, in the
// CLI's language (the bad rows are listed above it).
func rotateImportDetail(lang string, err error, rep *importReporter) string {
	switch {
	case errors.Is(err, store.ErrBadRows):
		return catText(lang, "ops.rotate.bad_rows", "Count", rep.bad)
	case bansosbot.ErrorKey(err) != "":
		return rowText(lang, err)
	}
	return err.Error()
}
