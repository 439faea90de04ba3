package bot

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/clock/clocktest"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
)

// inboxReads counts the inbox items read in views (each one decoded by
// its reader).
type inboxReads struct {
	backend.Backend
	n atomic.Int64
}

func (c *inboxReads) View(fn func(backend.Tx) error) error {
	return c.Backend.View(func(tx backend.Tx) error { return fn(&inboxReadsTx{Tx: tx, n: &c.n}) })
}

type inboxReadsTx struct {
	backend.Tx
	n *atomic.Int64
}

func (t *inboxReadsTx) Bucket(name []byte) backend.Bucket {
	b := t.Tx.Bucket(name)
	if string(name) != "inbox" || b == nil {
		return b
	}
	return &inboxReadsBucket{Bucket: b, n: t.n}
}

type inboxReadsBucket struct {
	backend.Bucket
	n *atomic.Int64
}

func (b *inboxReadsBucket) ForEach(fn func(k, v []byte) error) error {
	return b.Bucket.ForEach(func(k, v []byte) error { b.n.Add(1); return fn(k, v) })
}

func (b *inboxReadsBucket) Cursor() backend.Cursor {
	return &inboxReadsCursor{Cursor: b.Bucket.Cursor(), n: b.n}
}

type inboxReadsCursor struct {
	backend.Cursor
	n *atomic.Int64
}

func (c *inboxReadsCursor) count(k, v []byte) ([]byte, []byte) {
	if k != nil {
		c.n.Add(1)
	}
	return k, v
}

func (c *inboxReadsCursor) First() ([]byte, []byte)        { return c.count(c.Cursor.First()) }
func (c *inboxReadsCursor) Last() ([]byte, []byte)         { return c.count(c.Cursor.Last()) }
func (c *inboxReadsCursor) Seek(k []byte) ([]byte, []byte) { return c.count(c.Cursor.Seek(k)) }
func (c *inboxReadsCursor) Next() ([]byte, []byte)         { return c.count(c.Cursor.Next()) }
func (c *inboxReadsCursor) Prev() ([]byte, []byte)         { return c.count(c.Cursor.Prev()) }

// TestInboxScanReadsOn: the shared inbox scan reads on from where it
// stopped: with a long backlog of other replicas' shards in the inbox,
// each pass reads what is new, not the whole backlog again (counted in
// items read, each one decoded); when this replica takes one of those
// shards, the scan reads the inbox from its start and dispatches the
// shard's backlog, in order (issue 16 item 6).
func TestInboxScanReadsOn(t *testing.T) {
	var reads *inboxReads
	db, err := store.Open(filepath.Join(t.TempDir(), "scan.db"), store.Options{NoSync: true,
		Wrap: func(b backend.Backend) backend.Backend { reads = &inboxReads{Backend: b}; return reads }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Another replica holds three of the four shards.
	others := []string{"replica/b", shardLease(1), shardLease(2), shardLease(3)}
	if _, _, err := db.AcquireLeases("b", time.Hour, others...); err != nil {
		t.Fatal(err)
	}
	fake := telegramtest.NewServer("4242:scan")
	defer fake.Close()
	rec := newRecorder()
	// No timer: the scan passes when an update is accepted here.
	s := webhookServer(t, fake, db, rec, Config{Shared: true, ReplicaID: "a", Shards: 4, Scan: time.Hour, Redispatch: time.Hour})
	if held := s.LeasesHeld(); !slices.Contains(held, shardLease(0)) || slices.Contains(held, shardLease(1)) {
		t.Fatalf("replica a holds %v; want shard 0 and not the other replica's", held)
	}

	// The backlog: 200 updates in each of the other replica's shards.
	const perShard = 200
	users := []telegramtest.User{{ID: 1001, FirstName: "S1"}, {ID: 1002, FirstName: "S2"}, {ID: 1003, FirstName: "S3"}} // shards 1-3
	for j := range perShard {
		for _, u := range users {
			fake.SendText(u, fmt.Sprint(j))
		}
	}
	mine := telegramtest.User{ID: 1000, FirstName: "S0"} // shard 0
	fake.SendText(mine, "after the backlog")
	rec.waitHandled(t, mine.ID, 1)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) { // its transaction commits after the handler ran
		n, _ := db.InboxDepth()
		if n == 3*perShard {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox depth %d; want the backlog of %d", n, 3*perShard)
		}
	}

	// One update at a time in this replica's shard: a pass each.
	const updates = 20
	before := reads.n.Load()
	for i := range updates {
		fake.SendText(mine, fmt.Sprint(i))
		rec.waitHandled(t, mine.ID, 2+i)
	}
	n := reads.n.Load() - before
	t.Logf("%d passes read %d inbox items, %d in the backlog", updates, n, 3*perShard)
	if n >= 3*perShard {
		t.Errorf("%d passes read %d inbox items with %d in the backlog; want the new ones read, not the backlog again", updates, n, 3*perShard)
	}

	// The other replica gives shard 1 back; this one takes it and
	// dispatches its backlog, in order, at its next pass.
	if err := db.ReleaseLeases("b", shardLease(1)); err != nil {
		t.Fatal(err)
	}
	for !slices.Contains(s.LeasesHeld(), shardLease(1)) {
		time.Sleep(20 * time.Millisecond) // the next renewal, within LeaseRenew
	}
	fake.SendText(mine, "a pass")
	got := rec.waitHandled(t, users[0].ID, perShard)
	for j := 1; j < len(got); j++ {
		if got[j] <= got[j-1] {
			t.Fatalf("shard 1's backlog handled out of order: %v", got)
		}
	}
}

// TestInboxScanFindsALowerUpdateID: an update whose id is below those
// the scan has read on past (Telegram numbers afresh after a week without
// updates), accepted by another replica, is dispatched by the pass that
// reads the inbox from its start every Redispatch (shared mode has no
// sweep; issue 16 item 6).
func TestInboxScanFindsALowerUpdateID(t *testing.T) {
	clk := clocktest.New(clockStart)
	fake := telegramtest.NewServer("4242:scan", telegramtest.WithClock(clk.Now), telegramtest.WithFirstUpdateID(1000))
	defer fake.Close()
	db, err := store.Open(filepath.Join(t.TempDir(), "scan.db"), store.Options{NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec := newRecorder()
	s := webhookServer(t, fake, db, rec, Config{Clock: clk, Shared: true, ReplicaID: "a", Shards: 4, Redispatch: time.Minute})
	if !slices.Contains(s.LeasesHeld(), shardLease(0)) {
		t.Fatalf("replica a holds %v; want shard 0", s.LeasesHeld())
	}
	mine := telegramtest.User{ID: 1000, FirstName: "S0"} // shard 0
	fake.SendText(mine, "the scan reads on past update 1000")
	rec.waitHandled(t, mine.ID, 1)

	// Accepted by another replica: no kick here.
	const other, lower = 1004, 5 // shard 0, and an id below 1000
	raw := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"L"},"text":"hai"}}`, lower, other, other)
	if _, err := db.Accept([]store.InboxItem{{UpdateID: lower, ChatID: other, Update: []byte(raw), ReceivedAt: clk.Now()}}, 0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	fake.SendText(mine, "a pass") // a pass, now from the start
	rec.waitHandled(t, mine.ID, 2)
	if got := rec.waitHandled(t, other, 1); got[0] != lower {
		t.Errorf("chat %d handled %v; want update %d", other, got, lower)
	}
}
