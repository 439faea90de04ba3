//go:build linux

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// Opening must not read the file (issue 13): with NoFreelistSync every
// read-write open walked every page of the main file to rebuild the free
// list, so the start took time and memory (file pages in RSS) in
// proportion to the data. The test counts the file's pages that an open
// brings into the page cache (mincore after dropping them with
// fadvise(DONTNEED)): a counter, not a clock.

// cachedPages returns how many pages of the file at path are in the page
// cache, and how many it has.
func cachedPages(t *testing.T, path string) (cached, total int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	size := int(fi.Size())
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(data)
	ps := os.Getpagesize()
	vec := make([]byte, (size+ps-1)/ps)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(size), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Skipf("mincore: %v", e)
	}
	for _, v := range vec {
		cached += int(v & 1)
	}
	return cached, len(vec)
}

// dropCache evicts the file's pages from the page cache; the test is
// skipped where that does not work (tmpfs).
func dropCache(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Sync()
	const fadvDontNeed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		t.Skipf("fadvise: %v", e)
	}
	if c, n := cachedPages(t, path); c > n/20 {
		t.Skipf("the page cache keeps %d of %d pages of the file after fadvise(DONTNEED) (tmpfs?): cannot count", c, n)
	}
}

// fillAndFree writes n live rows of size bytes and as many rows that are
// then deleted: half the file is live data, the other half a long free
// list. What counts is the number of pages, not of rows: 30,000 rows of
// 500 bytes make the same file (24,391 pages, 10,147 free) as 150,000 of
// 100 bytes did with a fifth of the writes, which under -race were most
// of the test's CPU time.
func fillAndFree(t *testing.T, b *bolt.DB, n, size int) {
	t.Helper()
	val := make([]byte, size)
	for _, name := range []string{"live", "gone"} {
		for i := 0; i < n; i += 50_000 {
			err := b.Update(func(tx *bolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists([]byte(name))
				if err != nil {
					return err
				}
				for j := i; j < min(i+50_000, n); j++ {
					if err := bk.Put(fmt.Appendf(nil, "%s%09d", name, j), val); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("gone")) }); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDoesNotReadTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 40 MB")
	}
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	fillAndFree(t, db.bolt, 30_000, 500)
	db.Close()

	dropCache(t, path)
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	free := db.bolt.Stats().FreePageN
	cached, total := cachedPages(t, path)
	db.Close()
	t.Logf("open read %d of %d pages (%d free)", cached, total, free)
	if free < total/3 {
		t.Fatalf("only %d of %d pages free: the test does not make a large free list", free, total)
	}
	if cached > total/20 {
		t.Errorf("opening the store read %d of its %d pages; want a few (the free list is persisted)", cached, total)
	}

	// The counter sees the walk that NoFreelistSync makes (what Open
	// did until issue 13): the test can fail.
	raw, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("live")).Put([]byte("x"), []byte("y")) })
	raw.Close()
	dropCache(t, path)
	raw, err = bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	walked, total := cachedPages(t, path)
	raw.Close()
	t.Logf("an open with NoFreelistSync read %d of %d pages", walked, total)
	if walked < total/3 {
		t.Errorf("an open with NoFreelistSync read only %d of %d pages: the counter is blind", walked, total)
	}

	// And Open persists the free list of such a file: the next open is cheap again.
	if db, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dropCache(t, path)
	if db, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	cached, total = cachedPages(t, path)
	db.Close()
	if cached > total/20 {
		t.Errorf("after the free list was written once, open read %d of %d pages", cached, total)
	}
}
