package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
	bolt "go.etcd.io/bbolt"
)

// The eligibility registry lives in a bbolt file of its own beside the
// main one, DATA/registry.db, opened read-only:
//
//	meta   -> bucket: "snapshot" -> snapshotMeta JSON (date of the data,
//	          programs, source), "stats" -> bansosbot.RegistryStats JSON,
//	          "key" -> fingerprint of the NIK key (registryKeyFingerprint)
//	r      -> bucket: NIK hash (32 bytes) -> record (appendRecord)
//	d      -> bucket: u32 text id -> period or remark text
//
// An import builds a new file aside (".registry-new-*"), syncs it and
// renames it over registry.db: lookups never see a half-imported file, and
// a re-import does not grow the main file (in the main file, every import
// left a snapshot's worth of free pages, and the whole registry counted in
// the time and memory of every start). The previous file is kept as
// registry.prev.db for "registry rollback".
//
// Until version 5 the registry was a bucket "registry" of the main file;
// Open moves it out (registry_migrate.go).
const (
	RegistryFileName     = "registry.db"
	RegistryPrevFileName = "registry.prev.db"
)

var (
	keyRegMeta     = []byte("meta")
	keyRegSnapshot = []byte("snapshot")
	keyRegStats    = []byte("stats")
	keyRegKey      = []byte("key")
	keyRegRecords  = []byte("r")
	keyRegDict     = []byte("d")
)

// Prefixes of temporary files in the data directory (SweepTemporaries).
const (
	tmpRegistryNew  = ".registry-new-"
	tmpRegistrySwap = ".registry-swap-"
	tmpRegistryRun  = ".registry-run-"
	tmpBackup       = ".backup-"
	tmpCompact      = ".compact-"
)

// registry is the open registry file of a DB.
type registry struct {
	dir     string
	timeout time.Duration
	noSync  bool

	mu   sync.RWMutex // held for reading by lookups, for writing by a swap
	db   *bolt.DB     // nil: no registry imported
	meta *bansosbot.Snapshot
	key  string // key fingerprint of the current file ("" unknown)
}

func newRegistry(dir string, opts Options) *registry {
	return &registry{dir: dir, timeout: opts.LockTimeout, noSync: opts.NoSync}
}

func (r *registry) path() string     { return filepath.Join(r.dir, RegistryFileName) }
func (r *registry) prevPath() string { return filepath.Join(r.dir, RegistryPrevFileName) }

// open opens the current registry file, if there is one.
func (r *registry) open() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reopen()
}

// reopen (with mu held) opens registry.db as it is now and closes the
// file it replaces.
func (r *registry) reopen() error {
	b, meta, key, err := openRegistryFile(r.path(), r.timeout)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if r.db != nil {
		r.db.Close()
	}
	r.db, r.meta, r.key = b, meta, key
	return nil
}

// openRegistryFile opens a registry file read-only and reads its
// snapshot; os.ErrNotExist when there is none.
func openRegistryFile(path string, timeout time.Duration) (*bolt.DB, *bansosbot.Snapshot, string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, "", err
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return nil, nil, "", fmt.Errorf("store: open registry %s: %w", path, err)
	}
	var meta *bansosbot.Snapshot
	var key string
	err = b.View(func(tx *bolt.Tx) error {
		mb := tx.Bucket(keyRegMeta)
		if mb == nil || tx.Bucket(keyRegRecords) == nil || tx.Bucket(keyRegDict) == nil {
			return errors.New("not a registry file")
		}
		var m snapshotMeta
		if err := json.Unmarshal(mb.Get(keyRegSnapshot), &m); err != nil {
			return fmt.Errorf("decode snapshot: %w", err)
		}
		meta, key = m.snapshot(), string(mb.Get(keyRegKey))
		return nil
	})
	if err != nil {
		b.Close()
		return nil, nil, "", fmt.Errorf("store: registry %s: %w", path, err)
	}
	return b, meta, key, nil
}

func (r *registry) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.db == nil {
		return nil
	}
	err := r.db.Close()
	r.db, r.meta = nil, nil
	return err
}

// current returns a copy of the current snapshot without statistics.
func (r *registry) current() *bansosbot.Snapshot {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.meta == nil {
		return nil
	}
	s := *r.meta
	return &s
}

