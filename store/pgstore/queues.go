package pgstore

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/jackc/pgx/v5"
)

// queuesVersion is the migration that moved the queues into tables of
// their own (migrations/002_queues.sql). A database migrated only up to
// an earlier one (tests of the upgrade) keeps them in kv.
const queuesVersion = 2

// table is a bucket kept in a table of its own: the store's queues. Its
// keys, 8-byte big-endian numbers below 2^63, are the bigint column key;
// its values the column value.
type table struct {
	name string // the table
	key  string // its key column
	seq  string // the sequence of its keys ("": the bucket's kv_seq row)
	// taken is the column of the taker (Take); "": the table is not taken
	// from.
	taken string
}

// tables are the buckets kept in tables, by bucket name (the store's).
var tables = map[string]*table{
	"inbox":  {name: "inbox", key: "update_id"},
	"done":   {name: "inbox_done", key: "update_id"},
	"outbox": {name: "outbox", key: "id", seq: "outbox_id_seq", taken: "taken_by"},
}

// table is the table of the bucket, nil when the bucket is a range of kv.
func (t *tx) table(name []byte) *table {
	if !t.queues {
		return nil
	}
	return tables[string(name)]
}

// tableKey is a bucket key as its table's key; ok is false when it cannot
// be one (not 8 bytes, or 2^63 and above).
func tableKey(k []byte) (any, bool) {
	if len(k) != 8 || k[0]&0x80 != 0 {
		return nil, false
	}
	return int64(binary.BigEndian.Uint64(k)), true
}

// tableBound turns a cursor's "key op k" (op: > >= < <=) into the same
// condition on a table's numbers. Only Seek passes a k that is not a key:
// a shorter one sorts before every key it begins (as if padded with zero
// bytes), a longer one after the key it begins. ok is false when no key
// can follow k.
func tableBound(k []byte, op string) (any, string, bool) {
	asc := op[0] == '>'
	switch {
	case len(k) < 8:
		k = append(slices.Clone(k), make([]byte, 8-len(k))...)
		op = map[bool]string{true: ">=", false: "<"}[asc]
	case len(k) > 8:
		k = k[:8]
		op = map[bool]string{true: ">", false: "<="}[asc]
	}
	n := binary.BigEndian.Uint64(k)
	if n > math.MaxInt64 {
		if asc {
			return nil, op, false
		}
		return int64(math.MaxInt64), "<=", true
	}
	return int64(n), op, true
}

// clear empties the table (DeleteBucket) and restarts its sequence.
func (tab *table) clear(t *tx) error {
	if _, err := t.tx.Exec(t.ctx, "DELETE FROM "+tab.name); err != nil {
		return err
	}
	if tab.seq != "" {
		if _, err := t.tx.Exec(t.ctx, "SELECT setval('"+tab.seq+"', 1, false)"); err != nil {
			return err
		}
	}
	return nil
}

// next takes the table's next number.
func (tab *table) next(t *tx) (uint64, error) {
	var v int64
	if err := t.tx.QueryRow(t.ctx, "SELECT nextval('"+tab.seq+"')").Scan(&v); err != nil {
		return 0, t.fail(err)
	}
	return uint64(v), nil
}

// queue is a bucket kept in a table: a backend.Queue.
type queue struct{ *bucket }

var _ backend.Queue = queue{}

var errNotQueue = errors.New("pgstore: the bucket is not a queue taken from")

// Append inserts value under the sequence's next number.
func (q queue) Append(value []byte) (uint64, error) {
	t := q.t
	if t.err != nil {
		return 0, t.err
	}
	if !t.writable {
		return 0, errNotWritable
	}
	if q.tab.seq == "" {
		return 0, errNotQueue
	}
	if value == nil {
		value = []byte{}
	}
	var id int64
	if err := t.tx.QueryRow(t.ctx, "INSERT INTO "+q.tab.name+" (value) VALUES ($1) RETURNING "+q.tab.key, value).Scan(&id); err != nil {
		return 0, t.fail(err)
	}
	t.gen++
	return uint64(id), nil
}

var _ backend.Taker = (*Store)(nil)

// Take marks up to limit rows of the queue bucket not taken by taker as
// taken by it and returns them in key order, in a READ COMMITTED
// transaction of its own (see backend.Taker); rows locked by other
// transactions are passed over (SKIP LOCKED), so a taker never waits for a
// transaction that delivers or reschedules what another taker took.
func (s *Store) Take(bucket []byte, taker uint64, limit int) ([]backend.Pair, error) {
	var pairs []backend.Pair
	err := s.run(pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, true, func(btx backend.Tx) error {
		q, ok := btx.Bucket(bucket).(queue)
		if !ok || q.tab.taken == "" {
			return errNotQueue
		}
		var err error
		pairs, err = q.take(taker, limit)
		return err
	})
	return pairs, err
}

func (q queue) take(taker uint64, limit int) ([]backend.Pair, error) {
	t := q.t
	if t.err != nil {
		return nil, t.err
	}
	tab := q.tab
	rows, err := t.tx.Query(t.ctx, "UPDATE "+tab.name+" SET "+tab.taken+" = $1 WHERE "+tab.key+" IN (SELECT "+tab.key+" FROM "+tab.name+
		" WHERE "+tab.taken+" IS DISTINCT FROM $1 ORDER BY "+tab.key+" LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING int8send("+tab.key+"), value",
		int64(taker), limit)
	if err != nil {
		return nil, t.fail(err)
	}
	pairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (backend.Pair, error) {
		var p backend.Pair
		err := r.Scan(&p.Key, &p.Value)
		return p, err
	})
	if err != nil {
		return nil, t.fail(err)
	}
	t.gen++
	// RETURNING keeps no order.
	slices.SortFunc(pairs, func(a, b backend.Pair) int { return slices.Compare(a.Key, b.Key) })
	return pairs, nil
}

// Lock locks the row of key FOR UPDATE SKIP LOCKED; when it gets no row,
// a plain read of the snapshot tells a row locked by another transaction
// from none.
func (q queue) Lock(key []byte) (found, held bool, err error) {
	t := q.t
	if t.err != nil {
		return false, false, t.err
	}
	if !t.writable {
		return false, false, errNotWritable
	}
	k, ok := tableKey(key)
	if !ok {
		return false, false, nil
	}
	sel := "SELECT true FROM " + q.tab.name + " WHERE " + q.tab.key + " = $1"
	err = t.tx.QueryRow(t.ctx, sel+" FOR UPDATE SKIP LOCKED", k).Scan(&held)
	if err == nil {
		return true, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, false, t.fail(err)
	}
	err = t.tx.QueryRow(t.ctx, sel, k).Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, t.fail(err)
	}
	return true, false, nil
}
