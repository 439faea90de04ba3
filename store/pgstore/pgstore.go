// Package pgstore is the store's backend (store/backend) on PostgreSQL, for
// deployments where several bot replicas share one replicated database.
//
// Every bucket is a range of rows in one table kv(bucket, key, value) with
// the primary key (bucket, key), so the store's code, indexes and
// migrations run unchanged (store.OpenBackend) and the conformance suite
// (store/storetest) checks that both backends behave the same. The price:
// values are the store's encoded records, opaque to SQL, and each read is a
// round trip (cursors fetch pages of rows).
//
// The queues are the exception (queues.go, migration 002): the inbox of
// updates (table inbox), their processed marks (inbox_done) and the outbox
// (outbox) are tables of their own keyed by number. They answer the same
// bucket methods (copies, walks and counts run unchanged) and are also a
// backend.Queue: outbox ids come from a sequence that no transaction waits
// for (the single counter row every reply took made concurrent updates
// conflict), the sender takes rows FOR UPDATE SKIP LOCKED instead of
// reading past an id, and the transaction handling an update locks its
// inbox row the same way, so two replicas never handle one update and
// neither waits on the other's locked rows.
//
// Writes run in SERIALIZABLE transactions. A transaction that fails to
// serialize (SQLSTATE 40001) or deadlocks (40P01) is rolled back and its
// function run again, up to MaxAttempts times: the store's functions
// already allow reruns (bbolt's Batch reruns them too). Bucket sequences
// are rows of kv_seq updated in the transaction, so numbers are handed out
// in commit order (a reader of the outbox past number n misses nothing).
// Reads (View) run in REPEATABLE READ READ ONLY transactions: a snapshot.
//
// The schema is created by embedded, versioned SQL migrations
// (migrations/*.sql) under an advisory lock, so replicas starting together
// apply each once.
package pgstore

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxAttempts is how many times a transaction that failed to serialize is
// run before the failure is returned.
const MaxAttempts = 30

// Options tune Open.
type Options struct {
	// Schema puts the tables in this schema (created if missing) instead
	// of the connection's search_path; tests use one each.
	Schema string
	// MigrateTo applies the migrations up to this version only (0: all):
	// tests of an upgrade write a database as an older program did.
	MigrateTo int
}

// Store is a PostgreSQL database holding the store's buckets.
type Store struct {
	pool *pgxpool.Pool
	ctx  context.Context
	// prio is a small pool of its own for urgent transactions (leases:
	// Priority), which must not wait behind a busy pool; nil in a view.
	prio *pgxpool.Pool
	view bool // a view of another Store's pool: Close leaves it open
	// queues: the queue buckets are tables of their own (queues.go).
	queues bool
}

var (
	_ backend.Backend     = (*Store)(nil)
	_ backend.Prioritizer = (*Store)(nil)
	_ backend.Clock       = (*tx)(nil)
)

// Open connects to the database at url (postgres://...) and applies the
// pending migrations.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if opts.Schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig, opts.Schema); err != nil {
			return nil, err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	// A sequential scan in a serializable transaction locks the whole
	// table for serialization checks (PostgreSQL's manual, "Serializable
	// Isolation Level"), and the planner picks one for a key lookup in a
	// small table: the queue tables are small, and every transaction
	// reading one conflicted with every transaction writing it (a burst
	// failed to serialize over and over). Every query here has an index.
	cfg.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	pcfg := cfg.Copy()
	pcfg.MaxConns, pcfg.MinConns = 2, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	prio, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{pool: pool, prio: prio, ctx: context.Background()}
	if err := s.migrate(ctx, opts.MigrateTo); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Priority is the database through two connections of their own, for
// the leases of replicas (store/lease.go): their renewals, due every
// second, must not queue behind a pool busy with a burst of updates, or
// the leases would lapse under load.
func (s *Store) Priority() backend.Backend {
	if s.prio == nil {
		return s
	}
	return &Store{pool: s.prio, ctx: s.ctx, view: true, queues: s.queues}
}

func createSchema(ctx context.Context, cfg *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("pgstore: create schema %s: %w", schema, err)
	}
	return nil
}

