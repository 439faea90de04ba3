package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bansosbot/bansosbot/clock"
)

// Several replicas on one database (Config.Shared, PostgreSQL) divide the
// work with leases in the store (store/lease.go), renewed every
// LeaseRenew and expiring LeaseTTL after the last renewal:
//
//   - "replica/ID": the replica is alive; the live ones share the shards;
//   - "shard/NNN": only the holder dispatches that chat shard's updates
//     (so one chat's updates are handled by one replica, in update order);
//     each replica takes its share (shards / live replicas, rounded up)
//     and gives back what it holds beyond it when another one starts;
//     every update's transaction checks the shard's lease (fencing), so a
//     replica that lost it commits nothing of that shard any more;
//   - "sender": one replica sends the outbox, so Telegram's global and
//     per-chat limits hold exactly as with one process;
//   - "poller": one replica calls getUpdates (long polling only; with a
//     webhook every replica accepts what the load balancer gives it);
//   - "cron": one replica runs the scheduled jobs (their transactions
//     check it too).
//
// An update accepted by any replica is found by its shard's holder, which
// reads the inbox every Scan (at once when it accepted the update itself)
// and dispatches its shards' items in update order. A replica killed
// mid-work loses nothing: what it accepted is in the inbox, what it sent
// is marked or sent again, and its leases expire within LeaseTTL; a clean
// stop releases them at once. Leases run on the wall clock (the
// database's), whatever Config.Clock is.
//
// Without Config.Shared (bbolt: one process holds the file) there are no
// lease rows: every lease is held, updates go straight to their shard.

// leaseNames of the singletons.
const (
	leaseSender = "sender"
	leasePoller = "poller"
	leaseCron   = "cron"
)

func shardLease(i int) string { return fmt.Sprintf("shard/%03d", i) }

func replicaLease(id string) string { return "replica/" + id }

// DefaultReplicaID names this process among replicas: host, pid and a
// random suffix (a restarted process is a new replica).
func DefaultReplicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

type heldLease struct {
	token    uint64
	deadline time.Time // local wall time after which we stop working under it
}

// leases keeps this replica's leases.
type leases struct {
	s      *Server
	shared bool
	owner  string
	ttl    time.Duration
	renew  time.Duration
	shards int

	// gained counts the shards taken (or held again after a lapse); it
	// grows before such a lease shows as held, so an inbox scan can tell
	// that a shard it passed over is now its own (scanInbox).
	gained atomic.Uint64

	mu      sync.Mutex
	held    map[string]heldLease
	changed chan struct{} // closed and replaced when held changes
}

func newLeases(s *Server) *leases {
	return &leases{s: s, shared: s.cfg.Shared, owner: s.cfg.ReplicaID, ttl: s.cfg.LeaseTTL, renew: s.cfg.LeaseRenew,
		shards: s.cfg.Shards, held: map[string]heldLease{}, changed: make(chan struct{})}
}

// token returns the fencing token of a lease held now (always 0, true
// without Shared).
func (l *leases) token(name string) (uint64, bool) {
	if !l.shared {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.held[name]
	if !ok || !clock.Real.Now().Before(h.deadline) {
		return 0, false
	}
	return h.token, true
}

func (l *leases) holds(name string) bool { _, ok := l.token(name); return ok }

// wait waits until the lease is held (false once ctx is done).
func (l *leases) wait(ctx context.Context, name string) bool {
	for {
		if ctx.Err() != nil {
			return false
		}
		if l.holds(name) {
			return true
		}
		l.mu.Lock()
		ch := l.changed
		l.mu.Unlock()
		t := clock.Real.NewTimer(l.renew)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-ch:
		case <-t.C():
		}
		t.Stop()
	}
}

// lost returns a context cancelled once the lease is no longer held.
func (l *leases) lost(ctx context.Context, name string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		for l.holds(name) {
			l.mu.Lock()
			ch := l.changed
			var left time.Duration
			if h, ok := l.held[name]; ok {
				left = h.deadline.Sub(clock.Real.Now())
			}
			l.mu.Unlock()
			t := clock.Real.NewTimer(max(left, time.Millisecond))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-ch:
			case <-t.C():
			}
			t.Stop()
		}
	}()
	return ctx, cancel
}

