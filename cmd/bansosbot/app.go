package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/clock"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// Main is the running program: store, engine, Telegram pipeline and
// scheduled jobs. main() and the end-to-end tests share it.
type Main struct {
	Config Config
	Log    *slog.Logger
	// Now is the clock of the engine and the jobs (tests inject one).
	Now func() time.Time
	// Clock is the clock of the Telegram pipeline's timers: outbox
	// retries and send windows, dispatch retries, readiness (default the
	// wall clock; tests inject a fake one, usually with Now = its Now).
	Clock clock.Clock
	// Tune adjusts the bot configuration before the server is built
	// (tests: short poll timeouts, fast limits).
	Tune func(*bot.Config)
	// Wrap, when set, wraps the engine (tests inject faults with it).
	Wrap func(bot.Handler) bot.Handler
	// TuneEngine adjusts the engine's configuration before it is built
	// (tests: lift the citizens' message limit for a burst).
	TuneEngine func(*flows.Config)
	// Registry receives the Prometheus metrics (default: a new registry).
	Registry *prometheus.Registry
	// ReadyAPIDown, ReadyOutboxStuck and ReadyStoreFailing are the
	// /readyz thresholds (default 2 minutes, 15 minutes and 30 seconds;
	// see ops.go).
	ReadyAPIDown, ReadyOutboxStuck, ReadyStoreFailing time.Duration
	// WrapStore, when set, wraps the store's backend (tests inject
	// storage faults with it).
	WrapStore func(backend.Backend) backend.Backend
	// Listen bounds slow clients on the webhook, monitoring and dashboard
	// listeners (zero fields: bot's defaults; tests inject short ones).
	Listen bot.ListenerTimeouts

	DB      *store.DB
	pg      *pgstore.Store // the store's PostgreSQL backend (nil on bbolt): pool and replication metrics
	Engine  *flows.Engine
	Server  *bot.Server
	cron    *cron.Cron
	control *http.Server
	// jobs is the context of the running cron jobs: Close and Kill cancel
	// it, so a long job (a backup, an escalation run) stops promptly.
	jobs     context.Context
	stopJobs context.CancelFunc

	ops        *http.Server // monitoring listener (ops.go)
	web        *http.Server // dashboard listener (web.go)
	webAddr    string
	opsMetrics *opsMetrics
	stopping   atomic.Bool // Close began: not ready, shared webhook refused
	// announceWindow is how many announcement messages may wait in the
	// outbox at once (cron.go).
	announceWindow int
}

// NewMain returns a program for the configuration.
func NewMain(cfg Config, logOut io.Writer) *Main {
	return &Main{Config: cfg, Log: cfg.Logger(logOut), Now: time.Now}
}

