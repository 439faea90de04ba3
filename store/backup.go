package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole file to w while the store
// stays in use. The free pages of the copy are zeros: bbolt leaves the old
// bytes of changed and deleted values in free pages, and a backup must not
// carry personal data that retention or an erasure removed, whatever the
// retention setting and however long ago the last scrub ran (issue 10).
func (db *DB) Backup(w io.Writer) (int64, error) {
	if db.bolt == nil {
		return 0, fmt.Errorf("store: backup: %w", ErrNotBolt)
	}
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		f, err := os.Open(db.path)
		if err != nil {
			return err
		}
		defer f.Close()
		zw := &zeroFree{w: w, file: f, pageSize: int64(db.bolt.Info().PageSize), tx: tx}
		n, err = tx.WriteTo(zw)
		if err == nil && !zw.ready {
			err = errors.New("store: backup: no meta page written")
		}
		return err
	})
	return n, err
}

// BackupFile writes a consistent copy to path atomically (temp file, fsync,
// rename), so a crash never leaves a half-written backup under that name.
// The temporary file is named ".backup-*" (SweepTemporaries removes one
// left by a crash).
func (db *DB) BackupFile(path string) error {
	if db.bolt == nil {
		return fmt.Errorf("store: backup: %w", ErrNotBolt)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := db.Backup(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// bbolt's on-disk layout (internal/common), native byte order: a page
// starts with a 16-byte header (id 8, flags 2, count 2, overflow 4); a meta
// page's freelist page id is at offset 16+32; a freelist page holds count
// page ids of 8 bytes after the header (when count is 0xFFFF, the first
// id slot holds the real count).
const (
	pageHeaderSize   = 16
	metaFreelistOff  = pageHeaderSize + 32
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0)
)

// zeroFree passes a copy of the file (tx.WriteTo: meta 0, meta 1, then
// the data pages in order) to w with the pages on the snapshot's free list
// replaced by zeros. The list is read from the freelist page that the
// copy's meta page names: in a committed snapshot it lists every page that
// the snapshot cannot reach (freed and pending alike), and the page stays
// untouched while the read transaction is open.
type zeroFree struct {
	w        io.Writer
	file     *os.File
	tx       *bolt.Tx
	pageSize int64
	off      int64
	ready    bool
	free     []uint64 // sorted; free[next] is the next free page to come
	next     int
}

func (z *zeroFree) Write(p []byte) (int, error) {
	if !z.ready {
		if z.off != 0 || int64(len(p)) < z.pageSize {
			return 0, errors.New("store: backup: unexpected copy layout")
		}
		if err := z.loadFree(binary.NativeEndian.Uint64(p[metaFreelistOff:])); err != nil {
			return 0, err
		}
		z.ready = true
	}
	written := 0
	for len(p) > 0 {
		page := uint64(z.off / z.pageSize)
		n := min(int64(len(p)), (int64(page)+1)*z.pageSize-z.off)
		for z.next < len(z.free) && z.free[z.next] < page {
			z.next++
		}
		chunk := p[:n]
		if z.next < len(z.free) && z.free[z.next] == page {
			chunk = make([]byte, n) // zeros
		}
		if _, err := z.w.Write(chunk); err != nil {
			return written, err
		}
		written += int(n)
		z.off += n
		p = p[n:]
	}
	return written, nil
}

// loadFree reads the free page ids of the snapshot.
func (z *zeroFree) loadFree(pgid uint64) error {
	if pgid == noFreelist {
		// A file whose free list is not written (last written by a version
		// with NoFreelistSync): only a read-only open can see one, and no
		// writer runs meanwhile, so bbolt's view of free pages is exact.
		return z.walkFree()
	}
	e := binary.NativeEndian
	head := make([]byte, pageHeaderSize+8)
	if _, err := z.file.ReadAt(head, int64(pgid)*z.pageSize); err != nil {
		return fmt.Errorf("store: backup: read free list: %w", err)
	}
	if e.Uint64(head) != pgid || e.Uint16(head[8:])&freelistPageFlag == 0 {
		return fmt.Errorf("store: backup: page %d is not the free list", pgid)
	}
	count, start := uint64(e.Uint16(head[10:])), int64(pageHeaderSize)
	if count == 0xFFFF {
		count, start = e.Uint64(head[pageHeaderSize:]), pageHeaderSize+8
	}
	overflow := int64(e.Uint32(head[12:]))
	if start+int64(count)*8 > (overflow+1)*z.pageSize {
		return fmt.Errorf("store: backup: free list page %d is damaged", pgid)
	}
	raw := make([]byte, count*8)
	if _, err := z.file.ReadAt(raw, int64(pgid)*z.pageSize+start); err != nil {
		return fmt.Errorf("store: backup: read free list: %w", err)
	}
	z.free = make([]uint64, count)
	for i := range z.free {
		z.free[i] = e.Uint64(raw[8*i:])
	}
	slices.Sort(z.free)
	return nil
}

func (z *zeroFree) walkFree() error {
	for id := 2; ; id++ {
		p, err := z.tx.Page(id)
		if errors.Is(err, bolt.ErrFreePagesNotLoaded) {
			return errors.New("store: backup: the file's free list is not written yet (a file of an older version " +
				"opened read-only): start bansosbot on it once, then back it up")
		}
		if err != nil {
			return fmt.Errorf("store: backup: page %d: %w", id, err)
		}
		if p == nil {
			return nil
		}
		if p.Type == "free" {
			z.free = append(z.free, uint64(id))
			continue
		}
		id += p.OverflowCount
	}
}
