package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// The report counters (store/tally.go, flows/tally.go): every program
// that writes tickets keeps them with the engine of its configuration;
// the bot builds them at start when the database has none (an upgrade)
// or they went stale (a ticket written by a program without them).

// keepTallies makes db keep the report counters with engine (nil: one
// of cfg's settings). A configuration that cannot make an engine leaves
// db without: tickets written then mark the counters stale, and the next
// start rebuilds them.
func keepTallies(cfg Config, db *store.DB, engine *flows.Engine) {
	if db.HasTallier() {
		return
	}
	if engine == nil {
		ecfg, err := NewMain(cfg, io.Discard).engineConfig()
		if err != nil {
			return
		}
		engine = flows.NewEngine(ecfg)
	}
	db.SetTallier(func(tx *store.Tx, t *bansosbot.Ticket) (*bansosbot.TicketTally, error) { return engine.Tally(tx, t) })
}

// buildTallies builds the report counters when they are missing or stale
// (the migration of a database from before them).
func (m *Main) buildTallies() error {
	state, err := m.DB.TallyState()
	if err != nil || state == store.TallyOK {
		return err
	}
	m.Log.Info("building the report counters from every ticket (once)", "state", state)
	start := time.Now()
	res, err := m.DB.RebuildTalliesExclusive() // nothing else writes before the bot serves
	if err != nil {
		return fmt.Errorf("report counters: %w", err)
	}
	m.Log.Info("report counters built", "tickets", res.Tickets, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// runRecount is doctor --recount [--rebuild]: it recounts every ticket,
// compares the counters with the recount and, with --rebuild, builds
// them afresh.
func runRecount(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("doctor --recount", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	rebuild := fs.Bool("rebuild", false, "build the counters afresh")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("doctor --recount: %w", err)
	}
	keepTallies(cfg, db, nil)
	if !db.HasTallier() {
		return errors.New("doctor --recount: the configuration is not valid (bansosbot doctor says why)")
	}
	start := time.Now()
	res, err := db.CheckTallies()
	if err != nil {
		return fmt.Errorf("doctor --recount: %w", err)
	}
	fmt.Fprintf(stdout, "recounted %d tickets in %s: %d counter record(s) differ, %d ticket(s) counted with old settings\n",
		res.Tickets, time.Since(start).Round(time.Millisecond), res.Differences, res.Stale)
	for _, ex := range res.Examples {
		fmt.Fprintf(stdout, "  %s\n", ex)
	}
	if *rebuild {
		start = time.Now()
		res, err := db.RebuildTallies()
		if err != nil {
			return fmt.Errorf("doctor --recount --rebuild: %w", err)
		}
		fmt.Fprintf(stdout, "rebuilt the counters of %d tickets in %s\n", res.Tickets, time.Since(start).Round(time.Millisecond))
		return nil
	}
	if res.Differences > 0 || res.Stale > 0 {
		return errors.New("the report counters differ from a recount: run bansosbot doctor --recount --rebuild")
	}
	fmt.Fprintln(stdout, "the report counters agree with the recount")
	return nil
}
