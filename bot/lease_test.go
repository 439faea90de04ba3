package bot

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
)

// conflicting fails lease transactions (those that touch the leases
// bucket) while fail is above zero, as PostgreSQL fails one that kept
// failing to serialize once the backend's own tries are used up.
type conflicting struct {
	backend.Backend
	fail    atomic.Int32 // lease transactions still to fail
	failed  atomic.Int32
	renewed atomic.Int32 // lease transactions committed
}

var errSerialization = errors.New("could not serialize access due to read/write dependencies among transactions (SQLSTATE 40001)")

func (c *conflicting) Update(fn func(backend.Tx) error) error {
	return c.Backend.Update(func(tx backend.Tx) error {
		lt := &leaseTx{Tx: tx}
		if err := fn(lt); err != nil || !lt.leases {
			return err
		}
		if n := c.fail.Load(); n > 0 && c.fail.CompareAndSwap(n, n-1) {
			c.failed.Add(1)
			return errSerialization
		}
		c.renewed.Add(1)
		return nil
	})
}

type leaseTx struct {
	backend.Tx
	leases bool
}

func (t *leaseTx) Bucket(name []byte) backend.Bucket {
	t.leases = t.leases || string(name) == "leases"
	return t.Tx.Bucket(name)
}

// TestLeaseRenewalRetriesWithinItsMargin: renewals failing several times
// in a row (a burst on PostgreSQL) do not let the leases lapse: a failed
// renewal is tried again within the lease's margin, not a whole renewal
// interval later (at that pace, eight failures take 8 s and the leases,
// kept 4 s after a renewal, would lapse; issue 16 item 6).
func TestLeaseRenewalRetriesWithinItsMargin(t *testing.T) {
	var c *conflicting
	db, err := store.Open(filepath.Join(t.TempDir(), "l.db"), store.Options{NoSync: true,
		Wrap: func(b backend.Backend) backend.Backend { c = &conflicting{Backend: b}; return c }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(Config{Token: "1:t", Shared: true, ReplicaID: "a", Shards: 4}, Adapt(db), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := s.leases
	if err := l.tick(nil); err != nil {
		t.Fatal(err)
	}
	if got := len(s.LeasesHeld()); got != 5 {
		t.Fatalf("holding %v; want the 4 shards and the replica's lease", s.LeasesHeld())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lapsed, stop := l.lost(ctx, shardLease(0)) // done once the lease is not held
	defer stop()
	gained := l.gained.Load()

	const failures = 8
	c.fail.Store(failures)
	renewed := c.renewed.Load()
	done := make(chan struct{})
	go func() { defer close(done); l.run(ctx, nil) }()
	for c.renewed.Load() == renewed {
		select {
		case <-lapsed.Done():
			t.Fatalf("the leases lapsed after %d failed renewals; want them renewed within their margin", c.failed.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if n := c.failed.Load(); n != failures {
		t.Errorf("%d renewals failed; want %d", n, failures)
	}
	if n := l.gained.Load(); n != gained {
		t.Errorf("shards taken again %d times; want the leases never lapsed", n-gained)
	}
}
