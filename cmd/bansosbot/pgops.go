package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/prometheus/client_golang/prometheus"
)

// Operations of the store on PostgreSQL (BANSOSBOT_DATABASE_URL): the
// "migrate" command, and what /readyz, /metrics and doctor tell of the
// database: the connection pool, replication where visible, and who holds
// the replicas' leases (bot/lease.go).

const migrateUsage = `Usage: bansosbot migrate

Applies the embedded migrations to the PostgreSQL database of
BANSOSBOT_DATABASE_URL (the tables, then the store's schema) and prints the
versions. Safe to run while replicas run and from several machines at once
(an advisory lock lets one apply each migration); a bot also migrates at
start, so this is for upgrading the database before rolling the replicas.
With the bbolt file (no BANSOSBOT_DATABASE_URL) it refuses: the file
migrates itself when the bot starts.`

// runMigrate is "bansosbot migrate".
func runMigrate(ctx context.Context, cfg Config, stdout io.Writer) error {
	if !cfg.postgres() {
		return errors.New("migrate: the store is the bbolt file " + cfg.DBPath() + ", which migrates itself when the bot starts " +
			"(take a backup first: bansosbot backup FILE); migrate is for PostgreSQL (set BANSOSBOT_DATABASE_URL)")
	}
	pg, err := pgstore.Open(ctx, cfg.DatabaseURL, pgstore.Options{})
	if err != nil {
		return fmt.Errorf("migrate: %s: %w", cfg.databaseName(), err)
	}
	tables, err := pg.Version(ctx)
	if err != nil {
		pg.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	db, err := store.OpenBackend(pg, cfg.databaseName(), cfg.DataDir, store.Options{}) // closes pg when it fails
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	schema, err := db.Version()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "%s: tables version %d, store schema version %d (up to date)\n", cfg.databaseName(), tables, schema)
	return nil
}

// databaseStatus adds the database's checks to /readyz on PostgreSQL: it
// answers within 2 s (else the replica is not ready), this replica's
// leases, and the replication lag where the database shows it.
func (m *Main) databaseStatus(st *instanceStatus, fail func(check, msg string)) {
	pg := m.pg
	if pg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := pg.Ping(ctx); err != nil {
		fail("database", err.Error())
		return
	}
	st.Checks["database"] = "ok"
	st.Replica, st.Leases = m.Server.ReplicaID(), m.Server.LeasesHeld()
	if r, err := pg.Replication(ctx); err == nil && r.Known {
		st.ReplicationLagSeconds = r.Lag.Seconds()
	}
}

// dbCollector reads the pool, the replication state and the leases at
// scrape time.
type dbCollector struct {
	m                                   *Main
	pool, acquires, waits, emptyWaits   *prometheus.Desc
	lag, standbys, leasesHeld, replicas *prometheus.Desc
}

// registerDatabaseMetrics adds the database's metrics on PostgreSQL.
func (m *Main) registerDatabaseMetrics() {
	if m.pg == nil {
		return
	}
	m.Registry.MustRegister(&dbCollector{m: m,
		pool:       prometheus.NewDesc("bansosbot_db_pool_connections", "PostgreSQL connections of this replica's pool by state (acquired, idle, total, max).", []string{"state"}, nil),
		acquires:   prometheus.NewDesc("bansosbot_db_pool_acquires_total", "Connections taken from the pool.", nil, nil),
		waits:      prometheus.NewDesc("bansosbot_db_pool_acquire_seconds_total", "Time spent taking connections from the pool (growing fast: the pool is too small).", nil, nil),
		emptyWaits: prometheus.NewDesc("bansosbot_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil),
		lag:        prometheus.NewDesc("bansosbot_db_replication_lag_seconds", "On a primary, the largest replay lag of its standbys; on a standby, how far its replay is behind (absent when not visible).", nil, nil),
		standbys:   prometheus.NewDesc("bansosbot_db_standbys", "Standbys streaming from the primary, as pg_stat_replication shows them to this role.", nil, nil),
		leasesHeld: prometheus.NewDesc("bansosbot_leases_held", "Leases this replica holds, by kind (shard, sender, poller, cron, replica).", []string{"kind"}, nil),
		replicas:   prometheus.NewDesc("bansosbot_replicas_live", "Replicas whose lease is live on the database.", nil, nil),
	})
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pool, c.acquires, c.waits, c.emptyWaits, c.lag, c.standbys, c.leasesHeld, c.replicas} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	pg := c.m.pg
	s := pg.Pool().Stat()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.pool, float64(s.AcquiredConns()), "acquired")
	gauge(c.pool, float64(s.IdleConns()), "idle")
	gauge(c.pool, float64(s.TotalConns()), "total")
	gauge(c.pool, float64(s.MaxConns()), "max")
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if r, err := pg.Replication(ctx); err == nil {
		gauge(c.standbys, float64(r.Standbys))
		if r.Known {
			gauge(c.lag, r.Lag.Seconds())
		}
	}
	kinds := map[string]int{"shard": 0, "sender": 0, "poller": 0, "cron": 0, "replica": 0}
	for _, l := range c.m.Server.LeasesHeld() {
		kind, _, _ := strings.Cut(l, "/")
		kinds[kind]++
	}
	for k, n := range kinds {
		gauge(c.leasesHeld, float64(n), k)
	}
	if ls, now, err := c.m.DB.Leases("replica/"); err == nil {
		live := 0
		for _, l := range ls {
			if l.Held(l.Owner, now) {
				live++
			}
		}
		gauge(c.replicas, float64(live))
	}
}

