package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bansosbot/bansosbot/store"
)

// storeCommand is an operator command that works on the store. It runs in
// this process when no bot runs on the data directory, and inside the
// running bot (through its control socket) otherwise, since bbolt lets
// only one process open the file.
type storeCommand func(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error

var storeCommands = map[string]storeCommand{
	"staff": func(ctx context.Context, _ Config, db *store.DB, args []string, w io.Writer) error {
		return runStaff(ctx, db, args, w)
	},
	"audit": func(ctx context.Context, _ Config, db *store.DB, args []string, w io.Writer) error {
		return runAudit(ctx, db, args, w)
	},
}

// runStore runs a store command here or in the running instance.
func runStore(ctx context.Context, cfg Config, name string, args []string, stdout io.Writer) error {
	cmd := storeCommands[name]
	if err := cfg.ensureSecret(); err != nil {
		return err
	}
	db, err := store.Open(cfg.DBPath(), store.Options{LockTimeout: 300 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		err := runViaControl(ctx, cfg, name, args, stdout)
		if errors.Is(err, errNoInstance) {
			return fmt.Errorf("%s is locked by another process that does not answer on %s; is an older bansosbot running?", cfg.DBPath(), cfg.controlSocket())
		}
		return err
	}
	if err != nil {
		return err
	}
	defer db.Close()
	return cmd(ctx, cfg, db, args, stdout)
}
