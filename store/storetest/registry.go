package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// The eligibility registry: a bbolt store keeps it in files, PostgreSQL in
// tables; imports, lookups, statistics, rollback, the NIK key's rules and
// all-or-nothing imports are the same on both.

var (
	regKey   = []byte("conformance registry key")
	regAsOf  = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	otherKey = []byte("another registry key")
)

const regSmall = `nik,name,desil,PKH,PKH_period,PKH_remark,SEMBAKO,PBI-JK,PBI-JK_remark
3201011203850001,WAWAN LESTARI,2,Y,Tahap 4 (Oktober-Desember 2026),Dana sudah tersalurkan,Y,Y,Aktif
3201015203850002,"SITI NUR'AINI",,N,,,N,Y,Aktif
1101011203850003,TEUKU MUHAMMAD,10,N,-,-,N,N,
`

func regOptions(t *testing.T) store.ImportOptions {
	return store.ImportOptions{Key: regKey, AsOf: regAsOf, TempDir: t.TempDir()}
}

func regImport(t *testing.T, db *store.DB, csv string, opts store.ImportOptions) *store.ImportResult {
	t.Helper()
	res, err := db.ImportRegistry(context.Background(), strings.NewReader(csv), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// regLookup looks nik up under key in a read transaction, as /cek does.
func regLookup(t *testing.T, db *store.DB, key []byte, nik bansosbot.NIK) (*bansosbot.Snapshot, *bansosbot.Record) {
	t.Helper()
	var s *bansosbot.Snapshot
	var r *bansosbot.Record
	must(t, db.View(func(tx *store.Tx) error {
		var err error
		s, r, err = tx.RegistryLookup(bansosbot.HashNIK(key, nik))
		return err
	}))
	return s, r
}

// regCSV is a registry file of n rows (NIKs of Kabupaten Bogor, distinct
// birth dates and numbers; seed varies the desil and the programs), with
// its NIKs, all registered. The synthetic package would do, but the
// conformance suite keeps to the store's own imports.
func regCSV(t *testing.T, n int, seed int64) (string, []bansosbot.NIK) {
	t.Helper()
	var b strings.Builder
	b.WriteString("nik,name,desil,PKH,SEMBAKO\n")
	niks := make([]bansosbot.NIK, n)
	yn := [2]string{"N", "Y"}
	for i := range n {
		// Day 01-28 of March 1980-1999 and a number: distinct for
		// i < 28 × 20 × 9999.
		nik := fmt.Sprintf("320101%02d03%02d%04d", 1+i%28, 80+(i/28)%20, 1+i/560)
		name := fmt.Sprintf("WARGA %c%c%c", 'A'+rune(i%26), 'A'+rune(i/26%26), 'A'+rune(i/676%26))
		fmt.Fprintf(&b, "%s,%s,%d,%s,%s\n", nik, name, 1+(i+int(seed))%10, yn[(i+int(seed))%2], yn[i%3/2])
		niks[i] = bansosbot.NIK(nik)
	}
	return b.String(), niks
}

// testRegistryImport: an import answers lookups by the keyed NIK hash with
// the record's every field (texts included), the statistics, the key's
// fingerprint; an unknown NIK, or the right NIK under another key, finds
// nothing.
func testRegistryImport(t *testing.T, open Opener) {
	db := fixed(open, t)
	if s, r := regLookup(t, db, regKey, "3201011203850001"); s != nil || r != nil {
		t.Fatalf("empty registry answers: %+v %+v", s, r)
	}
	if !db.RegistryKeyMatches(regKey) {
		t.Error("no registry: the key should match")
	}
	opts := regOptions(t)
	opts.Source = "small.csv"
	res := regImport(t, db, regSmall, opts)
	if res.Replaced != 0 || res.Snapshot.Stats.Rows != 3 || res.Snapshot.ID == 0 || !res.Snapshot.ImportedAt.Equal(T0) {
		t.Errorf("result = %+v", res)
	}
	s, r := regLookup(t, db, regKey, "3201011203850001")
	if s == nil || s.ID != res.Snapshot.ID || !s.AsOf.Equal(regAsOf) || s.Source != "small.csv" || len(s.Programs) != 3 || s.Programs[2].Code != "PBI-JK" {
		t.Fatalf("snapshot = %+v", s)
	}
	h := bansosbot.HashNIK(regKey, "3201011203850001")
	want := &bansosbot.Record{NIK: h, Name: bansosbot.NameVerifier(regKey, h, "Wawan Lestari"), Masked: "W***N L*****I",
		Province: "32", Desil: 2, Programs: []bansosbot.ProgramStatus{
			{Code: "PKH", Receives: true, Period: "Tahap 4 (Oktober-Desember 2026)", Remark: "Dana sudah tersalurkan"},
			{Code: "SEMBAKO", Receives: true},
			{Code: "PBI-JK", Receives: true, Remark: "Aktif"},
		}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("record =\n%+v\nwant\n%+v", r, want)
	}
	if !r.MatchesName(regKey, "wawan  lestari") || r.MatchesName(regKey, "Wawan Lestaro") {
		t.Error("the name verifier does not follow the NIK-hash rules")
	}
	if _, r := regLookup(t, db, regKey, "1101011203850003"); r == nil || r.Province != "11" || r.Desil != 10 || r.Programs[0].Receives {
		t.Errorf("third record = %+v", r)
	}
	if s, r := regLookup(t, db, regKey, "3201011203850009"); r != nil || s == nil {
		t.Errorf("unknown NIK: %+v, %+v; want the snapshot and no record", s, r)
	}
	if _, r := regLookup(t, db, otherKey, "3201011203850001"); r != nil {
		t.Error("a NIK hashed under another key was found")
	}
	must(t, db.View(func(tx *store.Tx) error {
		cur, err := tx.RegistryCurrent()
		if err != nil || cur == nil || cur.ID != res.Snapshot.ID || cur.Stats.Rows != 0 {
			t.Errorf("RegistryCurrent = %+v, %v; want the snapshot without stats", cur, err)
		}
		return nil
	}))
	full, err := db.RegistrySnapshot()
	if err != nil || full.Stats.Rows != 3 || full.Stats.Desil[0] != 1 || !reflect.DeepEqual(full.Stats.Receivers, []int{1, 1, 2}) {
		t.Errorf("stats = %+v, %v", full, err)
	}
	if p := full.Stats.Provinces; len(p) != 2 || p[0].Code != "11" || p[1].Rows != 2 || !reflect.DeepEqual(p[1].Receivers, []int{1, 1, 2}) {
		t.Errorf("provinces = %+v", p)
	}
	if !db.RegistryKeyMatches(regKey) || db.RegistryKeyMatches(otherKey) {
		t.Error("RegistryKeyMatches does not tell the import's key from another")
	}
	if p, err := db.RegistryPrevious(); p != nil || err != nil {
		t.Errorf("previous after one import = %+v, %v", p, err)
	}
}

// testRegistryRollback: each import keeps the one it replaces for a
// rollback and drops the older ones; rollback swaps, twice undoes it; a
// new id is above both.
func testRegistryRollback(t *testing.T, open Opener) {
	db := fixed(open, t)
	if _, _, err := db.RegistryRollback(); !errors.Is(err, store.ErrNoPrevious) {
		t.Errorf("rollback without a registry: %v; want ErrNoPrevious", err)
	}
	first := regImport(t, db, regSmall, regOptions(t))
	if _, _, err := db.RegistryRollback(); !errors.Is(err, store.ErrNoPrevious) {
		t.Errorf("rollback after one import: %v; want ErrNoPrevious", err)
	}
	csv, niks := regCSV(t, 50, 8)
	opts := regOptions(t)
	opts.Force = true
	second := regImport(t, db, csv, opts)
	if second.Replaced != first.Snapshot.ID || second.Snapshot.ID <= first.Snapshot.ID {
		t.Errorf("second import: id %d replaced %d; first %d", second.Snapshot.ID, second.Replaced, first.Snapshot.ID)
	}
	if p, err := db.RegistryPrevious(); err != nil || p == nil || p.ID != first.Snapshot.ID || p.Stats.Rows != 3 {
		t.Fatalf("previous = %+v, %v; want the first snapshot", p, err)
	}
	from, to, err := db.RegistryRollback()
	if err != nil || from.ID != second.Snapshot.ID || to.ID != first.Snapshot.ID {
		t.Fatalf("rollback: %+v -> %+v, %v", from, to, err)
	}
	if s, r := regLookup(t, db, regKey, "3201011203850001"); r == nil || s.ID != first.Snapshot.ID {
		t.Errorf("after rollback: snapshot %+v, record %v; want the first", s, r)
	}
	if _, r := regLookup(t, db, regKey, niks[0]); r != nil {
		t.Error("after rollback a record of the second import answers")
	}
	if s, _ := db.RegistrySnapshot(); s == nil || s.Stats.Rows != 3 {
		t.Errorf("stats after rollback: %+v", s)
	}
	if _, _, err := db.RegistryRollback(); err != nil {
		t.Fatal(err)
	}
	if s, _ := regLookup(t, db, regKey, niks[0]); s == nil || s.ID != second.Snapshot.ID {
		t.Errorf("after two rollbacks: %+v; want the second", s)
	}
	third := regImport(t, db, csv, regOptions(t))
	if third.Snapshot.ID <= second.Snapshot.ID || third.Replaced != second.Snapshot.ID {
		t.Errorf("third: id %d replaced %d; want above %d, replacing it", third.Snapshot.ID, third.Replaced, second.Snapshot.ID)
	}
	// The first is dropped: only the second is kept for a rollback.
	if p, _ := db.RegistryPrevious(); p == nil || p.ID != second.Snapshot.ID {
		t.Errorf("previous after a third import = %+v; want the second", p)
	}
}

// testRegistryRefusals: bad rows, a shrunken file and a dry run change
// nothing; the import lock is released after each.
func testRegistryRefusals(t *testing.T, open Opener) {
	db := fixed(open, t)
	csv, _ := regCSV(t, 100, 9)
	old := regImport(t, db, csv, regOptions(t))
	bad := csv + "320101120385001,BUDI,1,Y,,,N,N,,,,,,,,\n"
	var lines []int
	opts := regOptions(t)
	opts.BadRow = func(e store.RowError) { lines = append(lines, e.Line) }
	if _, err := db.ImportRegistry(context.Background(), strings.NewReader(bad), opts); !errors.Is(err, store.ErrBadRows) || !reflect.DeepEqual(lines, []int{102}) {
		t.Errorf("bad row: %v, lines %v; want ErrBadRows at line 102", err, lines)
	}
	small := strings.Join(strings.SplitAfter(csv, "\n")[:45], "")
	var se *store.ShrinkError
	if _, err := db.ImportRegistry(context.Background(), strings.NewReader(small), regOptions(t)); !errors.As(err, &se) || se.Rows != 44 || se.Current != 100 {
		t.Errorf("shrunken file: %v; want a ShrinkError 44 of 100", err)
	}
	dry := regOptions(t)
	dry.DryRun = true
	res, err := db.ImportRegistry(context.Background(), strings.NewReader(regSmall), dry)
	if err != nil || res.Snapshot.Stats.Rows != 3 || res.Replaced != old.Snapshot.ID {
		t.Errorf("dry run = %+v, %v", res, err)
	}
	if s, _ := db.RegistrySnapshot(); s == nil || s.ID != old.Snapshot.ID || s.Stats.Rows != 100 {
		t.Errorf("after the refusals: %+v; want the first import", s)
	}
	if p, _ := db.RegistryPrevious(); p != nil {
		t.Errorf("a refused import left a previous snapshot: %+v", p)
	}
	regImport(t, db, csv, regOptions(t)) // the lock was released
}

// testRegistryInterrupted: an import cancelled in the middle of writing
// its records leaves the old snapshot answering and nothing of the new.
func testRegistryInterrupted(t *testing.T, open Opener) {
	db := fixed(open, t)
	old := regImport(t, db, regSmall, regOptions(t))
	csv, niks := regCSV(t, 3000, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := regOptions(t)
	opts.TxRows = 100
	written := int64(0)
	opts.Progress = func(p store.ImportProgress) {
		if p.Phase == store.PhaseWrite && p.Rows >= 300 && written == 0 {
			written = p.Rows
			cancel()
		}
	}
	if _, err := db.ImportRegistry(ctx, strings.NewReader(csv), opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if written == 0 || written >= 2000 {
		t.Fatalf("cancelled after %d records written; want in the middle", written)
	}
	for _, nik := range niks[:5] {
		if _, r := regLookup(t, db, regKey, nik); r != nil {
			t.Error("a record of the interrupted import answers")
		}
	}
	if s, r := regLookup(t, db, regKey, "3201011203850001"); r == nil || s.ID != old.Snapshot.ID {
		t.Errorf("after the interruption: %+v; want the old snapshot", s)
	}
	if p, _ := db.RegistryPrevious(); p != nil {
		t.Errorf("previous = %+v; want none", p)
	}
	next := regImport(t, db, csv, regOptions(t))
	if next.Replaced != old.Snapshot.ID {
		t.Errorf("the next import replaced %d; want %d", next.Replaced, old.Snapshot.ID)
	}
	if _, r := regLookup(t, db, regKey, niks[0]); r == nil {
		t.Error("the next import does not answer")
	}
}

// testRegistryRotation: a snapshot staged under a new key answers only
// once installed, which drops the old key's snapshots; a rollback across
// keys is refused; DropRegistry leaves nothing.
func testRegistryRotation(t *testing.T, open Opener) {
	db := fixed(open, t)
	regImport(t, db, regSmall, regOptions(t))
	regImport(t, db, regSmall, regOptions(t))
	opts := regOptions(t)
	opts.Key = otherKey
	st, err := db.StageRegistry(context.Background(), strings.NewReader(regSmall), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, r := regLookup(t, db, regKey, "3201011203850001"); r == nil {
		t.Fatal("the old registry stopped answering before Install")
	}
	if _, r := regLookup(t, db, otherKey, "3201011203850001"); r != nil {
		t.Fatal("the staged registry answers before Install")
	}
	if _, err := st.Install(); err != nil {
		t.Fatal(err)
	}
	if _, r := regLookup(t, db, otherKey, "3201011203850001"); r == nil {
		t.Error("the new key's hash is not found after Install")
	}
	if !db.RegistryKeyMatches(otherKey) || db.RegistryKeyMatches(regKey) {
		t.Error("after Install the fingerprint is not the new key's")
	}
	if p, _ := db.RegistryPrevious(); p != nil {
		t.Errorf("previous snapshot under the old key kept: %+v", p)
	}
	st, err = db.StageRegistry(context.Background(), strings.NewReader(regSmall), regOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	st.Discard()
	if _, r := regLookup(t, db, otherKey, "3201011203850001"); r == nil {
		t.Error("a discarded stage replaced the registry")
	}
	// Back under the old key with a previous of the new one: refused.
	regImport(t, db, regSmall, regOptions(t))
	if _, _, err := db.RegistryRollback(); !errors.Is(err, store.ErrOtherKey) {
		t.Errorf("rollback to another key's snapshot: %v; want ErrOtherKey", err)
	}
	must(t, db.DropRegistry())
	if s, r := regLookup(t, db, regKey, "3201011203850001"); s != nil || r != nil {
		t.Error("the registry answers after DropRegistry")
	}
	if s, err := db.RegistrySnapshot(); s != nil || err != nil {
		t.Errorf("snapshot after DropRegistry = %+v, %v", s, err)
	}
	if p, err := db.RegistryPrevious(); p != nil || err != nil {
		t.Errorf("previous after DropRegistry = %+v, %v", p, err)
	}
	regImport(t, db, regSmall, regOptions(t))
}
