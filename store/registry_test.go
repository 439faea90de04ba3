package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/synthetic"
)

// These tests are internal: they look at the snapshot buckets directly.

var (
	regKey  = []byte("registry test key")
	regAsOf = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
)

func regOptions(t testing.TB) ImportOptions {
	return ImportOptions{Key: regKey, AsOf: regAsOf, TempDir: t.TempDir()}
}

// genRegistry is a synthetic registry of n rows with its samples.
func genRegistry(t testing.TB, n int, seed int64) (string, []synthetic.Sample) {
	t.Helper()
	var b strings.Builder
	samples, err := synthetic.Registry(&b, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), samples
}

func mustImport(t testing.TB, db *DB, csv string, opts ImportOptions) *ImportResult {
	t.Helper()
	res, err := db.ImportRegistry(context.Background(), strings.NewReader(csv), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func lookup(t testing.TB, db *DB, nik bansosbot.NIK) (*bansosbot.Snapshot, *bansosbot.Record) {
	t.Helper()
	var s *bansosbot.Snapshot
	var r *bansosbot.Record
	if err := db.View(func(tx *Tx) error {
		var err error
		s, r, err = tx.RegistryLookup(bansosbot.HashNIK(regKey, nik))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s, r
}

// registryFiles lists the registry files and temporaries in the store's
// directory: after an import or a failed one, only the current and the
// previous snapshot remain.
func registryFiles(t testing.TB, db *DB) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(db.Path()))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "registry") || strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	return out
}

// allRecords reads every record of the current snapshot by looking up
// each NIK of the file.
func allRecords(t testing.TB, db *DB, csv string) map[string]*bansosbot.Record {
	t.Helper()
	out := map[string]*bansosbot.Record{}
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n")[1:] {
		nik := bansosbot.NIK(line[:16])
		_, r := lookup(t, db, nik)
		out[line[:16]] = r
	}
	return out
}

const smallRegistry = `nik,name,desil,PKH,PKH_period,PKH_remark,SEMBAKO,PBI-JK,PBI-JK_remark
3201011203850001,WAWAN LESTARI,2,Y,Tahap 4 (Oktober-Desember 2026),Dana sudah tersalurkan,Y,Y,Aktif
3201015203850002,"SITI NUR'AINI",,N,,,N,Y,Aktif
1101011203850003,TEUKU MUHAMMAD,10,N,-,-,N,N,
`

