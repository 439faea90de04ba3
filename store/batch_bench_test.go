package store

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkBatchCommit compares, on a file with fsync, bbolt's own Batch
// (a timer of MaxBatchDelay: 10 ms by default, and 1 ms) with the store's
// group commit (batch.go), for 1 to 200 concurrent callers each writing
// one small record per call:
//
//	go test ./store -run '^$' -bench BatchCommit -benchtime 2s -count 3
//
// ns/op is per call; calls/commit is the mean batch size.
func BenchmarkBatchCommit(b *testing.B) {
	for _, callers := range []int{1, 8, 64, 200} {
		for _, v := range []struct {
			name  string
			delay time.Duration // 0: the group commit
		}{{"bbolt-10ms", 10 * time.Millisecond}, {"bbolt-1ms", time.Millisecond}, {"group", 0}} {
			b.Run(fmt.Sprintf("callers=%d/%s", callers, v.name), func(b *testing.B) {
				db, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), 0o600, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
					b.Fatal(err)
				}
				db.MaxBatchDelay = v.delay
				batch := db.Batch
				if v.delay == 0 {
					batch = newGroupCommit(db).Batch
				}
				var next atomic.Uint64
				start := txID(b, db)
				var wg sync.WaitGroup
				b.ResetTimer()
				for c := range callers {
					n := b.N / callers
					if c < b.N%callers {
						n++
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						var k [8]byte
						for range n {
							binary.BigEndian.PutUint64(k[:], next.Add(1))
							if err := batch(func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put(k[:], k[:]) }); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				if commits := txID(b, db) - start; commits > 0 {
					b.ReportMetric(float64(b.N)/float64(commits), "calls/commit")
				}
			})
		}
	}
}

// txID is the id of the last committed write transaction (one more per
// commit).
func txID(b *testing.B, db *bolt.DB) int {
	tx, err := db.Begin(false)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	return tx.ID()
}
