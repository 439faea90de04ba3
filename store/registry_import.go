package store

// An import of the eligibility registry: its options, results and errors,
// and the order of its phases: read (registry_read.go: parse, validate and
// hash the CSV rows), sort (registry_sort.go: sorted runs merged by NIK
// hash, duplicates found) and load (registry_load.go: the merged records
// written into a new snapshot, then made current).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bansosbot/bansosbot"
)

// ImportOptions configure ImportRegistry.
type ImportOptions struct {
	Key      []byte             // the NIK key (required)
	Programs bansosbot.Programs // default bansosbot.DefaultPrograms()
	AsOf     time.Time          // the date of the data (required)
	Source   string             // the file's name, kept for the operator

	// TempDir holds the sorted runs of a large file; default: the store's
	// directory (the runs take about as much space as the snapshot). The
	// new registry file is always built in the store's directory, so that
	// it can be renamed into place.
	TempDir string
	// RunBytes bounds the records sorted in memory at once (default 16 MiB,
	// about 200,000 records): with TxRows, it bounds the import's memory
	// whatever the file's size.
	RunBytes int
	// TxRows is the number of records per write transaction (default
	// 100,000; while the bot runs, its own writes wait for one).
	TxRows int
	// Workers validate and hash rows in parallel (default GOMAXPROCS).
	Workers int
	// MaxErrors stops the import after that many bad rows; 0 reports all.
	MaxErrors int
	// Comma is the field separator; 0 detects ',' or ';' from the header
	// line.
	Comma rune
	// DryRun reads and checks the file and returns its statistics without
	// writing anything.
	DryRun bool
	// Force imports a file with under half the rows of the current
	// snapshot (refused with a *ShrinkError otherwise).
	Force bool

	// BadRow is called for each bad row: rows that fail validation in line
	// order, then duplicate NIKs.
	BadRow func(RowError)
	// Progress is called a few times a second, at the end of each phase
	// and after each transaction of the write phase, one call at a time.
	Progress func(ImportProgress)

	afterTx func() // tests: called after each committed write transaction
}