// Open starts everything: the store (migrated), the engine, the Telegram
// pipeline and the cron jobs. When it fails, what it had started is
// stopped and the store closed (its lock released).
func (m *Main) Open(ctx context.Context) (err error) {
	cfg := &m.Config
	if cfg.Token == "" {
		return errors.New("no bot token: set BANSOSBOT_TOKEN (or run the demo: bansosbot demo)")
	}
	if err := cfg.ensureSecret(); err != nil {
		return err
	}
	if cfg.secretGenerated {
		m.Log.Warn("no BANSOSBOT_SECRET configured: generated one and stored it; back it up, NIK hashes depend on it", "file", cfg.secretFile())
	}
	db, pg, err := cfg.openStorePG(ctx, store.Options{Now: m.Now, LockTimeout: time.Second, Wrap: m.WrapStore}) // database.go
	if err != nil {
		return err
	}
	m.DB, m.pg = db, pg
	defer func() {
		if err != nil {
			m.abandon()
		}
	}()
	if err := cfg.checkSecret(db); err != nil { // secret.go: the secret the data was made with
		return err
	}
	if !db.RegistryKeyMatches(cfg.key("nik")) { // an interrupted rotate-secret, or a registry.db from elsewhere
		m.Log.Warn("the registry was imported under another secret: status checks cannot find anyone in it",
			"fix", "import it again: bansosbot registry import -date YYYY-MM-DD FILE.csv")
	}
	m.sweepTemporaries(0) // sweep.go
	engineCfg, err := m.engineConfig()
	if err != nil {
		return err
	}
	if m.TuneEngine != nil {
		m.TuneEngine(&engineCfg)
	}
	m.Engine = flows.NewEngine(engineCfg)
	keepTallies(*cfg, db, m.Engine) // tally.go: the report counters, built now if missing
	if err := m.buildTallies(); err != nil {
		return err
	}
	for _, g := range calendarGaps(m.Engine.Config().Calendar, m.Now(), cfg.Location()) {
		m.Log.Warn("business calendar incomplete: deadlines may count a holiday as a working day", "year", g.Year, "gap", g.String(),
			"fix", "add the year's SKB 3 Menteri dates to the calendar file (BANSOSBOT_CALENDAR)")
	}
	if m.Registry == nil {
		m.Registry = prometheus.NewRegistry()
	}
	bcfg := bot.Config{
		Token: cfg.Token, APIURL: cfg.APIURL,
		WebhookURL: cfg.WebhookURL, WebhookListen: cfg.WebhookListen, WebhookSecret: cfg.WebhookSecret, WebhookServe: true,
		Timeouts: m.Listen,
		Shared:   cfg.postgres(), // replicas on one database share the work by leases
		Log:      m.Log.With("component", "bot"),
		Clock:    m.Clock,
		Renderer: bot.NewRenderer(locales.MustDefault(), cfg.Location()),
		Metrics:  bot.NewMetrics(m.Registry),
	}
	bcfg.Renderer.Chart = bcfg.Renderer.DrawChart // /grafik as a picture
	m.shareWebhook(&bcfg)                         // ops.go: webhook on the monitoring listener
	m.registerMetrics()
	m.registerDatabaseMetrics() // pgops.go
	if m.Tune != nil {
		m.Tune(&bcfg)
	}
	m.announceWindow = announceWindowFor(bcfg.Limits.Global)
	var h bot.Handler = m.Engine
	if m.Wrap != nil {
		h = m.Wrap(h)
	}
	srv, err := bot.New(bcfg, bot.Adapt(db), h) // bot defines what it needs of a store (bot/db.go)
	if err != nil {
		return err
	}
	m.Server = srv
	if err := srv.Open(ctx); err != nil { // stops what it started when it fails
		return err
	}
	if err := m.serveOps(); err != nil {
		return err
	}
	if err := m.serveWeb(); err != nil { // web.go
		return err
	}
	if err := m.serveControl(); err != nil {
		m.Log.Warn("no control socket; 'bansosbot backup' will not reach this instance", "err", err)
	}
	m.startCron()
	m.Log.Info("bansosbot running", "mode", modeName(cfg), "data", cfg.DataDir, "schema", store.SchemaVersion())
	return nil
}

// calendarLookahead is how far ahead an incomplete calendar year is
// reported: the SKB 3 Menteri for a year usually appears months before it.
const calendarLookahead = 60 * 24 * time.Hour

// calendarGaps lists the incomplete calendar years (no dates, no cuti
// bersama, estimated dates) of this year and of a year starting within
// calendarLookahead; the start-up log and doctor report them.
func calendarGaps(cal *bansosbot.Calendar, now time.Time, loc *time.Location) []bansosbot.CalendarGap {
	return cal.Gaps(now, calendarLookahead, loc)
}

func modeName(c *Config) string {
	if c.WebhookURL != "" {
		return "webhook"
	}
	return "polling"
}

