package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/web"
)

// BenchmarkDashboardPages serves the overview and regions pages of the
// whole nation (an admin) from opsTallied's store: p95 per page.
//
//	go test ./cmd/bansosbot -run '^$' -bench DashboardPages -benchtime 50x -ops.tickets 10000
func BenchmarkDashboardPages(b *testing.B) {
	db := opsTallied(b)
	cfg := Config{DataDir: filepath.Dir(db.Path()), TZ: "Asia/Jakarta"}
	ecfg, err := NewMain(cfg, nil).engineConfig()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	srv, err := web.New(web.Config{DB: db, Engine: flows.NewEngine(ecfg), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	sid := flows.NewToken()
	err = db.Update(func(tx *store.Tx) error {
		if err := tx.PutStaff(&bansosbot.Staff{UserID: 1, Role: bansosbot.RoleAdmin, Active: true}); err != nil {
			return err
		}
		return tx.PutWebSession(flows.TokenHash(sid), store.WebSession{UserID: 1, Created: now, Expires: now.Add(time.Hour)}, now)
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{
		{"overview", "/dasbor/?period=custom&from=2026-06-01&to=2026-06-30"},
		{"regions", "/dasbor/wilayah?period=custom&from=2026-06-01&to=2026-06-30"},
		{"regions-province", "/dasbor/wilayah?r=32&period=custom&from=2026-06-01&to=2026-06-30"},
	} {
		b.Run(p.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.AddCookie(&http.Cookie{Name: "dasbor_sesi", Value: sid})
				rec := httptest.NewRecorder()
				start := time.Now()
				srv.ServeHTTP(rec, req)
				ds = append(ds, time.Since(start))
				if rec.Code != 200 {
					b.Fatalf("%s: %d", p.path, rec.Code)
				}
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95_ms")
			b.ReportMetric(float64(*opsTickets), "tickets")
		})
	}
}

// BenchmarkTicketTxCounters is the cost the counters add to a ticket's
// transaction: a status change with its history event, stored with and
// without the counters (no fsync: the CPU and page cost only).
//
//	go test ./cmd/bansosbot -run '^$' -bench TicketTxCounters -benchtime 2000x
func BenchmarkTicketTxCounters(b *testing.B) {
	for _, counted := range []bool{false, true} {
		b.Run(fmt.Sprintf("counters=%v", counted), func(b *testing.B) {
			path := opsStore(b, 20000)
			db, err := store.Open(path, store.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if counted {
				keepTallies(Config{DataDir: filepath.Dir(path), TZ: "Asia/Jakarta"}, db, nil)
				if _, err := db.RebuildTallies(); err != nil {
					b.Fatal(err)
				}
			}
			id := uint64(0)
			statuses := []bansosbot.Status{bansosbot.StatusInProgress, bansosbot.StatusWaitingCitizen}
			for b.Loop() {
				id = id%20000 + 1
				err := db.Update(func(tx *store.Tx) error {
					t, err := tx.Ticket(id)
					if err != nil {
						return err
					}
					to := statuses[int(id)%2]
					if _, err := tx.AppendEvent(t, bansosbot.Event{Kind: bansosbot.EventStatus, From: t.Status, To: to}); err != nil {
						return err
					}
					t.Status = to
					return tx.PutTicket(t)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
