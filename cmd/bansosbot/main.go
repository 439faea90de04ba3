// Command bansosbot runs the bansos Telegram bot and its operator tools.
//
//	bansosbot [flags]                 run the bot (polling or webhook)
//	bansosbot demo                    try the bot locally without a token
//	bansosbot backup FILE             consistent copy of the live database
//
// Run "bansosbot help" for every subcommand, and see the README for the
// configuration (flags and BANSOSBOT_* environment variables).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bansosbot/bansosbot/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bansosbot:", err)
		}
		os.Exit(1)
	}
}

const usage = `Usage: bansosbot [flags] [command]

Commands:
  run (default)            run the bot: long polling, or webhook when BANSOSBOT_WEBHOOK_URL is set
  demo                     run the bot against a local fake Telegram and chat with it in this terminal
  backup [--force] FILE    write a consistent copy of the database while the bot runs
  restore [--secret-file F] FILE   put a backup (and its secret) in place of the database (the bot must be stopped)
  rotate-secret --new F [--registry CSV --date D]   re-key the data under a new secret (the bot must be stopped)
  migrate                  apply the embedded migrations to the PostgreSQL database (BANSOSBOT_DATABASE_URL); print the versions
  migrate-store [--from DATA] --to postgres://...   copy a bbolt installation into an empty PostgreSQL database, verified
  health [--ready]         ask the running bot's /healthz (the Docker HEALTHCHECK)
  doctor                   check configuration, data directory, database and Bot API; say what to fix
  report --period 2026-11 [--region CODE|NAME] [--format md|csv|json] [--lang id|en]   figures per region and category
  staff add|list|remove|invite|invites|revoke   manage social workers, supervisors, admins and invitations
  region find NAME         region codes for a name ("kab bogor")
  audit --ticket NO | --staff ID print the audit log of a ticket or a staff member
  tickets export --format csv|json|open311 [--since DATE] [--region CODE|NAME] [--out FILE]
  registry import|rollback|stats|gen  the eligibility registry: import a CSV, return to the previous one, counts, synthetic data (registry help)
  announce list|show|cancel  follow and stop the announcements supervisors write in the bot
  help                     this text

Commands that work on the data (staff, audit, registry, ...) run inside the bot when it is
running on the same data directory (through DATA/control.sock), directly otherwise.

Flags (each also as an environment variable; flags win):
`

// run parses the configuration and runs a subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	// Subcommands come first or after the global flags: "bansosbot demo",
	// "bansosbot -data /srv/bansos backup x.db".
	cfg, rest, err := LoadConfig("bansosbot", args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) { // bansosbot -h
		printUsage(stdout)
		return nil
	}
	if len(rest) > 0 && rest[0] == "help" && len(rest) > 1 { // bansosbot help report
		rest = []string{rest[1], "help"}
	}
	if len(rest) > 0 && rest[0] == "run" && wantsHelp("run", rest[1:]) { // bansosbot run -h: the bot's options are the global ones
		printUsage(stdout)
		return nil
	}
	if len(rest) > 0 && wantsHelp(rest[0], rest[1:]) && printHelp(rest[0], rest[1:], stdout) { // help.go
		return nil
	}
	if len(rest) > 0 && rest[0] == "doctor" { // doctor.go: reports a bad configuration among its findings
		return runDoctor(ctx, cfg, err, rest[1:], stdout)
	}
	if err != nil {
		return err
	}
	cmd := "run"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	if cmd == "registry" { // registry.go: gen here, import and stats through runStore
		return runRegistry(ctx, cfg, rest, stdin, stdout, stderr)
	}
	if _, ok := storeCommands[cmd]; ok {
		return runStore(ctx, cfg, cmd, rest, stdout)
	}
	switch cmd {
	case "run":
		if cfg.Token == "" {
			return fmt.Errorf("no Telegram token: set BANSOSBOT_TOKEN (or -token) to run the bot,\nor try it locally without one:  %s demo", selfCommand())
		}
		return serve(ctx, cfg, stderr)
	case "demo":
		return runDemo(ctx, cfg, rest, stdin, stdout, stderr)
	case "backup":
		return runBackup(ctx, cfg, rest, stdout, stderr)
	case "health": // ops.go
		return runHealth(ctx, cfg, rest, stdout, stderr)
	case "region": // region.go
		return runRegion(rest, stdout)
	case "restore": // restore.go
		return runRestore(ctx, cfg, rest, stdout, stderr)
	case "rotate-secret": // rotate.go
		return runRotateSecret(ctx, cfg, rest, stdout, stderr)
	case "migrate": // pgops.go
		return runMigrate(ctx, cfg, stdout)
	case "migrate-store": // migrate_store.go
		return runMigrateStore(ctx, cfg, rest, stdout, stderr)
	case "help", "-h", "--help":
		printUsage(stdout)
		return nil
	}
	return fmt.Errorf("unknown command %q (see: bansosbot help)", cmd)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	for _, o := range options {
		def := ""
		if o.def != "" {
			def = fmt.Sprintf(" (default %q)", o.def)
		}
		fmt.Fprintf(w, "  -%-16s %-26s %s%s\n", o.flag, o.env, o.help, def)
	}
	fmt.Fprintln(w, "\nEach command answers -h (bansosbot staff -h, bansosbot report -h) with its own flags.")
}