// Pool is the connection pool (for health checks and metrics).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the connections.
func (s *Store) Close() error {
	if s.view {
		return nil
	}
	s.pool.Close()
	if s.prio != nil {
		s.prio.Close()
	}
	return nil
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded SQL migration.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in version order (file names
// NNN_name.sql; never edit a released one, append).
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("pgstore: migration file %s is not named NNN_name.sql", n)
		}
		sql, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(sql)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// migrate applies the pending migrations (up to version upTo, 0: all) in
// one transaction, under an advisory lock held until its end.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	var version int
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('bansosbot:pgstore:migrate'))"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS pgstore_migrations (
			version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM pgstore_migrations").Scan(&current); err != nil {
			return err
		}
		if last := ms[len(ms)-1].Version; current > last {
			return fmt.Errorf("the database has schema version %d but this program knows up to %d: it was written by a newer bansosbot", current, last)
		}
		version = current
		for _, m := range ms {
			if m.Version <= current || upTo > 0 && m.Version > upTo {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO pgstore_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return err
			}
			version = m.Version
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	s.queues = version >= queuesVersion
	return nil
}

// View runs fn in a read-only snapshot.
func (s *Store) View(fn func(backend.Tx) error) error {
	return s.run(pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false, fn)
}

// Update runs fn in a serializable transaction, again when it fails to
// serialize.
func (s *Store) Update(fn func(backend.Tx) error) error {
	return s.run(pgx.TxOptions{IsoLevel: pgx.Serializable}, true, fn)
}

// Batch is Update: PostgreSQL commits concurrent transactions in parallel.
func (s *Store) Batch(fn func(backend.Tx) error) error { return s.Update(fn) }

// Retryable reports whether err is a serialization failure or a deadlock,
// after which the transaction may be run again.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func (s *Store) run(opts pgx.TxOptions, writable bool, fn func(backend.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.once(opts, writable, fn)
		if err == nil || !Retryable(err) {
			return err
		}
		if attempt >= MaxAttempts {
			// Still conflicting: the store's callers try again later
			// (the dispatcher keeps the update in its inbox) instead of
			// taking it for the function's own failure.
			return &backend.Conflict{Err: err}
		}
		time.Sleep(backoff(attempt))
	}
}

// backoff is the pause before run's next attempt: doubling from 1 ms up
// to 100 ms, with jitter, so that conflicting transactions do not meet
// again. The MaxAttempts runs then span about 2.5 s: a storm of
// conflicts on a loaded server (seen in CI, flows' tests failing on the
// 30th attempt while linear pauses of 1-30 ms spanned under half a
// second) is outlasted, while one conflict still costs a millisecond.
func backoff(attempt int) time.Duration {
	d := time.Duration(1<<min(attempt-1, 7)) * time.Millisecond
	d = min(d, 100*time.Millisecond)
	return d/2 + rand.N(d)
}

func (s *Store) once(opts pgx.TxOptions, writable bool, fn func(backend.Tx) error) error {
	ptx, err := s.pool.BeginTx(s.ctx, opts)
	if err != nil {
		return fmt.Errorf("pgstore: begin: %w", err)
	}
	defer ptx.Rollback(s.ctx) // a no-op after Commit; rolls back on a panic
	t := &tx{ctx: s.ctx, tx: ptx, writable: writable, queues: s.queues}
	ferr := fn(t)
	if t.err != nil {
		return t.err // a failed read may have looked like "not found" to fn
	}
	if ferr != nil {
		return ferr
	}
	if err := ptx.Commit(s.ctx); err != nil {
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	return nil
}

// tx is a transaction. Its first database error is kept (err): reads
// answer nil from then on and the transaction returns it.
type tx struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	err      error
	buckets  map[string]bool // the bucket set, read on first use
	gen      uint64          // bumped by every write; cursors refetch after one
	queues   bool            // the queue buckets are tables (queues.go)
}

func (t *tx) fail(err error) error {
	if t.err == nil {
		t.err = fmt.Errorf("pgstore: %w", err)
	}
	return t.err
}

