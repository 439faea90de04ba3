package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// leaseClock is the store's clock in the lease tests: the bbolt store
// times leases by it, PostgreSQL by its own now(). To let a lease expire
// the tests move it and also wait out the (short) lease in real time, so
// both kinds of clock see it expired.
type leaseClock struct{ ns atomic.Int64 }

func (c *leaseClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *leaseClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// expire lets a lease of ttl run out on either clock.
func (c *leaseClock) expire(ttl time.Duration) {
	c.advance(time.Hour)
	time.Sleep(ttl + 50*time.Millisecond)
}

func openLeases(t *testing.T, open Opener) (*store.DB, *leaseClock) {
	clk := &leaseClock{}
	clk.ns.Store(T0.UnixNano())
	return open(t, store.Options{Now: clk.now}), clk
}

func names(ls []store.Lease) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

// testLeases: acquire, renew, a lease held by another is left alone,
// release, listing.
func testLeases(t *testing.T, open Opener) {
	db, _ := openLeases(t, open)
	held, now, err := db.AcquireLeases("a", time.Minute, "shard/01", "shard/02")
	must(t, err)
	if fmt.Sprint(names(held)) != "[shard/01 shard/02]" {
		t.Fatalf("a acquired %v; want both free shards", names(held))
	}
	first := held[0]
	if first.Owner != "a" || first.Token == 0 || !first.Held("a", now) || first.Held("b", now) {
		t.Errorf("lease = %+v at %v; want a's, live, with a token", first, now)
	}
	held, now, err = db.AcquireLeases("b", time.Minute, "shard/01", "shard/03")
	must(t, err)
	if fmt.Sprint(names(held)) != "[shard/03]" {
		t.Errorf("b acquired %v; want only the free shard/03 (shard/01 is a's)", names(held))
	}
	// Renewing keeps the token and moves the expiry on.
	held, _, err = db.AcquireLeases("a", 2*time.Minute, "shard/01")
	must(t, err)
	if len(held) != 1 || held[0].Token != first.Token || held[0].Expires.Before(first.Expires) {
		t.Errorf("renewed = %+v; want token %d, expiring after %v", held, first.Token, first.Expires)
	}
	all, now, err := db.Leases("shard/")
	must(t, err)
	var got []string
	for _, l := range all {
		got = append(got, fmt.Sprintf("%s=%s/%v", l.Name, l.Owner, l.Held(l.Owner, now)))
	}
	if fmt.Sprint(got) != "[shard/01=a/true shard/02=a/true shard/03=b/true]" {
		t.Errorf("leases = %v", got)
	}
	if other, _, err := db.Leases("sender"); err != nil || len(other) != 0 {
		t.Errorf("leases with another prefix = %v, %v; want none", other, err)
	}
	// Released, a lease is free for another at once, with a new token.
	must(t, db.ReleaseLeases("a", "shard/01", "shard/03")) // shard/03 is b's: left alone
	held, _, err = db.AcquireLeases("b", time.Minute, "shard/01", "shard/03")
	must(t, err)
	if len(held) != 2 || held[0].Token <= first.Token {
		t.Errorf("after a's release b holds %+v; want shard/01 (token > %d) and shard/03", held, first.Token)
	}
	if _, _, err := db.AcquireLeases("", time.Minute, "x"); err == nil {
		t.Error("a lease without an owner was acquired")
	}
}

// testLeaseExpiry: a lease not renewed expires and another owner takes
// it; its old holder can no longer commit work under it (fencing), and a
// transaction that tries rolls back entirely.
func testLeaseExpiry(t *testing.T, open Opener) {
	db, clk := openLeases(t, open)
	const ttl = 100 * time.Millisecond
	held, _, err := db.AcquireLeases("a", ttl, "sender")
	must(t, err)
	if len(held) != 1 {
		t.Fatalf("a acquired %v", held)
	}
	old := held[0]
	must(t, db.Update(func(tx *store.Tx) error { return tx.CheckLease("sender", "a", old.Token) }))
	clk.expire(ttl)
	all, now, err := db.Leases("sender")
	must(t, err)
	if len(all) != 1 || all[0].Held("a", now) {
		t.Errorf("after %v without renewal: %+v at %v; want expired", ttl, all, now)
	}
	// Expired but taken by nobody: a's work still commits (nobody else
	// worked under it).
	must(t, db.Update(func(tx *store.Tx) error { return tx.CheckLease("sender", "a", old.Token) }))
	held, _, err = db.AcquireLeases("b", time.Minute, "sender")
	must(t, err)
	if len(held) != 1 || held[0].Owner != "b" || held[0].Token <= old.Token {
		t.Fatalf("b after a's lease expired: %+v; want the lease with a new token", held)
	}
	// a, fenced off: its transaction fails and writes nothing.
	err = db.Update(func(tx *store.Tx) error {
		if err := tx.PutProfile(&bansosbot.Profile{UserID: 77, Lang: "id"}); err != nil {
			return err
		}
		return tx.CheckLease("sender", "a", old.Token)
	})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("commit under a lost lease = %v; want ErrLeaseLost", err)
	}
	must(t, db.View(func(tx *store.Tx) error {
		if p, _ := tx.Profile(77); p != nil {
			t.Error("the fenced-off transaction's write was committed")
		}
		return nil
	}))
	// a cannot renew it back while b holds it; b's work commits.
	if held, _, err := db.AcquireLeases("a", time.Minute, "sender"); err != nil || len(held) != 0 {
		t.Errorf("a renewing a lease b took = %v, %v; want nothing", held, err)
	}
	must(t, db.Update(func(tx *store.Tx) error { return tx.CheckLease("sender", "b", held[0].Token) }))
	if err := db.View(func(tx *store.Tx) error { return tx.CheckLease("nobody", "b", 1) }); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("check of a lease never taken = %v; want ErrLeaseLost", err)
	}
}

// testLeaseRace: owners racing for one free lease: exactly one gets it.
func testLeaseRace(t *testing.T, open Opener) {
	db, _ := openLeases(t, open)
	const owners = 8
	var wg sync.WaitGroup
	var winners atomic.Int32
	errs := make(chan error, owners)
	for i := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held, _, err := db.AcquireLeases(fmt.Sprintf("r%d", i), time.Minute, "poller")
			if err != nil {
				errs <- err
				return
			}
			winners.Add(int32(len(held)))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := winners.Load(); n != 1 {
		t.Errorf("%d owners acquired the one lease; want exactly 1", n)
	}
}
