package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
	"github.com/jackc/pgx/v5"
)

// postgresURL returns BANSOSBOT_TEST_POSTGRES with a search_path of a new
// schema, dropped at the end of the test; the test is skipped without it.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("BANSOSBOT_TEST_POSTGRES")
	if base == "" {
		t.Skip("BANSOSBOT_TEST_POSTGRES is unset: set it to a PostgreSQL DSN to run the PostgreSQL tests (see README, Development)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "e2e_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// TestE2EPostgres runs the whole program with BANSOSBOT_DATABASE_URL:
// onboarding, then the crash-safety run (kill halfway, restart: every
// command answered once, in order), and a second start on the same
// database finds the citizen it onboarded.
func TestE2EPostgres(t *testing.T) {
	url := postgresURL(t)
	e := newE2E(t)
	cfg := e.config()
	cfg.DatabaseURL = url
	m := e.start(cfg)
	u := telegramtest.User{ID: 503, FirstName: "Rina", LanguageCode: "id"}
	e.onboard(u)
	if m.DB.Bolt() {
		t.Fatal("BANSOSBOT_DATABASE_URL set, but the store is the bbolt file")
	}
	if _, err := os.Stat(cfg.DBPath()); err == nil {
		t.Errorf("a bbolt file %s was created beside PostgreSQL", cfg.DBPath())
	}
	m.Close()
	crashSafety(t, e, cfg)
	m = e.start(cfg)
	defer m.Close()
	m.DB.View(func(tx *store.Tx) error {
		p, err := tx.Profile(u.ID)
		if err != nil || p == nil || p.Lang != "id" {
			t.Errorf("profile after restarts = %+v, %v; want the onboarded citizen", p, err)
		}
		return nil
	})
}

// TestDatabaseURLChecks: a URL that is not PostgreSQL's is refused with
// the configuration's other problems, and the bbolt-file operations
// (backup, restore) refuse on PostgreSQL, naming pg_dump.
func TestDatabaseURLChecks(t *testing.T) {
	env := map[string]string{"BANSOSBOT_DATABASE_URL": "mysql://root@localhost/bansos"}
	_, _, err := LoadConfig("bansosbot", nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "BANSOSBOT_DATABASE_URL") {
		t.Errorf("LoadConfig with a mysql URL = %v; want a BANSOSBOT_DATABASE_URL error", err)
	}
	env["BANSOSBOT_DATABASE_URL"] = "postgres://bansosbot@db.internal/bansosbot"
	cfg, _, err := LoadConfig("bansosbot", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	if err := backup(context.Background(), cfg, filepath.Join(cfg.DataDir, "b.db"), io.Discard); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup on PostgreSQL = %v; want a refusal naming pg_dump", err)
	}
	if err := runRestore(context.Background(), cfg, []string{"b.db"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "pg_restore") {
		t.Errorf("restore on PostgreSQL = %v; want a refusal naming pg_restore", err)
	}
	if cfg.backupSchedule() != "" {
		t.Errorf("scheduled backups on PostgreSQL: %q; want off", cfg.backupSchedule())
	}
}
