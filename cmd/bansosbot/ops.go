package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
)

// Operations: the HTTP listener for monitoring (/metrics, /healthz,
// /readyz; the webhook may share it), the scheduled backups and the
// retention job.

// Readiness defaults (Main.ReadyAPIDown, Main.ReadyOutboxStuck,
// Main.ReadyStoreFailing).
const (
	// Store writes failing for longer than this (a full disk, a read-only
	// file, the database unreachable) make the instance unready: nothing
	// it receives can be kept. Updates wait at Telegram meanwhile.
	defaultReadyStoreFailing = 30 * time.Second
	// A Bot API failing for longer than this makes the instance unready
	// (short outages are ridden out by retries).
	defaultReadyAPIDown = 2 * time.Minute
	// An outbox item waiting longer than this while the Bot API answers
	// means the sender is stuck (a burst of 10,000 messages drains in
	// about 6 minutes at 30 per second).
	defaultReadyOutboxStuck = 15 * time.Minute
)

// opsMetrics are the metrics of the operations jobs.
type opsMetrics struct {
	backupLast  prometheus.Gauge
	backupBytes prometheus.Gauge
	retention   *prometheus.CounterVec
}

// registerMetrics adds to the registry what the store holds (read at
// scrape time), the jobs' metrics and the Go runtime's.
func (m *Main) registerMetrics() {
	m.opsMetrics = &opsMetrics{
		backupLast: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bansosbot_backup_last_success_timestamp_seconds",
			Help: "When the last scheduled backup was written (Unix time; alert when older than a day)."}),
		backupBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bansosbot_backup_size_bytes",
			Help: "Size of the last scheduled backup."}),
		retention: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bansosbot_retention_removed_total",
			Help: "What the retention job removed: tickets purged, history events redacted, drafts expired, dead letters deleted."}, []string{"what"}),
	}
	for _, what := range []string{"tickets", "events", "drafts", "dead_letters"} {
		m.opsMetrics.retention.WithLabelValues(what)
	}
	m.Registry.MustRegister(bot.NewStoreCollector(bot.Adapt(m.DB), m.Now), m.opsMetrics.backupLast, m.opsMetrics.backupBytes, m.opsMetrics.retention,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// shareWebhook makes the webhook use the monitoring listener when both
// are configured on the same address.
func (m *Main) shareWebhook(b *bot.Config) {
	c := &m.Config
	if c.HTTP != "" && c.WebhookURL != "" && c.WebhookListen == c.HTTP {
		b.WebhookServe = false
	}
}

// serveOps starts the monitoring listener (when BANSOSBOT_HTTP is set),
// with the webhook on it when shared.
func (m *Main) serveOps() error {
	if m.Config.HTTP == "" {
		return nil
	}
	mux := http.NewServeMux()
	// A store read that fails shows as an error in the scrape; the other
	// metrics are still served.
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := m.status()
		w.Header().Set("Content-Type", "application/json")
		if !st.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(st)
	})
	if c := &m.Config; c.WebhookURL != "" && c.WebhookListen == c.HTTP {
		path := hookPath(c.WebhookURL)
		if slices.Contains([]string{"/metrics", "/healthz", "/readyz"}, path) {
			return fmt.Errorf("BANSOSBOT_WEBHOOK_URL: the path %s is taken by monitoring on the shared listener", path)
		}
		hook := m.Server.WebhookHandler()
		mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m.stopping.Load() { // Telegram retries later; the next start takes it
				http.Error(w, "shutting down", http.StatusServiceUnavailable)
				return
			}
			hook.ServeHTTP(w, r)
		}))
	}
	ln, err := net.Listen("tcp", m.Config.HTTP)
	if err != nil {
		return fmt.Errorf("BANSOSBOT_HTTP: listen %s: %w", m.Config.HTTP, err)
	}
	m.ops = bot.NewHTTPServer(mux, m.Listen)
	go func() {
		if err := m.ops.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("monitoring listener stopped", "err", err)
		}
	}()
	return nil
}

const healthUsage = `Usage: bansosbot health [--ready]

Asks the running bot's monitoring listener (BANSOSBOT_HTTP) for /healthz
(or /readyz with --ready) and exits 0 when it answers 200, 1 otherwise:
the Docker HEALTHCHECK (the distroless image has no curl or wget).`

func healthFlags() (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	return fs, fs.Bool("ready", false, "ask /readyz (ready to work) instead of /healthz (alive)")
}

