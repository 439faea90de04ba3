package store

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
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
	// Progress is called a few times a second and at the end of each phase,
	// from one goroutine.
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

// StagedRegistry is a registry file built but not yet current.
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

// Discard removes the staged file.
func (s *StagedRegistry) Discard() {
	if s.im.built != "" {
		os.Remove(s.im.built)
		s.im.built = ""
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
		opts.TempDir = db.reg.dir
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
		if cur := db.reg.current(); cur != nil {
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

// install renames the built file over registry.db and releases the import
// lock.
func (im *importer) install(keepPrev bool) (*ImportResult, error) {
	defer importing.Delete(im.db)
	if im.built == "" {
		return nil, errors.New("store: registry: nothing staged")
	}
	old, err := im.db.reg.install(im.built, keepPrev)
	if err != nil {
		os.Remove(im.built)
		im.built = ""
		return nil, err
	}
	im.built = ""
	if old != nil {
		im.res.Replaced = old.ID
	}
	return &im.res, nil
}

type importer struct {
	db    *DB
	opts  ImportOptions
	res   ImportResult
	built string // the finished registry file, until installed

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

type runEntry struct {
	prefix uint64 // the key's first 8 bytes: most comparisons stop here
	off    uint32
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
// worker to the collector.
type batch struct {
	n     int
	lines []int
	rows  [][]string
	recs  []bansosbot.Record
	errs  []error
	done  chan struct{} // closed by the worker
}

const batchRows = 1024

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

var errMaxErrors = errors.New("too many bad rows")

// read runs the read phase: a reader goroutine parses the CSV into
// batches, workers validate and hash them, and this goroutine collects
// them in file order into sorted runs.
func (im *importer) read(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(countingReader{r, &im.bytesRead}, 1<<20)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" { // Excel's "CSV UTF-8"
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.Comment = '#' // "# date: 2026-11-30" and other notes; a NIK never starts with #
	cr.Comma = im.opts.Comma
	if cr.Comma == 0 {
		cr.Comma = detectComma(br)
	}
	header, err := cr.Read()
	if err == io.EOF {
		return bansosbot.Errorf(bansosbot.EInvalid, "registry.empty")
	}
	if err != nil {
		return fmt.Errorf("store: registry import: header: %w", err)
	}
	if im.cols, err = bansosbot.ParseRegistryHeader(header, im.opts.Programs); err != nil {
		return err
	}
	nprog := len(im.cols.Programs)
	im.stats.Receivers = make([]int, nprog)

	ctx, cancel := context.WithCancelCause(ctx)
	nb := im.opts.Workers * 4
	free := make(chan *batch, nb)
	for range nb {
		b := &batch{lines: make([]int, batchRows), rows: make([][]string, batchRows),
			recs: make([]bansosbot.Record, batchRows), errs: make([]error, batchRows)}
		for i := range b.recs {
			b.recs[i].Programs = make([]bansosbot.ProgramStatus, 0, nprog)
		}
		free <- b
	}
	todo := make(chan *batch, nb)
	ordered := make(chan *batch, nb)
	var wg sync.WaitGroup
	defer func() { cancel(nil); wg.Wait() }()

	wg.Add(1)
	go func() { // reader
		defer wg.Done()
		defer close(todo)
		defer close(ordered)
		for eof := false; !eof; {
			var b *batch
			select {
			case b = <-free:
			case <-ctx.Done():
				return
			}
			b.n = 0
			for b.n < batchRows {
				rec, err := cr.Read()
				if err == io.EOF {
					eof = true
					break
				}
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					b.lines[b.n], b.rows[b.n], b.errs[b.n] = pe.StartLine, b.rows[b.n][:0],
						bansosbot.Errorf(bansosbot.EInvalid, "registry.bad_csv", "Detail", pe.Err.Error())
					b.n++
					continue
				}
				if err != nil {
					cancel(fmt.Errorf("store: registry import: read: %w", err))
					return
				}
				line, _ := cr.FieldPos(0)
				b.lines[b.n], b.rows[b.n], b.errs[b.n] = line, append(b.rows[b.n][:0], rec...), nil
				b.n++
			}
			b.done = make(chan struct{})
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
			todo <- b // never blocks: todo holds as many batches as exist
		}
	}()
	for range im.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := bansosbot.NewHasher(im.opts.Key)
			for b := range todo {
				for i := range b.n {
					if b.errs[i] == nil {
						b.errs[i] = im.cols.Record(b.rows[i], h, &b.recs[i])
					}
				}
				close(b.done)
			}
		}()
	}

	// Both grow with the first run and are reused by the next ones; a
	// small file takes little memory.
	im.arena = make([]byte, 0, min(im.opts.RunBytes, 1<<20))
	im.index = make([]runEntry, 0, cap(im.arena)/64)
	var val []byte
	for b := range ordered {
		select {
		case <-b.done:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		for i := range b.n {
			if err := b.errs[i]; err != nil {
				if im.badRow(b.lines[i], err) {
					cancel(errMaxErrors)
					return fmt.Errorf("store: registry import: %w: stopped after %d", ErrBadRows, im.bad)
				}
				continue
			}
			rec := &b.recs[i]
			im.stats.Add(rec)
			val = appendRecord(val[:0], rec, &im.dict)
			if len(im.arena) > 0 && len(im.arena)+len(rec.NIK)+4+binary.MaxVarintLen32+len(val) > im.opts.RunBytes {
				if err := im.spill(); err != nil {
					cancel(err)
					return err
				}
			}
			im.reserve(len(rec.NIK) + 4 + binary.MaxVarintLen32 + len(val))
			off := len(im.arena)
			im.arena = append(im.arena, rec.NIK[:]...)
			im.arena = binary.BigEndian.AppendUint32(im.arena, uint32(b.lines[i]))
			im.arena = binary.AppendUvarint(im.arena, uint64(len(val)))
			im.arena = append(im.arena, val...)
			im.index = append(im.index, runEntry{binary.BigEndian.Uint64(rec.NIK[:8]), uint32(off)})
			im.rows++
			im.valBytes += int64(len(val))
		}
		im.rowsDone.Add(int64(b.n))
		free <- b
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	im.sortRun()
	im.progress()
	return nil
}

// detectComma looks at the header line (the first line that is not a
// comment): Excel with Indonesian regional settings saves "CSV" with
// semicolons.
func detectComma(br *bufio.Reader) rune {
	head, _ := br.Peek(64 << 10)
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		if bytes.IndexByte(line, ';') >= 0 && bytes.IndexByte(line, ',') < 0 {
			return ';'
		}
		break
	}
	return ','
}

// reserve makes room for n more bytes in the arena and an index entry,
// doubling up to the run size: append's growth of large slices (a quarter
// at a time) would copy the arena over and over.
func (im *importer) reserve(n int) {
	if len(im.arena)+n > cap(im.arena) {
		a := make([]byte, len(im.arena), min(max(2*cap(im.arena), len(im.arena)+n), im.opts.RunBytes+n))
		copy(a, im.arena)
		im.arena = a
	}
	if len(im.index) == cap(im.index) {
		im.index = append(make([]runEntry, 0, 2*cap(im.index)+1024), im.index...)
	}
}

// sortRun sorts the index of the run in memory by key, then by line.
func (im *importer) sortRun() {
	a := im.arena
	slices.SortFunc(im.index, func(x, y runEntry) int {
		if c := cmp.Compare(x.prefix, y.prefix); c != 0 {
			return c
		}
		if c := bytes.Compare(a[x.off+8:x.off+32], a[y.off+8:y.off+32]); c != 0 {
			return c
		}
		return cmp.Compare(x.off, y.off)
	})
}

// runFile is a sorted run spilled to a temporary file.
type runFile struct {
	f    *os.File
	rows int
}

// spill sorts the run in memory and writes it to a temporary file.
func (im *importer) spill() error {
	im.sortRun()
	f, err := os.CreateTemp(im.opts.TempDir, tmpRegistryRun+"*")
	if err != nil {
		return fmt.Errorf("store: registry import: %w", err)
	}
	im.runs = append(im.runs, &runFile{f: f, rows: len(im.index)})
	w := bufio.NewWriterSize(f, 1<<20)
	for _, e := range im.index {
		w.Write(im.entry(e.off))
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("store: registry import: write run: %w", err)
	}
	im.arena, im.index = im.arena[:0], im.index[:0]
	return nil
}

// entry returns the arena bytes of the entry at off.
func (im *importer) entry(off uint32) []byte {
	l, n := binary.Uvarint(im.arena[off+36:])
	return im.arena[off : off+36+uint32(n)+uint32(l)]
}

func (im *importer) removeRuns() {
	for _, r := range im.runs {
		r.f.Close()
		os.Remove(r.f.Name())
	}
	im.runs = nil
}

// source is one sorted input of the merge: a run file or the run in memory.
type source struct {
	// current entry
	key, val []byte
	line     int
	order    int // file order of the run: equal keys come out first-line first

	next func(s *source) (bool, error)
}

func (im *importer) sources() ([]*source, error) {
	var srcs []*source
	// The read buffers together take at most 16 MiB, so memory does not
	// grow with the number of runs.
	bufSize := min(max((16<<20)/max(len(im.runs), 1), 16<<10), 256<<10)
	for i, r := range im.runs {
		if _, err := r.f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("store: registry import: %w", err)
		}
		br := bufio.NewReaderSize(r.f, bufSize)
		head := make([]byte, 36)
		srcs = append(srcs, &source{order: i, key: head[:32], next: func(s *source) (bool, error) {
			if _, err := io.ReadFull(br, head); err != nil {
				if err == io.EOF {
					return false, nil
				}
				return false, fmt.Errorf("store: registry import: read run: %w", err)
			}
			s.line = int(binary.BigEndian.Uint32(head[32:]))
			l, err := binary.ReadUvarint(br)
			if err != nil {
				return false, fmt.Errorf("store: registry import: read run: %w", err)
			}
			s.val = slices.Grow(s.val[:0], int(l))[:l]
			if _, err := io.ReadFull(br, s.val); err != nil {
				return false, fmt.Errorf("store: registry import: read run: %w", err)
			}
			return true, nil
		}})
	}
	i := 0
	srcs = append(srcs, &source{order: len(im.runs), next: func(s *source) (bool, error) {
		if i == len(im.index) {
			return false, nil
		}
		e := im.entry(im.index[i].off)
		i++
		s.key, s.line = e[:32], int(binary.BigEndian.Uint32(e[32:36]))
		_, n := binary.Uvarint(e[36:])
		s.val = e[36+n:]
		return true, nil
	}})
	return srcs, nil
}

// merge merges the sorted runs and calls emit with each record in key
// order (emit may be nil: only duplicates are looked for). A NIK that
// appears twice is a bad row.
func (im *importer) merge(ctx context.Context, emit func(key, val []byte) error) error {
	srcs, err := im.sources()
	if err != nil {
		return err
	}
	// h is a binary min-heap of sources by (key, run order).
	less := func(a, b *source) bool {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c < 0
		}
		return a.order < b.order
	}
	h := make([]*source, 0, len(srcs))
	for _, s := range srcs {
		ok, err := s.next(s)
		if err != nil {
			return err
		}
		if ok {
			h = append(h, s)
		}
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				m = r
			}
			if !less(h[m], h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	var prev [32]byte
	prevLine, n := 0, 0
	for len(h) > 0 {
		if n++; n%(1<<12) == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		s := h[0]
		if prevLine > 0 && bytes.Equal(prev[:], s.key) {
			if im.badRow(s.line, bansosbot.Errorf(bansosbot.EInvalid, "registry.duplicate_nik", "First", prevLine)) {
				return fmt.Errorf("store: registry import: %w: stopped after %d", ErrBadRows, im.bad)
			}
		} else {
			copy(prev[:], s.key)
			prevLine = s.line
			if emit != nil {
				if err := emit(s.key, s.val); err != nil {
					return err
				}
			}
		}
		ok, err := s.next(s)
		if err != nil {
			return err
		}
		if !ok {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return nil
}