func (t *tx) loadBuckets() bool {
	if t.buckets != nil {
		return true
	}
	if t.err != nil {
		return false
	}
	rows, err := t.tx.Query(t.ctx, "SELECT name FROM kv_buckets")
	if err != nil {
		t.fail(err)
		return false
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.fail(err)
		return false
	}
	t.buckets = make(map[string]bool, len(names))
	for _, n := range names {
		t.buckets[string(n)] = true
	}
	return true
}

func (t *tx) Writable() bool { return t.writable }

// Now is the database's time at the transaction's start (now()): every
// replica's leases are timed by this one clock.
func (t *tx) Now() (time.Time, error) {
	if t.err != nil {
		return time.Time{}, t.err
	}
	var now time.Time
	if err := t.tx.QueryRow(t.ctx, "SELECT now()").Scan(&now); err != nil {
		return time.Time{}, t.fail(err)
	}
	return now, nil
}

func (t *tx) Bucket(name []byte) backend.Bucket {
	if !t.loadBuckets() {
		// A failed transaction answers nil from every read and returns its
		// error whatever fn does, so an empty bucket is safe here; nil was
		// not: the store's code takes the buckets its migrations created
		// for granted (as bbolt can), and a read that failed while a
		// replica stopped dereferenced nil (the poller's Offset, seen in CI).
		return t.newBucket(name).iface()
	}
	if !t.buckets[string(name)] {
		return nil
	}
	return t.newBucket(name).iface()
}

var errNotWritable = errors.New("pgstore: write in a read-only transaction")

func (t *tx) CreateBucketIfNotExists(name []byte) (backend.Bucket, error) {
	if !t.loadBuckets() {
		return nil, t.err
	}
	if !t.buckets[string(name)] {
		if !t.writable {
			return nil, errNotWritable
		}
		if _, err := t.tx.Exec(t.ctx, "INSERT INTO kv_buckets (name) VALUES ($1) ON CONFLICT DO NOTHING", name); err != nil {
			return nil, t.fail(err)
		}
		t.buckets[string(name)] = true
		t.gen++
	}
	return t.newBucket(name).iface(), nil
}

func (t *tx) DeleteBucket(name []byte) error {
	if !t.loadBuckets() {
		return t.err
	}
	if !t.writable {
		return errNotWritable
	}
	if !t.buckets[string(name)] {
		return fmt.Errorf("pgstore: bucket %q not found", name)
	}
	if tab := t.table(name); tab != nil {
		if err := tab.clear(t); err != nil {
			return t.fail(err)
		}
	}
	for _, q := range []string{"DELETE FROM kv WHERE bucket = $1", "DELETE FROM kv_seq WHERE bucket = $1", "DELETE FROM kv_buckets WHERE name = $1"} {
		if _, err := t.tx.Exec(t.ctx, q, name); err != nil {
			return t.fail(err)
		}
	}
	delete(t.buckets, string(name))
	t.gen++
	return nil
}

func (t *tx) ForEachBucket(fn func(name []byte) error) error {
	if !t.loadBuckets() {
		return t.err
	}
	names := make([]string, 0, len(t.buckets))
	for n := range t.buckets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := fn([]byte(n)); err != nil {
			return err
		}
	}
	return nil
}

// bucket is a bucket: a range of rows of kv, or a table of its own
// (tab: the queues, queues.go).
type bucket struct {
	t    *tx
	name []byte
	tab  *table
}

func (t *tx) newBucket(name []byte) *bucket {
	return &bucket{t: t, name: slices.Clone(name), tab: t.table(name)}
}

// iface is the bucket as the backend hands it out: a bucket in a table
// is also a backend.Queue.
func (b *bucket) iface() backend.Bucket {
	if b.tab != nil {
		return queue{b}
	}
	return b
}

// query is a statement on the bucket's rows being built: its arguments so
// far, and arg adds one, returning its placeholder.
type query struct{ args []any }

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// rows is the FROM and WHERE selecting the bucket's rows, the expression
// of their key as the bucket's bytes and the key column to compare and
// order by.
func (b *bucket) rows(q *query) (from, keyBytes, key string) {
	if b.tab != nil {
		return b.tab.name + " WHERE true", "int8send(" + b.tab.key + ")", b.tab.key
	}
	return "kv WHERE bucket = " + q.arg(b.name), "key", "key"
}

