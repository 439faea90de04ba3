package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore"
)

const migrateStoreUsage = `Usage: bansosbot migrate-store [--from DATA] [--to postgres://...]

Copies a bbolt installation's database (DATA/bansosbot.db) into an empty
PostgreSQL database: every bucket with its keys, values and sequence, then
verifies the copy (keys and sequence per bucket, a sample of the values
byte for byte) and prints the counts. Stop the bot first. The eligibility
registry (DATA/registry.db) is not copied: import it once into the
database (bansosbot registry import, with BANSOSBOT_DATABASE_URL set);
every replica answers from it. The secret stays a file: give each replica
the same one (BANSOSBOT_SECRET_FILE), then start the replicas with
BANSOSBOT_DATABASE_URL.`

func migrateStoreFlags(cfg Config) (*flag.FlagSet, *string, *string) {
	fs := flag.NewFlagSet("migrate-store", flag.ContinueOnError)
	from := fs.String("from", cfg.DataDir, "data directory of the bbolt installation (BANSOSBOT_DATA)")
	to := fs.String("to", cfg.DatabaseURL, "PostgreSQL URL of the empty destination (BANSOSBOT_DATABASE_URL)")
	return fs, from, to
}

// runMigrateStore is "bansosbot migrate-store --from DATA --to URL".
func runMigrateStore(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs, from, to := migrateStoreFlags(cfg)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dst := Config{DatabaseURL: *to}
	if *to == "" || dst.validateDatabase() != nil {
		return errors.New("migrate-store: --to needs the PostgreSQL URL (postgres://...) of an empty database")
	}
	path := filepath.Join(*from, store.FileName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("migrate-store: %w", (&Config{DataDir: *from}).errNoData())
	}
	src, err := store.Open(path, store.Options{ReadOnly: true, LockTimeout: 300 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("migrate-store: a bansosbot is running on %s; stop it first (the copy must not change meanwhile)", absPath(*from))
	}
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	defer src.Close()
	pg, err := pgstore.Open(ctx, *to, pgstore.Options{})
	if err != nil {
		return fmt.Errorf("migrate-store: %s: %w", dst.databaseName(), err)
	}
	defer pg.Close()
	start := time.Now()
	counts, err := src.CopyTo(pg)
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bucket\tkeys\tcopied\tsequence\tcopied\t")
	total := 0
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", c.Name, c.Keys, c.CopyKeys, c.Seq, c.CopySeq)
		total += c.Keys
	}
	tw.Flush()
	fmt.Fprintf(stdout, "copied and verified %d entries in %d buckets from %s to %s in %v\n",
		total, len(counts), path, dst.databaseName(), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "next: the same secret on every replica, the registry imported once (bansosbot registry import) with BANSOSBOT_DATABASE_URL=%s\n",
		dst.databaseName())
	return nil
}
