package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot/store"
)

// storeCommand is an operator command that works on the store. It runs in
// this process when no bot runs on the data directory, and inside the
// running bot (through its control socket) otherwise, since bbolt lets
// only one process open the file.
type storeCommand func(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error

var storeCommands = map[string]storeCommand{
	"staff":    runStaff, // staff.go
	"audit":    runAudit, // staff.go
	"tickets":  runTickets,
	"registry": registryCommand, // import and stats; "registry gen" needs no store (see runRegistry)
	"report":   runReport,       // report.go
	"recount":  runRecount,      // tally.go: doctor --recount
	"announce": runAnnounce,     // announce.go
}

// runStore runs a store command here or in the running instance. An
// "--out FILE" argument sends the command's output to FILE, written here
// (atomically, mode 0600) wherever the command runs.
func runStore(ctx context.Context, cfg Config, name string, args []string, stdout io.Writer) error {
	args, out := outFlag(args)
	if out == "" {
		return runStoreTo(ctx, cfg, name, args, stdout)
	}
	if err := checkOutPath(out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".out-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := runStoreTo(ctx, cfg, name, args, f); err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "written to %s\n", out)
	return nil
}

// checkOutPath checks that the folder of a file to write exists, so that
// the error names it rather than the temporary file written there first.
func checkOutPath(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("folder %s does not exist (create it first, or write elsewhere)", absPath(dir))
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", absPath(dir))
	}
	return nil
}

// outFlag removes "--out FILE" (or -out, or --out=FILE) from args.
func outFlag(args []string) ([]string, string) {
	var rest []string
	out := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case (a == "--out" || a == "-out") && i+1 < len(args):
			out = args[i+1]
			i++
		case strings.HasPrefix(a, "--out=") || strings.HasPrefix(a, "-out="):
			out = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	return rest, out
}

func runStoreTo(ctx context.Context, cfg Config, name string, args []string, stdout io.Writer) error {
	cmd := storeCommands[name]
	return runWithStore(ctx, cfg, name, args, stdout,
		func(db *store.DB, cfg Config) error { return cmd(ctx, cfg, db, args, stdout) },
		func() error { return runViaControl(ctx, cfg, name, args, stdout) })
}

// runWithStore runs local on the store opened here or, when a running
// instance holds it, remote (through the control socket).
func runWithStore(ctx context.Context, cfg Config, name string, args []string, stdout io.Writer,
	local func(*store.DB, Config) error, remote func() error) (err error) {
	if !cfg.hasData() {
		if !createsData(name, args) {
			return cfg.errNoData()
		}
		return createData(cfg, stdout, local)
	}
	if _, err := cfg.loadSecret(); err != nil {
		return err
	}
	if cfg.postgres() {
		// No file lock tells that a bot runs here: ask its control socket
		// first, so that a registry import or a rotation reaches it.
		if err := remote(); !errors.Is(err, errNoInstance) {
			return err
		}
	}
	db, err := cfg.openStore(ctx, store.Options{LockTimeout: 300 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		err := remote()
		if errors.Is(err, errNoInstance) {
			return fmt.Errorf("%s is locked by another process that does not answer on %s; is an older bansosbot running?", cfg.DBPath(), cfg.controlSocket())
		}
		return err
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.Secret != "" {
		if err := cfg.checkSecret(db); err != nil {
			return err
		}
	} else if fp, err := db.SecretFingerprint(); err != nil {
		return err
	} else if fp != "" {
		// Without the secret, invitations and registry imports would be
		// hashed under no key at all.
		return fmt.Errorf("no secret configured for the database at %s (made with the secret of fingerprint %s): "+
			"set BANSOSBOT_SECRET_FILE (or BANSOSBOT_SECRET) as the bot's service has it", absPath(cfg.DataDir), fp)
	}
	keepTallies(cfg, db, nil) // tally.go: tickets changed here keep the report counters
	return local(db, cfg)
}

// createsData reports whether a command may start a new data directory:
// adding the first staff member and importing the registry are how an
// installation begins. Every other data command refuses a directory
// without a database.
func createsData(name string, args []string) bool {
	return len(args) > 0 && (name == "staff" && args[0] == "add" || name == "registry" && args[0] == "import")
}

// createData makes a new database (and a secret, unless one is
// configured) in the data directory, runs fn on it and says so. When fn
// fails, what was created is removed again: a typo must not leave an
// empty installation behind.
func createData(cfg Config, stdout io.Writer, fn func(*store.DB, Config) error) (err error) {
	_, dirErr := os.Stat(cfg.DataDir)
	if err := cfg.ensureSecret(); err != nil {
		return err
	}
	defer func() {
		if err == nil {
			return
		}
		os.Remove(cfg.DBPath())
		if cfg.secretGenerated {
			os.Remove(cfg.secretFile())
		}
		if errors.Is(dirErr, os.ErrNotExist) {
			os.Remove(cfg.DataDir) // only if empty
		}
	}()
	db, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		return err
	}
	if err = cfg.checkSecret(db); err == nil {
		err = fn(db, cfg)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created a new bansosbot data directory at %s (database %s", absPath(cfg.DataDir), store.FileName)
	if cfg.secretGenerated {
		fmt.Fprintf(stdout, ", new secret in %s: back it up", absPath(cfg.secretFile()))
	}
	fmt.Fprintln(stdout, ")")
	return nil
}
