package bot

import (
	"testing"
	"time"

	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// TestSharedSenderLoadsWhatOthersStored: in shared mode the replica
// holding the sender lease looks at the outbox every Scan, so the replies
// another replica stored (which kicks its own sender, not this one) go
// out within that, not at the sender's idle minute (issue 16 item 6; the
// two-replica polling test waited on it under load).
func TestSharedSenderLoadsWhatOthersStored(t *testing.T) {
	r := newClockRig(t, Config{Shared: true, ReplicaID: "a", Scan: 100 * time.Millisecond})
	if !r.s.Sends() {
		t.Fatalf("the only replica does not send; leases %v", r.s.LeasesHeld())
	}
	const chat = 4242
	reply := flows.Reply{Action: flows.Send, ChatID: chat, Lang: "id", Text: []flows.Msg{flows.T("announce.sub_not_found", "Query", "x")}}
	// Stored as another replica's shard stores it: no kick here.
	if err := r.db.Update(func(tx *store.Tx) error { return r.s.enqueueReplies(tx, []flows.Reply{reply}) }); err != nil {
		t.Fatal(err)
	}
	start := r.clk.Now()
	r.runUntil("the reply delivered", func() bool { return len(r.fake.BotMessages(chat)) > 0 })
	// A Scan or two (the sender may look once before the reply is
	// there), not the idle minute.
	if waited := r.clk.Now().Sub(start); waited >= 10*r.s.cfg.Scan {
		t.Errorf("the reply went out %v after it was stored (fake clock); want within a few Scan intervals (%v)", waited, r.s.cfg.Scan)
	}
}
