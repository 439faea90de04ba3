package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// groupCommit is Batch on a bbolt file without bbolt's timer. bbolt's own
// Batch waits MaxBatchDelay (10 ms) for company before it commits, so a
// lone update paid 10 ms on top of its fsync (1 chat: p50 12 ms). Here the
// first caller commits at once; callers that arrive while a commit runs
// (its fsync is the slow part) wait, and the next of them commits all the
// waiting calls in one transaction when it ends. The batch grows with the
// load by itself: one call when the bot is idle, many when the disk is
// the bottleneck; nobody waits for a timer. (BENCHMARKS.md, "Latency:
// commit delay, sender commit, heap", compares it with a 1 ms delay.)
//
// Semantics are bbolt's Batch: the calls of one batch share a transaction
// in the order they were taken; a call that fails (or panics) is taken out
// and the others retried, and the failed one runs again alone in a
// transaction of its own, whose result (or panic) its caller gets. So a
// function may run more than once.
type groupCommit struct {
	db  *bolt.DB
	max int // calls in one transaction at most

	mu      sync.Mutex
	waiting []*batchCall
	leading bool // a caller is committing; the others wait for it
}

type batchCall struct {
	fn  func(*bolt.Tx) error
	res chan error // 1-buffered: the outcome, errLead or errSolo
}

var (
	// errLead tells a waiting caller that it commits the next batch.
	errLead = errors.New("store: lead the next batch")
	// errSolo tells a caller to run its function alone (it failed in
	// the batch).
	errSolo = errors.New("store: batch function failed; run it alone")
)

func newGroupCommit(db *bolt.DB) *groupCommit { return &groupCommit{db: db, max: 1000} }

func (g *groupCommit) Batch(fn func(*bolt.Tx) error) error {
	c := &batchCall{fn: fn, res: make(chan error, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		if err := <-c.res; err != errLead {
			return g.outcome(c, err)
		}
	}
	// This caller leads: commit what waits now, its own call first
	// (a caller is handed the lead only at the head of the queue).
	g.mu.Lock()
	n := min(len(g.waiting), g.max)
	calls := slices.Clone(g.waiting[:n])
	g.waiting = slices.Delete(g.waiting, 0, n)
	g.mu.Unlock()
	g.run(calls)
	// Hand the lead on to the first caller that came during the commit,
	// or give it up.
	g.mu.Lock()
	if len(g.waiting) > 0 {
		g.waiting[0].res <- errLead
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return g.outcome(c, <-c.res)
}

func (g *groupCommit) outcome(c *batchCall, err error) error {
	if err == errSolo {
		return g.db.Update(c.fn)
	}
	return err
}

// run commits calls in one transaction, taking out each call that fails.
func (g *groupCommit) run(calls []*batchCall) {
	for len(calls) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safelyCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].res <- errSolo
			calls = slices.Delete(calls, failed, failed+1)
			continue
		}
		for _, c := range calls { // success, or bbolt's own error: for all
			c.res <- err
		}
		return
	}
}

type panicked struct{ value any }

func (p panicked) Error() string { return fmt.Sprintf("panic: %v", p.value) }

func safelyCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicked{p}
		}
	}()
	return fn(tx)
}
