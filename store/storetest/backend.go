package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bansosbot/bansosbot/store/backend"
)

// RunBackend checks a store/backend implementation against the semantics
// the store relies on (those of bbolt): byte-ordered keys, nil for a
// missing key and a non-nil empty slice for an empty value, cursors in both
// directions across many keys, reads of other buckets during a walk,
// sequences, bucket creation and deletion, rollback, read-only views.
// open returns an empty backend, closed by the test's cleanup.
func RunBackend(t *testing.T, open func(t *testing.T) backend.Backend) {
	b := open(t)
	name, other := []byte("b"), []byte("other")
	rng := rand.New(rand.NewPCG(1, 2))
	var keys [][]byte
	for i := 0; i < 300; i++ {
		k := fmt.Appendf(nil, "%0*d", 1+rng.IntN(4), rng.IntN(10000))
		if !slices.ContainsFunc(keys, func(x []byte) bool { return bytes.Equal(x, k) }) {
			keys = append(keys, k)
		}
	}
	keys = append(keys, []byte{0}, []byte{0xff, 0xff}, []byte("\x00\x01"))
	err := b.Update(func(tx backend.Tx) error {
		if tx.Bucket(name) != nil {
			return errors.New("a bucket exists in a new backend")
		}
		bk, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("second create: %w", err)
		}
		ob, err := tx.CreateBucketIfNotExists(other)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := bk.Put(k, append([]byte("v"), k...)); err != nil {
				return err
			}
		}
		if err := ob.Put([]byte("empty"), nil); err != nil {
			return err
		}
		return ob.Put([]byte("x"), []byte("y"))
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(keys, bytes.Compare)
	rev := slices.Clone(keys)
	slices.Reverse(rev)

	walk := func(c backend.Cursor, first func() ([]byte, []byte), next func() ([]byte, []byte)) [][]byte {
		var out [][]byte
		for k, v := first(); k != nil; k, v = next() {
			if !bytes.Equal(v, append([]byte("v"), k...)) {
				t.Errorf("key %q has value %q", k, v)
			}
			out = append(out, slices.Clone(k))
		}
		_ = c
		return out
	}
	b.View(func(tx backend.Tx) error {
		if tx.Writable() {
			t.Error("View is writable")
		}
		bk, ob := tx.Bucket(name), tx.Bucket(other)
		if bk == nil || ob == nil {
			t.Fatal("buckets missing after commit")
		}
		if v := ob.Get([]byte("empty")); v == nil || len(v) != 0 {
			t.Errorf("empty value = %#v; want a non-nil empty slice", v)
		}
		if v := ob.Get([]byte("missing")); v != nil {
			t.Errorf("missing key = %#v; want nil", v)
		}
		if n := bk.KeyN(); n != len(keys) {
			t.Errorf("KeyN = %d; want %d", n, len(keys))
		}
		c := bk.Cursor()
		if got := walk(c, c.First, c.Next); !slices.EqualFunc(got, keys, bytes.Equal) {
			t.Errorf("First/Next walk: %d keys, want %d in byte order", len(got), len(keys))
		}
		c = bk.Cursor()
		if got := walk(c, c.Last, c.Prev); !slices.EqualFunc(got, rev, bytes.Equal) {
			t.Errorf("Last/Prev walk: %d keys, want %d in reverse order", len(got), len(keys))
		}
		// Seek lands on the key or the next one; then both ways.
		mid := keys[len(keys)/2]
		c = bk.Cursor()
		if k, _ := c.Seek(mid); !bytes.Equal(k, mid) {
			t.Errorf("Seek(%q) = %q", mid, k)
		}
		if k, _ := c.Seek(append(slices.Clone(mid), 0)); !bytes.Equal(k, keys[len(keys)/2+1]) {
			t.Errorf("Seek(past %q) = %q; want %q", mid, k, keys[len(keys)/2+1])
		}
		if k, _ := c.Prev(); !bytes.Equal(k, mid) {
			t.Errorf("Prev after Seek = %q; want %q", k, mid)
		}
		for i := len(keys)/2 - 1; i >= len(keys)/2-40; i-- {
			if k, _ := c.Prev(); !bytes.Equal(k, keys[i]) {
				t.Fatalf("Prev walk at %d = %q; want %q", i, k, keys[i])
			}
		}
		for i := len(keys)/2 - 39; i < len(keys)/2+40; i++ {
			if k, _ := c.Next(); !bytes.Equal(k, keys[i]) {
				t.Fatalf("Next walk at %d = %q; want %q", i, k, keys[i])
			}
		}
		if k, _ := c.Seek([]byte{0xff, 0xff, 0xff}); k != nil {
			t.Errorf("Seek past the end = %q; want nil", k)
		}
		if k, _ := c.Seek(nil); !bytes.Equal(k, keys[0]) {
			t.Errorf("Seek(nil) = %q; want the first key", k)
		}
		if k, _ := c.Prev(); k != nil {
			t.Errorf("Prev before the first = %q; want nil", k)
		}
		// A walk that reads another bucket at every step.
		n := 0
		err := bk.ForEach(func(k, v []byte) error {
			if ob.Get([]byte("x")) == nil {
				return errors.New("read during the walk failed")
			}
			n++
			return nil
		})
		if err != nil || n != len(keys) {
			t.Errorf("ForEach with reads = %d keys, %v; want %d", n, err, len(keys))
		}
		if err := bk.Put([]byte("k"), []byte("v")); err == nil {
			t.Error("Put in View succeeded")
		}
		var names []string
		tx.ForEachBucket(func(n []byte) error { names = append(names, string(n)); return nil })
		if !slices.Equal(names, []string{"b", "other"}) {
			t.Errorf("ForEachBucket = %v", names)
		}
		return nil
	})

	// Sequences, deletes and rollback.
	boom := errors.New("boom")
	err = b.Update(func(tx backend.Tx) error {
		bk := tx.Bucket(name)
		for want := uint64(1); want <= 3; want++ {
			if s, err := bk.NextSequence(); s != want || err != nil {
				return fmt.Errorf("NextSequence = %d, %v; want %d", s, err, want)
			}
		}
		if err := bk.Delete(keys[0]); err != nil {
			return err
		}
		if err := bk.Delete([]byte("never there")); err != nil {
			return fmt.Errorf("deleting a missing key: %w", err)
		}
		if bk.Get(keys[0]) != nil {
			return errors.New("deleted key still read in its transaction")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx backend.Tx) error {
		tx.Bucket(name).NextSequence()
		tx.Bucket(name).Put([]byte("rolled back"), []byte("x"))
		tx.Bucket(other).Delete([]byte("x"))
		tx.CreateBucketIfNotExists([]byte("gone"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v; want the function's error", err)
	}
	err = b.Update(func(tx backend.Tx) error {
		bk := tx.Bucket(name)
		if s := bk.Sequence(); s != 3 {
			return fmt.Errorf("Sequence after a rollback = %d; want 3", s)
		}
		if bk.Get([]byte("rolled back")) != nil || tx.Bucket(other).Get([]byte("x")) == nil || tx.Bucket([]byte("gone")) != nil {
			return errors.New("a rolled-back transaction left changes")
		}
		if k, _ := bk.Cursor().First(); !bytes.Equal(k, keys[1]) {
			return fmt.Errorf("first key after deleting the first = %q", k)
		}
		if err := bk.SetSequence(100); err != nil {
			return err
		}
		if s, _ := bk.NextSequence(); s != 101 {
			return fmt.Errorf("NextSequence after SetSequence(100) = %d", s)
		}
		return tx.DeleteBucket(other)
	})
	if err != nil {
		t.Fatal(err)
	}
	b.View(func(tx backend.Tx) error {
		if tx.Bucket(other) != nil {
			t.Error("deleted bucket still there")
		}
		if n := tx.Bucket(name).KeyN(); n != len(keys)-1 {
			t.Errorf("KeyN after one delete = %d; want %d", n, len(keys)-1)
		}
		return nil
	})
	// A recreated bucket starts empty.
	b.Update(func(tx backend.Tx) error {
		ob, err := tx.CreateBucketIfNotExists(other)
		if err != nil {
			return err
		}
		if k, _ := ob.Cursor().First(); k != nil || ob.Sequence() != 0 {
			t.Errorf("recreated bucket holds %q, sequence %d", k, ob.Sequence())
		}
		return nil
	})
}
