package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/synthetic"
	bolt "go.etcd.io/bbolt"
)

// Registry benchmarks (see BENCHMARKS.md). The sizes come from
// -registry.rows; generated files and the store used for lookups are
// cached in $TMPDIR/bansosbot-bench, so a 10M-row run generates and imports
// once:
//
//	go test ./store -run XXX -bench Registry -benchtime 1x -registry.rows 1000000,10000000
//
// The import on PostgreSQL (COPY into a snapshot table; a schema of its
// own on the server of BANSOSBOT_TEST_POSTGRES):
//
//	go test ./store -run XXX -bench RegistryImport -benchtime 1x -registry.rows 10000000 -registry.backend postgres
var (
	benchRows     = flag.String("registry.rows", "100000", "comma-separated registry sizes for the registry benchmarks")
	benchRunBytes = flag.Int("registry.runbytes", 0, "ImportOptions.RunBytes for BenchmarkRegistryImport (0: the default)")
	benchTxRows   = flag.Int("registry.txrows", 0, "ImportOptions.TxRows for BenchmarkRegistryImport (0: the default); also the bbolt comparison's batch")
	benchBackend  = flag.String("registry.backend", "bolt", "BenchmarkRegistryImport's store: bolt, or postgres (COPY into the database named by BANSOSBOT_TEST_POSTGRES)")
)

// benchImportStore opens an empty store for an import: a bbolt file in
// dir, or a PostgreSQL schema of its own (dropped at the end) whose size
// reports the snapshot table's size with its index.
func benchImportStore(b *testing.B, dir string) (db *DB, size func() int64) {
	switch *benchBackend {
	case "bolt":
		db, err := Open(filepath.Join(dir, "import.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		return db, func() int64 {
			fi, _ := os.Stat(filepath.Join(dir, RegistryFileName))
			return fi.Size()
		}
	case "postgres":
		dsn := os.Getenv("BANSOSBOT_TEST_POSTGRES")
		if dsn == "" {
			b.Fatal("-registry.backend postgres needs BANSOSBOT_TEST_POSTGRES")
		}
		ctx := context.Background()
		schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
		pg, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			pg.Pool().Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			pg.Close()
		})
		db, err := OpenBackend(pg, "bench", dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		return db, func() int64 {
			var n int64
			err := pg.Pool().QueryRow(ctx, `SELECT pg_total_relation_size(format('registry_s%s', current)::regclass)
				FROM registry_current`).Scan(&n)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("bad -registry.backend %q: bolt or postgres", *benchBackend)
	return nil, nil
}

func benchSizes(b *testing.B) []int {
	var out []int
	for _, s := range strings.Split(*benchRows, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			b.Fatalf("bad -registry.rows %q", *benchRows)
		}
		out = append(out, n)
	}
	return out
}

func benchDir(b *testing.B) string {
	dir := filepath.Join(os.TempDir(), "bansosbot-bench")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchCSV returns the path of a synthetic registry of n rows (seed 1).
func benchCSV(b *testing.B, n int) string {
	path := filepath.Join(benchDir(b), fmt.Sprintf("registry-%d.csv", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".gen-*")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := synthetic.Registry(f, n, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		b.Fatal(err)
	}
	return path
}

// heapPeak samples the heap every few milliseconds until stop is called:
// the peak of the heap's objects (live and not yet collected) and of the
// live heap measured by the last GC.
func heapPeak() (stop func() (heap, live uint64)) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	var peak, peakLive uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			peakLive = max(peakLive, sample[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) { close(done); wg.Wait(); return peak, peakLive }
}

// BenchmarkRegistryImport imports a generated file into a new store (with
// fsync, as the command does) and, in the same run, writes as many
// sequential keys of the same sizes with bbolt alone, the way
// `bbolt bench -write-mode seq` does, in transactions of the same size
// (-registry.txrows, default 100,000 like the import).
func BenchmarkRegistryImport(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			csvPath := benchCSV(b, n)
			var rate, seqRate, fileMB, peakMB, liveMB, allocsRow, bytesRow float64
			for range b.N {
				dir := b.TempDir()
				db, size := benchImportStore(b, dir)
				f, err := os.Open(csvPath)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				stop := heapPeak()
				start := time.Now()
				res, err := db.ImportRegistry(context.Background(), f, ImportOptions{Key: regKey, AsOf: regAsOf, TempDir: dir, RunBytes: *benchRunBytes, TxRows: *benchTxRows})
				took := time.Since(start)
				peak, live := stop()
				runtime.ReadMemStats(&ms1)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				rate = float64(n) / took.Seconds()
				peakMB, liveMB = float64(peak)/1e6, float64(live)/1e6
				allocsRow = float64(ms1.Mallocs-ms0.Mallocs) / float64(n)
				bytesRow = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(n)
				fileMB = float64(size()) / 1e6
				if *benchBackend != "bolt" {
					db.Close()
					b.Logf("%d rows: import %s (read %s, write %s, %d runs), %.1f MB table with its index",
						n, took.Round(time.Millisecond), res.Read.Round(time.Millisecond), res.Write.Round(time.Millisecond), res.Runs, fileMB)
					continue
				}
				valSize := avgValueSize(b, db)
				db.Close()
				b.Logf("%d rows: import %s (read %s, write %s, %d runs), %.1f MB file, mean value %d bytes",
					n, took.Round(time.Millisecond), res.Read.Round(time.Millisecond), res.Write.Round(time.Millisecond), res.Runs, fileMB, valSize)

				batch := cmp.Or(*benchTxRows, 100_000) // the import's default
				seq := boltSeqWrite(b, filepath.Join(dir, "seq.db"), n, 32, valSize, batch, 1)
				seqRate = float64(n) / seq.Seconds()
				b.Logf("bbolt sequential write of %d keys (32 B keys, %d B values, %d per tx, fill 100%%): %s",
					n, valSize, batch, seq.Round(time.Millisecond))
			}
			b.ReportMetric(rate, "rows/s")
			if seqRate > 0 {
				b.ReportMetric(seqRate, "bolt-seq-rows/s")
				b.ReportMetric(rate/seqRate, "import/seq")
			}
			b.ReportMetric(fileMB, "MB-file")
			b.ReportMetric(peakMB, "MB-peak-heap")
			b.ReportMetric(liveMB, "MB-peak-live")
			b.ReportMetric(allocsRow, "allocs/row")
			b.ReportMetric(bytesRow, "B-alloc/row")
		})
	}
}

