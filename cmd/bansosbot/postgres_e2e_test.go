package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
)

// TestE2EPostgres runs the whole program with BANSOSBOT_DATABASE_URL:
// onboarding, then the crash-safety run (kill halfway, restart: every
// command answered once, in order), and a second start on the same
// database finds the citizen it onboarded.
func TestE2EPostgres(t *testing.T) {
	_, url := pgtest.Schema(t)
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