// keyArg is k as an argument compared with the key column; ok is false
// when no key of the bucket can equal it (a table's keys are numbers).
func (b *bucket) keyArg(k []byte) (any, bool) {
	if b.tab != nil {
		return tableKey(k)
	}
	return k, true
}

func (b *bucket) Get(key []byte) []byte {
	t := b.t
	if t.err != nil {
		return nil
	}
	k, ok := b.keyArg(key)
	if !ok {
		return nil
	}
	var q query
	from, _, col := b.rows(&q)
	var v []byte
	err := t.tx.QueryRow(t.ctx, "SELECT value FROM "+from+" AND "+col+" = "+q.arg(k), q.args...).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.fail(err)
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

var errKeyRequired = errors.New("pgstore: key required")

func (b *bucket) write(q string, args ...any) error {
	t := b.t
	if t.err != nil {
		return t.err
	}
	if !t.writable {
		return errNotWritable
	}
	if _, err := t.tx.Exec(t.ctx, q, args...); err != nil {
		return t.fail(err)
	}
	t.gen++
	return nil
}

func (b *bucket) Put(key, value []byte) error {
	if len(key) == 0 {
		return errKeyRequired
	}
	if value == nil {
		value = []byte{} // NOT NULL: a nil value is an empty one, as in bbolt
	}
	if b.tab != nil {
		k, ok := tableKey(key)
		if !ok {
			return fmt.Errorf("pgstore: key %x of bucket %s is not a number below 2^63", key, b.name)
		}
		return b.write("INSERT INTO "+b.tab.name+" ("+b.tab.key+", value) VALUES ($1, $2) ON CONFLICT ("+b.tab.key+") DO UPDATE SET value = EXCLUDED.value",
			k, value)
	}
	return b.write("INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3) ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value",
		b.name, key, value)
}

func (b *bucket) Delete(key []byte) error {
	k, ok := b.keyArg(key)
	if !ok {
		return nil // no such key
	}
	var q query
	from, _, col := b.rows(&q)
	return b.write("DELETE FROM "+from+" AND "+col+" = "+q.arg(k), q.args...)
}

func (b *bucket) NextSequence() (uint64, error) {
	t := b.t
	if t.err != nil {
		return 0, t.err
	}
	if !t.writable {
		return 0, errNotWritable
	}
	if b.tab != nil && b.tab.seq != "" {
		return b.tab.next(t)
	}
	var v int64
	err := t.tx.QueryRow(t.ctx, `INSERT INTO kv_seq (bucket, value) VALUES ($1, 1)
		ON CONFLICT (bucket) DO UPDATE SET value = kv_seq.value + 1 RETURNING value`, b.name).Scan(&v)
	if err != nil {
		return 0, t.fail(err)
	}
	return uint64(v), nil
}

func (b *bucket) Sequence() uint64 {
	t := b.t
	if t.err != nil {
		return 0
	}
	var v int64
	var err error
	if b.tab != nil && b.tab.seq != "" {
		err = t.tx.QueryRow(t.ctx, "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM "+b.tab.seq).Scan(&v)
	} else {
		err = t.tx.QueryRow(t.ctx, "SELECT value FROM kv_seq WHERE bucket = $1", b.name).Scan(&v)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0
	}
	if err != nil {
		t.fail(err)
		return 0
	}
	return uint64(v)
}

func (b *bucket) SetSequence(v uint64) error {
	if b.tab != nil && b.tab.seq != "" {
		// setval(seq, 1, false): the next number is 1, as after 0.
		return b.write("SELECT setval('"+b.tab.seq+"', greatest($1::bigint, 1), $1::bigint > 0)", int64(v))
	}
	return b.write(`INSERT INTO kv_seq (bucket, value) VALUES ($1, $2)
		ON CONFLICT (bucket) DO UPDATE SET value = EXCLUDED.value`, b.name, int64(v))
}

func (b *bucket) KeyN() int {
	t := b.t
	if t.err != nil {
		return 0
	}
	var q query
	from, _, _ := b.rows(&q)
	var n int
	if err := t.tx.QueryRow(t.ctx, "SELECT count(*) FROM "+from, q.args...).Scan(&n); err != nil {
		t.fail(err)
		return 0
	}
	return n
}

func (b *bucket) ForEach(fn func(k, v []byte) error) error {
	c := b.cursor(1024)
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.t.err
}

func (b *bucket) Cursor() backend.Cursor { return b.cursor(0) }

func (b *bucket) cursor(page int) *cursor {
	return &cursor{b: b, page: page}
}

type pair struct{ k, v []byte }

// cursor walks a bucket through pages of rows fetched in key order (or
// reverse order after Last/Prev). A page starts small, for the many walks
// that stop after a few keys, and doubles up to 1024 rows.
type cursor struct {
	b    *bucket
	page int    // rows to fetch next (0: not started)
	buf  []pair // the page, in the walk's direction
	i    int    // position in buf
	desc bool   // buf is in descending key order
	full bool   // buf was cut by LIMIT: more rows may follow it
	gen  uint64 // the transaction's write generation when buf was read
}

const (
	firstPage = 16
	maxPage   = 1024
)

// fetch reads the page after (or before, desc) from, including from itself
// when incl.
func (c *cursor) fetch(from []byte, incl, desc bool) ([]byte, []byte) {
	t := c.b.t
	c.buf, c.i, c.desc, c.full = c.buf[:0], 0, desc, false
	if t.err != nil {
		return nil, nil
	}
	switch {
	case c.page == 0:
		c.page = firstPage
	case c.page < maxPage:
		c.page *= 2
	}
	op, order := ">", "ASC"
	if desc {
		op, order = "<", "DESC"
	}
	if incl {
		op += "="
	}
	var q query
	rel, keyBytes, col := c.b.rows(&q)
	sql := "SELECT " + keyBytes + ", value FROM " + rel
	if from != nil {
		k := any(from)
		if c.b.tab != nil {
			var ok bool
			if k, op, ok = tableBound(from, op); !ok {
				c.gen = t.gen
				return nil, nil // past every key of the table
			}
		}
		sql += " AND " + col + " " + op + " " + q.arg(k)
	}
	rows, err := t.tx.Query(t.ctx, sql+" ORDER BY "+col+" "+order+" LIMIT "+q.arg(c.page), q.args...)
	if err != nil {
		t.fail(err)
		return nil, nil
	}
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.k, &p.v); err != nil {
			rows.Close()
			t.fail(err)
			return nil, nil
		}
		if p.v == nil {
			p.v = []byte{}
		}
		c.buf = append(c.buf, p)
	}
	if err := rows.Err(); err != nil {
		t.fail(err)
		return nil, nil
	}
	c.full = len(c.buf) == c.page
	c.gen = t.gen
	return c.at()
}

