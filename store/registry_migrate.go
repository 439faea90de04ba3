package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bansosbot/bansosbot/store/backend"
	bolt "go.etcd.io/bbolt"
)

// Until schema version 5 the registry was the bucket "registry" of the
// main file:
//
//	current        -> u64 id of the snapshot that answers lookups
//	s<u64 id>      -> bucket of one snapshot: meta (snapshotMeta JSON),
//	                  stats (JSON), r (records), d (texts)
//
// Open moves the current snapshot into registry.db, deletes the bucket and
// compacts the main file (its free pages would otherwise be written with
// every commit's free list, and the file would keep the registry's size).
var bucketRegistry = []byte("registry")

var (
	keyOldCurrent = []byte("current")
	keyOldMeta    = []byte("meta")
	keyOldStats   = []byte("stats")
)

func oldSnapshotKey(id uint64) []byte { return append([]byte("s"), u64(id)...) }

// moveRegistryOut moves a version-4 registry out of the main file; a file
// without one is left alone. Each step can be repeated after a crash: the
// export is skipped when registry.db exists, the bucket is deleted only
// after the export is in place.
func (db *DB) moveRegistryOut(reg *fileRegistry, opts Options) error {
	var has bool
	if err := db.bolt.View(func(tx *bolt.Tx) error { has = tx.Bucket(bucketRegistry) != nil; return nil }); err != nil {
		return err
	}
	if !has {
		return nil
	}
	if _, err := os.Stat(reg.path()); errors.Is(err, os.ErrNotExist) {
		if err := db.exportOldRegistry(reg); err != nil {
			return fmt.Errorf("store: move the registry to %s: %w", reg.path(), err)
		}
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketRegistry) })
	if err != nil {
		return fmt.Errorf("store: move the registry out of the main file: %w", err)
	}
	return db.compact(opts) // once
}

// exportOldRegistry copies the current snapshot of the old bucket into a
// new registry file and installs it.
func (db *DB) exportOldRegistry(reg *fileRegistry) error {
	out, name, err := reg.newFile()
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			out.Close()
			os.Remove(name)
		}
	}()
	found := false
	err = db.bolt.View(func(tx *bolt.Tx) error {
		reg := tx.Bucket(bucketRegistry)
		cur := reg.Get(keyOldCurrent)
		if len(cur) != 8 {
			return nil
		}
		snap := reg.Bucket(oldSnapshotKey(binary.BigEndian.Uint64(cur)))
		if snap == nil {
			return nil
		}
		var m snapshotMeta
		if err := json.Unmarshal(snap.Get(keyOldMeta), &m); err != nil {
			return fmt.Errorf("decode snapshot: %w", err)
		}
		s := m.snapshot()
		if err := json.Unmarshal(snap.Get(keyOldStats), &s.Stats); err != nil {
			return fmt.Errorf("decode stats: %w", err)
		}
		found = true
		if err := copyBucket(out, snap.Bucket(keyRegRecords), keyRegRecords); err != nil {
			return err
		}
		if err := copyBucket(out, snap.Bucket(keyRegDict), keyRegDict); err != nil {
			return err
		}
		// The key is unknown here: the fingerprint stays empty.
		return out.Update(func(otx *bolt.Tx) error { return putSnapshotMeta(otx, s, "") })
	})
	if err != nil || !found {
		return err
	}
	done = true
	if err := finishRegistryFile(out, name, reg.noSync); err != nil {
		return err
	}
	_, err = reg.install(name, false)
	return err
}

// copyBucket appends every key of src (in key order) to the bucket name
// of out, in transactions of bounded size.
func copyBucket(out *bolt.DB, src *bolt.Bucket, name []byte) error {
	if src == nil {
		return nil
	}
	c := src.Cursor()
	k, v := c.First()
	for k != nil {
		err := out.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(name)
			b.FillPercent = 1
			for n := 0; k != nil && n < 100_000; n++ {
				if err := b.Put(k, v); err != nil {
					return err
				}
				k, v = c.Next()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// compact rewrites the main file without its free pages (bbolt never
// shrinks a file) and reopens it.
func (db *DB) compact(opts Options) error {
	f, err := os.CreateTemp(filepath.Dir(db.path), tmpCompact+"*")
	if err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name) // after the rename: a no-op
	dst, err := bolt.Open(name, 0o600, &bolt.Options{NoSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	if err := bolt.Compact(dst, db.bolt, 64<<20); err != nil {
		dst.Close()
		return fmt.Errorf("store: compact: %w", err)
	}
	if err := finishRegistryFile(dst, name, opts.NoSync); err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	if err := os.Rename(name, db.path); err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	if err := syncDir(filepath.Dir(db.path)); err != nil {
		return err
	}
	db.bolt.Close()
	b, err := openBolt(db.path, opts)
	if err != nil {
		return err
	}
	db.bolt = b
	db.setBackend(newBoltBackend(b))
	return nil
}

// registryMovedOut is migration 5: the bucket is gone (moveRegistryOut
// ran before the migrations; a new file created it in migration 4).
func registryMovedOut(tx backend.Tx) error {
	if tx.Bucket(bucketRegistry) != nil {
		return tx.DeleteBucket(bucketRegistry)
	}
	return nil
}