// runHealth is "bansosbot health".
func runHealth(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs, ready := healthFlags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.HTTP == "" {
		return errors.New("health: the monitoring listener is off; set BANSOSBOT_HTTP (e.g. 127.0.0.1:9090) for the bot and this command")
	}
	host, port, err := net.SplitHostPort(cfg.HTTP)
	if err != nil {
		return fmt.Errorf("health: BANSOSBOT_HTTP %q: %w", cfg.HTTP, err)
	}
	switch host { // a listener on every interface is reached on loopback
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(stdout, strings.TrimSpace(string(body)))
	return nil
}

// hookPath is the path of the public webhook URL ("/" if none): what the
// reverse proxy forwards and the listener serves.
func hookPath(webhookURL string) string {
	if u, err := url.Parse(webhookURL); err == nil && u.Path != "" {
		return u.Path
	}
	return "/"
}

func (m *Main) closeOps() {
	if m.ops != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.ops.Shutdown(ctx)
	}
}

// instanceStatus is what /readyz answers and the control socket's
// GET /status reports to "bansosbot doctor".
type instanceStatus struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // "ok" or what is wrong
	Schema int               `json:"schema"`
	Inbox  int               `json:"inbox"`
	Outbox int               `json:"outbox"`
	// OutboxOldestSeconds is the age of the oldest waiting message.
	OutboxOldestSeconds float64 `json:"outbox_oldest_seconds"`
	DeadLetters         int     `json:"dead_letters"`
	APIDownSeconds      float64 `json:"api_down_seconds"`
	// Unrouted counts the open tickets nobody may handle (no staff for
	// their region at any level, no admin). Reported in checks.routing;
	// it does not make the instance unready (a restart would not help).
	Unrouted int `json:"unrouted"`

	// OutboxStalledSeconds is how long the least recently served chat
	// with waiting messages has had none delivered (the outbox check).
	OutboxStalledSeconds float64 `json:"outbox_stalled_seconds"`

	// On PostgreSQL (pgops.go): this replica's name and leases, and the
	// replication lag where the database shows it.
	Replica               string   `json:"replica,omitempty"`
	Leases                []string `json:"leases,omitempty"`
	ReplicationLagSeconds float64  `json:"replication_lag_seconds,omitempty"`

	// StorageFailingSeconds is how long every store write has failed (0
	// when the last one succeeded; the storage check).
	StorageFailingSeconds float64 `json:"storage_failing_seconds"`
}

// status checks readiness: the store answers and writes (its writes
// have not all failed for longer than ReadyStoreFailing), the Bot API answered
// recently (failing for at most ReadyAPIDown), and the outbox is not
// stuck (no chat with waiting messages goes without a delivery for longer
// than ReadyOutboxStuck while the API answers; a group's rate-limited
// backlog is not stuck); an instance shutting down is not ready.
func (m *Main) status() instanceStatus {
	st := instanceStatus{Ready: true, Checks: map[string]string{}, Schema: store.SchemaVersion()}
	fail := func(check, msg string) { st.Ready, st.Checks[check] = false, msg }
	if m.stopping.Load() {
		fail("running", "shutting down")
	}
	apiDown, stuck := m.ReadyAPIDown, m.ReadyOutboxStuck
	if apiDown <= 0 {
		apiDown = defaultReadyAPIDown
	}
	if stuck <= 0 {
		stuck = defaultReadyOutboxStuck
	}
	var err error
	if st.Inbox, err = m.DB.InboxDepth(); err == nil {
		st.Outbox, err = m.DB.OutboxDepth()
	}
	if err == nil {
		st.DeadLetters, err = m.DB.DeadLetterCount()
	}
	var oldest time.Time
	var waiting bool
	if err == nil {
		oldest, waiting, err = m.DB.OldestOutbox()
	}
	if err == nil {
		err = m.DB.View(func(tx *store.Tx) (err error) { st.Unrouted, err = m.Engine.Unrouted(tx); return err })
	}
	if err != nil {
		fail("store", err.Error())
	} else {
		st.Checks["store"] = "ok"
	}
	storeFailing := m.ReadyStoreFailing
	if storeFailing <= 0 {
		storeFailing = defaultReadyStoreFailing
	}
	failing, werr := m.DB.WritesFailingFor()
	if failing > storeFailing && m.DB.ProbeWrite() == nil {
		// The failures were old and nothing tried to write since (an idle
		// instance): the store writes again.
		failing, werr = m.DB.WritesFailingFor()
	}
	st.StorageFailingSeconds = failing.Seconds()
	if failing > storeFailing {
		fail("storage", fmt.Sprintf("store writes failing for %s (limit %s): %v", failing.Round(time.Second), storeFailing, werr))
	} else {
		st.Checks["storage"] = "ok"
	}
	st.Checks["routing"] = "ok"
	if st.Unrouted > 0 {
		st.Checks["routing"] = unroutedText(st.Unrouted)
	}
	down := m.Server.APIDownFor()
	st.APIDownSeconds = down.Seconds()
	if down > apiDown {
		fail("telegram", fmt.Sprintf("Bot API calls failing for %s (limit %s)", down.Round(time.Second), apiDown))
	} else {
		st.Checks["telegram"] = "ok"
	}
	if waiting {
		st.OutboxOldestSeconds = max(0, m.Now().Sub(oldest).Seconds())
	}
	// Not the oldest message's age: a busy group's backlog drains at 20 a
	// minute and its messages may wait long, yet the group is served. The
	// outbox is stuck when a chat has had nothing delivered for too long
	// (or messages wait that the sender never took up).
	stalled, tracked := m.Server.OutboxStalledFor()
	if !tracked && waiting {
		stalled = time.Duration(st.OutboxOldestSeconds * float64(time.Second))
	}
	st.OutboxStalledSeconds = stalled.Seconds()
	switch {
	case !m.Server.Sends():
		// Another replica on the database sends the outbox and answers
		// for it: this one must not leave the load balancer over it.
		st.Checks["outbox"] = "ok: another replica sends the outbox"
	case down == 0 && stalled > stuck:
		fail("outbox", fmt.Sprintf("a message has waited %s with nothing delivered to its chat while the Bot API answers (limit %s)", stalled.Round(time.Second), stuck))
	default:
		st.Checks["outbox"] = "ok"
	}
	m.databaseStatus(&st, fail) // pgops.go: PostgreSQL answers; leases, replication
	return st
}

