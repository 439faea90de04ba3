package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/store/storetest"
	"github.com/jackc/pgx/v5"
)

// dsn is the test server's address, or the test is skipped.
func dsn(t testing.TB) string {
	t.Helper()
	url := os.Getenv("BANSOSBOT_TEST_POSTGRES")
	if url == "" {
		t.Skip("BANSOSBOT_TEST_POSTGRES is unset: set it to a PostgreSQL DSN to run the PostgreSQL tests, e.g. " +
			"BANSOSBOT_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' (each test works in a schema of its own)")
	}
	return url
}

// openSchema opens a pgstore in a new schema, dropped at the end of the test.
func openSchema(t testing.TB) *pgstore.Store {
	t.Helper()
	url := dsn(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return s
}

func openStore(t *testing.T, opts store.Options) *store.DB {
	s := openSchema(t)
	db, err := store.OpenBackend(s, "postgresql", t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the store's conformance suite on PostgreSQL.
func TestConformance(t *testing.T) {
	dsn(t)
	storetest.Run(t, openStore)
}

// TestBackendConformance checks the PostgreSQL backend against the
// semantics the store relies on; its cursors fetch pages of 16 to 1024
// rows, and the walks cross several page boundaries both ways.
func TestBackendConformance(t *testing.T) {
	dsn(t)
	storetest.RunBackend(t, func(t *testing.T) backend.Backend { return openSchema(t) })
}
