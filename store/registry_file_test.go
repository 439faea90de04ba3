package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot"
	bolt "go.etcd.io/bbolt"
)

// The registry in its own file (issue 13 item 5, issue 12 item 4).

func fileSizeOf(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestReimportKeepsMainFileSize: re-importing the registry does not grow
// the main file (in the main file, each import left a snapshot's worth of
// free pages), and the registry file keeps its size.
func TestReimportKeepsMainFileSize(t *testing.T) {
	db := openTicketDB(t)
	csv, samples := genRegistry(t, 20000, 7)
	mustImport(t, db, csv, regOptions(t))
	main1, reg1 := fileSizeOf(t, db.Path()), fileSizeOf(t, db.RegistryPath())
	for range 3 {
		mustImport(t, db, csv, regOptions(t))
	}
	main2, reg2 := fileSizeOf(t, db.Path()), fileSizeOf(t, db.RegistryPath())
	if main2 != main1 {
		t.Errorf("main file grew from %d to %d bytes over three re-imports", main1, main2)
	}
	if reg2 != reg1 {
		t.Errorf("registry file changed from %d to %d bytes importing the same data", reg1, reg2)
	}
	if main1 > 1<<20 {
		t.Errorf("main file is %d bytes: the registry is still in it", main1)
	}
	if _, r := lookup(t, db, samples[0].NIK); r == nil && samples[0].Registered {
		t.Error("lookup after re-imports failed")
	}
}

// TestRegistryRollback: the previous snapshot is kept; rollback makes it
// current, a second rollback undoes the first; without one it is refused.
func TestRegistryRollback(t *testing.T) {
	db := openTicketDB(t)
	if _, _, err := db.RegistryRollback(); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("rollback without a registry: %v; want ErrNoPrevious", err)
	}
	first := mustImport(t, db, smallRegistry, regOptions(t))
	if _, _, err := db.RegistryRollback(); !errors.Is(err, ErrNoPrevious) {
		t.Errorf("rollback after one import: %v; want ErrNoPrevious", err)
	}
	csv, samples := genRegistry(t, 50, 8)
	opts := regOptions(t)
	opts.Force = true
	second := mustImport(t, db, csv, opts)
	if p, err := db.RegistryPrevious(); err != nil || p == nil || p.ID != first.Snapshot.ID || p.Stats.Rows != 3 {
		t.Fatalf("previous = %+v, %v; want the first snapshot", p, err)
	}
	from, to, err := db.RegistryRollback()
	if err != nil || from.ID != second.Snapshot.ID || to.ID != first.Snapshot.ID {
		t.Fatalf("rollback: %+v -> %+v, %v", from, to, err)
	}
	if s, r := lookup(t, db, "3201011203850001"); r == nil || s.ID != first.Snapshot.ID {
		t.Errorf("after rollback: snapshot %+v, record %v; want the first", s, r)
	}
	if _, r := lookup(t, db, samples[0].NIK); r != nil {
		t.Error("after rollback a record of the second import answers")
	}
	if _, _, err := db.RegistryRollback(); err != nil {
		t.Fatal(err)
	}
	if s := db.reg.current(); s.ID != second.Snapshot.ID {
		t.Errorf("after two rollbacks: snapshot %d; want %d", s.ID, second.Snapshot.ID)
	}
	if b := registryFiles(t, db); !reflect.DeepEqual(b, []string{RegistryFileName, RegistryPrevFileName}) {
		t.Errorf("files after rollbacks = %v", b)
	}
	// A reopened store answers from the rolled-back file too.
	path := db.Path()
	db.Close()
	db2, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if s := db2.reg.current(); s == nil || s.ID != second.Snapshot.ID {
		t.Errorf("after reopening: %+v", s)
	}
	// A new import gets an id above both.
	third := mustImport(t, db2, csv, regOptions(t))
	if third.Snapshot.ID <= max(first.Snapshot.ID, second.Snapshot.ID) {
		t.Errorf("third id %d; want above %d and %d", third.Snapshot.ID, first.Snapshot.ID, second.Snapshot.ID)
	}
}

// TestImportShrinkGuard: a file with under half the current rows is
// refused without Force; the current data keeps answering.
func TestImportShrinkGuard(t *testing.T) {
	db := openTicketDB(t)
	csv, _ := genRegistry(t, 100, 9)
	mustImport(t, db, csv, regOptions(t))
	lines := strings.SplitAfter(csv, "\n")
	small := strings.Join(lines[:45], "") // header + 44 rows
	_, err := db.ImportRegistry(context.Background(), strings.NewReader(small), regOptions(t))
	var se *ShrinkError
	if !errors.As(err, &se) || se.Rows != 44 || se.Current != 100 {
		t.Fatalf("import of 44 rows over 100: %v; want a ShrinkError", err)
	}
	if s, _ := db.RegistrySnapshot(); s.Stats.Rows != 100 {
		t.Errorf("after the refusal: %d rows; want 100", s.Stats.Rows)
	}
	if b := registryFiles(t, db); !reflect.DeepEqual(b, []string{RegistryFileName}) {
		t.Errorf("files after a refused import = %v", b)
	}
	half := strings.Join(lines[:51], "")
	mustImport(t, db, half, regOptions(t)) // 50 of 100: allowed
	opts := regOptions(t)
	opts.Force = true
	mustImport(t, db, strings.Join(lines[:3], ""), opts)
	if s, _ := db.RegistrySnapshot(); s.Stats.Rows != 2 {
		t.Errorf("forced import: %d rows; want 2", s.Stats.Rows)
	}
}

