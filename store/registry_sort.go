package store

// The sort phase of an import: records are gathered in runs of at most
// ImportOptions.RunBytes, each sorted in memory by NIK hash and spilled to
// a temporary file when full; the runs are then merged in key order,
// finding duplicate NIKs on the way, for the load (registry_load.go).
// Memory does not grow with the file.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/bansosbot/bansosbot"
)

type runEntry struct {
	prefix uint64 // the key's first 8 bytes: most comparisons stop here
	off    uint32
}

// startRuns allocates the run's arena and index. Both grow with the first
// run and are reused by the next ones; a small file takes little memory.
func (im *importer) startRuns() {
	im.arena = make([]byte, 0, min(im.opts.RunBytes, 1<<20))
	im.index = make([]runEntry, 0, cap(im.arena)/64)
}

// add appends a valid record (its NIK hash, its line in the file and its
// encoded value) to the run in memory, first spilling the run to a
// temporary file when the record would not fit.
func (im *importer) add(nik bansosbot.NIKHash, line int, val []byte) error {
	if len(im.arena) > 0 && len(im.arena)+len(nik)+4+binary.MaxVarintLen32+len(val) > im.opts.RunBytes {
		if err := im.spill(); err != nil {
			return err
		}
	}
	im.reserve(len(nik) + 4 + binary.MaxVarintLen32 + len(val))
	off := len(im.arena)
	im.arena = append(im.arena, nik[:]...)
	im.arena = binary.BigEndian.AppendUint32(im.arena, uint32(line))
	im.arena = binary.AppendUvarint(im.arena, uint64(len(val)))
	im.arena = append(im.arena, val...)
	im.index = append(im.index, runEntry{binary.BigEndian.Uint64(nik[:8]), uint32(off)})
	im.rows++
	im.valBytes += int64(len(val))
	return nil
}

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
