package bot

import (
	"bytes"
	"time"

	"github.com/bansosbot/bansosbot/store"
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

func (m *Metrics) received(items []store.InboxItem) {
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
func updateKind(it store.InboxItem) string {
	raw := it.Update
	for _, k := range []string{"callback_query", "my_chat_member", "message"} {
		if bytes.Contains(raw, []byte(`"`+k+`":`)) {
			return k
		}
	}
	return "other"
}
