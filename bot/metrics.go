package bot

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the pipeline's Prometheus metrics. Labels carry kinds and
// results only, never ids, names or text. A nil *Metrics records nothing.
type Metrics struct {
	Received    *prometheus.CounterVec   // updates accepted into the inbox, by kind
	Handled     *prometheus.CounterVec   // updates handled, by kind and result
	Latency     *prometheus.HistogramVec // handling time per update, by kind
	Sent        *prometheus.CounterVec   // Telegram calls by result: ok, 429, 403, 400, error
	DeadLetters *prometheus.CounterVec   // parked items by kind: update, outbox
	Webhook401  prometheus.Counter       // webhook requests refused for a wrong secret
}

// NewMetrics registers the pipeline metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bansosbot_updates_received_total",
			Help: "Telegram updates accepted into the inbox."}, []string{"kind"}),
		Handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bansosbot_updates_handled_total",
			Help: "Updates handled, by input kind and result (ok, panic, error)."}, []string{"kind", "result"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bansosbot_update_handling_seconds",
			Help: "Time from dispatch to committed effects, per update.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"kind"}),
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bansosbot_telegram_calls_total",
			Help: "Outgoing Telegram calls by result (ok, 429, 403, 400, error)."}, []string{"result"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bansosbot_dead_letters_total",
			Help: "Items parked as dead letters, by kind (update, outbox)."}, []string{"kind"}),
		Webhook401: prometheus.NewCounter(prometheus.CounterOpts{Name: "bansosbot_webhook_unauthorized_total",
			Help: "Webhook requests refused because the secret header did not match."}),
	}
	reg.MustRegister(m.Received, m.Handled, m.Latency, m.Sent, m.DeadLetters, m.Webhook401)
	return m
}

func (m *Metrics) received(items []bansosbot.InboxItem) {
	if m == nil {
		return
	}
	for _, it := range items {
		m.Received.WithLabelValues(updateKind(it)).Inc()
	}
}

func (m *Metrics) handled(kind, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.Handled.WithLabelValues(kind, result).Inc()
	m.Latency.WithLabelValues(kind).Observe(d.Seconds())
}

func (m *Metrics) sent(result string) {
	if m != nil {
		m.Sent.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) deadLetter(kind string) {
	if m != nil {
		m.DeadLetters.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) webhookRejected() {
	if m != nil {
		m.Webhook401.Inc()
	}
}

// updateKind tells message, callback or member update apart from the raw
// JSON without decoding the content.
func updateKind(it bansosbot.InboxItem) string {
	raw := it.Update
	for _, k := range []string{"callback_query", "my_chat_member", "message"} {
		if bytes.Contains(raw, []byte(`"`+k+`":`)) {
			return k
		}
	}
	return "other"
}

// What the flows did in an update's transaction or a job's (registry
// lookups, rate-limit refusals, escalation steps, tickets that reached
// nobody) comes back counted with the replies (flows.Outcome), and the
// counts are written into that same transaction (addCounts): a retried
// transaction counts once, a failed one not at all, and the counters
// survive restarts. The collector reads them, with the store's gauges, at
// scrape time.

// Event counter names in the store ("<family>/<label value>"). Stored
// counters carry these names across upgrades: never rename them.
const (
	statLookups    = "registry_lookups/"
	statRefusals   = "rate_limit_refusals/"
	statEscalation = "escalations/"
	statUnrouted   = "tickets_unrouted"
)

// escalateSteps are the label values of the escalation counter, exported
// as 0 before they happen (so are flows.LookupResults and
// flows.RateLimits) so that dashboards and alerts see every series.
var escalateSteps = []string{bansosbot.StepWarning, bansosbot.StepBreach, bansosbot.StepEscalate}

// addCounts adds counts to the store's event counters in tx.
func addCounts(tx interface{ AddStat(string, uint64) error }, n flows.Counts) error {
	if n.IsZero() {
		return nil
	}
	var err error
	add := func(name string, v uint64) {
		if err == nil && v > 0 {
			err = tx.AddStat(name, v)
		}
	}
	for r, v := range n.Lookups {
		add(statLookups+string(r), v)
	}
	for l, v := range n.Refusals {
		add(statRefusals+string(l), v)
	}
	for step, v := range n.Escalations {
		add(statEscalation+step, v)
	}
	add(statUnrouted, n.Unrouted)
	return err
}

// StoreCollector exports what the store holds, read at scrape time:
// inbox and outbox depth, the age of the oldest waiting message, parked
// dead letters, tickets by status and province, overdue open tickets by
// province, and the event counters. Labels are statuses, provinces
// (two-digit codes), kinds and results: never ids, names or text.
type StoreCollector struct {
	db  DB
	now func() time.Time

	inbox, outbox, oldest, dead, tickets, overdue, lookups, refusals, escalations, unrouted *prometheus.Desc
	writeFailures, writeFailing                                                             *prometheus.Desc

	mu       sync.Mutex
	overdueN map[bansosbot.RegionCode]int
	computed time.Time     // when overdueN was counted
	cost     time.Duration // how long that took
}

// NewStoreCollector returns a collector of db's numbers; now is the clock
// that decides what is overdue.
func NewStoreCollector(db DB, now func() time.Time) *StoreCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("bansosbot_"+name, help, labels, nil)
	}
	return &StoreCollector{db: db, now: now,
		inbox:         d("inbox_depth", "Accepted updates not processed yet."),
		outbox:        d("outbox_depth", "Telegram calls waiting in the outbox."),
		oldest:        d("outbox_oldest_age_seconds", "Age of the oldest waiting outbox item (0 when empty)."),
		dead:          d("dead_letters", "Dead letters parked in the store (updates and messages)."),
		tickets:       d("tickets", "Tickets by status and province.", "status", "province"),
		overdue:       d("tickets_overdue", "Open tickets past a service-level deadline they owe, by province.", "province"),
		lookups:       d("registry_lookups_total", "Eligibility registry lookups by result (answered, unavailable: no registry imported).", "result"),
		refusals:      d("rate_limit_refusals_total", "Requests refused by a rate limit, by limit.", "limit"),
		escalations:   d("escalations_total", "Service-level escalation steps fired, by step (warning, breach, escalate).", "step"),
		unrouted:      d("tickets_unrouted_total", "New tickets that reached nobody: no staff for their region at any level and no admin."),
		writeFailures: d("store_write_errors_total", "Store transactions that could not be written (full disk, read-only file, I/O error, database unreachable), since the start."),
		writeFailing:  d("store_write_failing_seconds", "For how long every store write has failed (0 when the last one succeeded); /readyz fails past its limit."),
	}
}

