package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openGroupCommit(t *testing.T) *groupCommit {
	t.Helper()
	b, err := bolt.Open(filepath.Join(t.TempDir(), "batch.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return newGroupCommit(b)
}

// waitQueued waits until n calls wait for the running commit.
func waitQueued(g *groupCommit, n int) {
	for {
		g.mu.Lock()
		q := len(g.waiting)
		g.mu.Unlock()
		if q >= n {
			return
		}
		runtime.Gosched()
	}
}

// TestGroupCommitLoneCallCommits: a call with nobody else commits by
// itself (no timer to wait for), and its write is there.
func TestGroupCommitLoneCallCommits(t *testing.T) {
	g := openGroupCommit(t)
	for i := range 3 {
		if err := g.Batch(func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte{byte(i)}, []byte("v")) }); err != nil {
			t.Fatal(err)
		}
	}
	g.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket([]byte("b")).Stats().KeyN; n != 3 {
			t.Errorf("keys: got %d; want 3", n)
		}
		return nil
	})
	if g.leading || len(g.waiting) != 0 {
		t.Errorf("after the calls: leading %v, %d waiting; want none", g.leading, len(g.waiting))
	}
}

// TestGroupCommitGroupsWaitingCalls: the calls that arrive while a commit
// runs share the next transaction; a failing one gets its own error, is
// run again alone, and does not stop the others; a panicking one panics
// in its own caller.
func TestGroupCommitGroupsWaitingCalls(t *testing.T) {
	g := openGroupCommit(t)
	hold := make(chan struct{})
	first := make(chan error)
	go func() {
		first <- g.Batch(func(tx *bolt.Tx) error {
			<-hold // the first commit is slow: the others queue up
			return tx.Bucket([]byte("b")).Put([]byte("first"), []byte("v"))
		})
	}()
	for { // the first call leads
		g.mu.Lock()
		l := g.leading && len(g.waiting) == 0
		g.mu.Unlock()
		if l {
			break
		}
		runtime.Gosched()
	}

	const n = 20
	var mu sync.Mutex
	txs := map[*bolt.Tx]int{} // transaction -> successful calls in it
	runs := map[int]int{}     // call -> times its function ran
	errs := make([]error, n)
	panics := make([]any, n)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = g.Batch(func(tx *bolt.Tx) error {
				mu.Lock()
				runs[i]++
				mu.Unlock()
				switch i {
				case 5:
					return boom
				case 7:
					panic("seven")
				}
				if err := tx.Bucket([]byte("b")).Put([]byte(fmt.Sprint(i)), []byte("v")); err != nil {
					return err
				}
				mu.Lock()
				txs[tx]++
				mu.Unlock()
				return nil
			})
		}()
	}
	waitQueued(g, n)
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	for i := range n {
		switch i {
		case 5:
			if !errors.Is(errs[i], boom) || panics[i] != nil {
				t.Errorf("failing call: got %v, panic %v; want boom", errs[i], panics[i])
			}
			if runs[i] != 2 {
				t.Errorf("failing call ran %d times; want 2 (in the batch, then alone)", runs[i])
			}
		case 7:
			if panics[i] != "seven" {
				t.Errorf("panicking call: got panic %v, err %v; want panic seven", panics[i], errs[i])
			}
		default:
			if errs[i] != nil || panics[i] != nil {
				t.Errorf("call %d: got %v, panic %v; want nil", i, errs[i], panics[i])
			}
		}
	}
	// The successful calls committed together: the retries after the two
	// failures ran them in new transactions, the last of which held them
	// all.
	committed := 0
	g.db.View(func(tx *bolt.Tx) error {
		committed = tx.Bucket([]byte("b")).Stats().KeyN
		return nil
	})
	if committed != n-2+1 {
		t.Errorf("keys: got %d; want %d", committed, n-2+1)
	}
	most := 0
	for _, k := range txs {
		most = max(most, k)
	}
	if most != n-2 {
		t.Errorf("the largest transaction held %d calls; want all %d successful ones (one batch)", most, n-2)
	}
	if g.leading || len(g.waiting) != 0 {
		t.Errorf("after the calls: leading %v, %d waiting; want none", g.leading, len(g.waiting))
	}
}
