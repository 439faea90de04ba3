package store_test

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
)

// failingCommits rolls every read-write transaction back with errFull
// while on, after its function succeeded: a commit that cannot be written.
type failingCommits struct {
	backend.Backend
	on atomic.Bool
}

var errFull = errors.New("no space left on device (injected)")

func (f *failingCommits) wrap(fn func(backend.Tx) error) func(backend.Tx) error {
	return func(tx backend.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if f.on.Load() {
			return errFull
		}
		return nil
	}
}
func (f *failingCommits) Update(fn func(backend.Tx) error) error { return f.Backend.Update(f.wrap(fn)) }
func (f *failingCommits) Batch(fn func(backend.Tx) error) error  { return f.Backend.Batch(f.wrap(fn)) }

// TestWriteErrorsAreTheBackends: a transaction's own error is returned as
// it is and does not count against the store; a commit that fails is a
// WriteError, counted, and the store reports writes failing until one
// succeeds (issue 10 item 8).
func TestWriteErrorsAreTheBackends(t *testing.T) {
	var fc *failingCommits
	db, err := store.Open(filepath.Join(t.TempDir(), "h.db"), store.Options{NoSync: true,
		Wrap: func(b backend.Backend) backend.Backend { fc = &failingCommits{Backend: b}; return fc }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	own := errors.New("the handler's own error")
	if err := db.Batch(func(*store.Tx) error { return own }); err != own || store.IsWriteError(err) {
		t.Errorf("Batch = %v; want the function's error, not a write error", err)
	}
	if d, _ := db.WritesFailingFor(); d != 0 || db.WriteFailures() != 0 {
		t.Errorf("after a function's error: failing for %v, %d failures; want 0, 0", d, db.WriteFailures())
	}
	fc.on.Store(true)
	for _, write := range []func() error{
		func() error { return db.Batch(func(*store.Tx) error { return nil }) },
		func() error { return db.Update(func(*store.Tx) error { return nil }) },
		func() error {
			_, err := db.Accept([]store.InboxItem{{UpdateID: 1, ChatID: 2, Update: []byte(`{}`)}}, 2)
			return err
		},
		db.ProbeWrite,
	} {
		if err := write(); !store.IsWriteError(err) || !errors.Is(err, errFull) {
			t.Errorf("write with a failing commit = %v; want a WriteError wrapping it", err)
		}
	}
	if d, last := db.WritesFailingFor(); d <= 0 || !errors.Is(last, errFull) || db.WriteFailures() != 4 {
		t.Errorf("failing for %v (last %v), %d failures; want > 0, the injected error, 4", d, last, db.WriteFailures())
	}
	if n, _ := db.InboxDepth(); n != 0 {
		t.Errorf("inbox depth %d after a failed accept; want 0", n)
	}
	fc.on.Store(false)
	if err := db.ProbeWrite(); err != nil {
		t.Fatal(err)
	}
	if d, last := db.WritesFailingFor(); d != 0 || last != nil || db.WriteFailures() != 4 {
		t.Errorf("after a write succeeded: failing for %v (last %v), %d failures; want 0, nil, 4", d, last, db.WriteFailures())
	}
}

// conflicting answers every read-write transaction with a conflict that
// outlasted the backend's reruns, after its function returned the failed
// read it saw (as a flow returns a store error), while on.
type conflicting struct {
	backend.Backend
	on atomic.Bool
}

var errSerialize = errors.New("could not serialize access (injected)")

func (c *conflicting) Update(fn func(backend.Tx) error) error {
	if !c.on.Load() {
		return c.Backend.Update(fn)
	}
	if err := c.Backend.Update(func(tx backend.Tx) error { return errors.Join(fn(tx), errSerialize) }); err != nil {
		return &backend.Conflict{Err: err}
	}
	return nil
}
func (c *conflicting) Batch(fn func(backend.Tx) error) error { return c.Update(fn) }

// TestConflictsAreTheBackends: a transaction that kept conflicting is a
// WriteError (tried again later, never parked) even though the function
// returned the failed read itself.
func TestConflictsAreTheBackends(t *testing.T) {
	var c *conflicting
	db, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{NoSync: true,
		Wrap: func(b backend.Backend) backend.Backend { c = &conflicting{Backend: b}; return c }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c.on.Store(true)
	var seen error
	err = db.Batch(func(*store.Tx) error { seen = errSerialize; return seen })
	if !store.IsWriteError(err) || !errors.Is(err, errSerialize) {
		t.Errorf("Batch that kept conflicting = %v; want a WriteError wrapping the conflict", err)
	}
}
