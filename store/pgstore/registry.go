package pgstore

// The eligibility registry in the database (backend.Registry; the
// migration NNN_registry.sql): a table of records per snapshot, registry_s<id>
// (nik_hash, value), loaded by COPY in one transaction and indexed after
// the load; registry_snapshots describes the loaded ones; the one row of
// registry_current names the current and the previous snapshot. Every
// replica reads the same pointer, so an import made once is seen by all
// at the switch. A table per snapshot makes dropping an old one a DROP
// TABLE, not the deletion (and vacuum) of millions of rows.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	_ backend.Registry   = (*Store)(nil)
	_ backend.RegistryTx = (*tx)(nil)
)

// registryLock is the advisory lock (session level) held by the process
// loading, installing, rolling back or dropping snapshots. Advisory locks
// are the database's: the schema's name is in the key, so that stores in
// other schemas (tests in parallel) do not exclude each other.
const (
	registryLock   = "SELECT pg_try_advisory_lock(hashtext('bansosbot:pgstore:registry:' || current_schema()))"
	registryUnlock = "SELECT pg_advisory_unlock(hashtext('bansosbot:pgstore:registry:' || current_schema()))"
)

func snapshotTable(id uint64) string {
	return pgx.Identifier{fmt.Sprintf("registry_s%d", id)}.Sanitize()
}

// RegistryView runs fn in a read-only snapshot.
func (s *Store) RegistryView(fn func(backend.RegistryTx) error) error {
	return s.View(func(t backend.Tx) error { return fn(t.(*tx)) })
}

// RegistryCurrent reads the pointer row and the current snapshot's header.
func (t *tx) RegistryCurrent() (*backend.Snapshot, error) {
	if t.err != nil {
		return nil, t.err
	}
	var s backend.Snapshot
	err := t.tx.QueryRow(t.ctx, `SELECT s.id, s.meta, s.key_fp FROM registry_current c
		JOIN registry_snapshots s ON s.id = c.current`).Scan(&s.ID, &s.Meta, &s.Key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, t.fail(err)
	}
	return &s, nil
}

// RegistryGet reads one record of snapshot id.
func (t *tx) RegistryGet(id uint64, key []byte) ([]byte, error) {
	if t.err != nil {
		return nil, t.err
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, "SELECT value FROM "+snapshotTable(id)+" WHERE nik_hash = $1", key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, t.fail(err)
	}
	return v, nil
}

// RegistryTexts reads the texts of snapshot id.
func (t *tx) RegistryTexts(id uint64) ([]string, error) {
	if t.err != nil {
		return nil, t.err
	}
	var raw [][]byte
	if err := t.tx.QueryRow(t.ctx, "SELECT texts FROM registry_snapshots WHERE id = $1", int64(id)).Scan(&raw); err != nil {
		return nil, t.fail(err)
	}
	texts := make([]string, len(raw))
	for i, r := range raw {
		texts[i] = string(r)
	}
	return texts, nil
}