func (r *registry) lookup(h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.db == nil {
		return nil, nil, nil
	}
	s := *r.meta
	var rec *bansosbot.Record
	err := r.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(keyRegRecords).Get(h[:])
		if v == nil {
			return nil
		}
		dict := tx.Bucket(keyRegDict)
		var err error
		rec, err = decodeRecord(v, s.Programs, func(id uint32) (string, error) {
			t := dict.Get(u32(id))
			if t == nil {
				return "", fmt.Errorf("store: registry text %d missing", id)
			}
			return string(t), nil
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if rec != nil {
		rec.NIK = h
	}
	return &s, rec, nil
}

// install makes the finished registry file at built the current one by
// renaming it over registry.db. With keepPrev the file it replaces becomes
// registry.prev.db (a hard link first, so that a crash at any point leaves
// a current file); without, the previous file is removed (a rotation of
// the key: the old file is useless). old is the replaced snapshot.
func (r *registry) install(built string, keepPrev bool) (old *bansosbot.Snapshot, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, prev := r.path(), r.prevPath()
	if r.meta != nil {
		s := *r.meta
		old = &s
	}
	if err := os.Remove(prev); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: registry: %w", err)
	}
	if _, err := os.Stat(cur); err == nil && keepPrev {
		if err := os.Link(cur, prev); err != nil {
			// No hard links on this file system: two renames (a crash
			// between them leaves no current registry until an import).
			if err := os.Rename(cur, prev); err != nil {
				return nil, fmt.Errorf("store: registry: keep the previous file: %w", err)
			}
		}
	}
	if err := os.Rename(built, cur); err != nil {
		return nil, fmt.Errorf("store: registry: %w", err)
	}
	if err := syncDir(r.dir); err != nil {
		return nil, err
	}
	return old, r.reopen()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync %s: %w", dir, err)
	}
	return nil
}

// nextID is the id of a new snapshot: above the current and the previous
// one.
func (r *registry) nextID() uint64 {
	var id uint64
	if s := r.current(); s != nil {
		id = s.ID
	}
	if b, s, _, err := openRegistryFile(r.prevPath(), r.timeout); err == nil {
		id = max(id, s.ID)
		b.Close()
	}
	return id + 1
}

func readSnapshot(b *bolt.DB, meta *bansosbot.Snapshot) (*bansosbot.Snapshot, error) {
	if b == nil {
		return nil, nil
	}
	s := *meta
	err := b.View(func(tx *bolt.Tx) error {
		if err := json.Unmarshal(tx.Bucket(keyRegMeta).Get(keyRegStats), &s.Stats); err != nil {
			return fmt.Errorf("store: decode registry stats: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// snapshot returns the current snapshot with its statistics (nil: none).
func (r *registry) snapshot() (*bansosbot.Snapshot, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return readSnapshot(r.db, r.meta)
}

// previous returns the snapshot kept for a rollback, with its statistics
// (nil: none).
func (r *registry) previous() (*bansosbot.Snapshot, error) {
	b, meta, _, err := openRegistryFile(r.prevPath(), r.timeout)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return readSnapshot(b, meta)
}

// keyFingerprint is the key fingerprint of the current file ("": none, or
// a file from before fingerprints).
func (r *registry) keyFingerprint() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.key
}

// rollback swaps registry.db and registry.prev.db (through a temporary
// name: a crash in between leaves a current file).
func (r *registry) rollback() (from, to *bansosbot.Snapshot, err error) {
	pb, pmeta, pkey, err := openRegistryFile(r.prevPath(), r.timeout)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, ErrNoPrevious
	}
	if err != nil {
		return nil, nil, err
	}
	pb.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.key != "" && pkey != "" && r.key != pkey {
		return nil, nil, ErrOtherKey
	}
	if r.meta != nil {
		s := *r.meta
		from = &s
	}
	cur, prev := r.path(), r.prevPath()
	if from != nil {
		tmp := filepath.Join(r.dir, fmt.Sprintf("%s%d", tmpRegistrySwap, time.Now().UnixNano()))
		if err := os.Link(cur, tmp); err != nil {
			if err := os.Rename(cur, tmp); err != nil {
				return nil, nil, fmt.Errorf("store: registry rollback: %w", err)
			}
		}
		defer func() {
			if err == nil {
				err = os.Rename(tmp, prev)
			}
			if err == nil {
				err = syncDir(r.dir)
			}
		}()
	}
	if err := os.Rename(prev, cur); err != nil {
		return nil, nil, fmt.Errorf("store: registry rollback: %w", err)
	}
	if err := r.reopen(); err != nil {
		return nil, nil, err
	}
	return from, pmeta, nil
}

// drop removes the current and the previous file.
func (r *registry) drop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.db != nil {
		r.db.Close()
		r.db, r.meta, r.key = nil, nil, ""
	}
	for _, p := range []string{r.path(), r.prevPath()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: drop registry: %w", err)
		}
	}
	return syncDir(r.dir)
}