// Describe implements prometheus.Collector.
func (c *StoreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inbox, c.outbox, c.oldest, c.dead, c.tickets, c.overdue, c.lookups, c.refusals, c.escalations, c.unrouted, c.writeFailures, c.writeFailing} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A read that fails is reported
// as an invalid metric (the scrape shows the error).
func (c *StoreCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ch <- prometheus.MustNewConstMetric(c.writeFailures, prometheus.CounterValue, float64(c.db.WriteFailures()))
	failing, _ := c.db.WritesFailingFor()
	gauge(c.writeFailing, failing.Seconds())
	if n, err := c.db.InboxDepth(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.inbox, err)
	} else {
		gauge(c.inbox, float64(n))
	}
	if n, err := c.db.OutboxDepth(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.outbox, err)
	} else {
		gauge(c.outbox, float64(n))
	}
	if at, ok, err := c.db.OldestOutbox(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.oldest, err)
	} else {
		age := 0.0
		if ok {
			age = max(0, c.now().Sub(at).Seconds())
		}
		gauge(c.oldest, age)
	}
	if n, err := c.db.DeadLetterCount(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.dead, err)
	} else {
		gauge(c.dead, float64(n))
	}
	if counts, err := c.ticketCounts(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.tickets, err)
	} else {
		for _, tc := range counts {
			gauge(c.tickets, float64(tc.N), string(tc.Status), string(tc.Province))
		}
	}
	if byProv, err := c.overdueCounts(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.overdue, err)
	} else {
		for prov, n := range byProv {
			gauge(c.overdue, float64(n), string(prov))
		}
	}
	stats, err := c.db.Stats()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.lookups, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.unrouted, prometheus.CounterValue, float64(stats[statUnrouted]))
	for _, f := range []struct {
		desc   *prometheus.Desc
		prefix string
		known  []string
	}{{c.lookups, statLookups, labels(flows.LookupResults)}, {c.refusals, statRefusals, labels(flows.RateLimits)}, {c.escalations, statEscalation, escalateSteps}} {
		values := map[string]uint64{}
		for _, k := range f.known {
			values[k] = 0
		}
		for name, n := range stats {
			if label, ok := strings.CutPrefix(name, f.prefix); ok {
				values[label] = n
			}
		}
		for label, n := range values {
			ch <- prometheus.MustNewConstMetric(f.desc, prometheus.CounterValue, float64(n), label)
		}
	}
}

// labels are the label values of a typed list.
func labels[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// ticketCounts are the tickets by status and province: from the report
// counters when the store keeps them (a few hundred keys), otherwise
// from the status index (a key per ticket).
func (c *StoreCollector) ticketCounts() ([]bansosbot.TicketCount, error) {
	counts, ok, err := c.db.TallyCounts()
	if err != nil || ok {
		return counts, err
	}
	return c.db.TicketCounts()
}

// overdueCounts counts the open tickets that are overdue now, by
// province: from the report counters' index of open tickets by the
// instant they fall overdue when the store keeps them (no ticket is
// decoded); otherwise it decodes every open ticket, so a result is reused for 20
// times as long as it took to compute (at most a minute): scrapes of a
// large store then cost at most about 5% of a core, and a small one is
// always exact.
func (c *StoreCollector) overdueCounts() (map[bansosbot.RegionCode]int, error) {
	if out, ok, err := c.db.OverdueByProvince(c.now()); err != nil || ok {
		return out, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.overdueN != nil && c.now().Sub(c.computed) < min(20*c.cost, time.Minute) {
		return c.overdueN, nil
	}
	now := c.now()
	var open []bansosbot.Status
	for _, s := range bansosbot.Statuses {
		if s.Open() {
			open = append(open, s)
		}
	}
	out := map[bansosbot.RegionCode]int{}
	err := c.db.View(func(tx Tx) error {
		return tx.RegionTickets("", open, func(t *bansosbot.Ticket) bool {
			n := out[t.Region.Province()] // 0 too: provinces with open tickets have a series
			if flows.Overdue(t, now) {
				n++
			}
			out[t.Region.Province()] = n
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	c.overdueN, c.computed, c.cost = out, now, c.now().Sub(now)
	return out, nil
}