// Held lists the leases this replica holds now (metrics, doctor).
func (s *Server) LeasesHeld() []string {
	l := s.leases
	if !l.shared {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := clock.Real.Now()
	var out []string
	for n, h := range l.held {
		if now.Before(h.deadline) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// ReplicaID is this replica's name in the leases.
func (s *Server) ReplicaID() string { return s.leases.owner }

// run renews the leases every renew until ctx is done. A renewal that
// fails is tried again after a short backoff (from 100 ms, doubling up to
// renew/4) instead of a whole renew later, for as long as it fails: the
// leases held lapse here ttl-ttl/5 after the last renewal began, and on
// PostgreSQL a renewal fails now and then under load (its transaction
// kept failing to serialize against the burst's, the backend's own tries
// used up). At the renewal's pace, four failures in a row would drop
// every lease and move the shards to another replica for nothing; within
// the margin there is room for a dozen tries.
func (l *leases) run(ctx context.Context, singletons []string) {
	var backoff time.Duration
	failed := 0 // renewals failed in a row
	for {
		wait := l.renew
		if err := l.tick(singletons); err != nil {
			if failed == 0 {
				l.s.log.Warn("leases: renewal failed; trying again", "err", err)
			} else {
				l.s.log.Debug("leases: renewal failed again", "tries", failed+1, "err", err)
			}
			failed++
			backoff = min(nextBackoff(backoff, l.renew/4), l.renew/4)
			wait = backoff
		} else {
			if failed > 0 {
				l.s.log.Info("leases: renewed after failed tries", "tries", failed+1)
			}
			failed, backoff = 0, 0
		}
		if !clock.Sleep(ctx, clock.Real, wait) {
			return
		}
	}
}

// tick renews what it holds, takes its share of the shards and the free
// singletons, and gives back shards beyond its share.
func (l *leases) tick(singletons []string) error {
	start := clock.Real.Now()
	all, now, err := l.s.db.Leases("")
	if err != nil {
		return err
	}
	members := 1
	mine := map[string]bool{}
	busy := map[string]bool{} // held by someone else
	for _, ls := range all {
		switch {
		case ls.Held(l.owner, now):
			mine[ls.Name] = true
		case ls.Owner != "" && now.Before(ls.Expires):
			busy[ls.Name] = true
			if strings.HasPrefix(ls.Name, "replica/") {
				members++
			}
		}
	}
	share := (l.shards + members - 1) / members
	var want, give []string
	want = append(want, replicaLease(l.owner))
	want = append(want, singletons...)
	n := 0
	for i := range l.shards {
		name := shardLease(i)
		if mine[name] {
			if n < share {
				want = append(want, name)
				n++
			} else {
				give = append(give, name)
			}
		}
	}
	for i := 0; i < l.shards && n < share; i++ {
		name := shardLease(i)
		if !mine[name] && !busy[name] {
			want = append(want, name)
			n++
		}
	}
	// Stop working under the shards given back before they are released.
	l.set(func(h map[string]heldLease) {
		for _, g := range give {
			delete(h, g)
		}
	})
	if len(give) > 0 {
		if err := l.s.db.ReleaseLeases(l.owner, give...); err != nil {
			return err
		}
		l.s.log.Info("leases: shards handed to other replicas", "count", len(give), "replicas", members)
	}
	got, _, err := l.s.db.AcquireLeases(l.owner, l.ttl, want...)
	if err != nil {
		return err
	}
	// The lease is ours until start+ttl at the latest (the database
	// counted from after start); stop a little before.
	deadline := start.Add(l.ttl - l.ttl/5)
	l.set(func(h map[string]heldLease) {
		now := clock.Real.Now()
		for _, g := range got {
			if old, had := h[g.Name]; (!had || !now.Before(old.deadline)) && strings.HasPrefix(g.Name, "shard/") {
				l.gained.Add(1)
			}
		}
		clear(h)
		for _, g := range got {
			h[g.Name] = heldLease{token: g.Token, deadline: deadline}
		}
	})
	return nil
}

func (l *leases) set(fn func(map[string]heldLease)) {
	l.mu.Lock()
	fn(l.held)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// release gives back every lease (a clean stop): the other replicas take
// them at their next renewal instead of after LeaseTTL.
func (l *leases) release() {
	if !l.shared {
		return
	}
	var names []string
	l.set(func(h map[string]heldLease) {
		for n := range h {
			names = append(names, n)
		}
		clear(h)
	})
	if len(names) == 0 {
		return
	}
	if err := l.s.db.ReleaseLeases(l.owner, names...); err != nil {
		l.s.log.Warn("leases: release at stop", "err", err)
	}
}

// checkShard is the fence of an update's transaction: the shard's lease
// must still be ours with the token we work under.
func (l *leases) check(tx Tx, name string, token uint64) error {
	if !l.shared {
		return nil
	}
	return tx.CheckLease(name, l.owner, token)
}

// Sends reports whether this replica sends the outbox now (the "sender"
// lease; always without Config.Shared).
func (s *Server) Sends() bool { return s.leases.holds(leaseSender) }

// RunsJobs reports whether this replica runs the scheduled jobs now (the
// "cron" lease; always without Config.Shared).
func (s *Server) RunsJobs() bool { return s.leases.holds(leaseCron) }

// runSender runs the outbox sender: always without Config.Shared, else
// while this replica holds the sender lease. Calls already made when the
// lease is lost finish and are recorded (the sender's context ends, not
// theirs), so they are not sent again by the next holder.
func (s *Server) runSender(ctx context.Context) {
	if !s.cfg.Shared {
		newSender(s).run(ctx)
		return
	}
	for s.leases.wait(ctx, leaseSender) {
		term, cancel := s.leases.lost(ctx, leaseSender)
		q := newSender(s)
		q.calls = ctx
		s.log.Info("outbox: this replica sends the outbox now", "replica", s.leases.owner)
		q.run(term)
		cancel()
		s.health.outboxWaiting(time.Time{})
	}
}