func (m *Main) engineConfig() (flows.Config, error) {
	cfg := flows.Config{
		Now:       m.Now,
		Log:       m.Log.With("component", "flows"),
		Admins:    m.Config.Admins,
		TicketKey: m.Config.key("ticket-number"),
		NIKKey:    m.Config.key("nik"),
		InviteKey: m.Config.key("invite"),
		Limits:    m.Config.limits(), // limits.go

		AnnounceApprovalOver: m.Config.announceApprovalOver(), // limits.go

		DashboardURL: m.Config.dashboardURL(), // web.go
		Controller:   flows.Controller{Name: m.Config.Controller, Address: m.Config.ControllerAddress, Contact: m.Config.ControllerContact},
		Retention:    m.Config.retention(),
	}
	if cfg.Retention == 0 { // off: kept until the citizen erases it
		cfg.Retention = -1
	}
	var err error
	if cfg.Categories, err = m.Config.categories(); err != nil {
		return cfg, err
	}
	if m.Config.Calendar != "" {
		f, err := os.Open(m.Config.Calendar)
		if err != nil {
			return cfg, fmt.Errorf("BANSOSBOT_CALENDAR: %w", err)
		}
		defer f.Close()
		if cfg.Calendar, err = bansosbot.LoadCalendar(f); err != nil {
			return cfg, fmt.Errorf("BANSOSBOT_CALENDAR: %w", err)
		}
	}
	if m.Config.SLA != "" {
		f, err := os.Open(m.Config.SLA)
		if err != nil {
			return cfg, fmt.Errorf("BANSOSBOT_SLA: %w", err)
		}
		defer f.Close()
		if cfg.SLA, err = bansosbot.LoadSLAPolicies(f); err != nil {
			return cfg, fmt.Errorf("BANSOSBOT_SLA: %w", err)
		}
		if err := cfg.SLA.Check(cfg.Categories); err != nil {
			return cfg, fmt.Errorf("BANSOSBOT_SLA: %w", err)
		}
	}
	if m.Config.Answers != "" {
		f, err := os.Open(m.Config.Answers)
		if err != nil {
			return cfg, fmt.Errorf("BANSOSBOT_ANSWERS: %w", err)
		}
		defer f.Close()
		if cfg.Answers, err = bansosbot.LoadAnswers(f); err != nil {
			return cfg, fmt.Errorf("BANSOSBOT_ANSWERS: %w", err)
		}
	}
	return cfg, nil
}

// abandon undoes a failed Open: the listeners and the pipeline stop, the
// store closes (without the scrub of a clean stop), and a later Close has
// nothing left to do.
func (m *Main) abandon() {
	m.stopping.Store(true)
	m.closeWeb()
	m.closeOps()
	if m.Server != nil {
		m.Server.Close()
	}
	if m.DB != nil {
		m.DB.Close()
	}
	m.web, m.ops, m.Server, m.DB = nil, nil, nil, nil
}

// Close shuts down in order: stop the jobs (running ones are cancelled)
// and inputs, drain dispatch, flush the outbox briefly, close the store
// last.
func (m *Main) Close() error {
	m.stopping.Store(true) // /readyz answers 503 from now on
	if m.cron != nil {
		m.stopJobs()
		<-m.cron.Stop().Done()
	}
	m.closeControl()
	if m.Server != nil {
		m.Server.Close()
	}
	m.closeWeb() // web.go
	m.closeOps() // after the drain (metrics until the end), before the store closes
	if m.DB != nil {
		m.scrubAtStop()
		return m.DB.Close()
	}
	return nil
}

// stopScrubBudget bounds the free-page scrub at stop.
const stopScrubBudget = 10 * time.Second

// scrubAtStop zeroes the free pages before the store closes: what was
// deleted while running (processed updates with their text and the
// sender's names, data erased by /hapusdata) stays on a free page until
// bbolt reuses it, and the daily retention run is the only other scrub. A
// stopped file, the one an operator copies, holds none of it.
//
// The walk reads every page: 0.4 s on a 3.3 GB file (1M tickets) in the
// page cache, 80 s when none of it is; stopScrubBudget keeps a stop well
// inside systemd's 90 s stop timeout.
func (m *Main) scrubAtStop() {
	start := time.Now()
	n, complete, err := m.DB.ScrubFreePagesWithin(start.Add(stopScrubBudget))
	if err != nil || !complete {
		m.Log.Warn("free pages not all zeroed at stop; the next retention run does it", "pages", n, "err", err)
		return
	}
	m.Log.Debug("free pages zeroed at stop", "pages", n, "took", time.Since(start).Round(time.Millisecond))
}

// Kill stops without draining anything (tests use it to simulate a crash).
func (m *Main) Kill() {
	if m.cron != nil {
		m.stopJobs()
		m.cron.Stop()
	}
	if m.control != nil {
		m.control.Close()
	}
	if m.ops != nil {
		m.ops.Close()
	}
	if m.web != nil {
		m.web.Close()
	}
	if m.Server != nil {
		m.Server.Kill()
	}
	if m.DB != nil {
		m.DB.Close()
	}
}
