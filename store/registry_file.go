package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
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

// fileRegistry keeps the snapshots in bbolt files in the data directory
// (the registry of a bbolt store, and of a backend that keeps none).
type fileRegistry struct {
	dir     string
	timeout time.Duration
	noSync  bool

	mu   sync.RWMutex // held for reading by lookups, for writing by a swap
	db   *bolt.DB     // nil: no registry imported
	meta *bansosbot.Snapshot
	key  string // key fingerprint of the current file ("" unknown)
}

func newFileRegistry(dir string, opts Options) *fileRegistry {
	return &fileRegistry{dir: dir, timeout: opts.LockTimeout, noSync: opts.NoSync}
}

func (r *fileRegistry) path() string     { return filepath.Join(r.dir, RegistryFileName) }
func (r *fileRegistry) prevPath() string { return filepath.Join(r.dir, RegistryPrevFileName) }

// open opens the current registry file, if there is one. A nil registry
// (the backend keeps the registry: registry_db.go) opens nothing.
func (r *fileRegistry) open() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reopen()
}

// reopen (with mu held) opens registry.db as it is now and closes the
// file it replaces.
func (r *fileRegistry) reopen() error {
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

func (r *fileRegistry) close() error {
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
func (r *fileRegistry) current() *bansosbot.Snapshot {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.meta == nil {
		return nil
	}
	s := *r.meta
	return &s
}

func (r *fileRegistry) lookup(h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
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
func (r *fileRegistry) install(built string, keepPrev bool) (old *bansosbot.Snapshot, err error) {
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
func (r *fileRegistry) nextID() uint64 {
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
func (r *fileRegistry) snapshot() (*bansosbot.Snapshot, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return readSnapshot(r.db, r.meta)
}

// previous returns the snapshot kept for a rollback, with its statistics
// (nil: none).
func (r *fileRegistry) previous() (*bansosbot.Snapshot, error) {
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
func (r *fileRegistry) keyFingerprint() (string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.key, nil
}

// The registry file is read at the moment of the call, whatever tx.
func (r *fileRegistry) currentIn(backend.Tx) (*bansosbot.Snapshot, error) { return r.current(), nil }

func (r *fileRegistry) lookupIn(_ backend.Tx, h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
	return r.lookup(h)
}

func (r *fileRegistry) dataDir() string { return r.dir }

// rollback swaps registry.db and registry.prev.db (through a temporary
// name: a crash in between leaves a current file).
func (r *fileRegistry) rollback() (from, to *bansosbot.Snapshot, err error) {
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
func (r *fileRegistry) drop() error {
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

// newFile creates an empty registry file aside in the data
// directory (".registry-new-*") and opens it for writing. Nobody reads it
// until it is complete and renamed, so it is written without fsync and
// synced once at the end.
func (r *fileRegistry) newFile() (*bolt.DB, string, error) {
	f, err := os.CreateTemp(r.dir, tmpRegistryNew+"*")
	if err != nil {
		return nil, "", fmt.Errorf("store: registry import: %w", err)
	}
	name := f.Name()
	f.Close()
	b, err := bolt.Open(name, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		os.Remove(name)
		return nil, "", fmt.Errorf("store: registry import: %w", err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, k := range [][]byte{keyRegMeta, keyRegRecords, keyRegDict} {
			if _, err := tx.CreateBucket(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		os.Remove(name)
		return nil, "", fmt.Errorf("store: registry import: %w", err)
	}
	return b, name, nil
}

// finishRegistryFile syncs and closes a registry file written by
// newFile; on error it removes it.
func finishRegistryFile(b *bolt.DB, name string, noSync bool) error {
	var err error
	if !noSync {
		err = b.Sync()
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("store: registry: %w", err)
	}
	return nil
}

// fileLoader loads a snapshot into a new registry file aside.
type fileLoader struct {
	r    *fileRegistry
	out  *bolt.DB // nil once finished
	name string   // the file, until installed or removed
	id   uint64
}

func (r *fileRegistry) create(context.Context) (snapshotLoader, error) {
	out, name, err := r.newFile()
	if err != nil {
		return nil, err
	}
	return &fileLoader{r: r, out: out, name: name, id: r.nextID()}, nil
}

func (l *fileLoader) snapshotID() uint64 { return l.id }

// load appends a chunk to the records in one transaction, the pattern
// bbolt writes fastest (keys in order, pages packed full).
func (l *fileLoader) load(c *chunk) error {
	return l.out.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(keyRegRecords)
		b.FillPercent = 1 // appends in key order: pack the pages
		start := 0
		for _, end := range c.ends {
			if err := b.Put(c.buf[start:start+32], c.buf[start+32:end]); err != nil {
				return err
			}
			start = end
		}
		return nil
	})
}

// finish stores the snapshot's metadata, statistics, texts and key
// fingerprint, and syncs and closes the file.
func (l *fileLoader) finish(s *bansosbot.Snapshot, keyFP string, texts []string) error {
	err := l.out.Update(func(tx *bolt.Tx) error {
		if err := putSnapshotMeta(tx, s, keyFP); err != nil {
			return err
		}
		d := tx.Bucket(keyRegDict)
		for i, t := range texts {
			if err := d.Put(u32(uint32(i)), []byte(t)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: registry import: write: %w", err)
	}
	out := l.out
	l.out = nil
	return finishRegistryFile(out, l.name, l.r.noSync)
}

// install renames the finished file over registry.db.
func (l *fileLoader) install(keepPrev bool) (*bansosbot.Snapshot, error) {
	if l.out != nil || l.name == "" {
		return nil, errors.New("store: registry: nothing staged")
	}
	name := l.name
	l.name = ""
	old, err := l.r.install(name, keepPrev)
	if err != nil {
		os.Remove(name)
	}
	return old, err
}

// discard removes the file, unless installed.
func (l *fileLoader) discard() {
	if l.out != nil {
		l.out.Close()
		l.out = nil
	}
	if l.name != "" {
		os.Remove(l.name)
		l.name = ""
	}
}

func putSnapshotMeta(tx *bolt.Tx, s *bansosbot.Snapshot, keyFP string) error {
	meta, stats, err := encodeSnapshot(s)
	if err != nil {
		return err
	}
	mb := tx.Bucket(keyRegMeta)
	if err := mb.Put(keyRegSnapshot, meta); err != nil {
		return err
	}
	if keyFP != "" {
		if err := mb.Put(keyRegKey, []byte(keyFP)); err != nil {
			return err
		}
	}
	return mb.Put(keyRegStats, stats)
}
