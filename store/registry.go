package store

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bansosbot/bansosbot"
	bolt "go.etcd.io/bbolt"
)

// The eligibility registry lives in bucket "registry":
//
//	current        -> u64 id of the snapshot that answers lookups
//	s<u64 id>      -> bucket of one snapshot:
//	    meta       -> snapshotMeta JSON (date of the data, programs, source)
//	    stats      -> bansosbot.RegistryStats JSON
//	    r          -> bucket: NIK hash (32 bytes) -> record (appendRecord)
//	    d          -> bucket: u32 text id -> period or remark text
//
// An import builds a new snapshot bucket next to the current one and only
// then moves "current" to it, in one transaction, so lookups never see a
// half-imported file; the old bucket is deleted afterwards. A snapshot
// bucket that "current" does not name is debris of a failed import and is
// deleted by the next import.
var bucketRegistry = []byte("registry")

var (
	keyCurrent     = []byte("current")
	keySnapMeta    = []byte("meta")
	keySnapStats   = []byte("stats")
	keySnapRecords = []byte("r")
	keySnapDict    = []byte("d")
)

func snapshotKey(id uint64) []byte { return append([]byte("s"), u64(id)...) }

// snapshotMeta is a snapshot without its statistics: what a lookup needs.
type snapshotMeta struct {
	ID         uint64             `json:"id"`
	AsOf       time.Time          `json:"as_of"`
	ImportedAt time.Time          `json:"imported_at"`
	Source     string             `json:"source,omitempty"`
	Programs   bansosbot.Programs `json:"programs"`
}

// currentSnapshot returns the bucket of the current snapshot and its id;
// nil when no registry was imported.
func currentSnapshot(tx *bolt.Tx) (*bolt.Bucket, uint64) {
	reg := tx.Bucket(bucketRegistry)
	if reg == nil {
		return nil, 0
	}
	cur := reg.Get(keyCurrent)
	if len(cur) != 8 {
		return nil, 0
	}
	id := binary.BigEndian.Uint64(cur)
	return reg.Bucket(snapshotKey(id)), id
}

func readMeta(snap *bolt.Bucket) (*bansosbot.Snapshot, error) {
	var m snapshotMeta
	if err := json.Unmarshal(snap.Get(keySnapMeta), &m); err != nil {
		return nil, fmt.Errorf("store: decode registry snapshot: %w", err)
	}
	return &bansosbot.Snapshot{ID: m.ID, AsOf: m.AsOf, ImportedAt: m.ImportedAt, Source: m.Source, Programs: m.Programs}, nil
}

// RegistryCurrent returns the current snapshot without its statistics,
// or nil when no registry was imported.
func (tx *Tx) RegistryCurrent() (*bansosbot.Snapshot, error) {
	snap, _ := currentSnapshot(tx.tx)
	if snap == nil {
		return nil, nil
	}
	return readMeta(snap)
}

// RegistryLookup finds the record of a NIK hash in the current snapshot.
// The snapshot is nil when no registry was ever imported (its Stats are
// not loaded); the record is nil when the NIK is not in the snapshot.
func (tx *Tx) RegistryLookup(h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
	snap, _ := currentSnapshot(tx.tx)
	if snap == nil {
		return nil, nil, nil
	}
	s, err := readMeta(snap)
	if err != nil {
		return nil, nil, err
	}
	v := snap.Bucket(keySnapRecords).Get(h[:])
	if v == nil {
		return s, nil, nil
	}
	dict := snap.Bucket(keySnapDict)
	rec, err := decodeRecord(v, s.Programs, func(id uint32) (string, error) {
		t := dict.Get(u32(id))
		if t == nil {
			return "", fmt.Errorf("store: registry text %d missing", id)
		}
		return string(t), nil
	})
	if err != nil {
		return nil, nil, err
	}
	rec.NIK = h
	return s, rec, nil
}

// RegistrySnapshot returns the current snapshot with its statistics, or
// nil when no registry was imported.
func (db *DB) RegistrySnapshot() (*bansosbot.Snapshot, error) {
	var s *bansosbot.Snapshot
	err := db.bolt.View(func(tx *bolt.Tx) error {
		snap, _ := currentSnapshot(tx)
		if snap == nil {
			return nil
		}
		var err error
		if s, err = readMeta(snap); err != nil {
			return err
		}
		if err := json.Unmarshal(snap.Get(keySnapStats), &s.Stats); err != nil {
			return fmt.Errorf("store: decode registry stats: %w", err)
		}
		return nil
	})
	return s, err
}