// serve runs the bot until the context ends (SIGINT/SIGTERM).
func serve(ctx context.Context, cfg Config, logOut io.Writer) error {
	m := NewMain(cfg, logOut)
	if err := m.Open(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.Log.Info("shutting down")
	return m.Close()
}

const backupUsage = `Usage: bansosbot backup [--force] FILE

Writes a consistent copy of the database to FILE, also while the bot runs
(it is asked through DATA/control.sock). An existing FILE is replaced only
with --force. Keep the secret (DATA/secret) safe too, but not next to it.`

func backupFlags() (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	return fs, fs.Bool("force", false, "replace FILE if it exists")
}

// runBackup is "bansosbot backup [--force] FILE".
func runBackup(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs, force := backupFlags()
	fs.SetOutput(stderr)
	files, err := parseInterspersed(fs, args) // help.go: "backup FILE --force" too
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return errors.New("usage: bansosbot backup [--force] FILE")
	}
	path := files[0]
	if err := checkOutPath(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(path); err == nil && !*force {
		return fmt.Errorf("backup: %s exists; to replace it: bansosbot backup --force %s", path, path)
	}
	return backup(ctx, cfg, path, stdout)
}

// backup copies the database consistently while the bot may be running:
// bbolt lets one process hold the file, so a running instance is asked
// through its control socket in the data directory; without one, the file
// is opened directly.
func backup(ctx context.Context, cfg Config, path string, stdout io.Writer) error {
	if cfg.postgres() {
		return fmt.Errorf("backup: %w", store.ErrNotBolt)
	}
	if !cfg.hasData() {
		return cfg.errNoData()
	}
	n, err := backupViaControl(ctx, cfg, path)
	if errors.Is(err, errNoInstance) {
		var db *store.DB
		db, err = store.Open(cfg.DBPath(), store.Options{ReadOnly: true, LockTimeout: 2 * time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		err = db.BackupFile(path)
		if err == nil {
			if fi, serr := os.Stat(path); serr == nil {
				n = fi.Size()
			}
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes)\n", path, n)
	return nil
}

// selfCommand is how the operator ran this program, to name the next
// command: "go run ./cmd/bansosbot" under go run (its binary lives in a
// go-build temporary directory), else what they typed ("./bansosbot",
// "bansosbot").
func selfCommand() string {
	exe, argv0 := self()
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/bansosbot"
	}
	if argv0 == "" {
		return "bansosbot"
	}
	return argv0
}

// self returns the running executable and how it was invoked (os.Args[0]);
// a variable so that tests can pretend to be a built binary.
var self = selfDefault

func selfDefault() (exe, argv0 string) {
	exe, _ = os.Executable()
	return exe, os.Args[0]
}
