package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
)

// BenchmarkTicketListing measures the two request-path listings, one
// citizen's tickets and one region's open tickets, in stores holding
// 10,000 and 1,000,000 tickets. The citizen (5 tickets) and the kecamatan
// (20 open and 20 closed tickets) are the same in both stores, so with
// working indexes the times should be nearly equal. Run with
//
//	go test ./store -run '^$' -bench BenchmarkTicketListing -benchtime 20000x -timeout 30m
//
// Populating the large store takes a minute or two and ~1 GB in the
// temporary directory.
func BenchmarkTicketListing(b *testing.B) {
	for _, total := range []int{10_000, 1_000_000} {
		if testing.Short() && total > 10_000 {
			continue
		}
		db := populateTickets(b, total)
		b.Run(fmt.Sprintf("citizen/tickets=%d", total), func(b *testing.B) {
			for b.Loop() {
				err := db.View(func(tx *Tx) error {
					ts, err := tx.CitizenTickets(benchCitizen)
					if err == nil && len(ts) != 5 {
						err = fmt.Errorf("citizen has %d tickets; want 5", len(ts))
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("region_open/tickets=%d", total), func(b *testing.B) {
			for b.Loop() {
				n := 0
				err := db.View(func(tx *Tx) error {
					return tx.RegionTickets(benchRegion, openStatuses, func(*bansosbot.Ticket) bool { n++; return true })
				})
				if err == nil && n != 20 {
					err = fmt.Errorf("region has %d open tickets; want 20", n)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

const benchCitizen = 4242

var benchRegion = bansosbot.RegionCode("32.01.01")

// populateTickets fills a store with total tickets through PutTicket, in
// large transactions without fsync: the benchmark's own citizen and
// kecamatan get fixed tickets, the rest is spread over other citizens
// (about 3 each), ~7,000 other kecamatan codes and every status.
func populateTickets(b *testing.B, total int) *DB {
	b.Helper()
	db := openTicketDB(b)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	const batch = 50_000
	desc := "Bantuan PKH tahap ketiga belum masuk ke rekening sejak Agustus; sudah bertanya ke pendamping tetapi belum ada jawaban."
	for done := 0; done < total; {
		err := db.Update(func(tx *Tx) error {
			for i := 0; i < batch && done < total; i++ {
				seq, err := tx.NextTicketSeq()
				if err != nil {
					return err
				}
				at := t0.Add(time.Duration(seq) * time.Minute)
				tk := &bansosbot.Ticket{ID: seq, No: bansosbot.NewTicketNo(seq, []byte("bench")), Category: "OTHER",
					Description: desc, CitizenID: int64(100_000 + rng.IntN(total/3+1)),
					Region:    bansosbot.RegionCode(fmt.Sprintf("%02d.%02d.%02d", 11+rng.IntN(80), 1+rng.IntN(30), 1+rng.IntN(30))),
					Status:    bansosbot.Statuses[rng.IntN(len(bansosbot.Statuses))],
					CreatedAt: at, UpdatedAt: at, DueResponse: at.Add(72 * time.Hour), DueResolve: at.Add(60 * 24 * time.Hour)}
				if tk.Region == benchRegion {
					tk.Region = "32.01.02"
				}
				switch {
				case done%(total/5) == 0: // 5 tickets of the benchmark's citizen
					tk.CitizenID = benchCitizen
				case done%(total/40) == 1: // 40 tickets in the benchmark's kecamatan, half open
					tk.Region = benchRegion
					tk.Status = bansosbot.StatusNew
					if (done/(total/40))%2 == 1 {
						tk.Status = bansosbot.StatusClosed
					}
				}
				if tk.Status.Open() {
					tk.NextCheck = tk.DueResponse
				}
				if err := tx.PutTicket(tk); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("populated %d tickets in %v", total, time.Since(start).Round(time.Millisecond))
	return db
}
