package store_test

import (
	"slices"
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

func TestAuditIndexes(t *testing.T) {
	db := openDB(t)
	entries := []bansosbot.AuditEntry{
		{Actor: 601, Action: bansosbot.AuditView, TicketID: 1, Allowed: true},
		{Actor: 602, Action: bansosbot.AuditClaim, TicketID: 1, Reason: "region"},
		{Actor: 601, Action: bansosbot.AuditQueue, Allowed: true},
		{Action: bansosbot.AuditRoute, TicketID: 2, Allowed: true}, // the system
		{Actor: 601, Action: bansosbot.AuditView, TicketID: 256, Allowed: true},
	}
	err := db.Update(func(tx *store.Tx) error {
		for i := range entries {
			if err := tx.AppendAudit(&entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
		got, _ := tx.AuditByStaff(602)
		if got[0].At.IsZero() || got[0].Allowed || got[0].Reason != "region" {
			t.Errorf("entry = %+v; want stamped, refused, reason kept", got[0])
		}
		return nil
	})
}
