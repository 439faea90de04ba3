package store

// The read phase of an import: the CSV file is parsed by one goroutine,
// its rows validated and their NIKs hashed by workers in parallel, and the
// records collected in file order into sorted runs (registry_sort.go).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/bansosbot/bansosbot"
)

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

	im.startRuns()
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
			if err := im.add(rec.NIK, b.lines[i], val); err != nil {
				cancel(err)
				return err
			}
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