// TestImportDryRun: a dry run counts and checks, writes nothing.
func TestImportDryRun(t *testing.T) {
	db := openTicketDB(t)
	opts := regOptions(t)
	opts.DryRun = true
	res, err := db.ImportRegistry(context.Background(), strings.NewReader(smallRegistry), opts)
	if err != nil || res.Snapshot.Stats.Rows != 3 || !reflect.DeepEqual(res.Snapshot.Stats.Receivers, []int{1, 1, 2}) {
		t.Fatalf("dry run = %+v, %v", res, err)
	}
	if s, _ := db.RegistrySnapshot(); s != nil {
		t.Errorf("a dry run imported: %+v", s)
	}
	if b := registryFiles(t, db); len(b) != 0 {
		t.Errorf("files after a dry run = %v", b)
	}
	// Duplicates are found by a dry run too.
	lines := strings.SplitAfter(smallRegistry, "\n")
	_, err = db.ImportRegistry(context.Background(), strings.NewReader(smallRegistry+lines[1]), opts)
	if !errors.Is(err, ErrBadRows) {
		t.Errorf("dry run with a duplicate: %v; want ErrBadRows", err)
	}
	// The lock is released: a real import runs afterwards.
	mustImport(t, db, smallRegistry, regOptions(t))
}

// TestStageRegistry: a registry built under a new key answers only once
// installed; the previous snapshot (old key) is dropped; a rollback to a
// file of another key is refused.
func TestStageRegistry(t *testing.T) {
	db := openTicketDB(t)
	mustImport(t, db, smallRegistry, regOptions(t))
	mustImport(t, db, smallRegistry, regOptions(t)) // a previous one exists
	newKey := []byte("the rotated key")
	opts := regOptions(t)
	opts.Key = newKey
	st, err := db.StageRegistry(context.Background(), strings.NewReader(smallRegistry), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, r := lookup(t, db, "3201011203850001"); r == nil {
		t.Fatal("the old registry stopped answering before Install")
	}
	if !db.RegistryKeyMatches(regKey) || db.RegistryKeyMatches(newKey) {
		t.Error("key fingerprint of the old registry")
	}
	if _, err := st.Install(); err != nil {
		t.Fatal(err)
	}
	if !db.RegistryKeyMatches(newKey) {
		t.Error("after Install the key does not match the new key")
	}
	var rec *bansosbot.Record
	db.View(func(tx *Tx) error {
		_, rec, err = tx.RegistryLookup(bansosbot.HashNIK(newKey, "3201011203850001"))
		return err
	})
	if rec == nil {
		t.Error("the new key's hash is not found after Install")
	}
	if p, _ := db.RegistryPrevious(); p != nil {
		t.Errorf("previous snapshot under the old key kept: %+v", p)
	}
	// Another import, then a hand-placed old-key file as previous: refused.
	mustImport(t, db, smallRegistry, ImportOptions{Key: newKey, AsOf: regAsOf, TempDir: t.TempDir()})
	other := openTicketDB(t)
	mustImport(t, other, smallRegistry, regOptions(t))
	raw, _ := os.ReadFile(other.RegistryPath())
	os.WriteFile(filepath.Join(filepath.Dir(db.Path()), RegistryPrevFileName), raw, 0o600)
	if _, _, err := db.RegistryRollback(); !errors.Is(err, ErrOtherKey) {
		t.Errorf("rollback to another key's file: %v; want ErrOtherKey", err)
	}
	// Discard leaves nothing behind and releases the import lock.
	st, err = db.StageRegistry(context.Background(), strings.NewReader(smallRegistry), opts)
	if err != nil {
		t.Fatal(err)
	}
	st.Discard()
	if b := registryFiles(t, db); !reflect.DeepEqual(b, []string{RegistryFileName, RegistryPrevFileName}) {
		t.Errorf("files after Discard = %v", b)
	}
	if err := db.DropRegistry(); err != nil {
		t.Fatal(err)
	}
	if s, r := lookup(t, db, "3201011203850001"); s != nil || r != nil {
		t.Error("registry answers after DropRegistry")
	}
	if b := registryFiles(t, db); len(b) != 0 {
		t.Errorf("files after DropRegistry = %v", b)
	}
}

// writeV4Registry writes the registry of csv into the main file at path
// the way version 4 kept it (bucket "registry", snapshot bucket s<id>)
// and sets the file's version to 4.
func writeV4Registry(t *testing.T, path, csv string) {
	t.Helper()
	src := openTicketDB(t)
	mustImport(t, src, csv, regOptions(t))
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	err = src.reg.db.View(func(stx *bolt.Tx) error {
		return raw.Update(func(tx *bolt.Tx) error {
			for _, m := range migrations[:4] {
				if err := m.apply(boltTx{tx}); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(4)); err != nil {
				return err
			}
			reg := tx.Bucket(bucketRegistry)
			if err := reg.Put(keyOldCurrent, u64(7)); err != nil {
				return err
			}
			snap, err := reg.CreateBucket(oldSnapshotKey(7))
			if err != nil {
				return err
			}
			meta := stx.Bucket(keyRegMeta)
			meta.ForEach(func(k, v []byte) error {
				if !bytes.Equal(k, keyRegKey) {
					snap.Put(k, v)
				}
				return nil
			})
			snap.Put(keyOldMeta, bytes.Replace(meta.Get(keyRegSnapshot), []byte(`"id":1`), []byte(`"id":7`), 1))
			for _, name := range [][]byte{keyRegRecords, keyRegDict} {
				b, _ := snap.CreateBucket(name)
				stx.Bucket(name).ForEach(func(k, v []byte) error { return b.Put(k, v) })
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateRegistryOut: a version-4 file with the registry inside is
// opened: the registry moves to registry.db (same answers, same id), the
// bucket is gone and the main file is compacted.
func TestMigrateRegistryOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bansosbot.db")
	csv, samples := genRegistry(t, 20000, 10)
	writeV4Registry(t, path, csv)
	before := fileSizeOf(t, path)

	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(); v != SchemaVersion() || v < 5 {
		t.Errorf("version %d; want %d", v, SchemaVersion())
	}
	s := db.reg.current()
	if s == nil || s.ID != 7 || !s.AsOf.Equal(regAsOf) {
		t.Fatalf("migrated snapshot = %+v", s)
	}
	if full, _ := db.RegistrySnapshot(); full.Stats.Rows != 20000 {
		t.Errorf("migrated stats: %d rows", full.Stats.Rows)
	}
	fresh := openTicketDB(t)
	mustImport(t, fresh, csv, regOptions(t))
	for _, smp := range samples {
		_, a := lookup(t, db, smp.NIK)
		_, b := lookup(t, fresh, smp.NIK)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("NIK %s: migrated %+v; imported %+v", smp.NIK[:4], a, b)
		}
	}
	db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRegistry) != nil {
			t.Error("the registry bucket is still in the main file")
		}
		return nil
	})
	if after := fileSizeOf(t, path); after > before/4 {
		t.Errorf("main file %d bytes after the move (was %d): not compacted", after, before)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// Opening again changes nothing.
	db.Close()
	db, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := db.reg.current(); s == nil || s.ID != 7 {
		t.Errorf("after reopening: %+v", s)
	}
}

// TestImportTolerance: a file with only nik,name,desil, a file with ';'
// (Excel with Indonesian settings), a BOM and a "# date:" comment line
// import alike (issue 12 item 5).
func TestImportTolerance(t *testing.T) {
	db := openTicketDB(t)
	res := mustImport(t, db, "nik,name,desil\n3201011203850001,WAWAN LESTARI,2\n", regOptions(t))
	if res.Snapshot.Stats.Rows != 1 || len(res.Snapshot.Programs) != 0 {
		t.Errorf("nik,name,desil only: %+v", res.Snapshot)
	}
	if _, r := lookup(t, db, "3201011203850001"); r == nil || r.Desil != 2 || len(r.Programs) != 0 {
		t.Errorf("record = %+v", r)
	}
	semi := "\ufeff# date: 2026-10-01\n# source: DTSEN\nnik;name;desil;PKH;PKH_remark\n" +
		"3201011203850001;WAWAN LESTARI;2;Y;Dana sudah tersalurkan, tahap 4\n3201015203850002;\"SITI; NUR\";;N;\n"
	res = mustImport(t, db, semi, regOptions(t))
	if res.Snapshot.Stats.Rows != 2 || len(res.Snapshot.Programs) != 1 {
		t.Fatalf("semicolons: %+v", res.Snapshot)
	}
	if _, r := lookup(t, db, "3201011203850001"); r == nil || r.Programs[0].Remark != "Dana sudah tersalurkan, tahap 4" {
		t.Errorf("semicolon record = %+v", r)
	}
	var lines []int
	opts := regOptions(t)
	opts.BadRow = func(e RowError) { lines = append(lines, e.Line) }
	_, err := db.ImportRegistry(context.Background(), strings.NewReader("# date: 2026-10-01\nnik;name;desil\n3201011203850001;A B;11\n"), opts)
	if !errors.Is(err, ErrBadRows) || !reflect.DeepEqual(lines, []int{3}) {
		t.Errorf("bad row after a comment: %v %v; want line 3", err, lines)
	}
}