// RowError is a bad row of a registry file. Err is a *bansosbot.Error (its
// key is a locale key: nik.*, registry.*).
type RowError struct {
	Line int
	Err  error
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Import phases.
const (
	PhaseRead  = "read"  // parsing, validating, hashing and sorting rows
	PhaseWrite = "write" // writing the sorted records into the snapshot
)

// ImportProgress reports an import's progress.
type ImportProgress struct {
	Phase string
	Bytes int64 // read so far (read phase)
	Rows  int64 // rows read (read phase) or records written (write phase)
	Total int64 // records to write (write phase)
}

// ImportResult describes a finished import.
type ImportResult struct {
	Snapshot bansosbot.Snapshot
	Replaced uint64 // the id of the snapshot it replaced; 0 for the first
	Runs     int    // sorted runs spilled to temporary files (0: sorted in memory)
	Read     time.Duration
	Write    time.Duration
}

// ErrBadRows is returned (wrapped, with the count) when the file has bad
// rows: nothing was imported.
var ErrBadRows = errors.New("the registry file has bad rows")

// importing guards against two imports into one store at once (the file
// lock already keeps other processes out).
var importing sync.Map // *DB -> struct{}

// ErrShrink is returned (wrapped in a *ShrinkError) when a file has fewer
// than half the rows of the current snapshot and ImportOptions.Force is
// not set: most likely a partial export or the wrong file.
var ErrShrink = errors.New("store: registry import: the file has under half the rows of the current data")

// ShrinkError tells how many rows the refused file and the current
// snapshot have.
type ShrinkError struct{ Rows, Current int }

func (e *ShrinkError) Error() string {
	return fmt.Sprintf("%v: %d rows against %d", ErrShrink, e.Rows, e.Current)
}

func (e *ShrinkError) Unwrap() error { return ErrShrink }

// ImportRegistry reads a registry CSV file (format: bansosbot.RegistryColumns)
// and makes it the current snapshot. It is all or nothing: with any bad row,
// a read or write error or a cancelled ctx, lookups keep answering from the
// previous snapshot and nothing of the new one remains.
//
// It streams: rows are validated and hashed in parallel, sorted by NIK hash
// in runs of opts.RunBytes (spilled to temporary files), merged, and
// appended to a new registry file in key order in transactions of
// opts.TxRows records, the pattern bbolt writes fastest; the file is then
// renamed over registry.db (the replaced one is kept for RegistryRollback).
// Memory does not grow with the file.
//
// With opts.DryRun the file is read and checked (duplicates included) and
// the result holds its statistics, but nothing is written.
func (db *DB) ImportRegistry(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	im, err := db.buildRegistry(ctx, r, opts)
	if err != nil || opts.DryRun {
		return resultOf(im), err
	}
	return im.install(true)
}

func resultOf(im *importer) *ImportResult {
	if im == nil {
		return nil
	}
	return &im.res
}

// StagedRegistry is a registry snapshot loaded but not yet current.
type StagedRegistry struct {
	im *importer
}

// StageRegistry builds a registry file from r like ImportRegistry, without
// making it current: a rotation of the secret builds the registry under
// the new key (NIK hashes cannot be re-keyed from the hashes; the source
// file is needed), commits the new secret, then calls Install. Discard
// removes a staged file that will not be installed.
func (db *DB) StageRegistry(ctx context.Context, r io.Reader, opts ImportOptions) (*StagedRegistry, error) {
	opts.DryRun = false
	im, err := db.buildRegistry(ctx, r, opts)
	if err != nil {
		return nil, err
	}
	return &StagedRegistry{im: im}, nil
}

// Result describes the staged snapshot.
func (s *StagedRegistry) Result() *ImportResult { return &s.im.res }

// Install makes the staged file the current registry. The previous
// snapshot is removed, not kept: it was made under another key.
func (s *StagedRegistry) Install() (*ImportResult, error) { return s.im.install(false) }

// Discard removes the staged snapshot.
func (s *StagedRegistry) Discard() {
	if s.im.loader != nil {
		s.im.loader.discard()
		s.im.loader = nil
	}
	importing.Delete(s.im.db)
}

// buildRegistry reads, checks and (unless DryRun) writes a new registry
// file; the import lock stays held until install or Discard when it
// succeeds without DryRun.
func (db *DB) buildRegistry(ctx context.Context, r io.Reader, opts ImportOptions) (im *importer, err error) {
	if len(opts.Key) == 0 {
		return nil, errors.New("store: registry import: no NIK key")
	}
	if opts.AsOf.IsZero() {
		return nil, errors.New("store: registry import: no data date")
	}
	if opts.Programs == nil {
		opts.Programs = bansosbot.DefaultPrograms()
	}
	if opts.RunBytes <= 0 {
		opts.RunBytes = 16 << 20
	}
	opts.RunBytes = min(opts.RunBytes, 1<<30)
	if opts.TxRows <= 0 {
		opts.TxRows = 100_000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.TempDir == "" {
		opts.TempDir = db.snaps.dataDir()
	}
	if _, busy := importing.LoadOrStore(db, struct{}{}); busy {
		return nil, errors.New("store: registry import: another import is running")
	}
	defer func() {
		if err != nil || opts.DryRun {
			importing.Delete(db)
		}
	}()

	im = &importer{db: db, opts: opts}
	defer im.removeRuns()
	stop := im.reportProgress()
	defer stop()

	start := time.Now()
	if err := im.read(ctx, r); err != nil {
		return im, err
	}
	im.res.Read = time.Since(start)
	im.res.Runs = len(im.runs)
	if im.rows == 0 && im.bad == 0 {
		return im, bansosbot.Errorf(bansosbot.EInvalid, "registry.no_rows")
	}
	if im.bad > 0 || opts.DryRun {
		// Duplicates are bad rows too: report them before failing.
		if err := im.merge(ctx, nil); err != nil {
			return im, err
		}
		if im.bad > 0 {
			return im, fmt.Errorf("store: registry import: %w: %d", ErrBadRows, im.bad)
		}
		im.res.Snapshot = bansosbot.Snapshot{AsOf: opts.AsOf, Source: opts.Source, Programs: im.cols.Programs, Stats: im.stats}
		if cur, err := db.snaps.currentIn(nil); err != nil {
			return im, err
		} else if cur != nil {
			im.res.Replaced = cur.ID
		}
		return im, nil
	}
	if cur, err := db.RegistrySnapshot(); err != nil {
		return im, err
	} else if cur != nil && !opts.Force && 2*im.rows < int64(cur.Stats.Rows) {
		return im, &ShrinkError{Rows: int(im.rows), Current: cur.Stats.Rows}
	}
	start = time.Now()
	if err := im.write(ctx); err != nil {
		return im, err
	}
	im.res.Write = time.Since(start)
	return im, nil
}

// install makes the loaded snapshot current and releases the import lock.
func (im *importer) install(keepPrev bool) (*ImportResult, error) {
	defer importing.Delete(im.db)
	if im.loader == nil {
		return nil, errors.New("store: registry: nothing staged")
	}
	ld := im.loader
	im.loader = nil
	defer ld.discard() // after install: releases what the load held
	old, err := ld.install(keepPrev)
	if err != nil {
		return nil, err
	}
	if old != nil {
		im.res.Replaced = old.ID
	}
	return &im.res, nil
}

type importer struct {
	db     *DB
	opts   ImportOptions
	res    ImportResult
	loader snapshotLoader // the loaded snapshot, until installed

	cols  *bansosbot.RegistryColumns
	dict  dict
	stats bansosbot.RegistryStats
	bad   int

	// The run being filled: entries "key(32) line(4) uvarint len, value"
	// back to back in arena, and their index.
	arena    []byte
	index    []runEntry
	runs     []*runFile // spilled runs, in file order
	rows     int64      // records in runs (valid rows)
	valBytes int64      // their encoded size

	phase               atomic.Value // string
	bytesRead, rowsDone atomic.Int64
	rowsTotal           atomic.Int64
	progressMu          sync.Mutex
}

func (im *importer) reportProgress() (stop func()) {
	im.phase.Store(PhaseRead)
	if im.opts.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				im.progress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (im *importer) progress() {
	if im.opts.Progress == nil {
		return
	}
	im.progressMu.Lock()
	defer im.progressMu.Unlock()
	im.opts.Progress(ImportProgress{Phase: im.phase.Load().(string), Bytes: im.bytesRead.Load(),
		Rows: im.rowsDone.Load(), Total: im.rowsTotal.Load()})
}

func (im *importer) badRow(line int, err error) bool {
	im.bad++
	if im.opts.BadRow != nil {
		im.opts.BadRow(RowError{Line: line, Err: err})
	}
	return im.opts.MaxErrors > 0 && im.bad >= im.opts.MaxErrors
}

// batch is a slice of rows on their way from the CSV reader through a