// avgValueSize is the mean record size of the current snapshot.
func avgValueSize(b *testing.B, db *DB) int {
	var total, n int
	db.reg.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(keyRegRecords).ForEach(func(_, v []byte) error {
			total += len(v)
			n++
			return nil
		})
	})
	if n == 0 {
		b.Fatal("empty snapshot")
	}
	return (total + n/2) / n
}

// boltSeqWrite is `bbolt bench -write-mode seq`: n keys of keySize bytes
// with a big-endian counter at the front, zero values of valSize bytes,
// batch keys per transaction, on a store opened like ours.
func boltSeqWrite(b *testing.B, path string, n, keySize, valSize, batch int, fill float64) time.Duration {
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	for i := 0; i < n; i += batch {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("bench"))
			if err != nil {
				return err
			}
			bk.FillPercent = fill
			for j := i; j < min(i+batch, n); j++ {
				key := make([]byte, keySize)
				binary.BigEndian.PutUint32(key, uint32(j))
				if err := bk.Put(key, make([]byte, valSize)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkRegistryLookup measures one status-check lookup (a read
// transaction, the NIK hash, the record, its texts) on a store holding the
// generated registry: 90% registered NIKs, 10% unknown ones, in random
// order. It reports the 50th and 99th percentile of the latency.
func BenchmarkRegistryLookup(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			db, niks := benchLookupDB(b, n)
			defer db.Close()
			r := rand.New(rand.NewPCG(1, 2))
			lat := make([]time.Duration, 0, b.N)
			var hashes []bansosbot.NIKHash
			for _, nik := range niks {
				hashes = append(hashes, bansosbot.HashNIK(regKey, nik))
			}
			found := 0
			b.ResetTimer()
			for range b.N {
				h := hashes[r.IntN(len(hashes))]
				if r.IntN(10) == 0 {
					h[0] ^= 0xff // unknown
				}
				start := time.Now()
				err := db.View(func(tx *Tx) error {
					_, rec, err := tx.RegistryLookup(h)
					if rec != nil {
						found++
					}
					return err
				})
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			if found == 0 {
				b.Fatal("no lookup found its NIK")
			}
		})
	}
}

// benchLookupDB opens (importing once, then cached) a store holding the
// registry of n rows, and returns NIKs of the file to look up.
func benchLookupDB(b *testing.B, n int) (*DB, []bansosbot.NIK) {
	csvPath := benchCSV(b, n)
	// A directory per size: the registry is a file beside the store's.
	dir := filepath.Join(benchDir(b), fmt.Sprintf("lookup-%d", n))
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(dir); err != nil {
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		db, err := Open(filepath.Join(tmp, FileName), Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		f, _ := os.Open(csvPath)
		_, err = db.ImportRegistry(context.Background(), f, ImportOptions{Key: regKey, AsOf: regAsOf})
		f.Close()
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			b.Fatal(err)
		}
	}
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Every k-th NIK of the file, about 10,000 of them.
	raw, err := os.Open(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	var niks []bansosbot.NIK
	k := max(n/10_000, 1)
	buf := make([]byte, 1<<20)
	line, rest := 0, []byte(nil)
	for {
		m, err := raw.Read(buf)
		rest = append(rest, buf[:m]...)
		for {
			i := slices.Index(rest, '\n')
			if i < 0 {
				break
			}
			if line > 0 && line%k == 0 {
				niks = append(niks, bansosbot.NIK(rest[:16]))
			}
			line++
			rest = rest[i+1:]
		}
		if err != nil {
			break
		}
	}
	return db, niks
}

// BenchmarkRecordEncoding compares the binary record format with JSON:
// size and the time to encode and decode one record.
func BenchmarkRecordEncoding(b *testing.B) {
	rec := &bansosbot.Record{Name: bansosbot.NameHash{1, 2, 3}, Masked: "W***N L*****I", Province: "32", Desil: 2,
		Programs: []bansosbot.ProgramStatus{
			{Code: "PKH", Receives: true, Period: "Tahap 4 (Oktober-Desember 2026)", Remark: "Dana sudah tersalurkan"},
			{Code: "SEMBAKO", Receives: true, Period: "Tahap 4 (Oktober-Desember 2026)", Remark: "Proses penyaluran melalui Bank Himbara"},
			{Code: "PBI-JK", Receives: true, Period: "2026", Remark: "Aktif"},
			{Code: "ATENSI"},
		}}
	programs := bansosbot.DefaultPrograms()
	b.Run("binary", func(b *testing.B) {
		var d dict
		var v []byte
		b.ReportAllocs()
		for range b.N {
			v = appendRecord(v[:0], rec, &d)
			if _, err := decodeRecord(v, programs, func(id uint32) (string, error) { return d.strs[id], nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(v)), "bytes/record")
	})
	// The JSON a record would take with short keys (the NIK hash is the
	// bucket key, not in the value).
	type jsonStatus struct {
		Code     string `json:"c"`
		Receives bool   `json:"r,omitempty"`
		Period   string `json:"p,omitempty"`
		Remark   string `json:"k,omitempty"`
	}
	type jsonRecord struct {
		Name     []byte       `json:"n"`
		Masked   string       `json:"m"`
		Province string       `json:"v"`
		Desil    int          `json:"d,omitempty"`
		Programs []jsonStatus `json:"s"`
	}
	b.Run("json", func(b *testing.B) {
		var v []byte
		b.ReportAllocs()
		for range b.N {
			jr := jsonRecord{Name: rec.Name[:], Masked: rec.Masked, Province: string(rec.Province), Desil: rec.Desil}
			for _, p := range rec.Programs {
				jr.Programs = append(jr.Programs, jsonStatus(p))
			}
			var err error
			if v, err = json.Marshal(jr); err != nil {
				b.Fatal(err)
			}
			var back jsonRecord
			if err := json.Unmarshal(v, &back); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(v)), "bytes/record")
	})
}