// Record values, format 1:
//
//	1        format (1)
//	16       name verifier
//	1        desil (0: none)
//	1        province of the NIK as a number (0: unknown)
//	uvarint  bit i set: receives program i of the snapshot
//	per program: period, remark as text references (see dict)
//	rest     masked name
//
// About 40 bytes against about 250 for the same record in JSON (see
// BenchmarkRecordEncoding).
const recordFormat = 1

// dict interns the periods and remarks of a snapshot: a few texts repeat
// across millions of records ("Oktober-Desember 2026"), so a record keeps a
// number. A text reference is a uvarint: 0 is "", 2·id+1 a text of the
// dictionary, 2·len a text of len bytes that follows inline (once the
// dictionary is full, free-text remarks do not grow it without bound).
type dict struct {
	ids  map[string]uint32
	strs []string
}

const maxDictTexts = 1 << 16

func (d *dict) appendText(buf []byte, s string) []byte {
	if s == "" {
		return append(buf, 0)
	}
	id, ok := d.ids[s]
	if !ok && len(d.strs) < maxDictTexts {
		if d.ids == nil {
			d.ids = map[string]uint32{}
		}
		s = strings.Clone(s) // s shares memory with a whole CSV row
		id, ok = uint32(len(d.strs)), true
		d.ids[s] = id
		d.strs = append(d.strs, s)
	}
	if ok {
		return binary.AppendUvarint(buf, uint64(id)<<1|1)
	}
	buf = binary.AppendUvarint(buf, uint64(len(s))<<1)
	return append(buf, s...)
}

func appendRecord(buf []byte, r *bansosbot.Record, d *dict) []byte {
	buf = append(buf, recordFormat)
	buf = append(buf, r.Name[:]...)
	prov, _ := strconv.Atoi(string(r.Province))
	if prov < 0 || prov > 99 {
		prov = 0
	}
	buf = append(buf, byte(r.Desil), byte(prov))
	var mask uint64
	for i, p := range r.Programs {
		if p.Receives {
			mask |= 1 << i
		}
	}
	buf = binary.AppendUvarint(buf, mask)
	for _, p := range r.Programs {
		buf = d.appendText(buf, p.Period)
		buf = d.appendText(buf, p.Remark)
	}
	return append(buf, r.Masked...)
}

var errBadRecord = errors.New("store: malformed registry record")

