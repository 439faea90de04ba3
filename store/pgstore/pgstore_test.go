package pgstore_test

import (
	"context"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/backend"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
	"github.com/bansosbot/bansosbot/store/storetest"
)

// TestConformance runs the store's conformance suite on PostgreSQL.
func TestConformance(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) *store.DB { return pgtest.OpenStore(t, opts) })
}

// TestBackendConformance checks the PostgreSQL backend against the
// semantics the store relies on; its cursors fetch pages of 16 to 1024
// rows, and the walks cross several page boundaries both ways.
func TestBackendConformance(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunBackend(t, func(t *testing.T) backend.Backend { return pgtest.Open(t) })
}

// TestReplicationAndVersion: the test server is a primary; the migration
// version is the newest embedded one.
func TestReplicationAndVersion(t *testing.T) {
	s := pgtest.Open(t)
	ctx := context.Background()
	r, err := s.Replication(ctx)
	if err != nil || r.Standby {
		t.Errorf("replication = %+v, %v; want a primary", r, err)
	}
	ms, err := pgstore.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Version(ctx); err != nil || v != ms[len(ms)-1].Version {
		t.Errorf("version = %d, %v; want %d", v, err, ms[len(ms)-1].Version)
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
}
