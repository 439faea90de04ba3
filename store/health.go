package store

import (
	"errors"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store/backend"
)

// WriteError is a read-write transaction that the backend failed, not the
// function it ran (a full disk, an unreachable database, a transaction
// that kept conflicting with concurrent ones: backend.Conflict): see
// bansosbot.WriteError.
type WriteError = bansosbot.WriteError

// IsWriteError reports whether err is (or wraps) a WriteError.
func IsWriteError(err error) bool { return bansosbot.IsWriteError(err) }

// writeHealth remembers whether the store's writes succeed: since when
// they have failed without a success in between, the last failure, and
// how many failed in all.
type writeHealth struct {
	mu       sync.Mutex
	failFrom time.Time // zero: the last write succeeded
	lastErr  error
	failures uint64
}

// done classifies the outcome of a read-write transaction: err is what
// the backend returned, ran what the function returned on its last run.
// An error the function did not return is the backend's: a WriteError.
func (h *writeHealth) done(err, ran error) error {
	if err == nil {
		h.mu.Lock()
		h.failFrom, h.lastErr = time.Time{}, nil
		h.mu.Unlock()
		return nil
	}
	// A conflict that outlasted the backend's reruns is the backend's,
	// even when the function returned the failed read it saw.
	if ran != nil && (err == ran || errors.Is(err, ran)) && !backend.IsConflict(err) {
		return err // the function's own error (rolled back): nothing wrong with the store
	}
	h.mu.Lock()
	if h.failFrom.IsZero() {
		h.failFrom = time.Now()
	}
	h.lastErr = err
	h.failures++
	h.mu.Unlock()
	return &WriteError{Err: err}
}

// watched is a backend whose read-write transactions keep the store's
// write health and turn the backend's own failures into WriteErrors.
type watched struct {
	backend.Backend
	h *writeHealth
}

func (w watched) Update(fn func(backend.Tx) error) error {
	var ran error
	err := w.Backend.Update(func(tx backend.Tx) error { ran = fn(tx); return ran })
	return w.h.done(err, ran)
}

func (w watched) Batch(fn func(backend.Tx) error) error {
	var ran error
	err := w.Backend.Batch(func(tx backend.Tx) error { ran = fn(tx); return ran })
	return w.h.done(err, ran)
}

// setBackend makes b the store's backend, wrapped by the options' Wrap
// (tests inject faults) and watched for write failures.
func (db *DB) setBackend(b backend.Backend) {
	if db.wrap != nil {
		b = db.wrap(b)
	}
	db.kv = watched{Backend: b, h: &db.health}
}

// WritesFailingFor reports for how long the store's writes have been
// failing without a success in between (0 when the last one succeeded),
// and the last failure.
func (db *DB) WritesFailingFor() (time.Duration, error) {
	db.health.mu.Lock()
	defer db.health.mu.Unlock()
	if db.health.failFrom.IsZero() {
		return 0, nil
	}
	return time.Since(db.health.failFrom), db.health.lastErr
}

// WriteFailures counts the read-write transactions the backend failed
// since the store was opened.
func (db *DB) WriteFailures() uint64 {
	db.health.mu.Lock()
	defer db.health.mu.Unlock()
	return db.health.failures
}

// keyWriteProbe is the meta key ProbeWrite writes.
var keyWriteProbe = []byte("write_probe")

// ProbeWrite writes one small value to find out whether the store can
// write again after failures (readiness asks it only while writes fail,
// so an idle instance does not stay unready for an old failure).
func (db *DB) ProbeWrite() error {
	return db.kv.Update(func(tx backend.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyWriteProbe, i64(time.Now().UnixNano()))
	})
}
