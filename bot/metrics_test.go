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

// newJobServer is a Server that is not started: enough to run jobs.
func newJobServer(t *testing.T, db *store.DB) *bot.Server {
	t.Helper()
	s, err := bot.New(bot.Config{Token: "1:test", APIURL: "http://127.0.0.1:1"}, bot.Adapt(db), flows.NewEngine(flows.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutcomeCountsInTheTransaction: the counts a job returns with its
// replies (lookups, refusals, escalation steps, unrouted tickets) are
// written in its transaction, nothing of a job that fails, and the
// collector exports them under their names, with the store's gauges,
// every known series at 0 before anything happened.
func TestOutcomeCountsInTheTransaction(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	db, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{NoSync: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(bot.NewStoreCollector(bot.Adapt(db), func() time.Time { return now }))
	before := scrape(t, reg)
	for _, name := range []string{"bansosbot_registry_lookups_total{result=answered}", "bansosbot_rate_limit_refusals_total{limit=groups}",
		"bansosbot_escalations_total{step=escalate}", "bansosbot_tickets_unrouted_total{}"} {
		if v, ok := before[name]; !ok || v != 0 {
			t.Errorf("before anything: %s = %v (present %v); want 0", name, v, ok)
		}
	}

	s := newJobServer(t, db)
	counts := flows.Counts{
		Lookups:     map[flows.LookupResult]uint64{flows.LookupUnavailable: 1},
		Refusals:    map[flows.RateLimit]uint64{flows.LimitLookupsUser: 1, flows.LimitFilings: 1},
		Escalations: map[string]uint64{bansosbot.StepBreach: 1},
		Unrouted:    2,
	}
	if err := s.RunJob(context.Background(), "failing", func(tx bot.Tx) (flows.Outcome, error) {
		return flows.Outcome{Counts: counts}, errors.New("rolled back")
	}); err == nil {
		t.Fatal("want the failing job to fail")
	}
	err = s.RunJob(context.Background(), "test", func(tx bot.Tx) (flows.Outcome, error) {
		tk := &bansosbot.Ticket{ID: 1, Status: bansosbot.StatusNew, Region: "32.01.01", CreatedAt: now.Add(-96 * time.Hour),
			DueResponse: now.Add(-time.Hour)}
		return flows.Outcome{Counts: counts}, tx.PutTicket(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *store.Tx) error {
		_, err := tx.Enqueue(store.OutboxItem{ChatID: 1, Payload: json.RawMessage(`{}`), CreatedAt: now.Add(-90 * time.Second)})
		return err
	})
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
		"bansosbot_tickets_unrouted_total{}":                      2,
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
