package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
)

// tablesVersion is the newest embedded migration: what migrate and doctor
// report once the database is up to date.
func tablesVersion(t *testing.T) int {
	t.Helper()
	ms, err := pgstore.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1].Version
}

// TestMigrateCommand: "bansosbot migrate" applies the migrations to an
// empty PostgreSQL database and prints the versions (again: nothing to
// do); on the bbolt file it refuses, saying why.
func TestMigrateCommand(t *testing.T) {
	cfg := Config{DataDir: t.TempDir()}
	if err := runMigrate(context.Background(), cfg, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "bbolt") || !strings.Contains(err.Error(), "BANSOSBOT_DATABASE_URL") {
		t.Errorf("migrate on bbolt = %v; want a refusal naming the bbolt file and BANSOSBOT_DATABASE_URL", err)
	}
	_, url := pgtest.Schema(t)
	cfg.DatabaseURL = url
	for range 2 {
		var out bytes.Buffer
		if err := runMigrate(context.Background(), cfg, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), fmt.Sprintf("tables version %d, store schema version 7", tablesVersion(t))) {
			t.Errorf("migrate printed %q; want the versions", out.String())
		}
	}
}

// TestDatabaseOpsOnPostgres: on PostgreSQL /readyz checks the database
// and shows the replica's leases, /metrics has the pool, the leases and
// the live replicas, and doctor lists who holds what.
func TestDatabaseOpsOnPostgres(t *testing.T) {
	_, url := pgtest.Schema(t)
	e := newE2E(t)
	cfg := e.config()
	cfg.DatabaseURL, cfg.HTTP = url, freePort(t)
	m := e.start(cfg)
	defer m.Close()

	code, body := httpGet(t, "http://"+cfg.HTTP+"/readyz")
	var st instanceStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || st.Checks["database"] != "ok" || st.Replica == "" || len(st.Leases) != 64+4 {
		t.Errorf("/readyz = %d %s; want ready, the database ok, this replica holding 64 shards, the sender, the poller, the jobs' lease and its own", code, body)
	}

	ms := scrapeMetrics(t, cfg.HTTP)
	for _, c := range []struct {
		name  string
		match []string
		min   float64
	}{
		{"bansosbot_db_pool_connections", []string{"state", "max"}, 1},
		{"bansosbot_db_pool_acquires_total", nil, 1},
		{"bansosbot_leases_held", []string{"kind", "shard"}, 64},
		{"bansosbot_leases_held", []string{"kind", "sender"}, 1},
		{"bansosbot_replicas_live", nil, 1},
	} {
		if got := sum(ms, c.name, c.match...); got < c.min {
			t.Errorf("%s%v = %v; want at least %v", c.name, c.match, got, c.min)
		}
	}
	if _, ok := ms["bansosbot_db_standbys"]; !ok {
		t.Error("no bansosbot_db_standbys")
	}

	var out bytes.Buffer
	runDoctor(context.Background(), cfg, nil, nil, &out)
	for _, want := range []string{fmt.Sprintf("tables version %d, schema version 7", tablesVersion(t)), "connection pool", "replica " + m.Server.ReplicaID() + ": 64 chat shards", "sender: " + m.Server.ReplicaID(), "max_pred_locks_per_transaction = "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor says:\n%s\nwant %q", out.String(), want)
		}
	}
}

// TestPredicateLockAdvice: doctor asks for more predicate locks below
// what the store's serializable transactions need, and not at or above.
func TestPredicateLockAdvice(t *testing.T) {
	for _, c := range []struct {
		n       int
		wantFix bool
	}{{64, true}, {256, true}, {1023, true}, {1024, false}, {4096, false}} {
		msg, fix := predicateLockAdvice(c.n)
		if (fix != "") != c.wantFix || !strings.Contains(msg, "max_pred_locks_per_transaction") {
			t.Errorf("predicateLockAdvice(%d) = %q, %q; want a fix: %v", c.n, msg, fix, c.wantFix)
		}
		if c.wantFix && !strings.Contains(fix, "ALTER SYSTEM SET max_pred_locks_per_transaction = 1024") {
			t.Errorf("fix for %d = %q; want the statement that sets it", c.n, fix)
		}
	}
}
