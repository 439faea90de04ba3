package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// scrape gathers reg and returns "name{label=value,...}" -> value.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[seriesName(mf, m)] = value(m)
		}
	}
	return out
}

func seriesName(mf *dto.MetricFamily, m *dto.Metric) string {
	s := mf.GetName() + "{"
	for i, l := range m.GetLabel() {
		if i > 0 {
			s += ","
		}
		s += l.GetName() + "=" + l.GetValue()
	}
	return s + "}"
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return 0
}

// TestCountingStoreCountsInTheTransaction: lookups, refusals and
// escalation steps noted while a transaction runs are written into it,
// once, and the collector exports them with the store's gauges.
func TestCountingStoreCountsInTheTransaction(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	db, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{NoSync: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := func(fail bool) error {
		return db.Update(func(tx *store.Tx) error {
			cs := bot.NewCountingStore(tx)
			for i := 0; i < 3; i++ { // limit 2: one refusal
				cs.Allow("ck:u:42", 2, time.Hour, now)
			}
			cs.Allow("file:42", 1, 24*time.Hour, now) // the daily filing cap: one refusal
			cs.Allow("file:42", 1, 24*time.Hour, now)
			cs.Allow("flood:42", 1, time.Minute, now) // a marker, not a limit
			cs.Allow("flood:42", 1, time.Minute, now)
			cs.RegistryLookup(bansosbot.NIKHash{}) // no registry imported
			tk := &bansosbot.Ticket{ID: 1, Status: bansosbot.StatusNew, Region: "32.01.01", CreatedAt: now.Add(-96 * time.Hour),
				DueResponse: now.Add(-time.Hour)}
			cs.AppendEvent(tk, bansosbot.Event{Kind: bansosbot.EventEscalated, Args: map[string]string{"step": "breach"}})
			if err := cs.PutTicket(tk); err != nil {
				return err
			}
			if err := cs.Flush(); err != nil {
				return err
			}
			if fail {
				return errors.New("rolled back")
			}
			return nil
		})
	}
	if err := run(true); err == nil {
		t.Fatal("want the failing run to fail")
	}
	if err := run(false); err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *store.Tx) error {
		_, err := tx.Enqueue(store.OutboxItem{ChatID: 1, Payload: json.RawMessage(`{}`), CreatedAt: now.Add(-90 * time.Second)})
		return err
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(bot.NewStoreCollector(db, func() time.Time { return now }))
	got := scrape(t, reg)
	for name, want := range map[string]float64{
		"bansosbot_registry_lookups_total{result=unavailable}":    1,
		"bansosbot_registry_lookups_total{result=answered}":       0,
		"bansosbot_rate_limit_refusals_total{limit=lookups_user}": 1,
		"bansosbot_rate_limit_refusals_total{limit=messages}":     0,
		"bansosbot_rate_limit_refusals_total{limit=filings}":      1,
		"bansosbot_escalations_total{step=breach}":                1,
		"bansosbot_escalations_total{step=warning}":               0,
		"bansosbot_tickets{province=32,status=new}":               1,
		"bansosbot_tickets_overdue{province=32}":                  1,
		"bansosbot_outbox_depth{}":                                1,
		"bansosbot_outbox_oldest_age_seconds{}":                   90,
		"bansosbot_inbox_depth{}":                                 0,
		"bansosbot_dead_letters{}":                                0,
		"bansosbot_tickets_unrouted_total{}":                      0,
		"bansosbot_store_write_errors_total{}":                    0,
		"bansosbot_store_write_failing_seconds{}":                 0,
	} {
		if got[name] != want {
			t.Errorf("%s = %v; want %v", name, got[name], want)
		}
		delete(got, name)
	}
	if len(got) != 4 { // the other zero-valued refusal and escalation series
		t.Errorf("unexpected series: %v", got)
	}
}

// TestCountedHandlerFlushes: the handler wrapper counts what the engine
// does and writes it with the update's effects.
func TestCountedHandlerFlushes(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := bot.Counted(limiter{})
	for i := 0; i < 3; i++ {
		err := db.Update(func(tx *store.Tx) error {
			_, err := h.Handle(context.Background(), tx, flows.Input{UserID: 7})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stats, _ := db.Stats()
	if stats["rate_limit_refusals/messages"] != 2 {
		t.Errorf("stats = %v; want 2 message refusals", stats)
	}
	if len(h.Commands()) != 1 {
		t.Error("the wrapper hides the handler's commands")
	}
}

// limiter lets one message per minute through.
type limiter struct{}

func (limiter) Handle(_ context.Context, tx flows.Store, in flows.Input) ([]flows.Reply, error) {
	_, _, err := tx.Allow("msg:7", 1, time.Minute, time.Now())
	return nil, err
}

func (limiter) Commands() []flows.Command { return []flows.Command{{ID: "x"}} }

// TestUnroutedTicketsCounted: a route audit entry that reached nobody is
// counted in the transaction and exported (issue 12 item 10).
func TestUnroutedTicketsCounted(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(bot.NewStoreCollector(db, time.Now))
	const series = "bansosbot_tickets_unrouted_total{}"
	if got, ok := scrape(t, reg)[series]; !ok || got != 0 {
		t.Errorf("before: %s = %v (present %v); want 0", series, got, ok)
	}
	for _, reason := range []string{"staff=1", "no_staff", flows.ReasonUnrouted, flows.ReasonUnrouted} {
		err := db.Update(func(tx *store.Tx) error {
			cs := bot.NewCountingStore(tx)
			if err := cs.AppendAudit(&bansosbot.AuditEntry{At: time.Now(), Action: bansosbot.AuditRoute, Allowed: true, Reason: reason}); err != nil {
				return err
			}
			return cs.Flush()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := scrape(t, reg)[series]; got != 2 {
		t.Errorf("%s = %v; want 2", series, got)
	}
}
