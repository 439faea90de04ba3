// Package storetest is the store's conformance suite, in the style of
// net/http/httptest: Run takes a constructor of empty stores and checks,
// through the store's exported API only, everything that defines the
// store's behaviour: the update pipeline (inbox deduplication by update id,
// update order, outbox order, delivered marks, dead letters), sequences
// under concurrent writers, tickets with their events and indexes and
// their versions (a stale write refused, concurrent writers losing
// nothing), staff,
// invitations and the audit log, rate limits, retention and erasure, the
// dashboard's logins and sessions, announcements, counters, and
// transaction semantics (rollback, read-only views), and the leases that
// let several replicas share one database (acquire, renew, expiry, steal,
// fencing), and the eligibility registry (import, lookup by the keyed NIK
// hash, statistics, rollback, interrupted imports, key rotation).
//
// The bbolt store runs it in store's own tests; store/pgstore runs it on
// PostgreSQL. A second backend is done when it passes.
package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// Opener returns a new, empty store; opts.Now is the store's clock. The
// store is closed by the test's cleanup.
type Opener func(t *testing.T, opts store.Options) *store.DB

// T0 is the suite's fixed clock reading.
var T0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// Run runs every conformance test as a subtest of t.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"AcceptDeduplicatesAndKeepsOffset", testAccept},
		{"PendingInUpdateOrder", testPendingOrder},
		{"OutboxOrderDeliveredAndDeadLetters", testOutbox},
		{"ParkUpdateAndEraseDeadLetters", testParkUpdate},
		{"ConcurrentEnqueueKeepsOrder", testConcurrentEnqueue},
		{"OutboxFeedHandsOutEachItemOnce", testOutboxFeed},
		{"ClaimUpdateSkipsProcessed", testClaimUpdate},
		{"TransactionsRollBackAndViewsAreReadOnly", testTransactions},
		{"TicketIndexesFollowChanges", testTicketIndexes},
		{"TicketByNoEventsAndWalks", testTicketWalks},
		{"TicketVersionsRefuseStaleWrites", testTicketVersionsTwoReaders},
		{"TicketVersionsConcurrentWritersLoseNothing", testTicketVersionsConcurrentWriters},
		{"StaffAndInvites", testStaffInvites},
		{"AuditIndexes", testAudit},
		{"AllowSlidingWindow", testAllow},
		{"RetentionAndErasure", testRetention},
		{"ProfilesAndSessions", testProfiles},
		{"PromptsRecordedAndErased", testPrompts},
		{"WebLoginsAndSessions", testWeb},
		{"SubscriptionsAndAnnouncements", testAnnouncements},
		{"StatsAddUpInTheTransaction", testStats},
		{"SchemaVersion", testVersion},
		{"LeasesAcquireRenewRelease", testLeases},
		{"LeaseExpiresAndFencesItsOldHolder", testLeaseExpiry},
		{"LeaseRaceHasOneWinner", testLeaseRace},
		{"RegistryImportAndLookup", testRegistryImport},
		{"RegistryRollbackKeepsOnePrevious", testRegistryRollback},
		{"RegistryRefusalsChangeNothing", testRegistryRefusals},
		{"RegistryInterruptedImportKeepsTheOld", testRegistryInterrupted},
		{"RegistryRotationAndDrop", testRegistryRotation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

func fixed(open Opener, t *testing.T) *store.DB {
	return open(t, store.Options{Now: func() time.Time { return T0 }})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testAccept(t *testing.T, open Opener) {
	db := fixed(open, t)
	items := []store.InboxItem{{UpdateID: 10, ChatID: 1, Update: json.RawMessage(`{"update_id":10}`)}, {UpdateID: 11, ChatID: 2, Update: json.RawMessage(`{"update_id":11}`)}}
	fresh, err := db.Accept(items, 12)
	if err != nil || len(fresh) != 2 {
		t.Fatalf("first accept = %v, %v; want 2 fresh", fresh, err)
	}
	// Telegram delivers 11 again (our confirmation was lost) with 12.
	fresh, err = db.Accept(append(items[1:], store.InboxItem{UpdateID: 12, ChatID: 1, Update: json.RawMessage(`{}`)}), 13)
	if err != nil || len(fresh) != 1 || fresh[0].UpdateID != 12 {
		t.Fatalf("second accept = %v, %v; want only 12", fresh, err)
	}
	must(t, db.Update(func(tx *store.Tx) error { return tx.MarkProcessed(10) }))
	if fresh, _ := db.Accept(items[:1], 0); len(fresh) != 0 {
		t.Errorf("a processed update was accepted again: %v", fresh)
	}
	if off, _ := db.Offset(); off != 13 {
		t.Errorf("offset = %d; want 13", off)
	}
	if fresh, _ := db.Accept(nil, 5); fresh != nil {
		t.Errorf("empty accept = %v", fresh)
	}
	if off, _ := db.Offset(); off != 13 {
		t.Errorf("offset = %d after an older one; want 13 (it never moves back)", off)
	}
	db.View(func(tx *store.Tx) error {
		if !tx.Processed(10) || tx.Processed(11) {
			t.Errorf("Processed(10), Processed(11) = %v, %v; want true, false", tx.Processed(10), tx.Processed(11))
		}
		return nil
	})
	if n, _ := db.InboxDepth(); n != 2 {
		t.Errorf("InboxDepth = %d; want 2", n)
	}
	if n, err := db.PurgeProcessed(T0.Add(-time.Hour)); n != 0 || err != nil {
		t.Errorf("PurgeProcessed(before the mark) = %d, %v", n, err)
	}
	if n, err := db.PurgeProcessed(T0.Add(time.Hour)); n != 1 || err != nil {
		t.Errorf("PurgeProcessed(after the mark) = %d, %v; want 1", n, err)
	}
}

func testPendingOrder(t *testing.T, open Opener) {
	db := fixed(open, t)
	// Updates of three chats, accepted out of order in two calls; Pending
	// returns update order, so each chat's updates come in its order.
	var first, second []store.InboxItem
	for id := int64(300); id > 200; id -= 7 {
		it := store.InboxItem{UpdateID: id, ChatID: id % 3, Update: json.RawMessage(fmt.Sprintf(`{"update_id":%d}`, id)), ReceivedAt: T0}
		if id%2 == 0 {
			first = append(first, it)
		} else {
			second = append(second, it)
		}
	}
	if _, err := db.Accept(first, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Accept(second, 0); err != nil {
		t.Fatal(err)
	}
	pending, err := db.Pending()
	must(t, err)
	if len(pending) != len(first)+len(second) {
		t.Fatalf("pending = %d items; want %d", len(pending), len(first)+len(second))
	}
	for i := 1; i < len(pending); i++ {
		if pending[i-1].UpdateID >= pending[i].UpdateID {
			t.Fatalf("pending out of order at %d: %d then %d", i, pending[i-1].UpdateID, pending[i].UpdateID)
		}
	}
	if !pending[0].ReceivedAt.Equal(T0) || string(pending[0].Update) != fmt.Sprintf(`{"update_id":%d}`, pending[0].UpdateID) {
		t.Errorf("pending item not kept as accepted: %+v", pending[0])
	}
}

func enqueue(t *testing.T, db *store.DB, items ...store.OutboxItem) []uint64 {
	t.Helper()
	var ids []uint64
	must(t, db.Update(func(tx *store.Tx) error {
		ids = ids[:0]
		for _, it := range items {
			id, err := tx.Enqueue(it)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	}))
	return ids
}

func testOutbox(t *testing.T, open Opener) {
	db := fixed(open, t)
	if _, ok, err := db.OldestOutbox(); ok || err != nil {
		t.Fatalf("empty outbox: ok=%v err=%v", ok, err)
	}
	var items []store.OutboxItem
	for i := range 5 {
		items = append(items, store.OutboxItem{ChatID: int64(i % 2), Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: T0.Add(time.Duration(i) * time.Minute)})
	}
	ids := enqueue(t, db, items...)
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("outbox ids not increasing: %v", ids)
		}
	}
	got, err := db.Outbox(0, 3)
	must(t, err)
	if len(got) != 3 || got[0].ID != ids[0] || got[2].ID != ids[2] || string(got[1].Payload) != `{"n":1}` {
		t.Fatalf("Outbox(0, 3) = %+v; want the first three in order", got)
	}
	if got, _ := db.Outbox(ids[2], 10); len(got) != 2 || got[0].ID != ids[3] {
		t.Errorf("Outbox(after third) = %+v; want the last two", got)
	}
	if at, ok, _ := db.OldestOutbox(); !ok || !at.Equal(T0) {
		t.Errorf("OldestOutbox = %v, %v; want %v", at, ok, T0)
	}
	got[0].Attempts, got[0].LastError, got[0].NotBefore = 2, "429", T0.Add(time.Minute)
	must(t, db.Reschedule(got[0]))
	must(t, db.ParkOutbox("test", got[1]))
	must(t, db.Delivered(got[2].ID))
	must(t, db.Delivered(got[2].ID)) // twice: no harm
	// A rescheduled item that was delivered meanwhile is not revived.
	gone := got[2]
	gone.Attempts = 9
	must(t, db.Reschedule(gone))
	left, _ := db.Outbox(0, 10)
	if len(left) != 3 || left[0].ID != ids[0] || left[0].Attempts != 2 || left[0].LastError != "429" || !left[0].NotBefore.Equal(T0.Add(time.Minute)) ||
		left[1].ID != ids[3] || left[2].ID != ids[4] {
		t.Errorf("outbox after reschedule/park/deliver = %+v", left)
	}
	if n, _ := db.OutboxDepth(); n != 3 {
		t.Errorf("OutboxDepth = %d; want 3", n)
	}
	dead, _ := db.DeadLetters()
	if len(dead) != 1 || dead[0].Kind != store.DeadOutbox || dead[0].Ref != int64(ids[1]) || !bytes.Equal(dead[0].Payload, []byte(`{"n":1}`)) || dead[0].Reason != "test" {
		t.Errorf("dead letters = %+v", dead)
	}
	if n, _ := db.DeadLetterCount(); n != 1 {
		t.Errorf("DeadLetterCount = %d; want 1", n)
	}
	// New items come after the old ones, whatever was deleted.
	more := enqueue(t, db, store.OutboxItem{ChatID: 1, Payload: json.RawMessage(`{}`)})
	if more[0] <= ids[4] {
		t.Errorf("id after deletions = %d; want above %d", more[0], ids[4])
	}
}

func testParkUpdate(t *testing.T, open Opener) {
	db := fixed(open, t)
	upd := func(id, chat, from int64) store.InboxItem {
		return store.InboxItem{UpdateID: id, ChatID: chat, Update: json.RawMessage(fmt.Sprintf(`{"update_id":%d,"message":{"from":{"id":%d},"chat":{"id":%d}}}`, id, from, chat))}
	}
	items := []store.InboxItem{upd(1, 77, 77), upd(2, -100, 77), upd(3, 88, 88)}
	if _, err := db.Accept(items, 0); err != nil {
		t.Fatal(err)
	}
	must(t, db.Update(func(tx *store.Tx) error {
		for _, it := range items {
			if err := tx.ParkUpdate(it, "panic"); err != nil {
				return err
			}
		}
		return nil
	}))
	if p, _ := db.Pending(); len(p) != 0 {
		t.Errorf("parked updates still pending: %v", p)
	}
	if fresh, _ := db.Accept(items[:1], 0); len(fresh) != 0 {
		t.Error("a parked update was accepted again")
	}
	var n int
	must(t, db.Update(func(tx *store.Tx) (err error) { n, err = tx.DeleteDeadLetters(77); return err }))
	dead, _ := db.DeadLetters()
	if n != 2 || len(dead) != 1 || dead[0].Ref != 3 || dead[0].Kind != store.DeadUpdate {
		t.Errorf("erasing user 77 deleted %d, left %+v; want 2 deleted (own chat and group), update 3 left", n, dead)
	}
}

// testConcurrentEnqueue: writers in parallel; every id is handed out once
// and a reader following the outbox with a feed (as the sender does) sees
// every item exactly once, whatever order the writers commit in.
func testConcurrentEnqueue(t *testing.T, open Opener) {
	db := fixed(open, t)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := db.Batch(func(tx *store.Tx) error {
					_, err := tx.Enqueue(store.OutboxItem{ChatID: int64(w), Payload: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))})
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	seen := map[string]bool{}
	feed := db.OutboxFeed()
	read := func() {
		items, err := feed.Next(1000)
		if err != nil {
			t.Error(err)
			return
		}
		for _, it := range items {
			if seen[string(it.Payload)] {
				t.Errorf("item %s seen twice", it.Payload)
			}
			seen[string(it.Payload)] = true
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			read()
		}
	}
	read()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != writers*each {
		t.Errorf("reader following the outbox saw %d items; want %d (an item committed after the feed passed its id?)", len(seen), writers*each)
	}
	last := map[int64]int{}
	items, _ := db.Outbox(0, 1000)
	for _, it := range items {
		var p struct{ W, I int }
		json.Unmarshal(it.Payload, &p)
		if prev, ok := last[it.ChatID]; ok && p.I <= prev {
			t.Errorf("chat %d: item %d after %d", it.ChatID, p.I, prev)
		}
		last[it.ChatID] = p.I
	}
}

func testTransactions(t *testing.T, open Opener) {
	db := fixed(open, t)
	boom := errors.New("boom")
	err := db.Update(func(tx *store.Tx) error {
		if err := tx.PutProfile(&bansosbot.Profile{UserID: 5, Lang: "id"}); err != nil {
			return err
		}
		if _, err := tx.Enqueue(store.OutboxItem{ChatID: 5, Payload: json.RawMessage(`{}`)}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v; want the function's error", err)
	}
	db.View(func(tx *store.Tx) error {
		if p, _ := tx.Profile(5); p != nil {
			t.Errorf("profile of a rolled-back transaction: %+v", p)
		}
		if tx.Writable() {
			t.Error("View is writable")
		}
		if err := tx.PutProfile(&bansosbot.Profile{UserID: 6}); err == nil {
			t.Error("a write in View succeeded")
		}
		return nil
	})
	if n, _ := db.OutboxDepth(); n != 0 {
		t.Errorf("outbox of a rolled-back transaction: %d items", n)
	}
	// Reads in a transaction see its own writes.
	must(t, db.Update(func(tx *store.Tx) error {
		if !tx.Writable() {
			t.Error("Update is not writable")
		}
		if err := tx.PutProfile(&bansosbot.Profile{UserID: 7, Lang: "en"}); err != nil {
			return err
		}
		if p, err := tx.Profile(7); err != nil || p == nil || p.Lang != "en" {
			t.Errorf("own write = %+v, %v", p, err)
		}
		return nil
	}))
}

var openStatuses = func() []bansosbot.Status {
	var out []bansosbot.Status
	for _, s := range bansosbot.Statuses {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}()

func ids(ts []*bansosbot.Ticket) []uint64 {
	var out []uint64
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func putTickets(t *testing.T, db *store.DB, ts ...*bansosbot.Ticket) {
	t.Helper()
	must(t, db.Update(func(tx *store.Tx) error {
		for _, tk := range ts {
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	}))
}

// testTicketIndexes changes status, region, citizen and due time of stored
// tickets, one kind of change per step, and checks the queries after each.
func testTicketIndexes(t *testing.T, open Opener) {
	db := fixed(open, t)
	ts := map[uint64]*bansosbot.Ticket{}
	steps := []struct {
		name                               string
		do                                 func()
		citizen10, region32, due, region01 []uint64
	}{
		{"create", func() {
			ts[1] = &bansosbot.Ticket{ID: 1, No: "BS-2222222", CitizenID: 10, Status: bansosbot.StatusNew, Region: "32.01.01", NextCheck: T0.Add(time.Hour)}
			ts[2] = &bansosbot.Ticket{ID: 2, No: "BS-3333333", CitizenID: 10, Status: bansosbot.StatusNew, Region: "32.01.02"}
			ts[3] = &bansosbot.Ticket{ID: 3, No: "BS-4444444", CitizenID: 11, Status: bansosbot.StatusAssigned, Region: "33.01.01", NextCheck: T0.Add(3 * time.Hour)}
		}, []uint64{2, 1}, []uint64{1, 2}, []uint64{1}, []uint64{1}},
		{"status", func() { ts[1].Status = bansosbot.StatusAssigned }, []uint64{2, 1}, []uint64{2, 1}, []uint64{1}, []uint64{1}},
		{"region", func() { ts[1].Region = "32.71.01" }, []uint64{2, 1}, []uint64{2, 1}, []uint64{1}, nil},
		{"anonymised", func() { ts[2].CitizenID = 0 }, []uint64{1}, []uint64{2, 1}, []uint64{1}, nil},
		{"due", func() { ts[1].NextCheck = time.Time{}; ts[3].NextCheck = T0.Add(time.Hour) }, []uint64{1}, []uint64{2, 1}, []uint64{3}, nil},
		{"closed", func() { ts[2].Status = bansosbot.StatusWithdrawn }, []uint64{1}, []uint64{1}, []uint64{3}, nil},
		{"everything at once", func() {
			ts[3].Status, ts[3].Region, ts[3].CitizenID, ts[3].NextCheck = bansosbot.StatusInProgress, "32.01.01", 10, T0.Add(5*time.Hour)
		}, []uint64{3, 1}, []uint64{1, 3}, nil, []uint64{3}},
	}
	for _, st := range steps {
		st.do()
		putTickets(t, db, ts[1], ts[2], ts[3])
		db.View(func(tx *store.Tx) error {
			c10, err := tx.CitizenTickets(10)
			if err != nil || !slices.Equal(ids(c10), st.citizen10) {
				t.Errorf("%s: CitizenTickets(10) = %v, %v; want %v", st.name, ids(c10), err, st.citizen10)
			}
			var r32, r01, due []uint64
			tx.RegionTickets("32", openStatuses, func(tk *bansosbot.Ticket) bool { r32 = append(r32, tk.ID); return true })
			tx.RegionTickets("32.01.01", openStatuses, func(tk *bansosbot.Ticket) bool { r01 = append(r01, tk.ID); return true })
			tx.DueTickets(T0.Add(2*time.Hour), func(tk *bansosbot.Ticket) bool { due = append(due, tk.ID); return true })
			if !slices.Equal(r32, st.region32) || !slices.Equal(r01, st.region01) || !slices.Equal(due, st.due) {
				t.Errorf("%s: region 32 %v (want %v), region 32.01.01 %v (want %v), due %v (want %v)",
					st.name, r32, st.region32, r01, st.region01, due, st.due)
			}
			return nil
		})
	}
	counts, err := db.TicketCounts()
	must(t, err)
	want := []store.TicketCount{{Status: bansosbot.StatusAssigned, Province: "32", N: 1}, {Status: bansosbot.StatusInProgress, Province: "32", N: 1}, {Status: bansosbot.StatusWithdrawn, Province: "32", N: 1}}
	slices.SortFunc(counts, func(a, b store.TicketCount) int { return bytes.Compare([]byte(a.Status), []byte(b.Status)) })
	if !slices.Equal(counts, want) {
		t.Errorf("TicketCounts = %+v; want %+v", counts, want)
	}
}

func testTicketWalks(t *testing.T, open Opener) {
	db := fixed(open, t)
	var seqs []uint64
	must(t, db.Update(func(tx *store.Tx) error {
		seqs = seqs[:0]
		for i := 0; i < 40; i++ {
			seq, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			seqs = append(seqs, seq)
			tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("k")), CitizenID: 5, Status: bansosbot.StatusNew, Region: "32.01.01", CreatedAt: T0}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			for j := 0; j < 3; j++ {
				if _, err := tx.AppendEvent(tk, bansosbot.Event{Kind: fmt.Sprintf("e%d", j), At: T0}); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	db.View(func(tx *store.Tx) error {
		tk, err := tx.TicketByNo(bansosbot.NewTicketNo(seqs[7], []byte("k")))
		if err != nil || tk == nil || tk.ID != seqs[7] {
			t.Errorf("TicketByNo = %+v, %v; want ticket %d", tk, err, seqs[7])
		}
		if _, err := tx.TicketByNo("BS-0000000"); bansosbot.ErrorCode(err) != bansosbot.ENotFound {
			t.Errorf("unknown number: %v; want not found", err)
		}
		if tk, err := tx.Ticket(99999); tk != nil || bansosbot.ErrorCode(err) != bansosbot.ENotFound {
			t.Errorf("unknown id: %v, %v; want not found", tk, err)
		}
		es, err := tx.Events(seqs[3])
		if err != nil || len(es) != 3 || es[0].Kind != "e0" || es[2].Kind != "e2" || es[2].Seq <= es[0].Seq {
			t.Errorf("Events = %+v, %v; want e0 e1 e2", es, err)
		}
		var after []uint64
		tx.TicketsAfter(seqs[10], func(tk *bansosbot.Ticket) bool { after = append(after, tk.ID); return len(after) < 25 })
		if !slices.Equal(after, seqs[11:36]) {
			t.Errorf("TicketsAfter = %v; want %v", after, seqs[11:36])
		}
		n := 0
		tx.AllTickets(func(*bansosbot.Ticket) error { n++; return nil })
		if n != 40 {
			t.Errorf("AllTickets walked %d; want 40", n)
		}
		c, _ := tx.CitizenTickets(5)
		if len(c) != 40 || c[0].ID != seqs[39] {
			t.Errorf("CitizenTickets = %d tickets, first %v; want 40, newest first", len(c), ids(c[:1]))
		}
		return nil
	})
}

func testStaffInvites(t *testing.T, open Opener) {
	db := fixed(open, t)
	must(t, db.Update(func(tx *store.Tx) error {
		for _, s := range []*bansosbot.Staff{
			{UserID: 7, Name: "B", Role: bansosbot.RoleWorker, Regions: []bansosbot.RegionCode{"32.01.01"}, Active: true},
			{UserID: 3, Name: "A", Role: bansosbot.RoleSupervisor, Regions: []bansosbot.RegionCode{""}, Active: true},
			{UserID: 9, Name: "C", Role: bansosbot.RoleAdmin, Active: true},
		} {
			if err := tx.PutStaff(s); err != nil {
				return err
			}
		}
		return tx.DeleteStaff(7)
	}))
	db.View(func(tx *store.Tx) error {
		if s, err := tx.Staff(7); s != nil || err != nil {
			t.Errorf("deleted staff = %+v, %v; want nil", s, err)
		}
		s, err := tx.Staff(3)
		if err != nil || s == nil || s.Regions[0] != "" || s.CreatedAt.IsZero() {
			t.Errorf("staff 3 = %+v, %v", s, err)
		}
		var all []int64
		tx.AllStaff(func(s *bansosbot.Staff) bool { all = append(all, s.UserID); return true })
		if !slices.Equal(all, []int64{3, 9}) {
			t.Errorf("AllStaff = %v; want [3 9]", all)
		}
		return nil
	})
	must(t, db.Update(func(tx *store.Tx) error {
		a, _ := tx.NextInviteSeq()
		b, _ := tx.NextInviteSeq()
		if a == b {
			t.Errorf("invite sequence repeats: %d", a)
		}
		if err := tx.PutInvite(&bansosbot.Invite{}); err == nil {
			t.Error("an invite without hash was stored")
		}
		for i, exp := range []time.Time{T0.Add(-time.Hour), T0.Add(time.Hour)} {
			if err := tx.PutInvite(&bansosbot.Invite{CodeHash: bansosbot.HashInviteCode(nil, string(rune('A'+i))), Role: bansosbot.RoleWorker, ExpiresAt: exp}); err != nil {
				return err
			}
		}
		return nil
	}))
	n, err := db.PurgeInvites(T0)
	if err != nil || n != 1 {
		t.Fatalf("PurgeInvites = %d, %v; want 1", n, err)
	}
	db.View(func(tx *store.Tx) error {
		if inv, _ := tx.Invite(bansosbot.HashInviteCode(nil, "A")); inv != nil {
			t.Errorf("expired invite kept: %+v", inv)
		}
		if inv, _ := tx.Invite(bansosbot.HashInviteCode(nil, "B")); inv == nil || inv.Role != bansosbot.RoleWorker {
			t.Errorf("valid invite = %+v; want it kept", inv)
		}
		n := 0
		tx.Invites(func(*bansosbot.Invite) bool { n++; return true })
		if n != 1 {
			t.Errorf("Invites = %d; want 1", n)
		}
		return nil
	})
}

func testAudit(t *testing.T, open Opener) {
	db := fixed(open, t)
	entries := []bansosbot.AuditEntry{
		{Actor: 601, Action: bansosbot.AuditView, TicketID: 1, Allowed: true},
		{Actor: 602, Action: bansosbot.AuditClaim, TicketID: 1, Reason: "region"},
		{Actor: 601, Action: bansosbot.AuditQueue, Allowed: true},
		{Action: bansosbot.AuditRoute, TicketID: 2, Allowed: true},
		{Actor: 601, Action: bansosbot.AuditView, TicketID: 256, Allowed: true},
	}
	must(t, db.Update(func(tx *store.Tx) error {
		for i := range entries {
			if err := tx.AppendAudit(&entries[i]); err != nil {
				return err
			}
		}
		return nil
	}))
	seqs := func(es []bansosbot.AuditEntry) []uint64 {
		var out []uint64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	db.View(func(tx *store.Tx) error {
		for _, tt := range []struct {
			name string
			get  func() ([]bansosbot.AuditEntry, error)
			want []uint64
		}{
			{"ticket 1", func() ([]bansosbot.AuditEntry, error) { return tx.AuditByTicket(1) }, []uint64{1, 2}},
			{"ticket 2", func() ([]bansosbot.AuditEntry, error) { return tx.AuditByTicket(2) }, []uint64{4}},
			{"ticket 3", func() ([]bansosbot.AuditEntry, error) { return tx.AuditByTicket(3) }, nil},
			{"staff 601", func() ([]bansosbot.AuditEntry, error) { return tx.AuditByStaff(601) }, []uint64{1, 3, 5}},
			{"staff 602", func() ([]bansosbot.AuditEntry, error) { return tx.AuditByStaff(602) }, []uint64{2}},
		} {
			got, err := tt.get()
			if err != nil || !slices.Equal(seqs(got), tt.want) {
				t.Errorf("%s: %v, %v; want seqs %v", tt.name, seqs(got), err, tt.want)
			}
		}
		var all []uint64
		tx.AuditLog(1, func(e bansosbot.AuditEntry) bool { all = append(all, e.Seq); return len(all) < 3 })
		if !slices.Equal(all, []uint64{2, 3, 4}) {
			t.Errorf("AuditLog(after 1, 3 entries) = %v", all)
		}
		return nil
	})
	must(t, db.Update(func(tx *store.Tx) error { return tx.ClearAuditActor(2) }))
	db.View(func(tx *store.Tx) error {
		if got, _ := tx.AuditByStaff(602); len(got) != 0 {
			t.Errorf("AuditByStaff(602) after clearing = %v", seqs(got))
		}
		if got, _ := tx.AuditByTicket(1); len(got) != 2 || got[1].Actor != 0 {
			t.Errorf("AuditByTicket(1) after clearing = %+v; want the entry kept without actor", got)
		}
		return nil
	})
}

func testAllow(t *testing.T, open Opener) {
	db := fixed(open, t)
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {10 * time.Second, true}, {20 * time.Second, true}, {30 * time.Second, false}, {61 * time.Second, true}, {62 * time.Second, false}}
	for _, s := range steps {
		var ok, peek bool
		err := db.Update(func(tx *store.Tx) (err error) {
			if peek, _, err = tx.Peek("k", 3, time.Minute, T0.Add(s.at)); err != nil {
				return err
			}
			ok, _, err = tx.Allow("k", 3, time.Minute, T0.Add(s.at))
			return err
		})
		if err != nil || ok != s.want || peek != s.want {
			t.Errorf("Allow at +%v = %v (peek %v), %v; want %v", s.at, ok, peek, err, s.want)
		}
	}
	var wait time.Duration
	db.Update(func(tx *store.Tx) (err error) {
		_, wait, err = tx.Allow("k", 3, time.Minute, T0.Add(63*time.Second))
		return
	})
	if wait <= 0 || wait > time.Minute {
		t.Errorf("retry after = %v; want within the window", wait)
	}
	if n, _ := db.PurgeCounters(T0.Add(time.Hour)); n != 1 {
		t.Errorf("PurgeCounters = %d; want 1", n)
	}
}

func testRetention(t *testing.T, open Opener) {
	now := T0
	db := open(t, store.Options{Now: func() time.Time { return now }})
	old := now.Add(-40 * 24 * time.Hour)
	must(t, db.Update(func(tx *store.Tx) error {
		tx.PutSession(&bansosbot.Session{UserID: 1, Flow: "rp", State: "desc", Draft: []byte(`{"d":"x"}`), UpdatedAt: old})
		tx.PutSession(&bansosbot.Session{UserID: 2, Step: 4, UpdatedAt: old})
		tx.PutSession(&bansosbot.Session{UserID: 3, Flow: "rp", UpdatedAt: now})
		tx.PutSession(&bansosbot.Session{UserID: 4, Held: []byte(`{"Text":"x"}`), UpdatedAt: old})
		return tx.ParkUpdate(store.InboxItem{UpdateID: 7, ChatID: 1, Update: json.RawMessage(`{"text":"NIK 3201"}`)}, "panic")
	}))
	var got []int64
	db.View(func(tx *store.Tx) error {
		ss, err := tx.IdleSessions(now.Add(-30 * 24 * time.Hour))
		for _, s := range ss {
			got = append(got, s.UserID)
		}
		return err
	})
	if !slices.Equal(got, []int64{1, 4}) {
		t.Errorf("IdleSessions = %v; want [1 4]", got)
	}
	if n, err := db.PurgeDeadLetters(now.Add(-time.Hour)); n != 0 || err != nil {
		t.Errorf("purge of fresh dead letters removed %d (%v)", n, err)
	}
	if n, err := db.PurgeDeadLetters(now.Add(time.Hour)); n != 1 || err != nil {
		t.Errorf("purge of old dead letters removed %d (%v); want 1", n, err)
	}
	// Erasure of a user: profile, session, subscription and tickets'
	// personal data are gone; the ticket stays, without its citizen.
	must(t, db.Update(func(tx *store.Tx) error {
		if err := tx.PutProfile(&bansosbot.Profile{UserID: 1, Lang: "id"}); err != nil {
			return err
		}
		return tx.PutTicket(&bansosbot.Ticket{ID: 1, No: "BS-1111111", CitizenID: 1, Status: bansosbot.StatusClosed, Region: "32.01.01", Description: "rumah saya"})
	}))
	must(t, db.Update(func(tx *store.Tx) error {
		if err := tx.DeleteProfile(1); err != nil {
			return err
		}
		tk, err := tx.Ticket(1)
		if err != nil {
			return err
		}
		tk.CitizenID, tk.Description = 0, ""
		return tx.PutTicket(tk)
	}))
	db.View(func(tx *store.Tx) error {
		if p, _ := tx.Profile(1); p != nil {
			t.Errorf("profile after erasure: %+v", p)
		}
		if s, _ := tx.Session(1); s != nil && (s.Flow != "" || s.Draft != nil) {
			t.Errorf("session after erasure: %+v", s)
		}
		if c, _ := tx.CitizenTickets(1); len(c) != 0 {
			t.Errorf("citizen index after erasure: %v", ids(c))
		}
		if tk, _ := tx.Ticket(1); tk == nil || tk.Description != "" {
			t.Errorf("ticket after erasure: %+v", tk)
		}
		return nil
	})
}

func testProfiles(t *testing.T, open Opener) {
	db := fixed(open, t)
	must(t, db.Update(func(tx *store.Tx) error {
		if err := tx.PutProfile(&bansosbot.Profile{UserID: -5, Lang: "en"}); err != nil { // a negative id (a group) sorts apart
			return err
		}
		return tx.PutSession(&bansosbot.Session{UserID: -5, Flow: "ck", State: "nik", Draft: []byte(`{}`)})
	}))
	db.View(func(tx *store.Tx) error {
		p, err := tx.Profile(-5)
		if err != nil || p == nil || p.Lang != "en" || !p.CreatedAt.Equal(T0) || !p.UpdatedAt.Equal(T0) {
			t.Errorf("Profile = %+v, %v", p, err)
		}
		s, err := tx.Session(-5)
		if err != nil || s == nil || s.Flow != "ck" || s.State != "nik" {
			t.Errorf("Session = %+v, %v", s, err)
		}
		if s, err := tx.Session(6); err != nil || s == nil || s.UserID != 6 || s.Flow != "" {
			t.Errorf("unknown user's session = %+v, %v; want a fresh one", s, err)
		}
		if p, err := tx.Profile(6); p != nil || err != nil {
			t.Errorf("unknown profile = %+v, %v", p, err)
		}
		return nil
	})
}

// testPrompts: a chat's delivered prompt (the outbox's record of its
// message id) reads back, the last recorded wins, DeletePrompt forgets it,
// and erasing the user (DeleteProfile) takes it too; a store that never
// recorded one answers nil.
func testPrompts(t *testing.T, open Opener) {
	db := fixed(open, t)
	prompt := func(chat int64) *bansosbot.Prompt {
		t.Helper()
		var p *bansosbot.Prompt
		must(t, db.View(func(tx *store.Tx) error {
			var err error
			p, err = tx.Prompt(chat)
			return err
		}))
		return p
	}
	if p := prompt(7); p != nil {
		t.Errorf("Prompt before any = %+v; want nil", p)
	}
	must(t, db.PutPrompt(7, bansosbot.Prompt{MessageID: 100, Flow: "rp", Step: 3}))
	must(t, db.PutPrompt(7, bansosbot.Prompt{MessageID: 104, Flow: "rp", Step: 4}))
	must(t, db.PutPrompt(8, bansosbot.Prompt{MessageID: 9, Flow: "ck", Step: 1}))
	if p := prompt(7); p == nil || *p != (bansosbot.Prompt{MessageID: 104, Flow: "rp", Step: 4}) {
		t.Errorf("Prompt(7) = %+v; want message 104 of rp step 4", p)
	}
	must(t, db.Update(func(tx *store.Tx) error { return tx.DeletePrompt(7) }))
	must(t, db.Update(func(tx *store.Tx) error { return tx.DeletePrompt(7) })) // twice: nothing to do
	if p := prompt(7); p != nil {
		t.Errorf("Prompt(7) after DeletePrompt = %+v; want nil", p)
	}
	must(t, db.Update(func(tx *store.Tx) error {
		if err := tx.PutProfile(&bansosbot.Profile{UserID: 8, Lang: "id"}); err != nil {
			return err
		}
		return tx.DeleteProfile(8)
	}))
	if p := prompt(8); p != nil {
		t.Errorf("Prompt(8) after the user's erasure = %+v; want nil", p)
	}
}

func testWeb(t *testing.T, open Opener) {
	db := fixed(open, t)
	must(t, db.Update(func(tx *store.Tx) error {
		if err := tx.PutWebLogin([]byte("old"), 1, T0.Add(-time.Minute), T0.Add(-2*time.Minute)); err != nil {
			return err
		}
		return tx.PutWebLogin([]byte("h1"), 42, T0.Add(10*time.Minute), T0)
	}))
	var first, second *store.WebLogin
	must(t, db.Update(func(tx *store.Tx) (err error) { first, err = tx.UseWebLogin([]byte("h1")); return }))
	must(t, db.Update(func(tx *store.Tx) (err error) { second, err = tx.UseWebLogin([]byte("h1")); return }))
	if first == nil || first.Used || first.UserID != 42 || second == nil || !second.Used {
		t.Errorf("UseWebLogin twice = %+v, %+v; want unused then used", first, second)
	}
	must(t, db.Update(func(tx *store.Tx) error {
		if l, err := tx.UseWebLogin([]byte("old")); l != nil || err != nil {
			t.Errorf("expired login kept after a newer one: %+v, %v", l, err)
		}
		return tx.PutWebSession([]byte("s1"), store.WebSession{UserID: 42, Created: T0, Expires: T0.Add(12 * time.Hour)}, T0)
	}))
	db.View(func(tx *store.Tx) error {
		s, err := tx.WebSession([]byte("s1"))
		if err != nil || s == nil || s.UserID != 42 {
			t.Errorf("WebSession = %+v, %v", s, err)
		}
		return nil
	})
	must(t, db.Update(func(tx *store.Tx) error { return tx.DeleteWebSession([]byte("s1")) }))
	db.View(func(tx *store.Tx) error {
		if s, err := tx.WebSession([]byte("s1")); s != nil || err != nil {
			t.Errorf("deleted session = %+v, %v", s, err)
		}
		return nil
	})
}

func testAnnouncements(t *testing.T, open Opener) {
	db := fixed(open, t)
	must(t, db.Update(func(tx *store.Tx) error {
		for _, id := range []int64{30, 10, 20} {
			if err := tx.PutSubscription(&bansosbot.Subscription{UserID: id, Lang: "id", Regions: []bansosbot.RegionCode{"32.01"}, ConsentAt: T0}); err != nil {
				return err
			}
		}
		return tx.DeleteSubscription(20)
	}))
	var subs []int64
	db.View(func(tx *store.Tx) error {
		return tx.Subscriptions(0, func(s *bansosbot.Subscription) bool { subs = append(subs, s.UserID); return true })
	})
	if !slices.Equal(subs, []int64{10, 30}) {
		t.Errorf("Subscriptions = %v; want [10 30]", subs)
	}
	var first, again bool
	must(t, db.Update(func(tx *store.Tx) (err error) {
		id, err := tx.NextAnnouncementSeq()
		if err != nil {
			return err
		}
		if err := tx.PutAnnouncement(&bansosbot.Announcement{ID: id, CreatedAt: T0}); err != nil {
			return err
		}
		if first, err = tx.MarkAnnounced(id, 10); err != nil {
			return err
		}
		again, err = tx.MarkAnnounced(id, 10)
		return err
	}))
	if !first || again {
		t.Errorf("MarkAnnounced twice = %v, %v; want true, false (exactly once)", first, again)
	}
	n := 0
	db.View(func(tx *store.Tx) error {
		return tx.Announcements(func(*bansosbot.Announcement) bool { n++; return true })
	})
	if n != 1 {
		t.Errorf("Announcements = %d; want 1", n)
	}
}

func testStats(t *testing.T, open Opener) {
	db := fixed(open, t)
	add := func(name string, n uint64) error {
		return db.Update(func(tx *store.Tx) error { return tx.AddStat(name, n) })
	}
	must(t, add("lookup/answered", 2))
	must(t, add("lookup/answered", 3))
	must(t, add("refused/messages", 1))
	boom := errors.New("boom")
	if err := db.Update(func(tx *store.Tx) error { tx.AddStat("lookup/answered", 100); return boom }); err != boom {
		t.Fatal(err)
	}
	got, err := db.Stats()
	must(t, err)
	if got["lookup/answered"] != 5 || got["refused/messages"] != 1 || len(got) != 2 {
		t.Errorf("Stats = %v; want lookup/answered=5 refused/messages=1", got)
	}
}

func testVersion(t *testing.T, open Opener) {
	db := fixed(open, t)
	if v, err := db.Version(); v != store.SchemaVersion() || err != nil {
		t.Errorf("Version = %d, %v; want %d", v, err, store.SchemaVersion())
	}
}
