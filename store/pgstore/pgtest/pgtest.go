// Package pgtest gives tests a PostgreSQL database of their own: a new
// schema on the server named by BANSOSBOT_TEST_POSTGRES, dropped when the
// test ends, so that test packages run in parallel without meeting. Without
// the variable the test is skipped, saying how to run it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/jackc/pgx/v5"
)

// Env is the variable holding the test server's DSN.
const Env = "BANSOSBOT_TEST_POSTGRES"

// SkipMessage is why a PostgreSQL test is skipped.
const SkipMessage = Env + " is unset: set it to a PostgreSQL DSN to run the PostgreSQL tests, e.g. " +
	Env + "='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' (each test works in a schema of its own; see README, Development)"

// DSN returns the test server's DSN or skips the test.
func DSN(t testing.TB) string {
	t.Helper()
	url := os.Getenv(Env)
	if url == "" {
		t.Skip(SkipMessage)
	}
	return url
}

// Schema creates a schema for the test, dropped at its end, and returns
// its name and a DSN whose search_path is it (and whose commits do not
// wait for the disk).
func Schema(t testing.TB) (name, dsn string) {
	t.Helper()
	base := DSN(t)
	b := make([]byte, 8)
	rand.Read(b)
	name = "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + name + " CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	// Tests need no durability: commits do not wait for the disk.
	return name, base + sep + "search_path=" + name + "&synchronous_commit=off"
}

// Open opens a pgstore in a schema of the test's own.
func Open(t testing.TB) *pgstore.Store {
	t.Helper()
	_, dsn := Schema(t)
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // before the schema is dropped (cleanups run last first)
	return s
}

// OpenStore opens the bot's store on a pgstore in a schema of the test's
// own (the eligibility registry in its tables too).
func OpenStore(t testing.TB, opts store.Options) *store.DB {
	t.Helper()
	db, err := store.OpenBackend(Open(t), "postgresql (test)", t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
