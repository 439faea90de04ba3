package flows_test

import (
	"testing"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

// TestTicketNumbersUniqueAcrossRotation: after a secret rotation the ticket
// key changes, and the new key's number for the next sequence number may
// be one an older ticket already has; the new ticket takes the next free
// number instead of taking the old one's (issue 10 item 16).
func TestTicketNumbersUniqueAcrossRotation(t *testing.T) {
	h := newHarness(t, quiet())
	key := h.Engine.Config().TicketKey
	// An older ticket (id 1) whose number, made under the former key,
	// happens to be what the current key gives sequence number 2.
	taken := bansosbot.NewTicketNo(2, key)
	err := h.DB.Update(func(tx *store.Tx) error {
		seq, err := tx.NextTicketSeq()
		if err != nil {
			return err
		}
		return tx.PutTicket(&bansosbot.Ticket{ID: seq, No: taken, Category: "OTHER", Region: cibinong,
			CitizenID: 9, Status: bansosbot.StatusNew, CreatedAt: h.now, UpdatedAt: h.now})
	})
	if err != nil {
		t.Fatal(err)
	}
	fileByChat(t, h, 503)
	no := filedNo(t, h)
	if no == string(taken) {
		t.Fatalf("the new ticket got %s, the number of the older ticket", no)
	}
	h.DB.View(func(tx *store.Tx) error {
		old, err := tx.TicketByNo(taken)
		if err != nil || old.ID != 1 {
			t.Errorf("TicketByNo(%s) = %+v, %v; want the older ticket 1", taken, old, err)
		}
		nw, err := tx.TicketByNo(bansosbot.TicketNo(no))
		if err != nil || nw.ID == 1 || nw.CitizenID != 503 {
			t.Errorf("TicketByNo(%s) = %+v, %v; want the new ticket", no, nw, err)
		}
		return nil
	})
}