// leaseHolders describes who holds the leases: live replicas with their
// shard counts, and the holders of the sender, poller and jobs' leases.
func leaseHolders(db *store.DB) ([]string, error) {
	ls, now, err := db.Leases("")
	if err != nil {
		return nil, err
	}
	shards := map[string]int{}
	var replicas, lines []string
	for _, l := range ls {
		if !l.Held(l.Owner, now) {
			continue
		}
		switch kind, id, _ := strings.Cut(l.Name, "/"); kind {
		case "replica":
			replicas = append(replicas, id)
		case "shard":
			shards[l.Owner]++
		default:
			lines = append(lines, fmt.Sprintf("%s: %s (expires in %s)", l.Name, l.Owner, l.Expires.Sub(now).Round(100*time.Millisecond)))
		}
	}
	for _, r := range replicas {
		lines = append(lines, fmt.Sprintf("replica %s: %d chat shards", r, shards[r]))
	}
	return lines, nil
}

// doctorPostgres is doctor's database section on PostgreSQL: it answers,
// its versions, replication and the replicas' leases.
func (d *doctor) postgres(ctx context.Context, cfg Config) *opsFacts {
	d.section("Database " + cfg.databaseName())
	pg, err := pgstore.Open(ctx, cfg.DatabaseURL, pgstore.Options{})
	if err != nil {
		d.fail("cannot open: "+err.Error(), "check BANSOSBOT_DATABASE_URL, the network and the role's rights (CREATE on the schema for the first start)")
		return nil
	}
	tables, _ := pg.Version(ctx)
	db, err := store.OpenBackend(pg, cfg.databaseName(), cfg.DataDir, store.Options{ReadOnly: true})
	if err != nil {
		d.fail(err.Error(), "run the newer version, or migrate: bansosbot migrate")
		return nil
	}
	defer db.Close()
	inbox, _ := db.InboxDepth()
	outbox, _ := db.OutboxDepth()
	d.ok("tables version %d, schema version %d, %d updates in the inbox, %d messages in the outbox", tables, store.SchemaVersion(), inbox, outbox)
	s := pg.Pool().Stat()
	d.ok("connection pool: %d of at most %d connections open", s.TotalConns(), s.MaxConns())
	switch r, err := pg.Replication(ctx); {
	case err != nil:
		d.warn("replication state not readable: "+err.Error(), "grant pg_monitor to the role, or read it in the managed service's console")
	case r.Standby:
		d.warn("connected to a read-only standby", "point BANSOSBOT_DATABASE_URL at the primary (or the service's read-write endpoint)")
	case r.Known && r.Lag > 30*time.Second:
		d.warn(fmt.Sprintf("%d standby(s), replay lag %s", r.Standbys, r.Lag.Round(time.Millisecond)), "a failover now would lose the last seconds: check the standbys' disks and network")
	case r.Standbys > 0:
		d.ok("%d standby(s) streaming, replay lag %s", r.Standbys, r.Lag.Round(time.Millisecond))
	default:
		d.ok("no standby visible to this role (a managed service shows its replicas in its console)")
	}
	if n, err := pg.PredicateLocks(ctx); err != nil {
		d.warn(err.Error(), "see the message")
	} else if msg, fix := predicateLockAdvice(n); fix != "" {
		d.warn(msg, fix)
	} else {
		d.ok("%s", msg)
	}
	switch lines, err := leaseHolders(db); {
	case err != nil:
		d.warn("leases not readable: "+err.Error(), "see the message")
	case len(lines) == 0:
		d.ok("no replica running (no live lease)")
	default:
		for _, l := range lines {
			d.ok("%s", l)
		}
	}
	f, err := collectFacts(cfg, db)
	if err != nil {
		d.fail("cannot read staff and tickets: "+err.Error(), "see the message")
		return nil
	}
	return &f
}

// predicateLockAdvice judges the server's max_pred_locks_per_transaction:
// a fix when it is below what the store's serializable transactions need
// (pgstore.RecommendedPredicateLocks says why).
func predicateLockAdvice(n int) (msg, fix string) {
	msg = fmt.Sprintf("max_pred_locks_per_transaction = %d", n)
	if n >= pgstore.RecommendedPredicateLocks {
		return msg, ""
	}
	return msg + fmt.Sprintf(" (below %d: under load transactions fail with 'out of shared memory' or keep failing to serialize)", pgstore.RecommendedPredicateLocks),
		fmt.Sprintf("ALTER SYSTEM SET max_pred_locks_per_transaction = %d, then restart PostgreSQL (a managed service: its parameter group)", pgstore.RecommendedPredicateLocks)
}