func decodeRecord(v []byte, programs bansosbot.Programs, text func(uint32) (string, error)) (*bansosbot.Record, error) {
	if len(v) < 20 || v[0] != recordFormat {
		return nil, errBadRecord
	}
	r := &bansosbot.Record{Desil: int(v[17]), Programs: make([]bansosbot.ProgramStatus, len(programs))}
	copy(r.Name[:], v[1:17])
	if v[18] != 0 {
		r.Province = bansosbot.RegionCode(fmt.Sprintf("%02d", v[18]))
	}
	v = v[19:]
	mask, n := binary.Uvarint(v)
	if n <= 0 {
		return nil, errBadRecord
	}
	v = v[n:]
	readText := func() (string, error) {
		ref, n := binary.Uvarint(v)
		if n <= 0 {
			return "", errBadRecord
		}
		v = v[n:]
		switch {
		case ref == 0:
			return "", nil
		case ref&1 == 1:
			return text(uint32(ref >> 1))
		}
		l := ref >> 1
		if uint64(len(v)) < l {
			return "", errBadRecord
		}
		s := string(v[:l])
		v = v[l:]
		return s, nil
	}
	for i, p := range programs {
		st := &r.Programs[i]
		st.Code, st.Receives = p.Code, mask&(1<<i) != 0
		var err error
		if st.Period, err = readText(); err != nil {
			return nil, err
		}
		if st.Remark, err = readText(); err != nil {
			return nil, err
		}
	}
	r.Masked = string(v)
	return r, nil
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// ImportOptions configure ImportRegistry.
type ImportOptions struct {
	Key      []byte             // the NIK key (required)
	Programs bansosbot.Programs // default bansosbot.DefaultPrograms()
	AsOf     time.Time          // the date of the data (required)
	Source   string             // the file's name, kept for the operator

	// TempDir holds the sorted runs of a large file; default: the store's
	// directory (the runs take about as much space as the snapshot).
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

// ImportRegistry reads a registry CSV file (format: bansosbot.RegistryColumns)
// and makes it the current snapshot. It is all or nothing: with any bad row,
// a read or write error or a cancelled ctx, lookups keep answering from the
// previous snapshot and nothing of the new one remains.
//
// It streams: rows are validated and hashed in parallel, sorted by NIK hash
// in runs of opts.RunBytes (spilled to temporary files), merged, and
// appended to the new snapshot's bucket in key order in transactions of
// opts.TxRows records, the pattern bbolt writes fastest. Memory does not
// grow with the file.
func (db *DB) ImportRegistry(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportResult, error) {
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
		opts.TempDir = filepath.Dir(db.path)
	}
	if _, busy := importing.LoadOrStore(db, struct{}{}); busy {
		return nil, errors.New("store: registry import: another import is running")
	}
	defer importing.Delete(db)

	im := &importer{db: db, opts: opts}
	defer im.removeRuns()
	stop := im.reportProgress()
	defer stop()

	if err := db.dropStaleSnapshots(); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := im.read(ctx, r); err != nil {
		return nil, err
	}
	im.res.Read = time.Since(start)
	im.res.Runs = len(im.runs)
	if im.rows == 0 && im.bad == 0 {
		return nil, bansosbot.Errorf(bansosbot.EInvalid, "registry.no_rows")
	}
	if im.bad > 0 {
		// Duplicates are bad rows too: report them before failing.
		if err := im.merge(ctx, nil); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("store: registry import: %w: %d", ErrBadRows, im.bad)
	}
	start = time.Now()
	if err := im.write(ctx); err != nil {
		return nil, err
	}
	im.res.Write = time.Since(start)
	return &im.res, nil
}

// dropStaleSnapshots deletes snapshot buckets left by failed imports.
func (db *DB) dropStaleSnapshots() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		reg := tx.Bucket(bucketRegistry)
		cur := reg.Get(keyCurrent)
		var stale [][]byte
		_ = reg.ForEachBucket(func(k []byte) error {
			if len(k) == 9 && k[0] == 's' && !bytes.Equal(k[1:], cur) {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range stale {
			if err := reg.DeleteBucket(k); err != nil {
				return fmt.Errorf("store: drop stale registry snapshot: %w", err)
			}
		}
		return nil
	})
}

type importer struct {
	db   *DB
	opts ImportOptions
	res  ImportResult

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
	cr := csv.NewReader(bufio.NewReaderSize(countingReader{r, &im.bytesRead}, 1<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
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
	f, err := os.CreateTemp(im.opts.TempDir, ".registry-run-*")
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

// chunk is one write transaction's records: keys and values back to back
// in buf, ends[i] the end of record i. bbolt keeps references to values
// until the commit, so a chunk is reused only after its transaction. The
// last chunk's transaction also makes the snapshot current.
type chunk struct {
	buf  []byte
	ends []int
	last bool
}

// write runs the write phase: the merge (this goroutine) fills chunks, a
// writer goroutine appends each in one transaction. The first transaction
// creates the snapshot's bucket; the last one also stores its metadata and
// moves "current" to it, so a small file takes one transaction (one fsync)
// and a large one no more than its chunks.
func (im *importer) write(ctx context.Context) error {
	im.phase.Store(PhaseWrite)
	im.rowsDone.Store(0)
	im.rowsTotal.Store(im.rows)
	im.progress()

	// Set by the writer's transactions, read here after it is done.
	var (
		key       []byte // the snapshot's bucket, once a transaction created it
		old       uint64
		committed bool
	)
	defer func() {
		if !committed && key != nil {
			_ = im.db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRegistry).DeleteBucket(key) })
		}
	}()

	txRows := im.opts.TxRows
	free := make(chan *chunk, 2)
	per := int(min(int64(txRows), im.rows))
	size := per * (32 + int(im.valBytes/max(im.rows, 1)) + 16)
	for range 2 {
		free <- &chunk{buf: make([]byte, 0, size), ends: make([]int, 0, per)}
	}
	full := make(chan *chunk)
	failed := make(chan struct{}) // closed when a write transaction fails
	wdone := make(chan struct{})
	var werr error
	go func() { // writer
		defer close(wdone)
		for c := range full {
			if werr == nil && ctx.Err() != nil {
				werr = ctx.Err()
				close(failed)
			}
			if werr == nil {
				werr = im.db.bolt.Update(func(tx *bolt.Tx) error {
					snap, err := im.snapshotBucket(tx, &key)
					if err != nil {
						return err
					}
					b := snap.Bucket(keySnapRecords)
					b.FillPercent = 1 // appends in key order: pack the pages
					start := 0
					for _, end := range c.ends {
						if err := b.Put(c.buf[start:start+32], c.buf[start+32:end]); err != nil {
							return err
						}
						start = end
					}
					if c.last {
						return im.switchTo(tx, snap, &old)
					}
					return nil
				})
				if werr != nil {
					close(failed)
				} else if c.last {
					committed = true
				}
				if werr == nil && im.opts.afterTx != nil {
					im.opts.afterTx()
				}
				im.rowsDone.Add(int64(len(c.ends)))
			}
			c.buf, c.ends = c.buf[:0], c.ends[:0]
			free <- c
		}
	}()
	errWriteFailed := errors.New("write failed")
	cur := <-free
	send := func() error {
		select {
		case full <- cur:
		case <-failed:
			return errWriteFailed
		}
		cur = <-free
		return nil
	}
	merr := im.merge(ctx, func(k, v []byte) error {
		cur.buf = append(cur.buf, k...)
		cur.buf = append(cur.buf, v...)
		cur.ends = append(cur.ends, len(cur.buf))
		if len(cur.ends) == txRows {
			return send()
		}
		return nil
	})
	switch {
	case merr != nil:
	case im.bad > 0: // duplicates found while merging: no switch
		merr = fmt.Errorf("store: registry import: %w: %d", ErrBadRows, im.bad)
	case ctx.Err() != nil:
		merr = ctx.Err()
	default:
		cur.last = true
		merr = send()
	}
	close(full)
	<-wdone
	if werr != nil {
		return fmt.Errorf("store: registry import: write: %w", werr)
	}
	if merr != nil {
		return merr
	}
	im.progress()
	if old != 0 {
		im.res.Replaced = old
		err := im.db.bolt.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRegistry).DeleteBucket(snapshotKey(old))
		})
		if err != nil {
			return fmt.Errorf("store: registry imported, but deleting the old snapshot failed (the next import retries): %w", err)
		}
	}
	return nil
}

