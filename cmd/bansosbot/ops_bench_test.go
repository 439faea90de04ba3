package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Operations benchmarks on a store of realistic size: run with
//
//	go test ./cmd/bansosbot -run '^$' -bench 'Ops' -benchtime 1x -ops.tickets 100000
//
// They report the cost of a /metrics scrape, of a monthly report and of a
// retention run that purges every ticket (the first run on a store that
// kept everything), with the free pages scrubbed.

var (
	opsTickets = flag.Int("ops.tickets", 20000, "tickets in the operations benchmarks")
	opsKab     = flag.Int("ops.kab", 4, "kabupaten/kota per province in the operations benchmarks (five provinces)")
	opsKec     = flag.Int("ops.kec", 2, "kecamatan per kabupaten/kota in the operations benchmarks")
)

// opsStore fills a store with n tickets of 2026 over 40 kecamatan of
// five provinces (all time zones): a fifth open, the rest final; each
// with three history events and a description, a phone and a photo.
func opsStore(b testing.TB, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), store.FileName)
	db, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	provinces := []string{"11", "32", "35", "73", "91"}
	cats := bansosbot.DefaultCategories()
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		err := db.Update(func(tx *store.Tx) error {
			for i := 0; i < 2000 && done < n; i++ {
				id, _ := tx.NextTicketSeq()
				region := bansosbot.RegionCode(fmt.Sprintf("%s.%02d.%02d", provinces[rng.IntN(len(provinces))], 1+rng.IntN(*opsKab), 1+rng.IntN(*opsKec)))
				created := start.Add(time.Duration(rng.Int64N(int64(320 * 24 * time.Hour))))
				t := &bansosbot.Ticket{ID: id, No: bansosbot.NewTicketNo(id, []byte("bench")), Category: cats[rng.IntN(len(cats))].Code,
					Region: region, Description: "Bantuan belum diterima, rumah di jalan nomor " + fmt.Sprint(id),
					Phone: "+62812" + fmt.Sprint(10000000+id), CitizenID: int64(100000 + id),
					Attachments: []bansosbot.Attachment{{FileID: "AgAC" + fmt.Sprint(id), FileUniqueID: "u" + fmt.Sprint(id)}},
					CreatedAt:   created, FirstResponseAt: created.Add(20 * time.Hour), DueResponse: created.Add(72 * time.Hour),
					DueResolve: created.Add(60 * 24 * time.Hour), Status: bansosbot.StatusClosed}
				if rng.IntN(5) == 0 {
					t.Status = bansosbot.StatusInProgress
				} else {
					t.ResolvedAt, t.ClosedAt, t.Rating = created.Add(5*24*time.Hour), created.Add(6*24*time.Hour), 1+rng.IntN(5)
				}
				for _, ev := range []bansosbot.Event{
					{At: created, Role: "citizen", Kind: bansosbot.EventCreated, Text: t.Description},
					{At: t.FirstResponseAt, Role: "worker", Kind: bansosbot.EventStatus, From: "new", To: "in_progress", Text: "Sedang kami periksa"},
					{At: t.FirstResponseAt, Role: "worker", Kind: bansosbot.EventMessage, Text: "Mohon ditunggu, Bapak/Ibu"},
				} {
					if _, err := tx.AppendEvent(t, ev); err != nil {
						return err
					}
				}
				if err := tx.PutTicket(t); err != nil {
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
	return path
}

// opsTallied is opsStore's file with the report counters built (the
// start-up migration of a database from before them), kept in
// $TMPDIR/bansosbot-bench between runs: building a million tickets takes
// minutes. It returns the store opened with the counters kept.
func opsTallied(b *testing.B) *store.DB {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "bansosbot-bench")
	path := filepath.Join(dir, fmt.Sprintf("ops-v3-%d-%d-%d.db", *opsTickets, *opsKab, *opsKec))
	cfg := Config{DataDir: dir, TZ: "Asia/Jakarta"}
	if _, err := os.Stat(path); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		built := opsStore(b, *opsTickets)
		if err := os.Rename(built, path+".tmp"); err != nil {
			b.Fatal(err)
		}
		db, err := store.Open(path+".tmp", store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		keepTallies(cfg, db, nil)
		start := time.Now()
		res, err := db.RebuildTalliesExclusive()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("built the report counters of %d tickets (the start-up migration) in %s", res.Tickets, time.Since(start).Round(time.Millisecond))
		db.Close()
		if err := os.Rename(path+".tmp", path); err != nil {
			b.Fatal(err)
		}
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	keepTallies(cfg, db, nil)
	if st, _ := db.TallyState(); st != store.TallyOK {
		b.Fatalf("counters %q in %s", st, path)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func BenchmarkOpsScrape(b *testing.B) {
	db := opsTallied(b)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		reg := prometheus.NewRegistry() // a new collector each time: no cached overdue count
		reg.MustRegister(bot.NewStoreCollector(bot.Adapt(db), func() time.Time { return now }))
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(*opsTickets), "tickets")
}

func BenchmarkOpsReport(b *testing.B) {
	db := opsTallied(b)
	cfg := Config{DataDir: filepath.Dir(db.Path()), TZ: "Asia/Jakarta"}
	for b.Loop() {
		if err := runReport(context.Background(), cfg, db, []string{"--period", "2026-06", "--format", "csv"}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(*opsTickets), "tickets")
}

func BenchmarkOpsRetention(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		path := opsStore(b, *opsTickets)
		db, err := store.Open(path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		before, _ := os.Stat(path)
		b.StartTimer()
		res, err := retain(context.Background(), db, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), 365*24*time.Hour)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		after, _ := os.Stat(path)
		db.Close()
		b.ReportMetric(float64(res.Tickets), "purged")
		b.ReportMetric(float64(res.ScrubbedPages), "pages_scrubbed")
		b.ReportMetric(float64(before.Size())/(1<<20), "MB_before")
		b.ReportMetric(float64(after.Size())/(1<<20), "MB_after")
		b.StartTimer()
	}
}
