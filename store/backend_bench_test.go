package store

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
)

// BenchmarkPipelineRoundTrip measures one update's way through the store
// as the bot drives it, on bbolt without fsync: Accept, a transaction that
// reads the profile and session, writes the session, checks a rate limit,
// stores a ticket with an event and enqueues a reply, then the outbox read
// and the delivered mark. It is the figure that must not get worse when the
// store gains another backend (issue 16). Run with
//
//	go test ./store -run '^$' -bench BenchmarkPipelineRoundTrip -count 5
func BenchmarkPipelineRoundTrip(b *testing.B) {
	db := MustOpenDB(b)
	payload := json.RawMessage(`{"method":"sendMessage","text":"Terima kasih, laporan Bapak/Ibu sudah kami terima."}`)
	upd := int64(0)
	for b.Loop() {
		upd++
		chat := 1000 + upd%50
		fresh, err := db.Accept([]InboxItem{{UpdateID: upd, ChatID: chat, Update: json.RawMessage(`{"update_id":1}`), ReceivedAt: t0}}, upd+1)
		if err != nil || len(fresh) != 1 {
			b.Fatal(err, len(fresh))
		}
		err = db.Update(func(tx *Tx) error {
			if _, err := tx.Profile(chat); err != nil {
				return err
			}
			s, err := tx.Session(chat)
			if err != nil {
				return err
			}
			if err := tx.PutSession(s); err != nil {
				return err
			}
			if _, _, err := tx.Allow(fmt.Sprintf("msg:%d", chat), 1000, time.Minute, t0); err != nil {
				return err
			}
			seq, err := tx.NextTicketSeq()
			if err != nil {
				return err
			}
			tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("bench")), Category: "OTHER",
				CitizenID: chat, Region: "32.01.01", Status: bansosbot.StatusNew, CreatedAt: t0, UpdatedAt: t0,
				NextCheck: t0.Add(72 * time.Hour)}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(tk, bansosbot.Event{Kind: "created", At: t0}); err != nil {
				return err
			}
			if _, err := tx.Enqueue(OutboxItem{ChatID: chat, Payload: payload}); err != nil {
				return err
			}
			return tx.MarkProcessed(upd)
		})
		if err != nil {
			b.Fatal(err)
		}
		items, err := db.Outbox(0, 10)
		if err != nil || len(items) != 1 {
			b.Fatal(err, len(items))
		}
		if err := db.Delivered(items[0].ID); err != nil {
			b.Fatal(err)
		}
	}
}
