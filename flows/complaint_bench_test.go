package flows_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
)

// BenchmarkFileComplaint files complaints through the engine, each a full
// conversation of 8 inputs (/lapor, category button, region and village by name,
// description, skip photos, skip phone, send), every input in its own
// durable bbolt transaction (fsync on commit), like the bot's dispatcher.
// "sequential" runs one conversation after the other with DB.Update;
// "parallel" runs many citizens at once with DB.Batch (group commit), as
// the dispatcher's shards do. Run with
//
//	go test ./flows -run '^$' -bench BenchmarkFileComplaint -benchtime 200x
func BenchmarkFileComplaint(b *testing.B) {
	for _, mode := range []string{"sequential", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			e := flows.NewEngine(flows.Config{TicketKey: []byte("bench"), Limits: flows.Limits{OpenTickets: 1 << 30}})
			// Citizens who already agreed to the privacy notice.
			if err := db.Update(func(tx *store.Tx) error {
				for i := range b.N {
					p := &bansosbot.Profile{UserID: int64(1_000_000 + i), Lang: "id", ConsentVersion: bansosbot.ConsentVersion, ConsentAt: time.Now()}
					if err := tx.PutProfile(p); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			commit := db.Update
			if mode == "parallel" {
				commit = db.Batch
			}
			var next atomic.Int64
			file := func() {
				c := benchCitizen{b: b, e: e, commit: commit, id: 1_000_000 + next.Add(1) - 1}
				c.text("/lapor")
				c.press("c:OTHER")
				c.text("cibinong")
				c.text("pakansari")
				c.text("Bantuan PKH tahap ketiga belum masuk ke rekening saya sejak Agustus.")
				c.press("done")
				c.press("skip")
				c.press("send")
				if !c.saw("complaint.filed") {
					b.Errorf("citizen %d: no ticket filed", c.id)
				}
			}
			b.ResetTimer()
			if mode == "sequential" {
				for range b.N {
					file()
				}
			} else {
				b.SetParallelism(32) // 64 chats at once on 2 CPUs, as with real traffic
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						file()
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
		})
	}
}

// benchCitizen is one citizen's chat in the benchmark.
type benchCitizen struct {
	b       *testing.B
	e       *flows.Engine
	commit  func(func(*store.Tx) error) error
	id      int64
	update  int64
	replies []flows.Reply
}

func (c *benchCitizen) do(in flows.Input) {
	c.update++
	in.UserID, in.ChatID, in.ChatType, in.UpdateID = c.id, c.id, "private", c.id<<8|c.update
	err := c.commit(func(tx *store.Tx) error {
		o, err := c.e.Handle(context.Background(), tx, in)
		c.replies = o.Replies
		return err
	})
	if err != nil {
		c.b.Error(err) // Fatal may not be called from RunParallel's goroutines
	}
}

func (c *benchCitizen) text(s string) {
	in := flows.Input{Text: s}
	if strings.HasPrefix(s, "/") {
		in.Command = s
	}
	c.do(in)
}

func (c *benchCitizen) press(payload string) {
	for _, r := range c.replies {
		for _, row := range r.Buttons {
			for _, btn := range row {
				if strings.HasSuffix(btn.Data, "."+payload) {
					c.do(flows.Input{Callback: &flows.Callback{ID: "cb", Data: btn.Data}})
					return
				}
			}
		}
	}
	c.b.Errorf("citizen %d: no button %q", c.id, payload)
}

func (c *benchCitizen) saw(key string) bool {
	for _, r := range c.replies {
		for _, m := range r.Text {
			if m.Key == key {
				return true
			}
		}
	}
	return false
}
