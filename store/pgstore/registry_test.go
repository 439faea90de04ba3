package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
	"github.com/bansosbot/bansosbot/synthetic"
	"github.com/jackc/pgx/v5"
)

var (
	regKey  = []byte("pgstore registry key")
	regAsOf = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
)

// replicas opens n stores on one database (one schema), each with a data
// directory of its own, as replicas on several machines.
func replicas(t *testing.T, n int) (dsn string, dbs []*store.DB) {
	_, dsn = pgtest.Schema(t)
	for range n {
		pg, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.OpenBackend(pg, "replica", t.TempDir(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	return dsn, dbs
}

func registryCSV(t *testing.T, n int, seed int64) (string, []synthetic.Sample) {
	t.Helper()
	var b strings.Builder
	samples, err := synthetic.Registry(&b, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), samples
}

func lookup(t *testing.T, db *store.DB, nik bansosbot.NIK) (*bansosbot.Snapshot, *bansosbot.Record) {
	t.Helper()
	var s *bansosbot.Snapshot
	var r *bansosbot.Record
	if err := db.View(func(tx *store.Tx) error {
		var err error
		s, r, err = tx.RegistryLookup(bansosbot.HashNIK(regKey, nik))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s, r
}

func registered(samples []synthetic.Sample) synthetic.Sample {
	for _, s := range samples {
		if s.Registered {
			return s
		}
	}
	panic("no registered sample")
}

// registryTables lists the snapshot tables of the schema.
func registryTables(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
		AND tablename ~ '^registry_s[0-9]+$' ORDER BY tablename`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestRegistrySharedByReplicas: an import made through one replica is not
// seen by another while it is staged, and is seen by it from the switch on
// (each lookup reads the database's current-snapshot pointer), as is a
// rollback made through the second.
func TestRegistrySharedByReplicas(t *testing.T) {
	_, dbs := replicas(t, 2)
	a, b := dbs[0], dbs[1]
	first, _ := registryCSV(t, 200, 1)
	if _, err := a.ImportRegistry(context.Background(), strings.NewReader(first), store.ImportOptions{Key: regKey, AsOf: regAsOf}); err != nil {
		t.Fatal(err)
	}
	csv, samples := registryCSV(t, 300, 2)
	smp := registered(samples)
	st, err := a.StageRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf})
	if err != nil {
		t.Fatal(err)
	}
	before, r := lookup(t, b, smp.NIK)
	if before == nil || r != nil {
		t.Fatalf("replica b before the switch: %+v, %+v; want the first snapshot, no record", before, r)
	}
	res, err := st.Install()
	if err != nil {
		t.Fatal(err)
	}
	after, r := lookup(t, b, smp.NIK)
	if after == nil || after.ID != res.Snapshot.ID || r == nil || !r.MatchesName(regKey, smp.Name) {
		t.Fatalf("replica b after the switch: %+v, %+v; want snapshot %d with the record", after, r, res.Snapshot.ID)
	}
	if s, err := b.RegistrySnapshot(); err != nil || s.Stats.Rows != 300 {
		t.Errorf("replica b's stats = %+v, %v", s, err)
	}
	// An import through a keeps the staged one as previous; b rolls back
	// to it, and a answers from it.
	if _, err := a.ImportRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.RegistryRollback(); err != nil {
		t.Fatal(err)
	}
	if s, r := lookup(t, a, smp.NIK); s == nil || s.ID != res.Snapshot.ID || r == nil {
		t.Errorf("replica a after b's rollback: %+v, %+v; want snapshot %d", s, r, res.Snapshot.ID)
	}
}

// TestRegistryImportExcludesOtherReplicas: while one replica imports,
// another's import, rollback and drop are refused (the registry's advisory
// lock), and the first import still completes.
func TestRegistryImportExcludesOtherReplicas(t *testing.T) {
	_, dbs := replicas(t, 2)
	a, b := dbs[0], dbs[1]
	csv, _ := registryCSV(t, 500, 3)
	if _, err := a.ImportRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf}); err != nil {
		t.Fatal(err)
	}
	st, err := a.StageRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.ImportRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf})
	if !errors.Is(err, backend.ErrRegistryBusy) {
		t.Errorf("import on b during a's: %v; want ErrRegistryBusy", err)
	}
	if _, _, err := b.RegistryRollback(); !errors.Is(err, backend.ErrRegistryBusy) {
		t.Errorf("rollback on b during a's import: %v; want ErrRegistryBusy", err)
	}
	if err := b.DropRegistry(); !errors.Is(err, backend.ErrRegistryBusy) {
		t.Errorf("drop on b during a's import: %v; want ErrRegistryBusy", err)
	}
	if _, err := st.Install(); err != nil {
		t.Fatal(err)
	}
	st.Discard() // after Install: releases nothing more, changes nothing
	if _, err := b.ImportRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf}); err != nil {
		t.Errorf("import on b after a's: %v", err)
	}
	if _, _, err := b.RegistryRollback(); err != nil {
		t.Errorf("rollback on b after a's import: %v", err)
	}
}

// TestRegistryTablesHoldNoNIK: the snapshot tables hold only one table per
// kept snapshot (an interrupted import leaves none; older snapshots are
// dropped), and no NIK or name of the file in clear.
func TestRegistryTablesHoldNoNIK(t *testing.T) {
	dsn, dbs := replicas(t, 1)
	db := dbs[0]
	csv, samples := registryCSV(t, 2000, 5)
	for range 3 {
		if _, err := db.ImportRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := db.ImportRegistry(ctx, strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf, TxRows: 100,
		Progress: func(p store.ImportProgress) {
			if p.Phase == store.PhaseWrite && p.Rows >= 500 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted import: %v", err)
	}
	cur, _ := db.RegistrySnapshot()
	prev, _ := db.RegistryPrevious()
	want := []string{"registry_s" + strconv.FormatUint(prev.ID, 10), "registry_s" + strconv.FormatUint(cur.ID, 10)}
	if got := registryTables(t, dsn); !slices.Equal(got, want) {
		t.Errorf("snapshot tables = %v; want %v (current and previous)", got, want)
	}

	// Everything the registry stored, as bytes.
	var raw bytes.Buffer
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(context.Background(), "SELECT nik_hash || value FROM registry_s"+strconv.FormatUint(cur.ID, 10))
	vals, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.Fatal(err)
	}
	rows, _ = conn.Query(context.Background(), "SELECT meta, stats, convert_to(key_fp, 'UTF8'), texts FROM registry_snapshots")
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var meta, stats, key []byte
		var texts [][]byte
		err := r.Scan(&meta, &stats, &key, &texts)
		vals = append(append(vals, meta, stats, key), texts...)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		raw.Write(v)
		raw.WriteByte(0)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n")[1:] {
		f := strings.Split(line, ",")
		needles := []string{f[0]}
		if len(f[1]) >= 6 { // shorter strings turn up in random hash bytes by chance
			needles = append(needles, f[1], strings.ToLower(f[1]), bansosbot.NormalizeName(f[1]))
		}
		for _, s := range needles {
			n++
			if bytes.Contains(raw.Bytes(), []byte(s)) {
				t.Errorf("the registry's tables hold %q", s)
			}
		}
	}
	if n < 2000 || !bytes.Contains(raw.Bytes(), []byte(bansosbot.MaskName(registered(samples).Name))) {
		t.Errorf("the scan looked for %d strings and did not find a masked name: it is blind", n)
	}
}

// TestRegistryLockIsPerSchema: an import held open in one schema does not
// refuse an import in another (advisory locks are the whole database's:
// the flows' tests run in parallel, a schema each).
func TestRegistryLockIsPerSchema(t *testing.T) {
	a, b := pgtest.OpenStore(t, store.Options{}), pgtest.OpenStore(t, store.Options{})
	csv, _ := registryCSV(t, 50, 6)
	st, err := a.StageRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	if _, err := b.ImportRegistry(context.Background(), strings.NewReader(csv), store.ImportOptions{Key: regKey, AsOf: regAsOf}); err != nil {
		t.Errorf("import in another schema while one is staged: %v", err)
	}
}
