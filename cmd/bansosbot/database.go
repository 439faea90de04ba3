package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore"
)

// postgres reports whether the store is in PostgreSQL
// (BANSOSBOT_DATABASE_URL) rather than the bbolt file in the data
// directory.
func (c *Config) postgres() bool { return c.DatabaseURL != "" }

func (c *Config) validateDatabase() error {
	if c.DatabaseURL == "" {
		return nil
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("BANSOSBOT_DATABASE_URL: not a postgres:// URL (e.g. postgres://bansosbot@db.internal:5432/bansosbot?sslmode=verify-full)")
	}
	return nil
}

// databaseName is the database for messages: the URL without its password.
func (c *Config) databaseName() string {
	u, err := url.Parse(c.DatabaseURL)
	if err != nil {
		return "PostgreSQL"
	}
	return strings.TrimPrefix(u.Redacted(), "//")
}

// openStore opens the store: in PostgreSQL when BANSOSBOT_DATABASE_URL is
// set (the eligibility registry in it too: store/registry_db.go), else
// the bbolt file in the data directory, migrated either way.
func (c *Config) openStore(ctx context.Context, opts store.Options) (*store.DB, error) {
	db, _, err := c.openStorePG(ctx, opts)
	return db, err
}

// openStorePG is openStore that also returns the PostgreSQL backend (nil
// on bbolt), for the pool's and replication's metrics (pgops.go).
func (c *Config) openStorePG(ctx context.Context, opts store.Options) (*store.DB, *pgstore.Store, error) {
	if !c.postgres() {
		db, err := store.Open(c.DBPath(), opts)
		return db, nil, err
	}
	pg, err := pgstore.Open(ctx, c.DatabaseURL, pgstore.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("BANSOSBOT_DATABASE_URL %s: %w", c.databaseName(), err)
	}
	db, err := store.OpenBackend(pg, c.databaseName(), c.DataDir, opts)
	if err != nil {
		return nil, nil, err
	}
	return db, pg, nil
}
