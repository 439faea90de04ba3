package store

// The load phase of an import: the merged records are written in key order
// into a new registry file aside, with the snapshot's metadata, statistics
// and texts; the file is installed (registry_file.go) only when complete.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/bansosbot/bansosbot"
	bolt "go.etcd.io/bbolt"
)

// chunk is one write transaction's records: keys and values back to back
// in buf, ends[i] the end of record i. bbolt keeps references to values
// until the commit, so a chunk is reused only after its transaction. The
// last chunk's transaction also stores the snapshot's metadata.
type chunk struct {
	buf  []byte
	ends []int
	last bool
}

// newRegistryFile creates an empty registry file aside in the data
// directory (".registry-new-*") and opens it for writing. Nobody reads it
// until it is complete and renamed, so it is written without fsync and
// synced once at the end.
func (db *DB) newRegistryFile() (*bolt.DB, string, error) {
	f, err := os.CreateTemp(db.reg.dir, tmpRegistryNew+"*")
	if err != nil {
		return nil, "", fmt.Errorf("store: registry import: %w", err)
	}
	name := f.Name()
	f.Close()
	b, err := bolt.Open(name, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		os.Remove(name)
		return nil, "", fmt.Errorf("store: registry import: %w", err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, k := range [][]byte{keyRegMeta, keyRegRecords, keyRegDict} {
			if _, err := tx.CreateBucket(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		os.Remove(name)
		return nil, "", fmt.Errorf("store: registry import: %w", err)
	}
	return b, name, nil
}

// finishRegistryFile syncs and closes a registry file written by
// newRegistryFile; on error it removes it.
func finishRegistryFile(b *bolt.DB, name string, noSync bool) error {
	var err error
	if !noSync {
		err = b.Sync()
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("store: registry: %w", err)
	}
	return nil
}

// write runs the write phase: the merge (this goroutine) fills chunks, a
// writer goroutine appends each to the new file in one transaction; the
// last one also stores the snapshot's metadata, statistics and texts. On
// success im.built names the finished file.
func (im *importer) write(ctx context.Context) error {
	im.phase.Store(PhaseWrite)
	im.rowsDone.Store(0)
	im.rowsTotal.Store(im.rows)
	im.progress()

	out, name, err := im.db.newRegistryFile()
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			out.Close()
			os.Remove(name)
		}
	}()
	im.res.Snapshot.ID = im.db.reg.nextID()

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
				werr = out.Update(func(tx *bolt.Tx) error {
					b := tx.Bucket(keyRegRecords)
					b.FillPercent = 1 // appends in key order: pack the pages
					start := 0
					for _, end := range c.ends {
						if err := b.Put(c.buf[start:start+32], c.buf[start+32:end]); err != nil {
							return err
						}
						start = end
					}
					if c.last {
						return im.writeMeta(tx)
					}
					return nil
				})
				if werr != nil {
					close(failed)
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
	case im.bad > 0: // duplicates found while merging
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
	closed = true
	if err := finishRegistryFile(out, name, im.db.reg.noSync); err != nil {
		return err
	}
	im.built = name
	im.progress()
	return nil
}

// writeMeta stores the snapshot's metadata, statistics, texts and key
// fingerprint in the new file.
func (im *importer) writeMeta(tx *bolt.Tx) error {
	s := bansosbot.Snapshot{ID: im.res.Snapshot.ID, AsOf: im.opts.AsOf, ImportedAt: im.db.now(), Source: im.opts.Source,
		Programs: im.cols.Programs, Stats: im.stats}
	if err := putSnapshotMeta(tx, &s, registryKeyFingerprint(im.opts.Key)); err != nil {
		return err
	}
	d := tx.Bucket(keyRegDict)
	for i, t := range im.dict.strs {
		if err := d.Put(u32(uint32(i)), []byte(t)); err != nil {
			return err
		}
	}
	tx.OnCommit(func() { im.res.Snapshot = s })
	return nil
}

func putSnapshotMeta(tx *bolt.Tx, s *bansosbot.Snapshot, keyFP string) error {
	meta, err := json.Marshal(snapshotMeta{ID: s.ID, AsOf: s.AsOf, ImportedAt: s.ImportedAt, Source: s.Source, Programs: s.Programs})
	if err != nil {
		return err
	}
	stats, err := json.Marshal(s.Stats)
	if err != nil {
		return err
	}
	mb := tx.Bucket(keyRegMeta)
	if err := mb.Put(keyRegSnapshot, meta); err != nil {
		return err
	}
	if keyFP != "" {
		if err := mb.Put(keyRegKey, []byte(keyFP)); err != nil {
			return err
		}
	}
	return mb.Put(keyRegStats, stats)
}
