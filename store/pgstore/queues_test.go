package pgstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
	"github.com/jackc/pgx/v5"
)

// openAt opens the store on the test's schema dsn with the migrations up
// to version upTo (0: all).
func openAt(t *testing.T, dsn string, upTo int) *store.DB {
	t.Helper()
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{MigrateTo: upTo})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenBackend(s, "postgresql (test)", t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func update(id int64) store.InboxItem {
	return store.InboxItem{UpdateID: id, ChatID: 7, Update: json.RawMessage(fmt.Sprintf(`{"update_id":%d}`, id))}
}

// TestTwoClaimersNeverTakeTheSameUpdate: while one replica's transaction
// handles an update, another replica's claim of it answers at once that it
// is taken (it neither waits for the lock nor gets the update), a claim of
// another update goes through meanwhile, and once the first commits the
// update is done. A claim that waited for the lock fails on lock_timeout
// instead of hanging the test.
func TestTwoClaimersNeverTakeTheSameUpdate(t *testing.T) {
	_, dsn := pgtest.Schema(t)
	db := openAt(t, dsn+"&lock_timeout=10000", 0)
	defer db.Close()
	if _, err := db.Accept([]store.InboxItem{update(1), update(2)}, 0); err != nil {
		t.Fatal(err)
	}
	holding, release, first := make(chan struct{}), make(chan struct{}), true
	aDone := make(chan error, 1)
	go func() {
		aDone <- db.Update(func(tx *store.Tx) error {
			done, err := tx.ClaimUpdate(1)
			if err != nil || done {
				return fmt.Errorf("first claim: done %v, %v", done, err)
			}
			if first { // a rerun (failed to serialize) does not wait again
				first = false
				close(holding)
				<-release
			}
			return tx.MarkProcessed(1)
		})
	}()
	<-holding
	err := db.Update(func(tx *store.Tx) error {
		_, err := tx.ClaimUpdate(1)
		return err
	})
	if !errors.Is(err, store.ErrUpdateTaken) || !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("second claim of a held update = %v; want ErrUpdateTaken (an ErrLeaseLost) at once", err)
	}
	err = db.Update(func(tx *store.Tx) error {
		if done, err := tx.ClaimUpdate(2); err != nil || done {
			return fmt.Errorf("claim of another update: done %v, %v", done, err)
		}
		return tx.MarkProcessed(2)
	})
	if err != nil {
		t.Errorf("another update while the first is held: %v", err)
	}
	close(release)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		if done, err := tx.ClaimUpdate(1); err != nil || !done {
			return fmt.Errorf("claim after the first committed: done %v, %v; want done", done, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestConcurrentClaimersHandleEachUpdateOnce: two claimers go through the
// same updates at once, each handling (a reply queued, the mark) what it
// claims: every update is handled exactly once, by one of them.
func TestConcurrentClaimersHandleEachUpdateOnce(t *testing.T) {
	db := pgtest.OpenStore(t, store.Options{})
	const n = 60
	var items []store.InboxItem
	for id := int64(1); id <= n; id++ {
		items = append(items, update(id))
	}
	if _, err := db.Accept(items, 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := int64(1); id <= n; id++ {
				err := db.Update(func(tx *store.Tx) error {
					if done, err := tx.ClaimUpdate(id); err != nil || done {
						return err
					}
					if _, err := tx.Enqueue(store.OutboxItem{ChatID: id, Payload: json.RawMessage(fmt.Sprintf(`{"by":%d}`, c))}); err != nil {
						return err
					}
					return tx.MarkProcessed(id)
				})
				if err != nil && !errors.Is(err, store.ErrUpdateTaken) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	out, err := db.Outbox(0, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	handled := map[int64]int{}
	for _, it := range out {
		handled[it.ChatID]++
	}
	for id := int64(1); id <= n; id++ {
		if handled[id] != 1 {
			t.Errorf("update %d handled %d times", id, handled[id])
		}
	}
	if p, _ := db.Pending(); len(p) != 0 {
		t.Errorf("%d updates left in the inbox", len(p))
	}
}

// TestQueuesMigrationKeepsKVRows: a database written before migration 2
// (inbox, marks and outbox as rows of kv) keeps, after it, every queued
// update, processed mark and outbox item, and the outbox numbers on.
func TestQueuesMigrationKeepsKVRows(t *testing.T) {
	_, dsn := pgtest.Schema(t)
	old := openAt(t, dsn, 1)
	if _, err := old.Accept([]store.InboxItem{update(1), update(2), update(3)}, 4); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	err := old.Update(func(tx *store.Tx) error {
		ids = ids[:0]
		for i := range 3 {
			id, err := tx.Enqueue(store.OutboxItem{ChatID: 7, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return tx.MarkProcessed(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Delivered(ids[0]); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	kvRows := func() (n int) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM kv WHERE bucket IN ('inbox'::bytea, 'done'::bytea, 'outbox'::bytea)").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := kvRows(); n != 5 {
		t.Fatalf("before the migration: %d queue rows in kv; want 5 (2 updates, 1 mark, 2 outbox items)", n)
	}
	old.Close()

	db := openAt(t, dsn, 0)
	defer db.Close()
	if n := kvRows(); n != 0 {
		t.Errorf("after the migration: %d queue rows left in kv", n)
	}
	pending, err := db.Pending()
	if err != nil || len(pending) != 2 || pending[0].UpdateID != 2 || pending[1].UpdateID != 3 || string(pending[1].Update) != `{"update_id":3}` {
		t.Errorf("pending after the migration = %+v, %v; want updates 2 and 3 as accepted", pending, err)
	}
	if fresh, err := db.Accept([]store.InboxItem{update(1), update(2), update(4)}, 0); err != nil || len(fresh) != 1 || fresh[0].UpdateID != 4 {
		t.Errorf("accept after the migration = %+v, %v; want only 4 new (1 processed, 2 queued)", fresh, err)
	}
	if off, _ := db.Offset(); off != 4 {
		t.Errorf("offset = %d; want 4", off)
	}
	items, err := db.OutboxFeed().Next(10)
	if err != nil || len(items) != 2 || items[0].ID != ids[1] || items[1].ID != ids[2] || string(items[1].Payload) != `{"n":2}` {
		t.Errorf("outbox after the migration = %+v, %v; want items %v", items, err, ids[1:])
	}
	var next uint64
	err = db.Update(func(tx *store.Tx) (err error) {
		next, err = tx.Enqueue(store.OutboxItem{ChatID: 7, Payload: json.RawMessage(`{}`)})
		return err
	})
	if err != nil || next <= ids[2] {
		t.Errorf("id after the migration = %d, %v; want above %d", next, err, ids[2])
	}
	if n, _ := db.OutboxDepth(); n != 3 {
		t.Errorf("outbox depth = %d; want 3", n)
	}
}

// TestQueueBucketsWalkLikeKV: a bucket kept in a table answers the
// ordered key-value methods as a range of kv does, cursors crossing pages
// both ways and seeks with keys that are not 8 bytes included.
func TestQueueBucketsWalkLikeKV(t *testing.T) {
	s := pgtest.Open(t)
	num := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	var keys [][]byte
	for n := uint64(1); n < 400; n += 3 {
		keys = append(keys, num(n))
	}
	keys = append(keys, num(1<<40), num(1<<40+1))
	err := s.Update(func(tx backend.Tx) error {
		for _, name := range []string{"outbox", "plain"} {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := b.Put(k, append([]byte("v"), k...)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	walk := func(b backend.Bucket) (out []string) {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			out = append(out, fmt.Sprintf("%x=%x", k, v))
		}
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			out = append(out, fmt.Sprintf("<%x", k))
		}
		for _, seek := range [][]byte{nil, {0}, {0, 0, 0, 0, 0, 0, 1}, num(4), num(5), append(num(4), 0), {0, 0, 1}, num(1 << 62), {0xff}} {
			k, _ := c.Seek(seek)
			k2, _ := c.Next()
			out = append(out, fmt.Sprintf("seek %x: %x %x", seek, k, k2))
		}
		out = append(out, fmt.Sprintf("n=%d get=%x miss=%x", b.KeyN(), b.Get(num(7)), b.Get([]byte{1, 2})))
		return out
	}
	err = s.Update(func(tx backend.Tx) error {
		q, p := tx.Bucket([]byte("outbox")), tx.Bucket([]byte("plain"))
		if _, ok := q.(backend.Queue); !ok {
			t.Fatal("the outbox bucket is not a queue")
		}
		if _, ok := p.(backend.Queue); ok {
			t.Fatal("a bucket of kv is a queue")
		}
		if a, b := walk(q), walk(p); !slices.Equal(a, b) {
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] {
					t.Fatalf("walks differ at %d: table %s, kv %s", i, a[i], b[i])
				}
			}
			t.Fatalf("walks differ in length: %d, %d", len(a), len(b))
		}
		for _, b := range []backend.Bucket{q, p} {
			if err := b.Delete(num(7)); err != nil {
				return err
			}
			if err := b.SetSequence(42); err != nil {
				return err
			}
		}
		if a, b := walk(q), walk(p); !slices.Equal(a, b) {
			t.Error("walks differ after a delete")
		}
		if v := q.Sequence(); v != 42 {
			t.Errorf("table sequence = %d; want 42", v)
		}
		if v, err := q.NextSequence(); v != 43 || err != nil {
			t.Errorf("table next sequence = %d, %v; want 43", v, err)
		}
		if err := q.Put([]byte{0xff, 0, 0, 0, 0, 0, 0, 0}, nil); err == nil {
			t.Error("a key of 2^63 and above went into a table")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx backend.Tx) error {
		if v := tx.Bucket([]byte("outbox")).Get(num(10)); !bytes.Equal(v, append([]byte("v"), num(10)...)) {
			t.Errorf("read back %x", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestQueueLookupsUseTheIndex: a key lookup in a small queue table is an
// index scan on the store's connections. The planner prefers a sequential
// scan there, which in a serializable transaction locks the whole table
// for serialization checks: every update's transaction then conflicted
// with every other (a burst of two replicas failed to serialize over and
// over, and updates were parked).
func TestQueueLookupsUseTheIndex(t *testing.T) {
	s := pgtest.Open(t)
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, "INSERT INTO inbox SELECT g, '\\x00' FROM generate_series(1, 50) g; ANALYZE inbox"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Pool().Query(ctx, "EXPLAIN SELECT true FROM inbox WHERE update_id = 5 FOR UPDATE SKIP LOCKED")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "Index") {
		t.Errorf("plan of a key lookup in the inbox:\n%s\nwant an index scan", p)
	}
}
