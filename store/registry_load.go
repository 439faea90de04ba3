package store

// The load phase of an import: the merged records are written in key order
// into a new snapshot aside (a registry file or the database's table:
// snapshotLoader), then its metadata, statistics and texts; the snapshot
// answers lookups only once installed, complete.

import (
	"context"
	"errors"
	"fmt"

	"github.com/bansosbot/bansosbot"
)

// chunk is one load's records: keys and values back to back in buf,
// ends[i] the end of record i. bbolt keeps references to values until the
// commit, so a chunk is reused only after its load.
type chunk struct {
	buf  []byte
	ends []int
}

// write runs the load phase: the merge (this goroutine) fills chunks, a
// writer goroutine loads each into the new snapshot (one transaction per
// chunk in a file, one COPY per chunk in the database's one transaction);
// then the snapshot's metadata, statistics and texts are stored. On
// success im.loader holds the finished snapshot, to install.
func (im *importer) write(ctx context.Context) error {
	im.phase.Store(PhaseWrite)
	im.rowsDone.Store(0)
	im.rowsTotal.Store(im.rows)
	im.progress()

	ld, err := im.db.snaps.create(ctx)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			ld.discard()
		}
	}()
	im.res.Snapshot.ID = ld.snapshotID()

	txRows := im.opts.TxRows
	free := make(chan *chunk, 2)
	per := int(min(int64(txRows), im.rows))
	size := per * (32 + int(im.valBytes/max(im.rows, 1)) + 16)
	for range 2 {
		free <- &chunk{buf: make([]byte, 0, size), ends: make([]int, 0, per)}
	}
	full := make(chan *chunk)
	failed := make(chan struct{}) // closed when a load fails
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
				if werr = ld.load(c); werr != nil {
					close(failed)
				}
				if werr == nil && im.opts.afterTx != nil {
					im.opts.afterTx()
				}
				im.rowsDone.Add(int64(len(c.ends)))
				im.progress() // after each load: what is written is reported
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
	case len(cur.ends) > 0:
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
	s := bansosbot.Snapshot{ID: ld.snapshotID(), AsOf: im.opts.AsOf, ImportedAt: im.db.now(), Source: im.opts.Source,
		Programs: im.cols.Programs, Stats: im.stats}
	if err := ld.finish(&s, registryKeyFingerprint(im.opts.Key), im.dict.strs); err != nil {
		return err
	}
	im.res.Snapshot = s
	im.loader, done = ld, true
	im.progress()
	return nil
}