// unroutedText says that n open tickets reach no one.
func unroutedText(n int) string {
	return fmt.Sprintf("%d open ticket%s reach%s no one: no worker or supervisor covers %s region and there is no admin",
		n, plural(n), map[bool]string{true: "es", false: ""}[n == 1], map[bool]string{true: "its", false: "their"}[n == 1])
}

// ---- configuration of the operations jobs ----

// validateOps checks the operations options (called by validate).
func (c *Config) validateOps() []error {
	var errs []error
	if spec := c.backupSchedule(); spec != "" {
		if _, err := cron.ParseStandard(spec); err != nil {
			errs = append(errs, fmt.Errorf("BANSOSBOT_BACKUP_CRON: %q is not a cron schedule like \"30 2 * * *\" (or off): %v", c.BackupCron, err))
		}
	}
	if c.BackupKeep != "" {
		if n, err := strconv.Atoi(c.BackupKeep); err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("BANSOSBOT_BACKUP_KEEP: %q is not a number of backups (1 or more)", c.BackupKeep))
		}
	}
	if d, err := parseRetention(c.Retention); err != nil {
		errs = append(errs, err)
	} else if d > 0 && d < 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("BANSOSBOT_RETENTION: %q is shorter than 30 days: closed tickets must stay for reopening, ratings and reports", c.Retention))
	}
	return errs
}

// backupSchedule is the cron spec of the scheduled backups; "" when off
// (also when unset, as in tests that build a Config by hand).
func (c *Config) backupSchedule() string {
	s := strings.TrimSpace(c.BackupCron)
	if strings.EqualFold(s, "off") || c.postgres() { // PostgreSQL: pg_dump or the service's snapshots
		return ""
	}
	return s
}

func (c *Config) backupDir() string {
	if c.BackupDir != "" {
		return c.BackupDir
	}
	return filepath.Join(c.DataDir, "backups")
}

func (c *Config) backupKeep() int {
	if n, err := strconv.Atoi(c.BackupKeep); err == nil && n > 0 {
		return n
	}
	return 7
}

// retention is the retention period; 0 when off.
func (c *Config) retention() time.Duration {
	d, _ := parseRetention(c.Retention)
	return d
}

// parseRetention reads "365d", a Go duration ("8760h") or "off" (0); ""
// is the default, flows.DefaultRetention.
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return flows.DefaultRetention, nil
	case strings.EqualFold(s, "off"):
		return 0, nil
	case strings.HasSuffix(s, "d"):
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	default:
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d, nil
		}
	}
	return 0, fmt.Errorf("BANSOSBOT_RETENTION: %q is not a period like 365d (or off)", s)
}

// ---- scheduled backups ----

// backupName matches the names of scheduled backups (UTC timestamps, so
// that names sort in time order).
var backupName = regexp.MustCompile(`^bansosbot-\d{8}T\d{6}Z\.db$`)