func TestImportRegistry(t *testing.T) {
	db := openTicketDB(t)
	var progress []ImportProgress
	opts := regOptions(t)
	opts.Source = "small.csv"
	opts.Progress = func(p ImportProgress) { progress = append(progress, p) }
	res := mustImport(t, db, smallRegistry, opts)
	if res.Replaced != 0 || res.Snapshot.Stats.Rows != 3 {
		t.Errorf("result = %+v", res)
	}
	s, r := lookup(t, db, "3201011203850001")
	if s == nil || !s.AsOf.Equal(regAsOf) || s.Source != "small.csv" || len(s.Programs) != 3 || s.Programs[2].Code != "PBI-JK" {
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
	if _, r := lookup(t, db, "1101011203850003"); r == nil || r.Province != "11" || r.Desil != 10 || r.Programs[0].Receives {
		t.Errorf("third record = %+v", r)
	}
	if _, r := lookup(t, db, "3201011203850009"); r != nil {
		t.Errorf("unknown NIK found: %+v", r)
	}
	full, err := db.RegistrySnapshot()
	if err != nil || full.Stats.Rows != 3 || full.Stats.Desil[0] != 1 || !reflect.DeepEqual(full.Stats.Receivers, []int{1, 1, 2}) {
		t.Errorf("stats = %+v, %v", full.Stats, err)
	}
	if p := full.Stats.Provinces; len(p) != 2 || p[0].Code != "11" || p[1].Rows != 2 || !reflect.DeepEqual(p[1].Receivers, []int{1, 1, 2}) {
		t.Errorf("provinces = %+v", p)
	}
	if len(progress) == 0 || progress[len(progress)-1].Phase != PhaseWrite || progress[len(progress)-1].Rows != 3 {
		t.Errorf("progress = %+v; want it to end with 3 records written", progress)
	}
}

func TestImportBadRows(t *testing.T) {
	db := openTicketDB(t)
	mustImport(t, db, smallRegistry, regOptions(t))
	csv := smallRegistry +
		"320101120385001,BUDI,1,Y,,,N,N,\n" + // line 5: 15 digits
		"3201011203850004,BUDI,11,Y,,,N,N,\n" + // line 6: desil
		"3201011203850005,BUDI,1,Y,,,N\n" + // line 7: columns
		"3201011203850006,BU\"DI,1,Y,,,N,N,\n" + // line 8: bare quote
		"3201011203850007,BUDI,1,Y,,,N,N,\n" + // fine
		"3201015203850002,SITI,1,Y,,,N,N,\n" // line 10: duplicate of line 3
	var got []string
	opts := regOptions(t)
	opts.BadRow = func(e RowError) { got = append(got, fmt.Sprintf("%d %s", e.Line, bansosbot.ErrorKey(e.Err))) }
	_, err := db.ImportRegistry(context.Background(), strings.NewReader(csv), opts)
	if !errors.Is(err, ErrBadRows) {
		t.Fatalf("err = %v; want ErrBadRows", err)
	}
	want := []string{"5 nik.wrong_length", "6 registry.bad_desil", "7 registry.field_count", "8 registry.bad_csv", "10 registry.duplicate_nik"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bad rows = %q; want %q", got, want)
	}
	// Nothing changed: the previous snapshot answers, nothing else is stored.
	if _, r := lookup(t, db, "3201011203850007"); r != nil {
		t.Error("a row of the failed import is visible")
	}
	if _, r := lookup(t, db, "3201011203850001"); r == nil {
		t.Error("the previous snapshot stopped answering")
	}
	if b := registryFiles(t, db); !reflect.DeepEqual(b, []string{RegistryFileName}) {
		t.Errorf("registry files = %v; want only the current one", b)
	}

	// MaxErrors stops early.
	got = nil
	opts.MaxErrors = 2
	if _, err := db.ImportRegistry(context.Background(), strings.NewReader(csv), opts); !errors.Is(err, ErrBadRows) || len(got) != 2 {
		t.Errorf("with MaxErrors 2: %v, %q", err, got)
	}

	// Header errors.
	for _, bad := range []string{"", "nik,name\n", "nik,name,desil,PKH,FOO\n", "nik,name,desil,PKH\n"} {
		if _, err := db.ImportRegistry(context.Background(), strings.NewReader(bad), regOptions(t)); bansosbot.ErrorCode(err) != bansosbot.EInvalid {
			t.Errorf("header %q: err = %v; want an EInvalid", bad, err)
		}
	}
}

// failingReader fails after n bytes.
type failingReader struct {
	r io.Reader
	n int
}

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDisk
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestImportFailureKeepsPrevious: after a read error in the middle of the
// file, lookups keep answering from the previous snapshot.
func TestImportFailureKeepsPrevious(t *testing.T) {
	db := openTicketDB(t)
	old := mustImport(t, db, smallRegistry, regOptions(t))
	csv, samples := genRegistry(t, 5000, 1)

	_, err := db.ImportRegistry(context.Background(), &failingReader{strings.NewReader(csv), len(csv) / 2}, regOptions(t))
	if !errors.Is(err, errDisk) {
		t.Errorf("read failure: err = %v; want errDisk", err)
	}

	for _, nik := range []bansosbot.NIK{samples[0].NIK, samples[1].NIK} {
		if _, r := lookup(t, db, nik); r != nil {
			t.Errorf("a record of a failed import is visible")
		}
	}
	s, r := lookup(t, db, "3201011203850001")
	if r == nil || s.ID != old.Snapshot.ID {
		t.Errorf("after failed imports: snapshot %+v, record %v; want the previous one", s, r)
	}
	if b := registryFiles(t, db); !reflect.DeepEqual(b, []string{RegistryFileName}) {
		t.Errorf("registry files = %v; want only the current one", b)
	}
}

// TestImportCancelDuringWrite: three transactions of the new snapshot are
// committed when the cancel lands; they are removed and the previous
// snapshot keeps answering.
func TestImportCancelDuringWrite(t *testing.T) {
	db := openTicketDB(t)
	old := mustImport(t, db, smallRegistry, regOptions(t))
	csv, samples := genRegistry(t, 20000, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := regOptions(t)
	opts.TxRows = 100 // many transactions: the cancel lands between two
	txs := 0
	opts.afterTx = func() {
		if txs++; txs == 3 {
			cancel()
		}
	}
	_, err := db.ImportRegistry(ctx, strings.NewReader(csv), opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if _, r := lookup(t, db, samples[0].NIK); r != nil {
		t.Error("a record of the cancelled import is visible")
	}
	if s, r := lookup(t, db, "3201011203850001"); r == nil || s.ID != old.Snapshot.ID {
		t.Errorf("after the cancel: snapshot %+v; want the previous one", s)
	}
	if b := registryFiles(t, db); !reflect.DeepEqual(b, []string{RegistryFileName}) {
		t.Errorf("registry files = %v; want only the current one", b)
	}
	if txs != 3 {
		t.Errorf("%d write transactions; want the cancel after the third", txs)
	}
}

// TestImportTwiceChangesNothing: importing the same file again gives the
// same lookups, in a new snapshot that replaces the old one.
func TestImportTwiceChangesNothing(t *testing.T) {
	db := openTicketDB(t)
	csv, _ := genRegistry(t, 1000, 3)
	first := mustImport(t, db, csv, regOptions(t))
	before := allRecords(t, db, csv)
	second := mustImport(t, db, csv, regOptions(t))
	after := allRecords(t, db, csv)
	if second.Replaced != first.Snapshot.ID || second.Snapshot.ID == first.Snapshot.ID {
		t.Errorf("second import: id %d replaced %d; first id %d", second.Snapshot.ID, second.Replaced, first.Snapshot.ID)
	}
	if !reflect.DeepEqual(before, after) {
		t.Error("lookups differ after importing the same file again")
	}
	if !reflect.DeepEqual(first.Snapshot.Stats, second.Snapshot.Stats) {
		t.Errorf("stats differ: %+v vs %+v", first.Snapshot.Stats, second.Snapshot.Stats)
	}
	for nik, r := range before {
		if r == nil {
			t.Fatalf("NIK %s of the file not found", nik[:4])
		}
	}
	if b := registryFiles(t, db); !reflect.DeepEqual(b, []string{RegistryFileName, RegistryPrevFileName}) {
		t.Errorf("registry files = %v; want the current and the previous one", b)
	}
}

// TestImportSpilledRuns: with a tiny run size the records go through many
// sorted files and a merge; the result is the same as sorting in memory,
// duplicates across runs are found, and the temporary files are removed.
func TestImportSpilledRuns(t *testing.T) {
	csv, _ := genRegistry(t, 2000, 4)
	one := openTicketDB(t)
	mustImport(t, one, csv, regOptions(t))
	many := openTicketDB(t)
	opts := regOptions(t)
	opts.RunBytes = 8 << 10
	opts.TxRows = 333
	res := mustImport(t, many, csv, opts)
	if res.Runs < 10 {
		t.Errorf("runs = %d; want many", res.Runs)
	}
	if !reflect.DeepEqual(allRecords(t, one, csv), allRecords(t, many, csv)) {
		t.Error("a spilled import differs from an in-memory one")
	}
	if left, _ := os.ReadDir(opts.TempDir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// The first data row again at the end: its twin is in another run.
	lines := strings.SplitN(csv, "\n", 3)
	var dup []int
	opts.BadRow = func(e RowError) { dup = append(dup, e.Line) }
	_, err := many.ImportRegistry(context.Background(), strings.NewReader(csv+lines[1]+"\n"), opts)
	if !errors.Is(err, ErrBadRows) || !reflect.DeepEqual(dup, []int{2002}) {
		t.Errorf("duplicate across runs: %v, lines %v; want line 2002", err, dup)
	}
	if left, _ := os.ReadDir(opts.TempDir); len(left) != 0 {
		t.Errorf("temporary files left after a failure: %v", left)
	}
}

// TestRegistryFileHoldsNoPersonalData scans the store file after an import
// (with spilled runs) and lookups for every NIK and name of the file.
func TestRegistryFileHoldsNoPersonalData(t *testing.T) {
	db := openTicketDB(t)
	csv, samples := genRegistry(t, 3000, 5)
	opts := regOptions(t)
	opts.RunBytes = 32 << 10
	mustImport(t, db, csv, opts)
	for _, s := range samples {
		lookup(t, db, s.NIK)
	}
	raw, err := os.ReadFile(db.RegistryPath())
	if err != nil {
		t.Fatal(err)
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
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("the store file holds %q", s)
			}
		}
	}
	if n < 3000 || !bytes.Contains(raw, []byte(bansosbot.MaskName(samples[0].Name))) {
		t.Errorf("the scan looked for %d strings and did not find the masked name: it is blind", n)
	}
}

func TestImportOneAtATime(t *testing.T) {
	db := openTicketDB(t)
	pr, pw := io.Pipe()
	done := make(chan error)
	go func() {
		_, err := db.ImportRegistry(context.Background(), pr, regOptions(t))
		done <- err
	}()
	pw.Write([]byte(smallRegistry[:100])) // the first import is now reading
	time.Sleep(50 * time.Millisecond)
	if _, err := db.ImportRegistry(context.Background(), strings.NewReader(smallRegistry), regOptions(t)); err == nil || !strings.Contains(err.Error(), "another import") {
		t.Errorf("second concurrent import: err = %v; want refused", err)
	}
	pw.Write([]byte(smallRegistry[100:]))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRecordEncoding(t *testing.T) {
	programs := bansosbot.DefaultPrograms()[:3]
	rec := &bansosbot.Record{Name: bansosbot.NameHash{1, 2, 3}, Masked: "W***N L*****I", Province: "96", Desil: 10,
		Programs: []bansosbot.ProgramStatus{
			{Code: "PKH", Receives: true, Period: "Tahap 4", Remark: "Dana sudah tersalurkan"},
			{Code: "SEMBAKO"},
			{Code: "PBI-JK", Receives: true, Period: "2026", Remark: strings.Repeat("é", 60)},
		}}
	for _, full := range []bool{false, true} {
		var d dict
		if full { // a full dictionary: texts go inline
			for i := range maxDictTexts {
				d.appendText(nil, fmt.Sprint("t", i))
			}
		}
		v := appendRecord(nil, rec, &d)
		got, err := decodeRecord(v, programs, func(id uint32) (string, error) {
			if int(id) >= len(d.strs) {
				return "", errors.New("no such text")
			}
			return d.strs[id], nil
		})
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("full=%v: round trip = %+v, %v; want %+v", full, got, err, rec)
		}
		if full && len(v) < 150 || !full && len(v) > 40 {
			t.Errorf("full=%v: %d bytes", full, len(v))
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	var d dict
	f.Add(appendRecord(nil, &bansosbot.Record{Masked: "A*", Province: "32", Desil: 3,
		Programs: []bansosbot.ProgramStatus{{Code: "PKH", Receives: true, Period: "x"}, {Code: "SEMBAKO", Remark: "y"}}}, &d))
	f.Add([]byte{1})
	programs := bansosbot.DefaultPrograms()[:2]
	f.Fuzz(func(t *testing.T, v []byte) {
		_, _ = decodeRecord(v, programs, func(uint32) (string, error) { return "t", nil })
	})
}

func TestPeekAgreesWithAllow(t *testing.T) {
	db := openTicketDB(t)
	db.Update(func(tx *Tx) error {
		for i := range 5 {
			now := t0.Add(time.Duration(i) * 10 * time.Minute)
			pok, pwait, _ := tx.Peek("x", 3, time.Hour, now)
			aok, await, _ := tx.Allow("x", 3, time.Hour, now)
			if pok != aok || pwait != await {
				t.Errorf("hit %d: Peek = %v %v; Allow = %v %v", i, pok, pwait, aok, await)
			}
		}
		return nil
	})
}