// snapshotBucket returns the new snapshot's bucket, creating it (with a
// new id) in the first transaction.
func (im *importer) snapshotBucket(tx *bolt.Tx, key *[]byte) (*bolt.Bucket, error) {
	reg := tx.Bucket(bucketRegistry)
	if *key != nil {
		return reg.Bucket(*key), nil
	}
	id, err := reg.NextSequence()
	if err != nil {
		return nil, err
	}
	k := snapshotKey(id)
	snap, err := reg.CreateBucket(k)
	if err != nil {
		return nil, err
	}
	if _, err := snap.CreateBucket(keySnapRecords); err != nil {
		return nil, err
	}
	if _, err := snap.CreateBucket(keySnapDict); err != nil {
		return nil, err
	}
	im.res.Snapshot.ID = id
	tx.OnCommit(func() { *key = k })
	return snap, nil
}

// switchTo stores the snapshot's metadata, statistics and texts and makes
// it current; old is set to the snapshot it replaces.
func (im *importer) switchTo(tx *bolt.Tx, snap *bolt.Bucket, old *uint64) error {
	reg := tx.Bucket(bucketRegistry)
	_, prev := currentSnapshot(tx)
	s := bansosbot.Snapshot{ID: im.res.Snapshot.ID, AsOf: im.opts.AsOf, ImportedAt: im.db.now(), Source: im.opts.Source,
		Programs: im.cols.Programs, Stats: im.stats}
	meta, err := json.Marshal(snapshotMeta{ID: s.ID, AsOf: s.AsOf, ImportedAt: s.ImportedAt, Source: s.Source, Programs: s.Programs})
	if err != nil {
		return err
	}
	stats, err := json.Marshal(s.Stats)
	if err != nil {
		return err
	}
	if err := snap.Put(keySnapMeta, meta); err != nil {
		return err
	}
	if err := snap.Put(keySnapStats, stats); err != nil {
		return err
	}
	d := snap.Bucket(keySnapDict)
	for i, t := range im.dict.strs {
		if err := d.Put(u32(uint32(i)), []byte(t)); err != nil {
			return err
		}
	}
	if err := reg.Put(keyCurrent, u64(s.ID)); err != nil {
		return err
	}
	tx.OnCommit(func() { im.res.Snapshot, *old = s, prev })
	return nil
}