// backupJob writes a consistent copy of the live database into the
// backup directory (atomically: a crash never leaves a half-written file
// under a backup's name) and deletes all but the newest BackupKeep.
func (m *Main) backupJob(ctx context.Context) error {
	dir := m.Config.backupDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	name := "bansosbot-" + m.Now().UTC().Format("20060102T150405Z") + ".db"
	path := filepath.Join(dir, name)
	start := time.Now()
	if err := m.DB.BackupFile(path); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	removed, err := pruneBackups(dir, m.Config.backupKeep())
	if err != nil {
		return err
	}
	if m.opsMetrics != nil {
		m.opsMetrics.backupLast.Set(float64(time.Now().Unix()))
		m.opsMetrics.backupBytes.Set(float64(fi.Size()))
	}
	m.Log.Info("backup written", "file", path, "bytes", fi.Size(), "took", time.Since(start).Round(time.Millisecond), "old_backups_removed", removed)
	return nil
}

// pruneBackups deletes the oldest scheduled backups beyond keep (other
// files in the directory are left alone).
func pruneBackups(dir string, keep int) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && backupName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	removed := 0
	for len(names) > keep {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			return removed, fmt.Errorf("backup: remove old backup: %w", err)
		}
		names, removed = names[1:], removed+1
	}
	return removed, nil
}

// ---- retention (UU PDP) ----

// retentionResult counts what one retention run removed.
type retentionResult struct {
	Tickets, Events, Drafts, Counters, DeadLetters, ScrubbedPages int
}

// retentionJob is the daily retention run; its effect is logged as counts
// only.
func (m *Main) retentionJob(ctx context.Context) error {
	period := m.Config.retention()
	if period <= 0 {
		return nil
	}
	res, err := retain(ctx, m.DB, m.Now(), period)
	if m.opsMetrics != nil {
		for what, n := range map[string]int{"tickets": res.Tickets, "events": res.Events, "drafts": res.Drafts, "dead_letters": res.DeadLetters} {
			m.opsMetrics.retention.WithLabelValues(what).Add(float64(n))
		}
	}
	m.Log.Info("retention done", "tickets_purged", res.Tickets, "events_redacted", res.Events, "drafts_expired", res.Drafts,
		"counters_removed", res.Counters, "dead_letters_removed", res.DeadLetters, "free_pages_scrubbed", res.ScrubbedPages)
	return err
}

// Retention works in transactions of at most retentionScan tickets read
// and retentionBatch purged, so that updates never wait long behind it.
const (
	retentionScan  = 5000
	retentionBatch = 200
)

// retain applies the retention policy at now: personal data of tickets
// final for longer than period is purged (flows.PurgeTicket), drafts idle
// for flows.DraftRetention and dead letters older than
// flows.DeadLetterRetention are dropped, expired rate-limit counters
// deleted, and finally the file's free pages are zeroed, so that what was
// removed is gone from the file (and from the backups taken after).
func retain(ctx context.Context, db *store.DB, now time.Time, period time.Duration) (retentionResult, error) {
	var res retentionResult
	var after uint64
	for more := true; more; {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var last uint64
		var tickets, events int
		err := db.Update(func(tx *store.Tx) error {
			last, tickets, events, more = after, 0, 0, false
			var due []*bansosbot.Ticket
			scanned := 0
			err := tx.TicketsAfter(after, func(t *bansosbot.Ticket) bool {
				last, scanned = t.ID, scanned+1
				if flows.RetentionDue(t, now, period) {
					due = append(due, t)
				}
				more = scanned >= retentionScan || len(due) >= retentionBatch
				return !more
			})
			if err != nil {
				return err
			}
			// Written after the scan: writing under a running cursor skips keys.
			for _, t := range due {
				n, err := flows.PurgeTicket(tx, t, "retention", now)
				if err != nil {
					return fmt.Errorf("purge ticket %d: %w", t.ID, err)
				}
				tickets, events = tickets+1, events+n
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("retention: %w", err)
		}
		after = last
		res.Tickets += tickets
		res.Events += events
	}
	err := db.Update(func(tx *store.Tx) error {
		sessions, err := tx.IdleSessions(now.Add(-flows.DraftRetention))
		if err != nil {
			return err
		}
		for _, s := range sessions {
			flows.ExpireDraft(s)
			if err := tx.PutSession(s); err != nil {
				return err
			}
		}
		res.Drafts = len(sessions)
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("retention: drafts: %w", err)
	}
	if res.Counters, err = db.PurgeCounters(now); err != nil {
		return res, fmt.Errorf("retention: counters: %w", err)
	}
	if res.DeadLetters, err = db.PurgeDeadLetters(now.Add(-flows.DeadLetterRetention)); err != nil {
		return res, fmt.Errorf("retention: dead letters: %w", err)
	}
	if res.ScrubbedPages, err = db.ScrubFreePagesRetry(30 * time.Second); err != nil {
		return res, fmt.Errorf("retention: scrub free pages: %w", err)
	}
	return res, nil
}

// controlStatus answers GET /status on the control socket.
func (m *Main) controlStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m.status())
}