func (c *cursor) at() ([]byte, []byte) {
	if c.i >= len(c.buf) {
		return nil, nil
	}
	return c.buf[c.i].k, c.buf[c.i].v
}

func (c *cursor) First() ([]byte, []byte) { return c.fetch(nil, false, false) }
func (c *cursor) Last() ([]byte, []byte)  { return c.fetch(nil, false, true) }

func (c *cursor) Seek(seek []byte) ([]byte, []byte) {
	if seek == nil {
		seek = []byte{}
	}
	return c.fetch(seek, true, false)
}

func (c *cursor) Next() ([]byte, []byte) { return c.move(false) }
func (c *cursor) Prev() ([]byte, []byte) { return c.move(true) }

// move steps one key forward (or back, desc) from the current one.
func (c *cursor) move(desc bool) ([]byte, []byte) {
	if c.i >= len(c.buf) {
		return nil, nil // past an end: stays there, as in bbolt after Next
	}
	cur := c.buf[c.i].k
	if desc == c.desc && c.gen == c.b.t.gen {
		if c.i+1 < len(c.buf) {
			c.i++
			return c.at()
		}
		if !c.full {
			c.i = len(c.buf)
			return nil, nil
		}
	}
	return c.fetch(bytes.Clone(cur), false, desc)
}
