package store

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bansosbot/bansosbot/store/backend"
)

// Walk calls fn with every key and value of every bucket of the store
// (not the registry's file), bucket by bucket in name order, in one read
// transaction. Tests use it to look for data that must be gone whatever
// the backend; copies between backends read through it.
func (db *DB) Walk(fn func(bucket, k, v []byte) error) error {
	return db.kv.View(func(tx backend.Tx) error {
		return tx.ForEachBucket(func(name []byte) error {
			return tx.Bucket(name).ForEach(func(k, v []byte) error { return fn(name, k, v) })
		})
	})
}

// BucketCount is one bucket's entries and sequence, as copied and as
// found in the copy.
type BucketCount struct {
	Name           string
	Keys, CopyKeys int
	Seq, CopySeq   uint64
}

// copyChunk is how many pairs one transaction of CopyTo writes.
const copyChunk = 5000

// CopyTo copies every bucket of the store (not the registry's file) with
// its keys, values and sequence into dst, which must hold no bucket, in
// transactions of copyChunk pairs; then it verifies the copy: per bucket
// the number of keys and the sequence, and every 97th pair byte for byte.
// It returns the counts; an error when the copy differs. The store must not
// change meanwhile (the bot stopped).
func (db *DB) CopyTo(dst backend.Backend) ([]BucketCount, error) {
	err := dst.View(func(tx backend.Tx) error {
		return tx.ForEachBucket(func(name []byte) error {
			return fmt.Errorf("store: copy: the destination is not empty (it has bucket %q)", name)
		})
	})
	if err != nil {
		return nil, err
	}
	var counts []BucketCount
	err = db.kv.View(func(src backend.Tx) error {
		return src.ForEachBucket(func(name []byte) error {
			b := src.Bucket(name)
			bc := BucketCount{Name: string(name), Seq: b.Sequence()}
			var batch [][2][]byte
			flush := func() error {
				err := dst.Update(func(tx backend.Tx) error {
					out, err := tx.CreateBucketIfNotExists(name)
					if err != nil {
						return err
					}
					if err := out.SetSequence(bc.Seq); err != nil {
						return err
					}
					for _, kv := range batch {
						if err := out.Put(kv[0], kv[1]); err != nil {
							return err
						}
					}
					return nil
				})
				batch = batch[:0]
				return err
			}
			err := b.ForEach(func(k, v []byte) error {
				bc.Keys++
				batch = append(batch, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
				if len(batch) == copyChunk {
					return flush()
				}
				return nil
			})
			if err == nil {
				err = flush() // also creates an empty bucket
			}
			if err != nil {
				return fmt.Errorf("store: copy bucket %s: %w", name, err)
			}
			counts = append(counts, bc)
			return nil
		})
	})
	if err != nil {
		return counts, err
	}
	return counts, db.verifyCopy(dst, counts)
}

func (db *DB) verifyCopy(dst backend.Backend, counts []BucketCount) error {
	var bad []string
	err := db.kv.View(func(src backend.Tx) error {
		return dst.View(func(out backend.Tx) error {
			for i := range counts {
				bc := &counts[i]
				ob := out.Bucket([]byte(bc.Name))
				if ob == nil {
					bad = append(bad, bc.Name+": missing")
					continue
				}
				bc.CopyKeys, bc.CopySeq = ob.KeyN(), ob.Sequence()
				if bc.CopyKeys != bc.Keys || bc.CopySeq != bc.Seq {
					bad = append(bad, fmt.Sprintf("%s: %d keys (sequence %d) copied as %d (%d)", bc.Name, bc.Keys, bc.Seq, bc.CopyKeys, bc.CopySeq))
					continue
				}
				n := 0
				err := src.Bucket([]byte(bc.Name)).ForEach(func(k, v []byte) error {
					if n++; n%97 == 1 && !bytes.Equal(ob.Get(k), v) {
						bad = append(bad, fmt.Sprintf("%s: key %x differs", bc.Name, k))
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("store: the copy differs: %s", strings.Join(bad, "; "))
	}
	return nil
}
