package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

func feedIDs(t *testing.T, f bansosbot.OutboxFeed, limit int) []uint64 {
	t.Helper()
	items, err := f.Next(limit)
	must(t, err)
	var out []uint64
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// testOutboxFeed: a feed hands out each item once, in id order and in
// pieces of its limit; a delivered or parked item is gone, a rescheduled
// one stays with the feed that has it; a new feed (a sender starting on
// another replica) hands out again everything left.
func testOutboxFeed(t *testing.T, open Opener) {
	db := fixed(open, t)
	var items []store.OutboxItem
	for i := range 5 {
		items = append(items, store.OutboxItem{ChatID: int64(i % 2), Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	ids := enqueue(t, db, items...)
	f := db.OutboxFeed()
	if got := feedIDs(t, f, 3); !slices.Equal(got, ids[:3]) {
		t.Fatalf("first Next(3) = %v; want %v", got, ids[:3])
	}
	if got := feedIDs(t, f, 10); !slices.Equal(got, ids[3:]) {
		t.Fatalf("second Next = %v; want %v", got, ids[3:])
	}
	if got := feedIDs(t, f, 10); len(got) != 0 {
		t.Errorf("Next with nothing new = %v", got)
	}
	must(t, db.Delivered(ids[0]))
	must(t, db.ParkOutbox("test", store.OutboxItem{ID: ids[1], ChatID: 1}))
	it, err := db.Outbox(ids[2]-1, 1)
	must(t, err)
	it[0].Attempts = 1
	must(t, db.Reschedule(it[0]))
	more := enqueue(t, db, store.OutboxItem{ChatID: 3, Payload: json.RawMessage(`{"n":5}`)})
	if got := feedIDs(t, f, 10); !slices.Equal(got, more) {
		t.Errorf("Next after new item, delivery, parking and rescheduling = %v; want only the new %v", got, more)
	}
	g := db.OutboxFeed()
	want := append(slices.Clone(ids[2:]), more...)
	got, err := g.Next(10)
	must(t, err)
	var gotIDs []uint64
	for _, it := range got {
		gotIDs = append(gotIDs, it.ID)
	}
	if !slices.Equal(gotIDs, want) || got[0].Attempts != 1 || string(got[1].Payload) != `{"n":3}` {
		t.Errorf("a new feed = %+v; want %v, the rescheduled one with its attempt", got, want)
	}
}

// testClaimUpdate: an update in the inbox is claimed for handling, one
// processed is done (skipped), and the claim and the processed mark go
// together in one transaction.
func testClaimUpdate(t *testing.T, open Opener) {
	db := fixed(open, t)
	if _, err := db.Accept([]store.InboxItem{{UpdateID: 21, ChatID: 1, Update: json.RawMessage(`{}`)}, {UpdateID: 22, ChatID: 1, Update: json.RawMessage(`{}`)}}, 0); err != nil {
		t.Fatal(err)
	}
	claim := func(id int64, mark bool) bool {
		var done bool
		must(t, db.Update(func(tx *store.Tx) (err error) {
			if done, err = tx.ClaimUpdate(id); err != nil || done || !mark {
				return err
			}
			return tx.MarkProcessed(id)
		}))
		return done
	}
	if claim(21, true) {
		t.Error("an update in the inbox claimed as done")
	}
	if !claim(21, false) {
		t.Error("a processed update claimed again")
	}
	if claim(22, false) || claim(22, false) {
		t.Error("an update claimed without being processed came back done")
	}
	if claim(23, false) {
		t.Error("an update never accepted claimed as done")
	}
	if p, _ := db.Pending(); len(p) != 1 || p[0].UpdateID != 22 {
		t.Errorf("pending = %+v; want 22 alone", p)
	}
}