// RegistrySnapshots reads the current and previous snapshots' headers.
func (s *Store) RegistrySnapshots() (cur, prev *backend.Snapshot, err error) {
	err = s.View(func(bt backend.Tx) error {
		t := bt.(*tx)
		rows, err := t.tx.Query(t.ctx, `SELECT s.id, s.meta, s.stats, s.key_fp, s.id = c.current FROM registry_current c
			JOIN registry_snapshots s ON s.id IN (c.current, c.previous)`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sn backend.Snapshot
			var isCur bool
			if err := rows.Scan(&sn.ID, &sn.Meta, &sn.Stats, &sn.Key, &isCur); err != nil {
				return err
			}
			if isCur {
				cur = &sn
			} else {
				prev = &sn
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pgstore: registry: %w", err)
	}
	return cur, prev, nil
}

// lockRegistry takes a connection of its own holding the registry's
// advisory lock (ErrRegistryBusy when another session holds it).
func (s *Store) lockRegistry(ctx context.Context) (*pgxpool.Conn, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgstore: registry: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, registryLock).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("pgstore: registry: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, backend.ErrRegistryBusy
	}
	return conn, nil
}

func unlockRegistry(conn *pgxpool.Conn) {
	if _, err := conn.Exec(context.Background(), registryUnlock); err != nil {
		// The session may still hold the lock: do not hand it to the pool.
		conn.Hijack().Close(context.Background())
		return
	}
	conn.Release()
}

// switchSnapshots runs fn under the pointer row's lock in one transaction
// on conn, then drops every snapshot neither current nor previous (and the
// tables of loads that never finished).
func switchSnapshots(ctx context.Context, conn *pgxpool.Conn, fn func(t pgx.Tx, cur, prev *int64) (newCur, newPrev *int64, err error)) error {
	return pgx.BeginFunc(ctx, conn, func(t pgx.Tx) error {
		var cur, prev *int64
		if err := t.QueryRow(ctx, "SELECT current, previous FROM registry_current FOR UPDATE").Scan(&cur, &prev); err != nil {
			return err
		}
		newCur, newPrev, err := fn(t, cur, prev)
		if err != nil {
			return err
		}
		if _, err := t.Exec(ctx, "UPDATE registry_current SET current = $1, previous = $2", newCur, newPrev); err != nil {
			return err
		}
		keep := []int64{}
		for _, id := range []*int64{newCur, newPrev} {
			if id != nil {
				keep = append(keep, *id)
			}
		}
		if _, err := t.Exec(ctx, "DELETE FROM registry_snapshots WHERE id <> ALL($1)", keep); err != nil {
			return err
		}
		rows, err := t.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
			AND tablename LIKE 'registry\_s%' AND tablename <> ALL($1)`, keepTables(keep))
		if err != nil {
			return err
		}
		drop, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range drop {
			if strings.Trim(strings.TrimPrefix(name, "registry_s"), "0123456789") != "" {
				continue // registry_snapshots and any other table of the prefix
			}
			if _, err := t.Exec(ctx, "DROP TABLE "+pgx.Identifier{name}.Sanitize()); err != nil {
				return err
			}
		}
		return nil
	})
}

func keepTables(ids []int64) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, fmt.Sprintf("registry_s%d", id))
	}
	return out
}

// SwapSnapshots makes the previous snapshot current and the current one
// previous.
func (s *Store) SwapSnapshots(check func(cur, prev *backend.Snapshot) error) (cur, prev *backend.Snapshot, err error) {
	ctx := s.ctx
	conn, err := s.lockRegistry(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer unlockRegistry(conn)
	if cur, prev, err = s.RegistrySnapshots(); err != nil {
		return nil, nil, err
	}
	if prev == nil {
		return nil, nil, backend.ErrNoPrevious
	}
	if err := check(cur, prev); err != nil {
		return nil, nil, err
	}
	err = switchSnapshots(ctx, conn, func(_ pgx.Tx, c, p *int64) (*int64, *int64, error) {
		if p == nil || int64(prev.ID) != *p {
			return nil, nil, errors.New("the snapshots changed meanwhile")
		}
		return p, c, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pgstore: registry rollback: %w", err)
	}
	return cur, prev, nil
}

// DropSnapshots removes every snapshot.
func (s *Store) DropSnapshots() error {
	conn, err := s.lockRegistry(s.ctx)
	if err != nil {
		return err
	}
	defer unlockRegistry(conn)
	err = switchSnapshots(s.ctx, conn, func(pgx.Tx, *int64, *int64) (*int64, *int64, error) { return nil, nil, nil })
	if err != nil {
		return fmt.Errorf("pgstore: drop registry: %w", err)
	}
	return nil
}

// loader loads a snapshot through a connection of its own, which holds
// the registry's lock, in one transaction: an interrupted load (an error,
// a cancel, the process killed) is rolled back with its table.
type loader struct {
	ctx      context.Context
	conn     *pgxpool.Conn
	tx       pgx.Tx // nil once committed or rolled back
	id       uint64
	finished bool // committed, not yet installed
	buf      bytes.Buffer
}

// NewSnapshot creates the new snapshot's table in a transaction that the
// loads continue. It is created without its primary key: the key's index
// is built once the rows are in (sorted, faster than row by row).
func (s *Store) NewSnapshot(ctx context.Context) (backend.SnapshotLoader, error) {
	conn, err := s.lockRegistry(ctx)
	if err != nil {
		return nil, err
	}
	l := &loader{ctx: ctx, conn: conn}
	if err := l.begin(); err != nil {
		if l.tx != nil {
			l.tx.Rollback(context.Background())
		}
		unlockRegistry(conn)
		return nil, fmt.Errorf("pgstore: registry import: %w", err)
	}
	return l, nil
}

func (l *loader) begin() error {
	var err error
	if l.tx, err = l.conn.Begin(l.ctx); err != nil {
		return err
	}
	var id int64
	if err := l.tx.QueryRow(l.ctx, "SELECT nextval('registry_snapshot_id')").Scan(&id); err != nil {
		return err
	}
	l.id = uint64(id)
	_, err = l.tx.Exec(l.ctx, "CREATE TABLE "+snapshotTable(l.id)+" (nik_hash bytea NOT NULL, value bytea NOT NULL)")
	return err
}

func (l *loader) ID() uint64 { return l.id }

// copyHeader starts PostgreSQL's binary COPY format: signature, flags,
// header extension length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// Load copies one batch of records in the binary COPY format (no text
// escaping of the hashes and values, no per-row allocation). FREEZE: the
// table was created in this transaction, so its rows are written frozen
// and no later vacuum rewrites ten million of them.
func (l *loader) Load(recs []byte, ends []int) error {
	if l.tx == nil {
		return errors.New("pgstore: registry import: load after finish")
	}
	b := &l.buf
	b.Reset()
	b.Grow(len(copyHeader) + len(recs) + len(ends)*10 + 2)
	b.Write(copyHeader)
	var tuple [10]byte
	start := 0
	for _, end := range ends {
		binary.BigEndian.PutUint16(tuple[0:], 2)
		binary.BigEndian.PutUint32(tuple[2:], 32)
		b.Write(tuple[:6])
		b.Write(recs[start : start+32])
		binary.BigEndian.PutUint32(tuple[:4], uint32(end-start-32))
		b.Write(tuple[:4])
		b.Write(recs[start+32 : end])
		start = end
	}
	b.Write([]byte{0xff, 0xff})
	_, err := l.tx.Conn().PgConn().CopyFrom(l.ctx, bytes.NewReader(b.Bytes()),
		"COPY "+snapshotTable(l.id)+" (nik_hash, value) FROM STDIN WITH (FORMAT binary, FREEZE)")
	if err != nil {
		return fmt.Errorf("pgstore: registry import: copy: %w", err)
	}
	return nil
}

// Finish indexes the table, describes the snapshot and commits.
func (l *loader) Finish(s backend.Snapshot) error {
	if l.tx == nil {
		return errors.New("pgstore: registry import: finished twice")
	}
	tbl := snapshotTable(l.id)
	pk := pgx.Identifier{fmt.Sprintf("registry_s%d_pkey", l.id)}.Sanitize()
	steps := []struct {
		sql  string
		args []any
	}{
		{"ALTER TABLE " + tbl + " ADD CONSTRAINT " + pk + " PRIMARY KEY (nik_hash)", nil},
		{"INSERT INTO registry_snapshots (id, meta, stats, key_fp, texts) VALUES ($1, $2, $3, $4, $5)",
			[]any{int64(l.id), s.Meta, s.Stats, s.Key, byteTexts(s.Texts)}},
	}
	for _, st := range steps {
		if _, err := l.tx.Exec(l.ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("pgstore: registry import: %w", err)
		}
	}
	if err := l.tx.Commit(l.ctx); err != nil {
		return fmt.Errorf("pgstore: registry import: commit: %w", err)
	}
	l.tx, l.finished = nil, true
	return nil
}

// byteTexts are the texts as bytea: a remark of the file is kept as its
// bytes, whatever their encoding (text columns refuse invalid UTF-8 and
// NUL), as in bbolt.
func byteTexts(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, t := range s {
		out[i] = []byte(t)
	}
	return out
}

// Install switches the pointer to the new snapshot in one transaction,
// keeping the replaced one as previous (keepPrev) and dropping the rest.
func (l *loader) Install(keepPrev bool) (*backend.Snapshot, error) {
	if !l.finished {
		return nil, errors.New("pgstore: registry: nothing finished to install")
	}
	var old *int64
	// Not l.ctx: the load is done, and a switch must not stop half-way
	// (it is one transaction either way).
	ctx := context.Background()
	id := int64(l.id)
	var replaced *backend.Snapshot
	err := switchSnapshots(ctx, l.conn, func(t pgx.Tx, cur, _ *int64) (*int64, *int64, error) {
		old = cur
		if cur != nil {
			var s backend.Snapshot
			if err := t.QueryRow(ctx, "SELECT id, meta, key_fp FROM registry_snapshots WHERE id = $1", *cur).Scan(&s.ID, &s.Meta, &s.Key); err != nil {
				return nil, nil, err
			}
			replaced = &s
		}
		if !keepPrev {
			old = nil
		}
		return &id, old, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: registry: switch: %w", err)
	}
	l.finished = false
	return replaced, nil
}

// Discard rolls back an unfinished load, drops a finished snapshot that
// was not installed, and releases the lock.
func (l *loader) Discard() {
	if l.conn == nil {
		return
	}
	ctx := context.Background()
	if l.tx != nil {
		l.tx.Rollback(ctx)
		l.tx = nil
	}
	if l.finished {
		pgx.BeginFunc(ctx, l.conn, func(t pgx.Tx) error {
			if _, err := t.Exec(ctx, "DELETE FROM registry_snapshots WHERE id = $1", int64(l.id)); err != nil {
				return err
			}
			_, err := t.Exec(ctx, "DROP TABLE IF EXISTS "+snapshotTable(l.id))
			return err
		})
		l.finished = false
	}
	unlockRegistry(l.conn)
	l.conn = nil
}
