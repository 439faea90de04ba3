package store

// The registry kept by the backend (backend.Registry: PostgreSQL's
// tables, store/pgstore/registry.go). The store encodes and decodes: a
// snapshot's metadata and statistics as the JSON a registry file holds, its
// records in the same format (registry_record.go), keyed by the same NIK
// hash; the backend stores bytes. Every replica reads the database's
// current-snapshot pointer, so an import made once answers everywhere
// from its switch on.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
)

type dbRegistry struct {
	b   backend.Registry
	dir string

	// Decoded metadata and texts of the snapshots read lately, by id: a
	// snapshot never changes and its id is never used again, so a lookup
	// decodes them once, not at every call.
	mu    sync.Mutex
	cache map[uint64]*dbSnapshot
}

type dbSnapshot struct {
	meta  *bansosbot.Snapshot
	texts []string // nil until a record needs them
}

func newDBRegistry(b backend.Registry, dir string) *dbRegistry {
	return &dbRegistry{b: b, dir: dir, cache: map[uint64]*dbSnapshot{}}
}

// view reads in tx when it is the backend's own, else in a read-only
// transaction of its own (a store whose backend is wrapped, or no tx).
func (r *dbRegistry) view(tx backend.Tx, fn func(backend.RegistryTx) error) error {
	if rt, ok := tx.(backend.RegistryTx); ok {
		return fn(rt)
	}
	return r.b.RegistryView(fn)
}

// snapshotOf decodes (once) the header h of the current snapshot.
func (r *dbRegistry) snapshotOf(h *backend.Snapshot) (*dbSnapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.cache[h.ID]; s != nil {
		return s, nil
	}
	var m snapshotMeta
	if err := json.Unmarshal(h.Meta, &m); err != nil {
		return nil, fmt.Errorf("store: decode registry snapshot %d: %w", h.ID, err)
	}
	if len(r.cache) >= 4 { // a current, a previous and the odd switch
		clear(r.cache)
	}
	s := &dbSnapshot{meta: m.snapshot()}
	r.cache[h.ID] = s
	return s, nil
}

func (r *dbRegistry) textsOf(rt backend.RegistryTx, id uint64, s *dbSnapshot) ([]string, error) {
	r.mu.Lock()
	texts := s.texts
	r.mu.Unlock()
	if texts != nil {
		return texts, nil
	}
	texts, err := rt.RegistryTexts(id)
	if err != nil {
		return nil, err
	}
	if texts == nil {
		texts = []string{}
	}
	r.mu.Lock()
	s.texts = texts
	r.mu.Unlock()
	return texts, nil
}

func (r *dbRegistry) currentIn(tx backend.Tx) (*bansosbot.Snapshot, error) {
	var out *bansosbot.Snapshot
	err := r.view(tx, func(rt backend.RegistryTx) error {
		h, err := rt.RegistryCurrent()
		if err != nil || h == nil {
			return err
		}
		s, err := r.snapshotOf(h)
		if err != nil {
			return err
		}
		c := *s.meta
		out = &c
		return nil
	})
	return out, err
}

func (r *dbRegistry) lookupIn(tx backend.Tx, h bansosbot.NIKHash) (*bansosbot.Snapshot, *bansosbot.Record, error) {
	var snap *bansosbot.Snapshot
	var rec *bansosbot.Record
	err := r.view(tx, func(rt backend.RegistryTx) error {
		hd, err := rt.RegistryCurrent()
		if err != nil || hd == nil {
			return err
		}
		s, err := r.snapshotOf(hd)
		if err != nil {
			return err
		}
		c := *s.meta
		snap = &c
		v, err := rt.RegistryGet(hd.ID, h[:])
		if err != nil || v == nil {
			return err
		}
		texts, err := r.textsOf(rt, hd.ID, s)
		if err != nil {
			return err
		}
		rec, err = decodeRecord(v, c.Programs, func(id uint32) (string, error) {
			if int(id) >= len(texts) {
				return "", fmt.Errorf("store: registry text %d missing", id)
			}
			return texts[id], nil
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if rec != nil {
		rec.NIK = h
	}
	return snap, rec, nil
}

// decodeSnapshot decodes a header with its statistics.
func decodeSnapshot(h *backend.Snapshot) (*bansosbot.Snapshot, error) {
	if h == nil {
		return nil, nil
	}
	var m snapshotMeta
	if err := json.Unmarshal(h.Meta, &m); err != nil {
		return nil, fmt.Errorf("store: decode registry snapshot %d: %w", h.ID, err)
	}
	s := m.snapshot()
	if h.Stats != nil {
		if err := json.Unmarshal(h.Stats, &s.Stats); err != nil {
			return nil, fmt.Errorf("store: decode registry stats: %w", err)
		}
	}
	return s, nil
}

func (r *dbRegistry) snapshot() (*bansosbot.Snapshot, error) {
	cur, _, err := r.b.RegistrySnapshots()
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(cur)
}

func (r *dbRegistry) previous() (*bansosbot.Snapshot, error) {
	_, prev, err := r.b.RegistrySnapshots()
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(prev)
}

func (r *dbRegistry) keyFingerprint() (string, error) {
	cur, _, err := r.b.RegistrySnapshots()
	if err != nil || cur == nil {
		return "", err
	}
	return cur.Key, nil
}

// busy names the refused operation in the backend's lock refusal.
func busy(op string, err error) error {
	if errors.Is(err, backend.ErrRegistryBusy) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return err
}

func (r *dbRegistry) create(ctx context.Context) (snapshotLoader, error) {
	l, err := r.b.NewSnapshot(ctx)
	if err != nil {
		return nil, busy("registry import", err)
	}
	return &dbLoader{l: l}, nil
}

func (r *dbRegistry) rollback() (from, to *bansosbot.Snapshot, err error) {
	cur, prev, err := r.b.SwapSnapshots(func(cur, prev *backend.Snapshot) error {
		if cur != nil && cur.Key != "" && prev.Key != "" && cur.Key != prev.Key {
			return ErrOtherKey
		}
		return nil
	})
	if errors.Is(err, backend.ErrNoPrevious) {
		return nil, nil, ErrNoPrevious
	}
	if err != nil {
		return nil, nil, busy("registry rollback", err)
	}
	if from, err = decodeSnapshot(cur); err != nil {
		return nil, nil, err
	}
	if to, err = decodeSnapshot(prev); err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

func (r *dbRegistry) drop() error     { return busy("drop registry", r.b.DropSnapshots()) }
func (r *dbRegistry) path() string    { return "" }
func (r *dbRegistry) dataDir() string { return r.dir }
func (r *dbRegistry) close() error    { return nil }

// dbLoader loads a snapshot through the backend (COPY in pgstore).
type dbLoader struct {
	l backend.SnapshotLoader
}

func (d *dbLoader) snapshotID() uint64  { return d.l.ID() }
func (d *dbLoader) load(c *chunk) error { return d.l.Load(c.buf, c.ends) }

func (d *dbLoader) finish(s *bansosbot.Snapshot, keyFP string, texts []string) error {
	meta, stats, err := encodeSnapshot(s)
	if err != nil {
		return err
	}
	return d.l.Finish(backend.Snapshot{Meta: meta, Stats: stats, Key: keyFP, Texts: texts})
}

func (d *dbLoader) install(keepPrev bool) (*bansosbot.Snapshot, error) {
	old, err := d.l.Install(keepPrev)
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(old)
}

func (d *dbLoader) discard() { d.l.Discard() }
